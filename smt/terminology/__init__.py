"""Terminology operations, generic over code system providers: $lookup, $subsumes, $expand, $validate-code,
$translate, $closure, with the request's resolution context, version rules, supplements and display language.

No HTTP and no FHIR JSON output here: ``fhir_api`` shapes the results. Nothing here names a terminology: what
differs per code system is a method of its provider (``smt.codesystems``).
"""
