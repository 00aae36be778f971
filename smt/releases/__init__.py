"""The releases a server can answer from: the registry of stored releases with version resolution and index
opening (``registry``), OID resolution against them (``oids``) and what loaders need to know of them
(``loader_context``)."""
