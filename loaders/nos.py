"""``smt load nos <path>``: NOS tables (TRE_, JDV_, ASS_) of the ANS from a file or a folder (recursive).

Reads FHIR R4 JSON (``*.json``, see ``loaders.nos_fhir``) and IHE SVS XML (``*.xml``, see ``loaders.svs``).
Empty files, files of other types (e.g. ``SVS.xsd``), non-terminology JSON and XML that is not SVS in a folder,
and SVS tables that cannot be loaded (ASS_, placeholders only) are skipped and reported; a malformed file
(syntax error, a concept without code) stops the whole load with the file and line, so a failed load stores
nothing. The code system OIDs of SVS value sets are resolved after every file is read: catalogue, then the code
systems of this load, then those already in the store (``stored_system_for_oid``, given by the CLI), so file
order does not matter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loaders.nos_fhir import fhir_releases
from loaders.sources import read_bytes, source_file
from loaders.svs import svs_release
from smt.catalogue.terminologies import plain_oid, url_for_oid
from smt.errors import LoadError
from smt.model import CodeSystemRelease, Release, ResourceRelease
from smt.svs.xml import is_svs_root, parse_xml, read_svs

log = logging.getLogger("loaders.nos")

JSON_SUFFIXES = (".json", ".json.gz")
XML_SUFFIXES = (".xml", ".xml.gz")


@dataclass(slots=True)
class NosLoad:
    """What one load read: the releases, and the files or tables skipped (``"<file>: <reason>"``)."""

    releases: list[Release] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def source_files(path: Path) -> list[Path]:
    """The file itself, or every file under the folder in name order."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    if not path.exists():
        raise LoadError("file not found", file=str(path))
    return [path]


def _read_json(file: Path, data: bytes, version: str | None, in_folder: bool, result: NosLoad) -> list[Release]:
    releases = fhir_releases(data, file, version)
    if not releases:
        if not in_folder:
            raise LoadError("no CodeSystem, ValueSet or ConceptMap resource", file=str(file), field="resourceType")
        result.skipped.append(f"{file}: no CodeSystem, ValueSet or ConceptMap resource")
    return releases


def _read_xml(file: Path, data: bytes, version: str | None, in_folder: bool, result: NosLoad,
              svs_value_sets: list[ResourceRelease]) -> list[Release]:
    root = parse_xml(data, str(file))
    if not is_svs_root(root) and in_folder:
        result.skipped.append(f"{file}: not an IHE SVS document")
        return []
    releases: list[Release] = []
    for value_set in read_svs(root, str(file)):
        outcome = svs_release(value_set, file, version)
        if outcome.release is None:
            result.skipped.append(f"{outcome.skipped} ({len(outcome.warnings)} warning(s))"
                                  if outcome.warnings else str(outcome.skipped))
            continue
        if isinstance(outcome.release, ResourceRelease):
            svs_value_sets.append(outcome.release)
        releases.append(outcome.release)
    return releases


OidResolver = Callable[[str], str | None]
"""An OID (without ``urn:oid:``) → the canonical URL of the code system it identifies, or None."""


def resolve_includes(release: ResourceRelease, resolve: OidResolver) -> None:
    """Replace ``urn:oid:`` include systems by canonical URLs where known; warn about the others."""
    unknown = []
    for include in release.resource.get("compose", {}).get("include", []):
        system = include.get("system", "")
        if system.startswith("urn:oid:"):
            url = resolve(plain_oid(system))
            if url:
                include["system"] = url
            else:
                unknown.append(plain_oid(system))
    if unknown:
        release.warnings.append(f"code system OID(s) unknown to the catalogue and the store, kept as urn:oid: "
                                f"systems: {', '.join(unknown)}")


def _check_unique(releases: list[Release]) -> None:
    seen: dict[tuple[str, str, str], str] = {}
    for release in releases:
        key = (release.kind, release.url, release.version)
        origin = release.sources[0].name if release.sources else "?"
        if key in seen:
            raise LoadError(f"{release.kind} {release.url} version {release.version} is defined twice in this load "
                            f"(also in {seen[key]}); pass files separately or remove one", file=origin)
        seen[key] = origin


def _warn_shared_oids(releases: list[Release]) -> None:
    by_oid: dict[str, list[ResourceRelease]] = {}
    for release in releases:
        if isinstance(release, ResourceRelease) and release.kind == "ValueSet":
            for oid in release.oids:
                by_oid.setdefault(oid, []).append(release)
    for oid, sharing in by_oid.items():
        urls = sorted({r.url for r in sharing})
        if len(urls) > 1:
            for release in sharing:
                others = ", ".join(u for u in urls if u != release.url)
                release.warnings.append(f"value set OID {oid} is also the OID of {others}")


def scan(path: Path, version: str | None = None, stored_system_for_oid: OidResolver | None = None) -> NosLoad:
    """Read every NOS file under ``path``; ``stored_system_for_oid`` (optional) resolves OIDs of stored code
    systems."""
    path = Path(path)
    in_folder = path.is_dir()
    result = NosLoad()
    svs_value_sets: list[ResourceRelease] = []
    for file in source_files(path):
        name = file.name.lower()
        if not name.endswith(JSON_SUFFIXES + XML_SUFFIXES):
            if in_folder and name.startswith("readme"):
                continue
            if not in_folder:
                raise LoadError("not a NOS file: expected FHIR JSON (.json) or IHE SVS XML (.xml)", file=str(file))
            result.skipped.append(f"{file}: not a .json or .xml file")
            continue
        data = read_bytes(file)
        if not data.strip():
            result.skipped.append(f"{file}: empty file")
            continue
        if name.endswith(JSON_SUFFIXES):
            found = _read_json(file, data, version, in_folder, result)
        else:
            found = _read_xml(file, data, version, in_folder, result, svs_value_sets)
        checksum = source_file(file)
        for release in found:
            release.sources.append(checksum)
        result.releases.extend(found)
    batch: dict[str, str] = {}
    for release in result.releases:
        if isinstance(release, CodeSystemRelease):
            for oid in release.oids:
                batch.setdefault(oid, release.url)
    stored = stored_system_for_oid or (lambda oid: None)
    for release in svs_value_sets:
        resolve_includes(release, lambda oid: url_for_oid(oid) or batch.get(oid) or stored(oid))
    _check_unique(result.releases)
    _warn_shared_oids(result.releases)
    return result


def load(path: Path, version: str | None = None, *,
         stored_system_for_oid: OidResolver | None = None) -> list[Release]:
    """Loader entry point: the releases of ``path``; skipped files are logged as warnings."""
    result = scan(path, version, stored_system_for_oid)
    for skipped in result.skipped:
        log.warning("skipped %s", skipped)
    return result.releases
