"""Downloads of a release, generated on first request and kept in the release folder.

Releases are immutable and every load gets a new id, so a generated file never changes and never outlives its
content (it goes with the release folder); it is stored under ``releases/<id>/downloads/<status>/`` (the status
is part of the FHIR resources) with a sidecar ``<file>.sha256`` holding its SHA-256, size and generation time.
Generation writes a temporary file and renames it, under a file lock, so concurrent requests (threads or worker
processes) generate a file once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import orjson

from smt.errors import NotFound
from smt.publish import fhir_export, parquet_exports
from smt.publish.changes import previous_release
from smt.publish.npm import package_name, package_version, resource_filename, write_package
from smt.publish.owl import write_owl
from smt.publish.rdf_read import RDF_SYNTAXES, dump_graph
from smt.releases.registry import Registry
from smt.store.rdf import graph_name
from smt.store.releases import ReleaseInfo
from smt.svs.repository import Found, described, value_set_oids
from smt.svs.xml import retrieve_value_set_response

ALL_KINDS = ("CodeSystem", "ValueSet", "ConceptMap")
MEMBER_KINDS = ("CodeSystem", "ValueSet")


@dataclass(frozen=True, slots=True)
class ExportFormat:
    name: str
    label: str
    media_type: str
    kinds: tuple[str, ...]


FORMATS: dict[str, ExportFormat] = {
    fmt.name: fmt for fmt in (
        ExportFormat("fhir-json", "FHIR R4 JSON resource", "application/fhir+json", ALL_KINDS),
        ExportFormat("ndjson", "NDJSON, one concept per line", "application/x-ndjson", MEMBER_KINDS),
        ExportFormat("csv", "CSV", "text/csv; charset=utf-8", MEMBER_KINDS),
        *(ExportFormat(s.name, s.format.name, s.media_type, ALL_KINDS) for s in RDF_SYNTAXES.values()),
        ExportFormat("npm", "FHIR NPM package", "application/gzip", ALL_KINDS),
        ExportFormat("owl", "OWL 2 ontology (RDF/XML)", "application/rdf+xml", ("CodeSystem",)),
        ExportFormat("svs", "IHE SVS RetrieveValueSetResponse XML", "application/xml", ("ValueSet",)),
        *(ExportFormat(name, label, parquet_exports.MEDIA_TYPE, kinds)
          for name, (label, kinds) in parquet_exports.FORMATS.items()),
    )
}


@dataclass(frozen=True, slots=True)
class Download:
    """A generated download and its checksum."""

    format: ExportFormat
    path: Path
    sha256: str
    size: int
    generated_at: str

    @property
    def filename(self) -> str:
        return self.path.name


def formats_for(info: ReleaseInfo, previous: ReleaseInfo | None = None) -> list[ExportFormat]:
    """The formats of a release; the diff from the previous version only when there is one."""
    return [fmt for fmt in FORMATS.values()
            if info.kind in fmt.kinds and (previous is not None or fmt.name not in parquet_exports.NEEDS_PREVIOUS)]


def filename(info: ReleaseInfo, fmt: ExportFormat, previous: ReleaseInfo | None = None) -> str:
    if fmt.name in parquet_exports.FORMATS:
        return parquet_exports.filename(info, fmt.name, previous)
    if fmt.name == "fhir-json":
        return resource_filename(info)
    if fmt.name == "npm":
        return f"{package_name(info)}-{package_version(info.version)}.tgz"
    if fmt.name in RDF_SYNTAXES:
        return info.id + RDF_SYNTAXES[fmt.name].extension
    if fmt.name == "owl":
        return f"{info.id}.owl"
    if fmt.name == "svs":
        return f"{info.id}.svs.xml"
    return f"{info.id}.{fmt.name}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class Exporter:
    """Generates and caches the downloads of the releases of one store.

    ``registry`` arguments name the registry the caller sees (drafts hidden or not): the diff download of a
    release compares it with the previous version there.
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.rdf_path = registry.store.rdf_dir

    def folder(self, info: ReleaseInfo) -> Path:
        return info.path / "downloads" / info.status

    def previous(self, info: ReleaseInfo, registry: Registry | None = None) -> ReleaseInfo | None:
        """The version before ``info`` that its diff download compares with."""
        return previous_release(registry or self.registry, info) if info.kind in parquet_exports.DIFFABLE else None

    def format(self, info: ReleaseInfo, name: str, registry: Registry | None = None) -> ExportFormat:
        offered = formats_for(info, self.previous(info, registry))
        fmt = next((f for f in offered if f.name == name), None)
        if fmt is None:
            raise NotFound(f"no download format '{name}' for this {info.kind} (formats: "
                           f"{', '.join(f.name for f in offered)})")
        return fmt

    def cached(self, info: ReleaseInfo, fmt: ExportFormat, registry: Registry | None = None) -> Download | None:
        """The download if it was generated already."""
        path = self.folder(info) / filename(info, fmt, self.previous(info, registry))
        try:
            meta = orjson.loads(path.with_name(path.name + ".sha256").read_bytes())
        except (FileNotFoundError, orjson.JSONDecodeError):
            return None
        if not path.exists():
            return None
        return Download(fmt, path, meta["sha256"], meta["size"], meta["generated_at"])

    def get(self, info: ReleaseInfo, name: str, registry: Registry | None = None) -> Download:
        """The download in format ``name``, generated now if needed."""
        fmt = self.format(info, name, registry)
        found = self.cached(info, fmt, registry)
        if found is not None:
            return found
        if not info.path.is_dir():  # removed since the request listed it: never recreate its folder
            raise NotFound(f"release {info.id} has been removed")
        previous = self.previous(info, registry)
        folder = self.folder(info)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / filename(info, fmt, previous)
        with (folder / f".{target.name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            found = self.cached(info, fmt, registry)
            return found if found is not None else self._generate(info, fmt, target, registry or self.registry)

    def listing(self, info: ReleaseInfo, registry: Registry | None = None
                ) -> list[tuple[ExportFormat, Download | None]]:
        """Every format offered for the release, with its download when generated."""
        return [(fmt, self.cached(info, fmt, registry)) for fmt in formats_for(info, self.previous(info, registry))]

    def generate_all(self, info: ReleaseInfo, registry: Registry | None = None) -> list[Download]:
        return [self.get(info, fmt.name, registry) for fmt in formats_for(info, self.previous(info, registry))]

    # -- generation -----------------------------------------------------------------------------------------

    def _generate(self, info: ReleaseInfo, fmt: ExportFormat, target: Path, registry: Registry) -> Download:
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            if fmt.name in parquet_exports.FORMATS:
                parquet_exports.write(registry, info, fmt.name, tmp)
            else:
                self._writer(info, fmt)(tmp)
            with tmp.open("rb") as handle:
                os.fsync(handle.fileno())
            download = Download(fmt, target, _sha256(tmp), tmp.stat().st_size,
                                datetime.now(UTC).isoformat(timespec="seconds"))
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        sidecar = target.with_name(target.name + ".sha256")
        sidecar_tmp = sidecar.with_name(f".{sidecar.name}.tmp")
        sidecar_tmp.write_bytes(orjson.dumps({"sha256": download.sha256, "size": download.size,
                                              "generated_at": download.generated_at}))
        sidecar_tmp.replace(sidecar)
        return download

    def _writer(self, info: ReleaseInfo, fmt: ExportFormat) -> Callable[[Path], None]:
        if fmt.name in RDF_SYNTAXES:
            return lambda path: dump_graph(self.rdf_path, graph_name(info.id), RDF_SYNTAXES[fmt.name], path)
        if fmt.name == "npm":
            resource = self.get(info, "fhir-json").path
            return _to_file(lambda out: write_package(info, resource, out))
        return _to_file(self._content_writer(info, fmt))

    def _content_writer(self, info: ReleaseInfo, fmt: ExportFormat) -> Callable[[BinaryIO], None]:
        if info.kind == "CodeSystem":
            index = self.registry.index(info)
            return {
                "owl": lambda out: write_owl(info, index, out),
                "fhir-json": lambda out: fhir_export.write_code_system(info, index, out),
                "ndjson": lambda out: fhir_export.write_code_system_ndjson(index, out),
                "csv": lambda out: fhir_export.write_code_system_csv(index, out),
            }[fmt.name]
        return {
            "svs": lambda out: out.write(svs_document(self.registry, info)),
            "fhir-json": lambda out: fhir_export.write_resource(info, out),
            "ndjson": lambda out: fhir_export.write_value_set_ndjson(info, self.registry, out),
            "csv": lambda out: fhir_export.write_value_set_csv(info, self.registry, out),
        }[fmt.name]


def svs_document(registry: Registry, info: ReleaseInfo) -> bytes:
    """A value set release as IHE SVS ``RetrieveValueSetResponse`` (its OID identifies it; else its URL)."""
    resource = info.resource()
    oids = value_set_oids(resource)
    found = Found(info, oids[0] if oids else info.url, resource)
    return retrieve_value_set_response(described(registry, found))


def _to_file(write: Callable[[BinaryIO], None]) -> Callable[[Path], None]:
    def run(path: Path) -> None:
        with path.open("wb") as out:
            write(out)
    return run


def checksums(downloads: list[Download]) -> str:
    """``sha256sum``-compatible lines for the generated downloads."""
    return "".join(f"{d.sha256}  {d.filename}\n" for d in downloads)
