"""Comparing two versions of a code system or value set (``smt.publish.changes.diff_releases``): the report
filtered by change type and text, paged, with links to its CSV and JSON exports (``GET /releases/diff``) and,
for code systems, to the impact report (``GET /releases/impact``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from fhir_api.ui import resources
from fhir_api.ui.concept_links import concept_path
from smt.errors import SmtError
from smt.publish.changes import DiffReport, diff_releases
from smt.publish.diff import CHANGE_TYPES, Change
from smt.publish.links import diff_path, impact_path
from smt.releases.registry import Registry
from smt.search import analysis

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class ChangeRow:
    change: Change
    href: str | None
    """The concept's page in the version where it exists (the newer one unless it was removed)."""

    @property
    def before(self) -> str:
        return _text(self.change.old)

    @property
    def after(self) -> str:
        return _text(self.change.new)


def _text(value: str | list[str] | None) -> str:
    if value is None:
        return ""
    return ", ".join(value) if isinstance(value, list) else value


@dataclass(slots=True)
class Comparison:
    report: DiffReport
    rows: list[ChangeRow]
    matching: int
    exports: dict[str, str]
    impact: str | None
    """For code systems, the impact report of the new version on value sets and concept maps (computed when the
    visitor follows the link, not with the page)."""


def _matches(change: Change, kind: str | None, words: list[str]) -> bool:
    if kind and change.type != kind:
        return False
    if not words:
        return True
    text = " ".join(analysis.fold(w) for w in " ".join(
        [change.code, change.display or "", _text(change.old), _text(change.new)]).split())
    return all(word in text for word in words)


def compare(registry: Registry, resource: resources.Resource, old: str, new: str, kind: str | None = None,
            text: str = "", page: int = 1) -> Comparison:
    """The changes from version ``old`` to ``new`` (``SmtError`` when a version is unknown), one page of them
    after the filters."""
    report = diff_releases(registry, resource.url, old, new)
    words = [analysis.fold(w) for w in text.split()]
    kept = [c for c in report.changes if _matches(c, kind if kind in CHANGE_TYPES else None, words)]
    start = (page - 1) * PAGE_SIZE
    rows = [ChangeRow(c, _href(resource, c, old, new)) for c in kept[start:start + PAGE_SIZE]]
    exports = {fmt: diff_path(resource.url, old, new, fmt) for fmt in ("csv", "json")}
    impact = impact_path(resource.url, old, new) if resource.kind == "CodeSystem" else None
    return Comparison(report, rows, len(kept), exports, impact)


def _href(resource: resources.Resource, change: Change, old: str, new: str) -> str | None:
    if resource.kind != "CodeSystem":
        return None
    return concept_path(resource, change.code, old if change.type == "removed" else new)


_warming: set[tuple[str, str, str]] = set()
_warming_lock = threading.Lock()


def warm(registry: Registry, url: str, old: str, new: str) -> None:
    """Compute the diff of two versions (kept by ``smt.publish.changes``' cache), so that the comparison a page
    offers by default is ready when the visitor asks for it: run it as the page's background task (after the
    answer is sent). Concurrent calls for the same pair compute it once."""
    key = (url, old, new)
    with _warming_lock:
        if key in _warming:
            return
        _warming.add(key)
    try:
        diff_releases(registry, url, old, new)
    except SmtError:
        pass
    finally:
        with _warming_lock:
            _warming.discard(key)
