"""Terminology engines: operations over the registry and the release indexes, returning plain dataclasses.

Engines know nothing about HTTP or FHIR JSON; ``fhir_api`` shapes their results into FHIR resources.
"""
