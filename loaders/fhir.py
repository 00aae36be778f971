"""FHIR R4 JSON loader: CodeSystem, ValueSet and ConceptMap resources (single files, Bundles or folders).

This module reads the files; turning each resource into a release (``codesystem_release``,
``resource_release``) is ``smt.formats.fhir_json``, shared with the engines for request resources.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from loaders.sources import read_bytes, source_file
from smt.errors import LoadError
from smt.formats.fhir_json import release_from_resource, resources_in
from smt.model import Release


def parse_json_file(path: Path) -> dict:
    """A JSON file's object; a syntax error names the line."""
    data = read_bytes(path)
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise LoadError(f"invalid JSON: {exc.msg}", file=str(path), line=exc.lineno) from exc
    if not isinstance(document, dict):
        raise LoadError("expected a JSON object (a FHIR resource)", file=str(path), line=1)
    return document


def json_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix == ".json" or p.name.endswith(".json.gz"))
    return [path]


def load(path: Path, version: str | None = None) -> list[Release]:
    """Every CodeSystem, ValueSet and ConceptMap found in a file, a Bundle or a folder of JSON files.

    Stored releases need a version: a resource without one is refused unless ``version`` is given.
    """
    releases: list[Release] = []
    for file in json_files(path):
        document = parse_json_file(file)
        found = list(resources_in(document))
        if not found and not path.is_dir():
            raise LoadError(f"no CodeSystem, ValueSet or ConceptMap (resourceType "
                            f"{document.get('resourceType')!r})", file=str(file), field="resourceType")
        checksum = source_file(file)
        for resource in found:
            release = release_from_resource(resource, str(file), version)
            if not release.version:
                raise LoadError(f"{release.kind} {release.url} has no version: give one (--version)",
                                file=str(file), field="version")
            release.sources.append(checksum)
            releases.append(release)
    return releases
