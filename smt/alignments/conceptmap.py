"""SSSOM mapping set → FHIR R4 ConceptMap, losslessly (``sssom_to_conceptmap``).

* Identity: ``url`` = ``mapping_set_id``, ``version`` = ``mapping_set_version`` (either may be overridden).
* One ``group`` per (subject code system, object code system); systems come from the CURIE prefixes through
  the ``curie_map`` (``smt.alignments.curies``). One ``element`` per subject, one ``target`` per row.
* Native elements: subject code/label → ``element.code``/``display`` (the label only when every row of the
  subject agrees), object code/label → ``target.code``/``display``, ``predicate_id`` → ``target.equivalence``
  (``smt.alignments.vocab``), ``comment`` → ``target.comment``; ``sssom:NoTermFound`` → a target without code,
  ``unmatched``; ``predicate_modifier: Not`` → ``disjoint``.
* Everything else is kept in SSSOM extensions (``smt.alignments.extensions``): every other mapping slot on its
  target (also the predicate when it is not the equivalence's default, and a subject/object CURIE written
  with a prefix other than the one the export would choose), every mapping-set slot but the id and version
  on the ConceptMap (``curie_map`` always, which marks the resource as SSSOM-born). Title, description,
  licence, creator and date are also copied to their FHIR elements.

The reverse, ConceptMap → SSSOM, is ``smt.alignments.export``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from smt.alignments.curies import prefix_for, system_for_expansion
from smt.alignments.extensions import GENERATED_COMMENT, slot_extension, structured_extension
from smt.alignments.sssom import MULTIVALUED_SLOTS, MappingSet, split_values
from smt.alignments.vocab import BUILTIN_PREFIXES, NO_TERM_FOUND, equivalence_for, predicate_for
from smt.errors import LoadError

NATIVE_SLOTS = frozenset({"subject_id", "subject_label", "object_id", "object_label", "predicate_id", "comment"})
IDENTITY_SLOTS = ("mapping_set_id", "mapping_set_version")
COMMENT_REQUIRED = frozenset({"narrower", "inexact"})
"""R4 invariant cmd-1: a ``narrower`` or ``inexact`` target needs a comment."""
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


def computer_name(text: str) -> str:
    """A FHIR ``name`` (``[A-Z][A-Za-z0-9_]*``) made from a title or URL."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = [w for w in _NAME_UNSAFE.split(ascii_text) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words)[:255] or "ConceptMap"
    return name if name[0].isalpha() else f"Map{name}"


@dataclass(slots=True)
class _Group:
    source: str
    target: str | None
    elements: dict[str, dict] = field(default_factory=dict)
    labels: dict[str, set[str | None]] = field(default_factory=dict)


class _Resolver:
    """CURIE → (system, code), with the prefix the export would write for that system."""

    def __init__(self, curie_map: dict[str, str], where: str) -> None:
        self.curie_map = curie_map
        self.prefixes = {**BUILTIN_PREFIXES, **curie_map}
        self.where = where
        self._systems: dict[str, tuple[str, str]] = {}

    def resolve(self, curie: str, slot: str, row: int) -> tuple[str, str, bool]:
        """(system, code, written with the export's own prefix)."""
        prefix, sep, local = curie.partition(":")
        if not sep or not local:
            raise LoadError(f"mapping #{row}: {curie!r} is not a CURIE", file=self.where, field=slot)
        if prefix not in self._systems:
            expansion = self.prefixes.get(prefix)
            if expansion is None:
                raise LoadError(f"mapping #{row}: prefix {prefix!r} of {curie!r} is not in the curie_map",
                                file=self.where, field=slot)
            system = system_for_expansion(expansion)
            self._systems[prefix] = (system, prefix_for(system, self.curie_map)[0])
        system, own = self._systems[prefix]
        return system, local, own == prefix


def _set_extensions(metadata: dict) -> list[dict]:
    extensions = [structured_extension("curie_map", metadata.get("curie_map") or {})]
    for slot, value in metadata.items():
        if slot in IDENTITY_SLOTS or slot == "curie_map":
            continue
        if isinstance(value, str):
            extensions.append(slot_extension(slot, value))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value) and slot in MULTIVALUED_SLOTS:
            extensions += [slot_extension(slot, v) for v in value]
        else:
            extensions.append(structured_extension(slot, value))
    return extensions


def _first(value: object) -> str | None:
    if isinstance(value, list):
        return str(value[0]) if value else None
    return value if isinstance(value, str) else None


def _header(metadata: dict, url: str, version: str) -> dict:
    title = _first(metadata.get("mapping_set_title")) or url.rstrip("/").rsplit("/", 1)[-1]
    resource: dict = {
        "resourceType": "ConceptMap", "extension": _set_extensions(metadata), "url": url, "version": version,
        "name": computer_name(title), "title": title, "status": "active",
    }
    date = _first(metadata.get("publication_date")) or _first(metadata.get("mapping_date"))
    if date and _DATE.fullmatch(date):
        resource["date"] = date
    if publisher := _first(metadata.get("creator_label")):
        resource["publisher"] = publisher
    if description := _first(metadata.get("mapping_set_description")):
        resource["description"] = description
    if licence := _first(metadata.get("license")):
        resource["copyright"] = licence
    return resource


def _target(row: dict[str, str], system_code: str | None, equivalence: str, keep: dict[str, str]) -> dict:
    extensions = [slot_extension(slot, value) for slot, value in keep.items()]
    for slot, text in row.items():
        if slot not in NATIVE_SLOTS:
            extensions += [slot_extension(slot, value) for value in split_values(slot, text)]
    target: dict = {}
    if system_code is not None:
        target["code"] = system_code
    if "object_label" in row:
        target["display"] = row["object_label"]
    target["equivalence"] = equivalence
    if "comment" in row:
        target["comment"] = row["comment"]
    elif equivalence in COMMENT_REQUIRED:
        target["comment"] = f"SSSOM {row['predicate_id']}"
        extensions.append({"url": GENERATED_COMMENT, "valueBoolean": True})
    if extensions:
        target = {"extension": extensions, **target}
    return target


def sssom_to_conceptmap(mapping_set: MappingSet, url: str | None = None, version: str | None = None,
                        where: str = "SSSOM") -> dict:
    """The FHIR R4 ConceptMap holding every mapping and every metadata value of ``mapping_set``."""
    metadata = mapping_set.metadata
    url = url or _first(metadata.get("mapping_set_id"))
    version = version or _first(metadata.get("mapping_set_version"))
    if not url:
        raise LoadError("no mapping_set_id in the metadata block: pass --url", file=where, field="mapping_set_id")
    if not version:
        raise LoadError("no mapping_set_version in the metadata block: pass --version", file=where,
                        field="mapping_set_version")
    resolver = _Resolver(mapping_set.curie_map, where)
    groups: dict[tuple[str, str | None], _Group] = {}
    for number, row in enumerate(mapping_set.mappings, start=1):
        source, subject_code, own_subject = resolver.resolve(row["subject_id"], "subject_id", number)
        keep: dict[str, str] = {} if own_subject else {"subject_id": row["subject_id"]}
        if row["object_id"] == NO_TERM_FOUND:
            target_system, object_code, equivalence = None, None, "unmatched"
        else:
            target_system, object_code, own_object = resolver.resolve(row["object_id"], "object_id", number)
            if not own_object:
                keep["object_id"] = row["object_id"]
            equivalence = equivalence_for(row["predicate_id"], row.get("predicate_modifier"))
        if predicate_for(equivalence) != row["predicate_id"]:
            keep["predicate_id"] = row["predicate_id"]
        group = groups.setdefault((source, target_system), _Group(source, target_system))
        element = group.elements.setdefault(subject_code, {"code": subject_code, "target": []})
        group.labels.setdefault(subject_code, set()).add(row.get("subject_label"))
        element["target"].append((row, object_code, equivalence, keep))
    resource = _header(metadata, url, version)
    resource["group"] = [_group_json(group, metadata) for group in groups.values()]
    return resource


def _group_json(group: _Group, metadata: dict) -> dict:
    elements = []
    for code, element in group.elements.items():
        labels = group.labels[code]
        shared = next(iter(labels)) if len(labels) == 1 else None
        item: dict = {"code": code}
        if shared is not None:
            item["display"] = shared
        targets = []
        for row, object_code, equivalence, keep in element["target"]:
            if shared is None and "subject_label" in row:
                keep = {**keep, "subject_label": row["subject_label"]}
            targets.append(_target(row, object_code, equivalence, keep))
        item["target"] = targets
        elements.append(item)
    result: dict = {"source": group.source}
    if version := _first(metadata.get("subject_source_version")):
        result["sourceVersion"] = version
    if group.target is not None:
        result["target"] = group.target
        if version := _first(metadata.get("object_source_version")):
            result["targetVersion"] = version
    result["element"] = elements
    return result
