"""Concept, description and refset-member facts read from a release index for the ECL filters."""

from __future__ import annotations

import re
import sqlite3
import tomllib
from collections.abc import Callable, Collection, Iterable, Iterator
from functools import cache

import orjson

from smt.config import CATALOGUE_DIR
from smt.ecl import backend as sct
from smt.ecl.backend import ConceptFacts, DescriptionFacts, MemberFacts

IN = "IN (SELECT value FROM json_each(?))"
_SCTID = re.compile(r"[1-9][0-9]{5,17}")
Resolve = Callable[[str], int | None]


@cache
def dialect_refsets() -> dict[str, str]:
    """Dialect tag (lower case, as stored with designation acceptability) → language refset SCTID."""
    tags = dict(sct.DIALECTS)
    path = CATALOGUE_DIR / "snomed.toml"
    if path.is_file():
        with path.open("rb") as handle:
            configured = tomllib.load(handle).get("snomed", {}).get("dialects", {})
        tags.update({str(tag).lower(): str(refset) for refset, tag in configured.items()})
    return tags


def concept_facts(db: sqlite3.Connection, ids: Collection[int], resolve: Resolve) -> Iterator[ConceptFacts]:
    """Status, module, definition status and effective time of the concepts (from the SNOMED CT properties)."""
    wanted = orjson.dumps(list(ids)).decode()
    props: dict[int, dict[str, str]] = {}
    for concept, code, value in db.execute(
            "SELECT concept, code, value FROM property WHERE code IN ('moduleId', 'effectiveTime', "
            f"'sufficientlyDefined') AND concept {IN}", (wanted,)):
        props.setdefault(concept, {})[code] = value
    defined, primitive = resolve(sct.DEFINED), resolve(sct.PRIMITIVE)
    for concept, status in db.execute(f"SELECT id, status FROM concept WHERE id {IN}", (wanted,)):
        facts = props.get(concept, {})
        module = facts.get("moduleId")
        sufficient = facts.get("sufficientlyDefined")
        yield ConceptFacts(
            concept, status == "active", resolve(module) if module else None,
            None if sufficient is None else defined if sufficient == "true" else primitive,
            facts.get("effectiveTime", "").replace("-", "")[:8] or None)


def descriptions(db: sqlite3.Connection, ids: Collection[int], resolve: Resolve) -> Iterator[DescriptionFacts]:
    """Every description of the concepts, with type and acceptability as concept ids."""
    accepted = _acceptability_parser(resolve)
    for concept, ref, term, language, use, active, acceptability in db.execute(
            "SELECT concept, ref, value, language, use_code, active, acceptability FROM designation "
            f"WHERE concept {IN}", (orjson.dumps(list(ids)).decode(),)):
        yield DescriptionFacts(concept, ref or "", term, language, resolve(use) if use else None, bool(active),
                               acceptability=accepted(acceptability))


def _acceptability_parser(resolve: Resolve) -> Callable[[str | None], dict[int, int]]:
    """``"en-GB:preferred|en-US:acceptable"`` → {language refset id: acceptability id} (memoised)."""
    refsets = dialect_refsets()
    values = {"preferred": resolve(sct.PREFERRED), "acceptable": resolve(sct.ACCEPTABLE)}
    seen: dict[str | None, dict[int, int]] = {None: {}}

    def parse(text: str | None) -> dict[int, int]:
        if text not in seen:
            result: dict[int, int] = {}
            for part in text.split("|"):  # type: ignore[union-attr]
                tag, _, value = part.partition(":")
                sctid = refsets.get(tag.lower())
                refset = resolve(sctid) if sctid else None
                accept = values.get(value)
                if refset is not None and accept is not None:
                    result[refset] = accept
            seen[text] = result
        return seen[text]
    return parse


def members(rows: Iterable[tuple[str, int | None, str | None]], resolve: Resolve) -> Iterator[MemberFacts]:
    """Member facts from ``(refset SCTID, referenced concept id, fields JSON)`` rows; field values that are
    concept ids of the release become ints."""
    for refset, referenced, fields in rows:
        values: dict[str, object] = orjson.loads(fields) if fields else {}
        for name, value in values.items():
            if isinstance(value, str) and _SCTID.fullmatch(value):
                found = resolve(value)
                if found is not None:
                    values[name] = found
        refset_id = resolve(refset)
        if refset_id is not None:
            yield MemberFacts(refset_id, referenced, fields=values)
