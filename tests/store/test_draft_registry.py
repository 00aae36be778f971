"""A draft's registry entry lives in a graph of its own until published, so that it can be hidden with its graph."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from smt.compile import writable_store
from smt.model import SourceFile
from smt.store.rdf import DRAFT_REGISTRY_PREFIX, REGISTRY, RdfStore
from tests.factories import make_release

RELEASE_ID = ox.NamedNode("https://smt.esante.gouv.fr/def/smt#releaseId")


def entry_graphs(home: Path, release_id: str) -> set[str]:
    """Graphs holding statements of the release's registry entry."""
    rdf = RdfStore(home / "oxigraph", read_only=True)
    try:
        node = ox.NamedNode(f"urn:smt:release:{release_id}")
        return {q.graph_name.value for q in rdf.store.quads_for_pattern(node, None, None, None)
                if q.graph_name.value != node.value}
    finally:
        del rdf


def test_draft_entry_moves_to_the_registry_when_published_and_goes_with_the_release(home: Path) -> None:
    store = writable_store(home)
    published = store.load(make_release("1"))
    with_sources = make_release("2")
    with_sources.sources = [SourceFile("a.txt", "a" * 64, 10), SourceFile("b.txt", "b" * 64, 20)]
    draft = store.load(with_sources, status="draft")
    assert entry_graphs(home, published.id) == {REGISTRY}
    assert entry_graphs(home, draft.id) == {DRAFT_REGISTRY_PREFIX + draft.id}
    store.set_status(draft.id, "active")
    assert entry_graphs(home, draft.id) == {REGISTRY}
    store.set_status(draft.id, "draft")
    assert entry_graphs(home, draft.id) == {DRAFT_REGISTRY_PREFIX + draft.id}
    rdf = RdfStore(store.rdf_dir)
    try:
        assert rdf.registered_ids() == {published.id, draft.id}
        sources = list(rdf.store.query(
            f"SELECT ?sha WHERE {{ GRAPH <{DRAFT_REGISTRY_PREFIX}{draft.id}> {{ "
            "?r <http://purl.org/dc/terms/source>/<https://smt.esante.gouv.fr/def/smt#sha256> ?sha } }"))
        assert sorted(r["sha"].value for r in sources) == ["a" * 64, "b" * 64]  # the source nodes moved too
    finally:
        rdf.close()
    store.remove(draft.id)
    assert entry_graphs(home, draft.id) == set()
    rdf = RdfStore(store.rdf_dir)
    try:
        assert rdf.registered_ids() == {published.id}
        assert not [g for g in rdf.store.named_graphs() if g.value.startswith(DRAFT_REGISTRY_PREFIX)]
    finally:
        rdf.close()


def test_reconcile_hides_draft_entries_left_in_the_registry_graph(home: Path) -> None:
    """A store written before drafts had a graph of their own: the next reconcile (every load) moves them."""
    store = writable_store(home)
    draft = store.load(make_release("2"), status="draft")
    rdf = RdfStore(store.rdf_dir)
    try:
        node = ox.NamedNode(f"urn:smt:release:{draft.id}")
        for quad in list(rdf.store.quads_for_pattern(node, None, None, ox.NamedNode(DRAFT_REGISTRY_PREFIX + draft.id))):
            rdf.store.remove(quad)
            rdf.store.add(ox.Quad(quad.subject, quad.predicate, quad.object, ox.NamedNode(REGISTRY)))
    finally:
        rdf.close()
    assert REGISTRY in entry_graphs(home, draft.id)
    store.reconcile()
    assert entry_graphs(home, draft.id) == {DRAFT_REGISTRY_PREFIX + draft.id}
    assert [r.id for r in store.list()] == [draft.id]  # still a release: its entry was moved, not lost
