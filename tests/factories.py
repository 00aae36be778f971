"""Small hand-made releases for tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders import run_loader
from smt.compile import writable_store
from smt.model import CodeSystemRelease, Concept, ConceptProperty, Designation


def make_release(version: str = "1", *, extra: list[Concept] | None = None, url: str = "http://example.org/cs",
                 ) -> CodeSystemRelease:
    concepts = [
        Concept("ROOT", "Racine", origin="src.txt:1"),
        Concept("A", "Alpha", parents=["ROOT"], origin="src.txt:2",
                designations=[Designation("alpha court", "fr"), Designation("alpha", "en")],
                properties=[ConceptProperty("rank", 1, "integer")]),
        Concept("A1", "Alpha un", parents=["A"], origin="src.txt:3"),
        Concept("B", "Bêta", parents=["ROOT"], status="retired", origin="src.txt:4"),
        *(extra or []),
    ]
    return CodeSystemRelease(url=url, version=version, name="EX", title="Exemple", concepts=concepts,
                             oids=["1.2.3.4"], publisher="Test")



def load_code_systems(home: Path, data: Path, sources: list[tuple[str, str]]) -> None:
    """Load the code systems of ``(loader, path under data)`` sources into the store at ``home``, in one batch.

    ``SMT_HOME`` points at ``home`` meanwhile, as loaders that resolve OIDs against the store expect.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMT_HOME", str(home))
        releases = [r for name, path in sources for r in run_loader(name, data / path)
                    if isinstance(r, CodeSystemRelease)]
        writable_store(home).load_many(releases)


def write_rf2(folder: Path, name: str, header: str, *rows: str) -> None:
    """Write an RF2 file (tab-separated, CRLF line ends as SNOMED International publishes them)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes("".join(f"{line}\r\n" for line in (header, *rows)).encode())
