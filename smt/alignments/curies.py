"""Code systems ⇄ IRIs and CURIEs: concept IRIs for RDF, CURIE prefixes for SSSOM.

* A code system's **concept IRI base** is its catalogue ``concept_iri_base`` (the IRIs its own release graph
  uses), else a well-known base (LOINC ``https://loinc.org/``), else ``{system}/``.
* An SSSOM ``curie_map`` expansion names a code system: the catalogue entry whose concept IRI base or
  canonical URL (or alias) it is, else a well-known base, else the expansion without its trailing ``/``/``#``.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from smt.catalogue.terminologies import load_catalogue

KNOWN_IRI_BASES: dict[str, str] = {
    "http://loinc.org": "https://loinc.org/",
    "http://hl7.org/fhir/sid/icd-10": "http://id.who.int/icd/release/10/",
}
"""Concept IRI bases of standard systems that the catalogue does not describe (canonical URL → base); SNOMED CT's
is its catalogue entry's ``concept_iri_base``."""

_PREFIX_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


def canonical_system(url: str) -> str:
    """The catalogue's canonical URL for ``url`` (itself, an alias or a trailing-slash variant)."""
    url = url.strip().rstrip("/")
    for item in load_catalogue().values():
        if url == item.url.rstrip("/") or url in (a.rstrip("/") for a in item.aliases):
            return item.url
    return url


def iri_base(system: str, curie_map: dict[str, str] | None = None) -> str:
    """The concept IRI base of ``system`` (``curie_map`` is consulted for systems the catalogue lacks)."""
    system = canonical_system(system)
    for item in load_catalogue().values():
        if item.url == system and item.concept_iri_base:
            return item.concept_iri_base
    if system in KNOWN_IRI_BASES:
        return KNOWN_IRI_BASES[system]
    for expansion in (curie_map or {}).values():
        if system_for_expansion(expansion) == system:
            return expansion
    return system.rstrip("/") + "/"


def concept_iri(system: str, code: str, curie_map: dict[str, str] | None = None) -> str:
    """The IRI of concept ``code`` of ``system`` (the same IRI its code system's release graph uses)."""
    return iri_base(system, curie_map) + quote(code, safe="")


def system_for_expansion(expansion: str) -> str:
    """The code system (canonical URL) an SSSOM prefix expansion stands for."""
    for item in load_catalogue().values():
        if item.concept_iri_base and expansion == item.concept_iri_base:
            return item.url
    for system, base in KNOWN_IRI_BASES.items():
        if expansion == base:
            return system
    stripped = expansion[:-1] if expansion.endswith(("/", "#")) else expansion
    return canonical_system(stripped)


def default_prefix(system: str) -> str:
    """A readable CURIE prefix for a system that has none yet: its catalogue name, else its URL's last part."""
    system = canonical_system(system)
    for item in load_catalogue().values():
        if item.url == system:
            return _PREFIX_UNSAFE.sub("_", item.name).strip("_") or item.key
    tail = system.rstrip("/#").rsplit("/", 1)[-1].split("?", 1)[0]
    prefix = _PREFIX_UNSAFE.sub("_", tail).strip("_") or "ns"
    return prefix if prefix[0].isalpha() else f"ns_{prefix}"


def prefix_for(system: str, curie_map: dict[str, str]) -> tuple[str, str]:
    """``(prefix, expansion)`` to write codes of ``system`` as CURIEs: the first ``curie_map`` entry that
    stands for it, else a new prefix (not clashing with ``curie_map``) over the system's concept IRI base."""
    system = canonical_system(system)
    for prefix, expansion in curie_map.items():
        if system_for_expansion(expansion) == system:
            return prefix, expansion
    prefix, number = default_prefix(system), 1
    while prefix in curie_map:
        number += 1
        prefix = f"{default_prefix(system)}{number}"
    return prefix, iri_base(system)
