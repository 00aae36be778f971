"""What terminologies exist: the declarative catalogue (``terminologies``), OIDs (``oids``) and the registry of
stored releases with version resolution (``registry``)."""
