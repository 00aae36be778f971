"""Implicit concept maps, built on demand rather than stored: the replaced-by map of any code system
(``smt.terminology.replaced_by``), then those a terminology's provider defines (SNOMED CT reference sets)."""

from __future__ import annotations

from smt.codesystems import factory
from smt.releases.registry import Registry
from smt.terminology.replaced_by import replaced_by_map


def implicit_concept_map(registry: Registry, url: str) -> dict | None:
    """The implicit ConceptMap ``url`` names, None when ``url`` names no implicit map."""
    found = replaced_by_map(registry, url)
    return found if found is not None else factory.implicit_concept_map(registry, url)


def implicit_name(url: str) -> str:
    """A file name for an implicit map: ``<code system>-<map>`` (``…-replaced-by``, ``sct-<refset id>``)."""
    base, _, query = url.partition("?")
    tail = query.rsplit("=", 1)[-1]
    name = "".join(ch if ch.isalnum() else "-" for ch in base.rstrip("/").rsplit("/", 1)[-1]).strip("-")
    return f"{name or 'codesystem'}-{tail}"
