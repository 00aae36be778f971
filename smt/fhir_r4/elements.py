"""Subsets of a resource a client asks for: ``_summary`` and ``_elements`` (FHIR R4 search.html §3.1.1.5.8
and §3.1.1.5.9), driven by the R4 definitions (``isSummary``, minimum cardinality).

* ``_summary=true``: the top-level elements marked ``isSummary`` plus the mandatory ones; ``text``: ``text``,
  ``id``, ``meta`` and the mandatory elements; ``data``: everything but ``text``; ``false``: everything.
* ``_elements=a,b``: those top-level elements plus the mandatory ones (``id``, ``meta`` and elements of minimum
  cardinality 1).
* A subset is tagged ``SUBSETTED`` (v3 ObservationValue) in ``meta.tag``, as the spec asks.
"""

from __future__ import annotations

from smt.fhir_r4.definitions import r4

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED",
             "display": "Resource encoded in summary mode"}
SUMMARY_MODES = ("true", "text", "data", "count", "false")
_ALWAYS = ("resourceType", "id", "meta")


def mandatory(resource_type: str) -> set[str]:
    """Top-level elements every subset keeps: ``resourceType``, ``id``, ``meta`` and the required ones."""
    return {*_ALWAYS, *(name for name, slot in r4().slots(resource_type).items() if slot.required)}


def _subsetted(resource: dict, keep: set[str]) -> dict:
    shaped = {k: v for k, v in resource.items() if k in keep or (k.startswith("_") and k[1:] in keep)}
    if len(shaped) < len(resource):
        meta = dict(shaped.get("meta") or {})
        tags = [t for t in meta.get("tag", []) if t.get("code") != SUBSETTED["code"]]
        meta["tag"] = [*tags, SUBSETTED]
        shaped["meta"] = meta
    return shaped


def summary(resource: dict, mode: str) -> dict:
    """``resource`` as ``_summary=mode`` shows it (``count`` and ``false`` leave it whole)."""
    kind = str(resource.get("resourceType", ""))
    if mode == "true":
        keep = mandatory(kind) | {name for name, slot in r4().slots(kind).items() if slot.summary}
    elif mode == "text":
        keep = mandatory(kind) | {"text"}
    elif mode == "data":
        keep = set(resource) - {"text"}
    else:
        return resource
    return _subsetted(resource, keep)


def only_elements(resource: dict, elements: list[str]) -> dict:
    """``resource`` with the named top-level elements and the mandatory ones (``_elements``)."""
    return _subsetted(resource, mandatory(str(resource.get("resourceType", ""))) | set(elements))
