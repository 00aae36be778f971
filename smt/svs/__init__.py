"""IHE SVS: the XML format (``xml``: read and write) and the value set repository over the store (``repository``)."""
