"""The compiled artefacts of a release, each a named step with a format version, and the compile step the store
is given (``compile_release`` over ``ARTEFACTS``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import orjson

from smt import index, search
from smt.index.build import build_index, index_rows
from smt.model import CodeSystemRelease, Release, ResourceRelease
from smt.progress import SILENT, Progress
from smt.search import SEARCH_DIR
from smt.search.build import build_search_index
from smt.store.releases import INDEX, RESOURCE, RESOURCE_FORMAT, ReleaseStore


class Artefact(Protocol):
    """One compiled artefact: ``name`` and ``version`` go into the manifest (``artefacts``)."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> int: ...

    def applies(self, release: Release) -> bool:
        """Whether releases of this kind have this artefact."""

    def build(self, release: Release, folder: Path, progress: Progress) -> None:
        """Write the artefact into the release's (work) folder."""


@dataclass(frozen=True, slots=True)
class SqliteIndex:
    """``index.sqlite``: concepts, designations, properties, hierarchy and closure (``smt.index``)."""

    name: str = "index"
    version: int = index.FORMAT_VERSION

    def applies(self, release: Release) -> bool:
        return isinstance(release, CodeSystemRelease)

    def build(self, release: Release, folder: Path, progress: Progress) -> None:
        assert isinstance(release, CodeSystemRelease)
        build_index(release, folder / INDEX, progress.phase(f"{_label(release)}: index", index_rows(release)))


@dataclass(frozen=True, slots=True)
class SearchIndex:
    """``search/``: the tantivy full-text index of every term (``smt.search``)."""

    name: str = "search"
    version: int = search.FORMAT_VERSION

    def applies(self, release: Release) -> bool:
        return isinstance(release, CodeSystemRelease)

    def build(self, release: Release, folder: Path, progress: Progress) -> None:
        assert isinstance(release, CodeSystemRelease)
        phase = progress.phase(f"{_label(release)}: search index", len(release.concepts))
        build_search_index(release, folder / SEARCH_DIR, phase=phase)


@dataclass(frozen=True, slots=True)
class FhirResource:
    """``resource.json``: the FHIR R4 JSON of a value set or concept map, as loaded."""

    name: str = "resource"
    version: int = RESOURCE_FORMAT

    def applies(self, release: Release) -> bool:
        return isinstance(release, ResourceRelease)

    def build(self, release: Release, folder: Path, progress: Progress) -> None:
        assert isinstance(release, ResourceRelease)
        (folder / RESOURCE).write_bytes(orjson.dumps(release.resource))


ARTEFACTS: tuple[Artefact, ...] = (SqliteIndex(), SearchIndex(), FhirResource())


def _label(release: Release) -> str:
    return f"{release.url.rstrip('/').rsplit('/', 1)[-1]} {release.version}"


def compile_release(release: Release, folder: Path, progress: Progress = SILENT,
                    artefacts: tuple[Artefact, ...] = ARTEFACTS) -> dict[str, int]:
    """Build every artefact that applies to ``release`` into ``folder``, each in a thread of its own; answer
    their format versions.

    The artefacts are independent files, and their builders spend much of their time in native code without the
    GIL (SQLite's inserts, index creation and ANALYZE; tantivy's indexing threads), so on two cores the SQLite
    index and the search index overlap (SNOMED CT scale: benchmarks/README.md). The first failure is raised once
    every build has stopped.
    """
    chosen = [artefact for artefact in artefacts if artefact.applies(release)]
    if len(chosen) <= 1:  # value sets, concept maps: no thread for one small file
        for artefact in chosen:
            artefact.build(release, folder, progress)
    else:
        with ThreadPoolExecutor(max_workers=len(chosen), thread_name_prefix="smt-compile") as pool:
            builds = [pool.submit(artefact.build, release, folder, progress) for artefact in chosen]
            wait(builds)
            for build in builds:
                build.result()
    return {artefact.name: artefact.version for artefact in chosen}


def writable_store(home: Path) -> ReleaseStore:
    """The store at ``home`` with the compile step of this SMT: what the CLI, the write API and tests load into."""
    return ReleaseStore(home, compile=compile_release)
