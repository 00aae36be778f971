"""SSSOM/TSV loader: one mapping set → one ConceptMap release (``smt load sssom <file.sssom.tsv>``).

The metadata block (``#``-prefixed YAML at the top of the file, else a sibling ``<name>.sssom.yml``, ``.yml``
or ``.yaml``) gives the release identity: ``url`` = ``mapping_set_id`` and ``version`` =
``mapping_set_version``, unless ``url``/``version`` are passed. The conversion keeps every mapping and every
metadata value (``smt.alignments.conceptmap``), so ``GET /fhir/ConceptMap/{id}/$export?format=sssom`` gives
the mapping set back.
"""

from __future__ import annotations

from pathlib import Path

from loaders.sources import decode_lines, read_bytes, source_file
from smt.alignments.conceptmap import sssom_to_conceptmap
from smt.alignments.sssom import MappingSet, parse_sssom
from smt.model import ResourceRelease


def _sibling_metadata(path: Path) -> str | None:
    stem = path.name.removesuffix(".gz").removesuffix(".tsv").removesuffix(".sssom")
    for suffix in (".sssom.yml", ".sssom.yaml", ".yml", ".yaml"):
        candidate = path.with_name(stem + suffix)
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    return None


def read_sssom(path: Path) -> MappingSet:
    """The mapping set of an SSSOM/TSV file (gzip accepted)."""
    text = "\n".join(decode_lines(read_bytes(path), path))
    return parse_sssom(text, str(path), _sibling_metadata(path))


def release_of(mapping_set: MappingSet, where: str, url: str | None = None,
               version: str | None = None) -> ResourceRelease:
    """The ConceptMap release of a mapping set."""
    resource = sssom_to_conceptmap(mapping_set, url=url, version=version, where=where)
    targets = sum(len(e["target"]) for g in resource["group"] for e in g["element"])
    return ResourceRelease(
        kind="ConceptMap", url=resource["url"], version=resource["version"], name=resource["name"],
        title=resource["title"], resource=resource, publisher=resource.get("publisher"),
        copyright=resource.get("copyright"), language=None, date=resource.get("date"),
        description=resource.get("description"),
        stats={"mappings": len(mapping_set.mappings), "groups": len(resource["group"]), "targets": targets},
    )


def load(path: Path, version: str | None = None, url: str | None = None) -> list[ResourceRelease]:
    """The ConceptMap release of one SSSOM/TSV file."""
    path = Path(path)
    release = release_of(read_sssom(path), str(path), url=url, version=version)
    release.sources.append(source_file(path))
    return [release]
