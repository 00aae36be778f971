"""Alignments: ConceptMaps and SSSOM mapping sets, their RDF, ``$translate`` and ``$closure`` (docs/alignments.md).

``conceptmap_to_sssom(resource)`` turns any stored FHIR ConceptMap into SSSOM/TSV text.
"""

from smt.alignments.export import conceptmap_to_sssom

__all__ = ["conceptmap_to_sssom"]
