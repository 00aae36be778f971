"""ValueSet ``$expand`` over code system providers (no HTTP, no FHIR JSON output).

The compose is evaluated once into ordered member sets (``smt.terminology.expand.compose``), then the
``activeOnly``, ``excludeNotForUI`` and text ``filter`` parameters are applied to the sets. Without paging
(``count``/``offset``), more than ``max_size`` members is ``too-costly``. Only the requested page of keys is
then turned into entries with their displays, designations and properties (``smt.terminology.expand.entries``)
and, when the expansion is hierarchical, nested (``smt.terminology.expand.tree``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from smt.codesystems.factory import is_implicit_value_set
from smt.errors import TooCostly, ValueSetError
from smt.formats.fhir_json import standing
from smt.terminology.context import ResourceContext
from smt.terminology.expand.compose import (
    Compose,
    IncludeVersion,
    Membership,
    canonical_of,
    listed_codes,
)
from smt.terminology.expand.entries import EntryBuilder, ExpansionEntry, versions_shown
from smt.terminology.expand.options import DEFAULT_MAX_EXPANSION, ExpandOptions
from smt.terminology.expand.tree import default_nesting, hierarchy_possible, nest
from smt.terminology.versions import split_canonical

__all__ = [
    "DEFAULT_MAX_EXPANSION",
    "Compose",
    "ExpandOptions",
    "Expansion",
    "ExpansionEntry",
    "IncludeVersion",
    "Membership",
    "canonical_of",
    "expand",
    "iter_entries",
    "listed_codes",
    "resolve_value_set",
]

@dataclass(slots=True)
class Expansion:
    """The result of ``$expand``: the source value set, the page of entries and what was used."""

    value_set: dict
    identifier: str
    timestamp: str
    total: int
    offset: int
    count: int | None
    contains: list[ExpansionEntry]
    used_code_systems: list[str]
    used_value_sets: list[str]
    properties: list[tuple[str, str | None]]
    display_language: str | None = None
    version_parameters: list[tuple[str, str]] = field(default_factory=list)
    """The request's version parameters that decided a code system version (name, canonical)."""
    used_fragments: list[str] = field(default_factory=list)
    unclosed: str | None = None
    """Not None when the expansion is open-ended (a grammar-based code system): the reason, possibly empty."""
    used_supplements: list[str] = field(default_factory=list)
    """Code systems of content ``fragment`` used: the expansion may be incomplete (``valueset-unclosed``)."""
    standings: list[tuple[str, str, str]] = field(default_factory=list)
    """Draft/experimental/deprecated/withdrawn resources used: (resource type, canonical, standing)."""
    versions_match: bool = False
    """Members were matched across code system versions (``versionsMatch``, echoed in the expansion)."""


def expand(vs: dict, ctx: ResourceContext, options: ExpandOptions | None = None) -> Expansion:
    """``$expand`` of a ValueSet resource; raises ``ValueSetError`` subclasses."""
    options = options or ExpandOptions()
    compose = Compose(ctx, versions_match=options.versions_match)
    compose.note_standing("ValueSet", canonical_of(vs), standing(vs, lifecycle=False))
    members = compose.members(vs)
    if options.active_only:
        members = compose.keep(members, "active")
    if options.exclude_not_for_ui:
        members = compose.keep(members, "selectable")
    if options.filter:
        members = compose.text_filtered(members, options.filter)
    total = len(members)
    paged = options.count is not None or options.offset > 0
    if not paged and total > options.max_size:
        name = (vs.get("url") or "") if options.inline else canonical_of(vs)
        raise TooCostly(f"The value set '{name}' expansion has too many codes to produce "
                        f"(>{options.max_size})")
    start = max(options.offset, 0)
    end = total if options.count is None else start + max(options.count, 0)
    page = members.page(start, end)
    records = compose.records(page)
    builder = EntryBuilder(compose, options, versions_shown(compose))
    builder.preload(records)
    entries = [(key, builder.entry(key, records[key])) for key in page]
    wanted = options.exclude_nested is False or (options.exclude_nested is None and default_nesting(compose))
    nested = None
    if wanted and not paged and hierarchy_possible(vs, bool(options.filter)):
        nested = nest(entries, compose, records, strict=options.exclude_nested is None)
    contains = nested if nested is not None else [e for _, e in entries]
    return Expansion(
        value_set=vs, identifier=f"urn:uuid:{uuid.uuid4()}",
        timestamp=datetime.now(UTC).isoformat(timespec="seconds"), total=total, offset=start,
        count=options.count, contains=contains, used_code_systems=compose.used_code_systems,
        used_value_sets=compose.used_value_sets, properties=list(builder.declared.items()),
        display_language=options.display_language, version_parameters=ctx.rules.echo(),
        standings=compose.standings, used_fragments=compose.used_fragments, unclosed=compose.unclosed,
        used_supplements=list(ctx.used_supplements), versions_match=compose.versions_matched)


def resolve_value_set(ctx: ResourceContext, url: str | None, resource: dict | None,
                      version: str | None = None) -> dict:
    """The value set a request names: the ``valueSet`` resource given, else ``url`` (+ ``valueSetVersion``)."""
    if resource is not None:
        for contained in resource.get("contained", []):
            if contained.get("resourceType") in ("CodeSystem", "ValueSet"):
                ctx.add_resource(contained)
        return resource
    if not url:
        raise ValueSetError("No value set: give a url or a valueSet resource")
    if is_implicit_value_set(url):
        return ctx.value_set(url)
    plain, pinned = split_canonical(url)
    return ctx.value_set(plain, version or pinned)


def iter_entries(entries: Iterable[ExpansionEntry]) -> Iterable[ExpansionEntry]:
    """Every entry, nested ones included (depth first)."""
    for entry in entries:
        yield entry
        yield from iter_entries(entry.contains)
