"""Read-only SPARQL over the RDF store of record, each query in a bounded child process (``service``)."""
