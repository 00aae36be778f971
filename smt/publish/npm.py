"""A release as a FHIR NPM package (``.tgz``) that IG tooling and terminology servers can load.

Layout: ``package/package.json`` (name, version, fhirVersions, dependencies), ``package/.index.json`` (one
entry per resource file) and the resource, e.g. ``package/CodeSystem-<id>.json``. The archive is
byte-reproducible: entries are sorted and stamped with the release's load time.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import orjson

from smt.publish.fhir_export import FHIR_VERSION
from smt.store.releases import ReleaseInfo

PACKAGE_PREFIX = "fr.esante.smt"
CORE_PACKAGE = {"hl7.fhir.r4.core": FHIR_VERSION}
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")


def package_name(info: ReleaseInfo) -> str:
    """``fr.esante.smt.<name>``: lowercase, each dot-separated part starting with a letter."""
    slug = re.sub(r"[^a-z0-9]+", "-", (info.name or info.id).lower()).strip("-") or "release"
    return f"{PACKAGE_PREFIX}.{slug if slug[0].isalpha() else 'r' + slug}"


def package_version(version: str) -> str:
    """The release version as semver: kept when it is one, ``2021`` → ``2021.0.0``, else ``0.0.0-<slug>``."""
    tail = version.rstrip("/").rsplit("/", 1)[-1]
    if _SEMVER.match(tail):
        return tail
    if re.fullmatch(r"\d+(\.\d+)?", tail):
        return tail + ".0" * (3 - len(tail.split(".")))
    slug = re.sub(r"[^0-9A-Za-z.-]+", "-", tail).strip("-.") or "unversioned"
    return f"0.0.0-{slug}"


def resource_filename(info: ReleaseInfo) -> str:
    return f"{info.kind}-{info.id}.json"


def package_json(info: ReleaseInfo) -> dict:
    return {
        "name": package_name(info),
        "version": package_version(info.version),
        "description": f"{info.title or info.name} — {info.kind} {info.url} version {info.version}",
        "canonical": info.url,
        "url": info.url,
        "title": info.title or info.name,
        "fhirVersions": [FHIR_VERSION],
        "type": "Conformance",
        "dependencies": CORE_PACKAGE,
        "author": "SMT",
        "date": info.loaded_at,
    }


def index_json(info: ReleaseInfo) -> dict:
    entry = {"filename": resource_filename(info), "resourceType": info.kind, "id": info.id, "url": info.url,
             "version": info.version}
    if info.kind == "CodeSystem":
        entry["content"] = "complete"
    return {"index-version": 1, "files": [entry]}


def _add(archive: tarfile.TarFile, name: str, data: bytes | Path, mtime: float) -> None:
    member = tarfile.TarInfo(f"package/{name}")
    member.mtime = int(mtime)
    member.mode = 0o644
    if isinstance(data, Path):
        member.size = data.stat().st_size
        with data.open("rb") as handle:
            archive.addfile(member, handle)
    else:
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))


def write_package(info: ReleaseInfo, resource_file: Path, out: BinaryIO) -> None:
    """The package of ``info`` whose resource JSON is already written at ``resource_file``."""
    mtime = datetime.fromisoformat(info.loaded_at).timestamp()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=int(mtime)) as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        _add(archive, "package.json", orjson.dumps(package_json(info), option=orjson.OPT_INDENT_2), mtime)
        _add(archive, ".index.json", orjson.dumps(index_json(info), option=orjson.OPT_INDENT_2), mtime)
        _add(archive, resource_filename(info), resource_file, mtime)
