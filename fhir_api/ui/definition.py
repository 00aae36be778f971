"""A value set's definition (``compose``) read for people: one clause per include or exclude, naming the
code system, the codes listed, the filters and the value sets it draws on, with links to their pages."""

from __future__ import annotations

from dataclasses import dataclass, field

from fhir_api.ui import resources
from fhir_api.ui.concept_links import concept_path

MAX_CODES = 50
"""Codes listed in words per clause (the expansion lists them all)."""


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    href: str | None
    extra: str | None = None


@dataclass(slots=True)
class Clause:
    exclude: bool
    system: Link | None
    version: str | None
    codes: list[Link] = field(default_factory=list)
    more_codes: int = 0
    filters: list[tuple[str, str, str]] = field(default_factory=list)
    value_sets: list[Link] = field(default_factory=list)


def _system(code_systems: dict[str, resources.Resource], url: str | None) -> tuple[Link | None,
                                                                                    resources.Resource | None]:
    if not url:
        return None, None
    found = code_systems.get(url.rstrip("/"))
    return Link(found.title if found else url, found.path if found else None, url), found


def _value_set(value_sets: dict[str, resources.Resource], canonical: str) -> Link:
    url, _, version = canonical.partition("|")
    found = value_sets.get(url.rstrip("/"))
    if found is None:
        return Link(canonical, None)
    return Link(found.title, found.path + (f"?version={version}" if version else ""), version or None)


def clauses(compose: dict, code_systems: list[resources.Resource], value_sets: list[resources.Resource]
            ) -> list[Clause]:
    """The includes then the excludes of ``compose``."""
    systems = {r.url: r for r in code_systems}
    sets = {r.url: r for r in value_sets}
    found: list[Clause] = []
    for key in ("include", "exclude"):
        for part in compose.get(key, []):
            if not isinstance(part, dict):
                continue
            system, resource = _system(systems, part.get("system"))
            clause = Clause(key == "exclude", system, part.get("version"))
            concepts = [c for c in part.get("concept", []) if isinstance(c, dict) and c.get("code")]
            for concept in concepts[:MAX_CODES]:
                code = str(concept["code"])
                href = concept_path(resource, code, part.get("version")) if resource else None
                clause.codes.append(Link(code, href, concept.get("display")))
            clause.more_codes = max(0, len(concepts) - MAX_CODES)
            clause.filters = [(str(f.get("property", "")), str(f.get("op", "")), str(f.get("value", "")))
                              for f in part.get("filter", []) if isinstance(f, dict)]
            clause.value_sets = [_value_set(sets, str(v)) for v in part.get("valueSet", [])]
            found.append(clause)
    return found
