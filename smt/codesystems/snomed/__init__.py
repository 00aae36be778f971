"""SNOMED CT: its providers (``provider``), expressions (post-coordination), $lookup properties, normal forms,
expression subsumption, implicit value sets and concept maps."""

SNOMED_URL = "http://snomed.info/sct"
"""The canonical URL of SNOMED CT (every edition and release date is a version of it)."""
