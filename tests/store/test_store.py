"""Release store: atomic loads, quality gate, listing, status, removal, RDF of record."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

import smt.compile.artefacts as artefacts
import smt.store.rdf as rdf_module
from smt.compile import writable_store
from smt.errors import QualityError, ReleaseExists
from smt.model import Concept
from smt.progress import Phase
from smt.releases.registry import Registry
from smt.store.rdf import RdfStore
from smt.store.releases import ReleaseStore
from tests.factories import make_release


def snapshot(home: Path) -> tuple[list[tuple[str, str, str]], int]:
    """What a client could see: listed releases, and the number of quads in the RDF store."""
    store = writable_store(home)
    listed = [(r.url, r.version, r.status) for r in store.list()]
    rdf = RdfStore(store.rdf_dir)
    try:
        quads = sum(1 for _ in rdf.store)
    finally:
        rdf.close()
    return listed, quads


def test_load_lists_release_and_writes_skos_graph(home: Path) -> None:
    info = writable_store(home).load(make_release())
    assert (info.url, info.version, info.status, info.count) == ("http://example.org/cs", "1", "active", 5 - 1)
    rdf = RdfStore(home / "oxigraph")
    try:
        rows = list(rdf.store.query(
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
            "SELECT ?code ?label ?parent WHERE { GRAPH ?g { ?c skos:notation ?code ; skos:prefLabel ?label ; "
            "skos:broader/skos:notation ?parent } } ORDER BY ?code"))
        assert [(r["code"].value, r["label"].value, r["parent"].value) for r in rows] == [
            ("A", "Alpha", "ROOT"), ("A1", "Alpha un", "A"), ("B", "Bêta", "ROOT")]
        assert rows[0]["label"].language == "fr"
        registered = list(rdf.store.query(
            "SELECT ?v WHERE { GRAPH <urn:smt:registry> { ?r <http://www.w3.org/2002/07/owl#versionInfo> ?v } }"))
        assert [r["v"].value for r in registered] == ["1"]
    finally:
        rdf.close()


def test_concept_iris_are_stable_across_versions(home: Path) -> None:
    store = writable_store(home)
    store.load(make_release("1"))
    store.load(make_release("2"))
    rdf = RdfStore(home / "oxigraph")
    try:
        rows = list(rdf.store.query(
            "SELECT DISTINCT ?c (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?c "
            "<http://www.w3.org/2004/02/skos/core#notation> \"A1\" } } GROUP BY ?c"))
        assert len(rows) == 1 and int(rows[0]["n"].value) == 2
    finally:
        rdf.close()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([Concept("A", "Again", origin="src.txt:9")], "src.txt:9: duplicate code A (first defined at src.txt:2)"),
        ([Concept("X", "Orphan", parents=["NOPE"], origin="src.txt:7")], "src.txt:7: code X: unknown parent NOPE"),
        ([Concept("E", " ", origin="src.txt:5")], "src.txt:5: code E: empty label"),
        ([Concept("C1", "c1", parents=["C2"], origin="src.txt:5"),
          Concept("C2", "c2", parents=["C1"], origin="src.txt:6")], "hierarchy cycle"),
    ],
)
def test_quality_errors_abort_and_leave_store_unchanged(home: Path, extra: list[Concept], expected: str) -> None:
    store = writable_store(home)
    store.load(make_release("1"))
    before = snapshot(home)
    with pytest.raises(QualityError) as caught:
        store.load(make_release("2", extra=extra))
    assert expected in str(caught.value)
    assert snapshot(home) == before


def test_same_version_twice_is_refused(home: Path) -> None:
    store = writable_store(home)
    store.load(make_release("1"))
    before = snapshot(home)
    with pytest.raises(ReleaseExists):
        store.load(make_release("1"))
    assert snapshot(home) == before


def assert_failed_load_leaves_no_trace(store: ReleaseStore, home: Path, error: str) -> None:
    """Loading version 2 fails with ``error``, and the store is as it was: same graph and listing, no work
    folder left."""
    before = snapshot(home)
    with pytest.raises(OSError, match=error):
        store.load(make_release("2"))
    assert snapshot(home) == before
    assert list(store.tmp_dir.iterdir()) == []


def test_failure_while_writing_leaves_no_trace(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = writable_store(home)
    store.load(make_release("1"))

    def broken_register(self: RdfStore, quads: list[ox.Quad]) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(RdfStore, "register", broken_register)
    assert_failed_load_leaves_no_trace(store, home, "disk full")


def test_a_failed_bulk_load_chunk_leaves_no_trace(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The graph is bulk-loaded in chunks, in a thread of its own: a chunk that fails fails the load, and the
    chunks already loaded go with it."""
    store = writable_store(home)
    first = store.load(make_release("1"))
    monkeypatch.setattr(rdf_module, "BULK_STATEMENTS", 3)
    loaded: list[int] = []
    bulk_load = RdfStore._bulk_load

    def failing_second_chunk(self: RdfStore, data: bytes, statements: int, loading: Phase) -> None:
        loaded.append(statements)
        if len(loaded) == 2:
            raise OSError("disk full")
        bulk_load(self, data, statements, loading)

    monkeypatch.setattr(RdfStore, "_bulk_load", failing_second_chunk)
    assert_failed_load_leaves_no_trace(store, home, "disk full")
    assert loaded == [3, 3]
    monkeypatch.setattr(RdfStore, "_bulk_load", bulk_load)
    second = store.load(make_release("2"))  # in chunks of 3 statements: the same graph as in one chunk
    rdf = RdfStore(store.rdf_dir)
    try:
        assert rdf.graph_size(second.id) == rdf.graph_size(first.id) > 3
    finally:
        rdf.close()


def test_a_failed_artefact_build_fails_the_load_and_leaves_no_trace(home: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The SQLite index and the search index are built in threads of their own: either failing fails the
    load."""
    store = writable_store(home)
    store.load(make_release("1"))

    def broken(*args: object, **kwargs: object) -> int:
        raise OSError("no space left for the search index")

    monkeypatch.setattr(artefacts, "build_search_index", broken)
    assert_failed_load_leaves_no_trace(store, home, "search index")


def test_reconcile_removes_leftovers_of_a_killed_load(home: Path) -> None:
    store = writable_store(home)
    store.load(make_release("1"))
    before = snapshot(home)
    rdf = RdfStore(store.rdf_dir)
    (store.tmp_dir / "half-built").mkdir()
    rdf.write_release(make_release("2"), "orphan-graph")  # never registered
    rdf.close()
    assert {r.version for r in store.list()} == {"1"}
    removed = store.reconcile()
    assert "graph orphan-graph" in removed and "tmp/half-built" in removed
    assert snapshot(home) == before


def test_status_change_and_default_version(home: Path) -> None:
    store = writable_store(home)
    store.load(make_release("1"))
    draft = store.load(make_release("2"), status="draft")
    registry = Registry(home)
    assert registry.resolve("http://example.org/cs").version == "1"
    store.set_status(draft.id, "active")
    assert registry.resolve("http://example.org/cs/").version == "2"
    assert registry.resolve("http://example.org/cs", "1").version == "1"


def test_remove_release(home: Path) -> None:
    store = writable_store(home)
    first = store.load(make_release("1"))
    store.load(make_release("2"))
    store.remove(first.id)
    assert [r.version for r in store.list()] == ["2"]
    rdf = RdfStore(store.rdf_dir)
    try:
        assert rdf.registered_ids() == {store.list()[0].id}
        assert rdf.release_graph_ids() == {store.list()[0].id}
    finally:
        rdf.close()


def test_release_folder_is_relocatable(home: Path, tmp_path: Path) -> None:
    import shutil

    info = writable_store(home).load(make_release("1"))
    other = tmp_path / "elsewhere"
    (other / "releases").mkdir(parents=True)
    shutil.copytree(info.path, other / "releases" / info.id)
    index = Registry(other).code_system("http://example.org/cs")
    concept = index.concept("A1")
    assert concept is not None and concept.display == "Alpha un"
    assert index.subsumes(index.concept("ROOT"), concept) == "subsumes"


def test_every_load_gets_a_new_id_and_replace_swaps_atomically(home: Path) -> None:
    store = writable_store(home)
    first = store.load(make_release("1"))
    store.remove(first.id)
    again = store.load(make_release("1"))
    assert again.id != first.id and again.id.startswith("cs-1-")
    with pytest.raises(ReleaseExists, match="or load with --replace"):
        store.load(make_release("1"))
    replacing = store.load(make_release("1", extra=[Concept("C", "Gamma", parents=["ROOT"])]), replace=True)
    assert replacing.id != again.id and replacing.manifest["replaces"] == again.id
    assert [(r.id, r.count) for r in store.list()] == [(replacing.id, 5)]
    assert Registry(home).code_system("http://example.org/cs").concept("C") is not None
    assert (again.path / "removed.json").exists() and not (again.path / "manifest.json").exists()
    actions = [(r.action, r.release_id) for r in store.audit.records()][-2:]
    assert actions == [("create", replacing.id), ("delete", again.id)]


def test_a_real_load_replaces_a_sample_and_a_sample_never_replaces(home: Path) -> None:
    store = writable_store(home)
    sample = store.load(make_release("1"), sample=True)
    assert sample.sample
    with pytest.raises(ReleaseExists):
        store.load(make_release("1"), sample=True)
    real = store.load(make_release("1"))
    assert not real.sample and real.manifest["replaces"] == sample.id
    assert [r.id for r in store.list()] == [real.id]
    with pytest.raises(ReleaseExists):
        store.load(make_release("1"))


def test_removed_files_stay_for_the_readers_then_a_later_write_purges_them(home: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    store = writable_store(home)
    gone = store.load(make_release("1"))
    index = Registry(home).index(gone)  # a reader that opened it before the removal
    store.remove(gone.id)
    assert gone.path.is_dir() and index.concept("A1") is not None
    assert Registry(home).releases() == []
    monkeypatch.setattr("smt.store.releases.PURGE_AFTER", 0.0)
    store.load(make_release("2"))
    assert not gone.path.exists()


def test_every_change_bumps_the_generation_readers_check(home: Path) -> None:
    store = writable_store(home)
    registry = Registry(home)
    seen = []
    for change in (lambda: store.load(make_release("1")), lambda: store.set_status(store.list()[0].id, "retired"),
                   lambda: store.remove(store.list()[0].id)):
        before = store.state()
        change()
        assert store.state() != before
        seen.append([(r.version, r.status) for r in registry.releases()])
    assert seen == [[("1", "active")], [("1", "retired")], []]
