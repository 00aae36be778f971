"""SSSOM/TSV reading and writing (https://w3id.org/sssom/): a YAML metadata block, then one mapping per row.

The metadata block is the run of ``#``-prefixed lines at the top of the file (or, when there is none, an
external YAML text). It is parsed with YAML's *base* loader, so every scalar stays the text the file holds
(``mapping_set_version: 1.0`` is ``"1.0"``, dates are not converted); multi-valued slots given as one value
become one-item lists, as in the SSSOM data model. What is read can be written back unchanged. Rows keep
their non-empty cells as text, by column name (multi-valued cells stay ``a|b`` text, see ``split_values``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import yaml

from smt.errors import LoadError

MAPPING_SLOTS = (
    "record_id", "subject_id", "subject_label", "subject_category", "predicate_id", "predicate_label",
    "predicate_modifier", "object_id", "object_label", "object_category", "mapping_justification", "author_id",
    "author_label", "reviewer_id", "reviewer_label", "creator_id", "creator_label", "license", "subject_type",
    "subject_source", "subject_source_version", "object_type", "object_source", "object_source_version",
    "mapping_provider", "mapping_source", "mapping_cardinality", "cardinality_scope", "mapping_tool",
    "mapping_tool_id", "mapping_tool_version", "mapping_date", "publication_date", "review_date", "confidence",
    "reviewer_agreement", "curation_rule", "curation_rule_text", "subject_match_field", "object_match_field",
    "match_string", "subject_preprocessing", "object_preprocessing", "similarity_score", "similarity_measure",
    "see_also", "issue_tracker_item", "other", "comment",
)
"""Mapping slots of the SSSOM specification, in the order the specification lists them (column order)."""

MULTIVALUED_SLOTS = frozenset({
    "author_id", "author_label", "reviewer_id", "reviewer_label", "creator_id", "creator_label",
    "cardinality_scope", "curation_rule", "curation_rule_text", "subject_match_field", "object_match_field",
    "match_string", "subject_preprocessing", "object_preprocessing", "see_also",
})
"""Slots holding several values, written ``a|b`` in a TSV cell."""

ENTITY_SLOTS = frozenset({
    "subject_id", "predicate_id", "object_id", "mapping_justification", "author_id", "reviewer_id", "creator_id",
    "subject_type", "object_type", "subject_category", "object_category", "subject_source", "object_source",
    "mapping_provider", "mapping_tool_id", "curation_rule", "subject_match_field", "object_match_field",
    "subject_preprocessing", "object_preprocessing", "similarity_measure", "issue_tracker_item", "see_also",
    "license", "mapping_set_id", "mapping_source",
})
"""Slots whose values are entity references (CURIEs or IRIs), as opposed to literals."""

REQUIRED_COLUMNS = ("subject_id", "predicate_id", "object_id")


@dataclass(slots=True)
class MappingSet:
    """An SSSOM mapping set: the metadata block (text values, lists, the ``curie_map`` dict) and its rows."""

    metadata: dict = field(default_factory=dict)
    mappings: list[dict[str, str]] = field(default_factory=list)

    @property
    def curie_map(self) -> dict[str, str]:
        value = self.metadata.get("curie_map") or {}
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def split_values(slot: str, value: str) -> list[str]:
    """The values of one cell: ``a|b`` split for multi-valued slots, else the cell itself."""
    if slot in MULTIVALUED_SLOTS:
        return [part.strip() for part in value.split("|") if part.strip()]
    return [value]


def _metadata(text: str, where: str) -> dict:
    try:
        data = yaml.load(text, Loader=yaml.BaseLoader) if text.strip() else {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise LoadError(f"invalid SSSOM metadata block: {exc}", file=where,
                        line=line + 1 if line is not None else None) from exc
    if not isinstance(data, dict):
        raise LoadError("the SSSOM metadata block is not a YAML mapping", file=where, line=1)
    return {key: [value] if key in MULTIVALUED_SLOTS and isinstance(value, str) else value
            for key, value in data.items()}


def parse_sssom(text: str, where: str = "SSSOM", external_metadata: str | None = None) -> MappingSet:
    """A mapping set from SSSOM/TSV text; a missing required column or cell is a ``LoadError`` with its line."""
    lines = text.removeprefix("\ufeff").splitlines()
    header_at = 0
    while header_at < len(lines) and lines[header_at].startswith("#"):
        header_at += 1
    block = "\n".join(line[1:] for line in lines[:header_at])
    metadata = _metadata(block if header_at else (external_metadata or ""), where)
    body = lines[header_at:]
    if not body or not body[0].strip():
        raise LoadError("no SSSOM header row after the metadata block", file=where, line=header_at + 1)
    reader = csv.reader(io.StringIO("\n".join(body)), delimiter="\t")
    columns = [c.strip() for c in next(reader)]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise LoadError(f"missing SSSOM column(s) {', '.join(missing)}", file=where, line=header_at + 1)
    mappings: list[dict[str, str]] = []
    for offset, cells in enumerate(reader, start=header_at + 2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns):
            raise LoadError(f"{len(cells)} cells for {len(columns)} columns", file=where, line=offset)
        row = {column: cell.strip() for column, cell in zip(columns, cells, strict=False) if cell.strip()}
        for required in REQUIRED_COLUMNS:
            if required not in row:
                raise LoadError("empty cell", file=where, line=offset, field=required)
        mappings.append(row)
    return MappingSet(metadata, mappings)


def _columns(mappings: list[dict[str, str]]) -> list[str]:
    present: dict[str, None] = {}
    for row in mappings:
        present.update(dict.fromkeys(row))
    known = [slot for slot in MAPPING_SLOTS if slot in present]
    return known + [column for column in present if column not in MAPPING_SLOTS]


def _cell(value: str) -> str:
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def write_sssom(mapping_set: MappingSet) -> str:
    """SSSOM/TSV text: the metadata block (``#``-prefixed YAML), the header, one line per mapping."""
    out = io.StringIO()
    if mapping_set.metadata:
        block = yaml.safe_dump(mapping_set.metadata, sort_keys=False, allow_unicode=True, width=10_000)
        out.writelines(f"#{line}\n" for line in block.splitlines())
    columns = _columns(mapping_set.mappings) or list(REQUIRED_COLUMNS)
    out.write("\t".join(columns) + "\n")
    for row in mapping_set.mappings:
        out.write("\t".join(_cell(row.get(column, "")) for column in columns) + "\n")
    return out.getvalue()
