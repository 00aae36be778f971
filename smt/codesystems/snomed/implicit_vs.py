"""SNOMED CT implicit value sets (``http://snomed.info/sct?fhir_vs[=isa/<id>|refset/<id>|ecl/<ecl>]``).

Each URL stands for a ValueSet whose compose includes SNOMED CT (the version left to the request's rules)
with one filter: none (all concepts), ``concept is-a <id>``, or an ECL constraint (``^ <id>`` for a refset).
"""

from __future__ import annotations

from urllib.parse import unquote

from smt.codesystems.snomed import SNOMED_URL

PREFIX = f"{SNOMED_URL}?fhir_vs"


def is_implicit(url: str | None) -> bool:
    """Whether ``url`` (possibly with a trailing ``|version``) is a SNOMED CT implicit value set URL."""
    return url is not None and (url == PREFIX or url.startswith(PREFIX + "="))


def _filter(query: str) -> tuple[dict | None, str, str]:
    """(compose filter, name, title) of the part after ``fhir_vs=``."""
    kind, _, value = query.partition("/")
    if kind == "isa" and value:
        return ({"property": "concept", "op": "is-a", "value": value}, f"SNOMEDCT_ISA_{value}",
                f"SNOMED CT Concept {value} and descendants")
    if kind == "refset" and value:
        return ({"property": "constraint", "op": "=", "value": f"^ {value}"}, f"SNOMEDCT_REFSET_{value}",
                f"SNOMED CT Reference Set {value}")
    if kind == "ecl" and value:
        return {"property": "constraint", "op": "=", "value": unquote(value)}, "SNOMEDCT_ECL", "SNOMED CT ECL"
    return None, "", ""


def implicit_value_set(url: str) -> dict | None:
    """The ValueSet an implicit SNOMED CT URL stands for; None for any other (or a malformed) URL."""
    if not is_implicit(url):
        return None
    include: dict = {"system": SNOMED_URL}
    name, title = "ALLSNOMEDCT", "SNOMED CT Reference Set (All of SNOMED CT)"
    if url != PREFIX:
        flt, name, title = _filter(url[len(PREFIX) + 1:])
        if flt is None:
            return None
        include["filter"] = [flt]
    return {"resourceType": "ValueSet", "url": url, "name": name, "title": title, "status": "active",
            "compose": {"include": [include]}}


def cheap_membership(url: str) -> bool:
    """Whether one code's membership in the implicit value set ``url`` is a concept read and at most a closure
    probe: all of SNOMED CT (``?fhir_vs``) or ``isa/<id>``. Reference sets and ECL constraints may build sets."""
    vs = implicit_value_set(url)
    return vs is not None and all(f["op"] == "is-a" for f in vs["compose"]["include"][0].get("filter", []))


def implicit_focus(vs: dict) -> str | None:
    """The concept id an ``isa/`` or ``refset/`` implicit value set is built on (None for the others)."""
    kind, _, value = vs.get("url", "")[len(PREFIX) + 1:].partition("/")
    return value if kind in ("isa", "refset") else None
