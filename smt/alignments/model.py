"""A ConceptMap read as flat mapping rows (one per group × element × target), for translation, RDF and export.

R4 resources are read as they are; R5 ones (``relationship``, ``*Scope*``) are accepted too, their
relationships read as R4 equivalences. An element without target gives one row without target code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from smt.alignments.extensions import GENERATED_COMMENT, has_generated_comment, slot_of, slot_values
from smt.alignments.vocab import target_equivalence


@dataclass(frozen=True, slots=True)
class MapRow:
    """One mapping of a concept map: source concept → target concept with an equivalence."""

    group: int
    source_system: str | None
    source_version: str | None
    source_code: str
    source_display: str | None
    target_system: str | None
    target_version: str | None
    target_code: str | None
    target_display: str | None
    equivalence: str
    comment: str | None = None
    comment_generated: bool = False
    slots: dict[str, list] = field(default_factory=dict)
    """SSSOM slots carried by the target's extensions (see ``smt.alignments.extensions``)."""
    depends_on: tuple[dict, ...] = ()
    product: tuple[dict, ...] = ()
    extensions: tuple[dict, ...] = ()
    """The target's other extensions (e.g. SNOMED CT map group, priority, rule and advice)."""


def group_scope(group: dict) -> tuple[str | None, str | None, str | None, str | None]:
    """(source, sourceVersion, target, targetVersion) of a group."""
    return group.get("source"), group.get("sourceVersion"), group.get("target"), group.get("targetVersion")


def map_rows(resource: dict) -> Iterator[MapRow]:
    """Every mapping of a ConceptMap resource, in document order."""
    for number, group in enumerate(resource.get("group", []) or []):
        source, source_version, target, target_version = group_scope(group)
        for element in group.get("element", []) or []:
            code = element.get("code")
            if not isinstance(code, str) or not code:
                continue
            targets = element.get("target") or []
            if not targets:
                yield MapRow(number, source, source_version, code, element.get("display"), target, target_version,
                             None, None, "unmatched")
                continue
            for item in targets:
                yield MapRow(
                    group=number, source_system=source, source_version=source_version, source_code=code,
                    source_display=element.get("display"), target_system=target, target_version=target_version,
                    target_code=item.get("code"), target_display=item.get("display"),
                    equivalence=target_equivalence(item), comment=item.get("comment"),
                    comment_generated=has_generated_comment(item),
                    slots=slot_values(item.get("extension", [])),
                    depends_on=tuple(item.get("dependsOn", []) or []), product=tuple(item.get("product", []) or []),
                    extensions=tuple(e for e in item.get("extension", []) if not _ours(str(e.get("url", "")))),
                )


def _ours(url: str) -> bool:
    """Extensions ``MapRow`` reads into other fields (SSSOM slots, the generated-comment flag)."""
    return url == GENERATED_COMMENT or slot_of(url) is not None


def canonical(resource: dict) -> str | None:
    """``url|version`` of a concept map (``url`` alone when it has no version)."""
    url = resource.get("url")
    if not url:
        return None
    return f"{url}|{resource['version']}" if resource.get("version") else url


def scope_uri(resource: dict, side: str) -> str | None:
    """The source or target value set of a concept map (R4 ``sourceUri``/``sourceCanonical``, R5 scopes)."""
    for key in (f"{side}Uri", f"{side}Canonical", f"{side}ScopeUri", f"{side}ScopeCanonical"):
        if resource.get(key):
            return str(resource[key])
    return None
