"""Implicit concept maps, built on demand rather than stored: the replaced-by map of any code system
(``smt.terminology.replaced_by``), then those a terminology's provider defines (SNOMED CT reference sets).

``implicit_map_view`` gives a map as a ``ConceptMapView`` (read per source code where the provider can:
``$translate``), ``implicit_concept_map`` the whole resource (``ConceptMap/$export``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from smt.codesystems import factory
from smt.codesystems.provider import ConceptMapView
from smt.releases.registry import Registry
from smt.terminology.replaced_by import replaced_by_map


class WholeMap:
    """A ConceptMap already built whole, seen as a ``ConceptMapView``."""

    def __init__(self, whole: dict) -> None:
        self.whole = whole
        self.key = (str(whole.get("url")), str(whole.get("version")))

    @property
    def header(self) -> dict:
        return {**self.whole, "group": [{**g, "element": []} for g in self.whole.get("group", [])]}

    def for_code(self, code: str) -> dict:
        return {**self.whole, "group": [{**g, "element": [e for e in g.get("element", []) if e.get("code") == code]}
                                        for g in self.whole.get("group", [])]}

    def resource(self) -> dict:
        return self.whole


_WHOLE: OrderedDict[str, WholeMap] = OrderedDict()
_WHOLE_LOCK = threading.Lock()


def implicit_map_view(registry: Registry, url: str) -> ConceptMapView | None:
    """The implicit map ``url`` names, read on demand; None when ``url`` names no implicit map. The view of a map
    built whole stays the same object while its resource does (so indexes built over it are kept)."""
    found = replaced_by_map(registry, url)
    if found is None:
        return factory.implicit_concept_map(registry, url)
    with _WHOLE_LOCK:
        view = _WHOLE.get(url)
        if view is None or view.whole is not found:
            view = _WHOLE[url] = WholeMap(found)
            while len(_WHOLE) > 8:
                _WHOLE.popitem(last=False)
        return view


def implicit_concept_map(registry: Registry, url: str) -> dict | None:
    """The implicit ConceptMap ``url`` names, whole; None when ``url`` names no implicit map."""
    view = implicit_map_view(registry, url)
    return None if view is None else view.resource()


def implicit_name(url: str) -> str:
    """A file name for an implicit map: ``<code system>-<map>`` (``…-replaced-by``, ``sct-<refset id>``)."""
    base, _, query = url.partition("?")
    tail = query.rsplit("=", 1)[-1]
    name = "".join(ch if ch.isalnum() else "-" for ch in base.rstrip("/").rsplit("/", 1)[-1]).strip("-")
    return f"{name or 'codesystem'}-{tail}"
