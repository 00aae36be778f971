"""SMT core library: release model, RDF store of record, compiled per-release indexes, engines. No HTTP."""

__version__ = "0.1.0"
