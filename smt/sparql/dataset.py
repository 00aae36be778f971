"""Which graphs a SPARQL query may read: drafts stay private, the dataset of a query is cut to what its reader sees.

A reader sees the registry graph, the graphs of published releases (active, retired) and the drafts it may see
(their graphs and their registry entries, ``urn:smt:registry:draft:<id>``). Anonymous readers see no draft; a
curator sees its publisher's drafts; an admin sees everything (``visible_graphs`` gives None: no restriction).
When some stored graph is hidden from the reader, the query runs over a dataset of the visible graphs only:
its default graph is their union (or the visible ``default-graph-uri`` given), its named graphs are them (or the
visible ``named-graph-uri`` given). A graph the reader may not see is read as an empty one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import pyoxigraph as ox

from smt.store.rdf import DRAFT_REGISTRY_PREFIX, REGISTRY, SMT, graph_name

if TYPE_CHECKING:  # the query process imports this module: it needs no release store
    from smt.store.releases import ReleaseInfo

_DRAFT_IN_REGISTRY = f'ASK {{ GRAPH <{REGISTRY}> {{ ?release <{SMT}status> "draft" }} }}'


def visible_graphs(releases: Iterable[ReleaseInfo], may_see_draft: Callable[[ReleaseInfo], bool] | None
                   ) -> list[str] | None:
    """The graphs a reader may query; None (everything) when ``may_see_draft`` is None (an admin)."""
    if may_see_draft is None:
        return None
    graphs = [REGISTRY]
    for info in releases:
        if info.status != "draft":
            graphs.append(graph_name(info.id))
        elif may_see_draft(info):
            graphs += [graph_name(info.id), DRAFT_REGISTRY_PREFIX + info.id]
    return graphs


def dataset_options(store: ox.Store, visible: list[str] | None, default_graphs: list[str],
                    named_graphs: list[str]) -> dict:
    """``Store.query`` keyword arguments: the protocol's dataset (``default-graph-uri``, ``named-graph-uri``)
    cut to the ``visible`` graphs. Without a hidden graph, the default graph is the union of all graphs."""
    allowed = _allowed(store, visible)
    if allowed is None:
        options: dict = {}
        if default_graphs:
            options["default_graph"] = [ox.NamedNode(g) for g in default_graphs]
        else:
            options["use_default_graph_as_union"] = True
        if named_graphs:
            options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        return options
    default = [g for g in default_graphs if g in allowed] if default_graphs else sorted(allowed)
    named = [g for g in named_graphs if g in allowed] if named_graphs else sorted(allowed)
    for graph in (*default_graphs, *named_graphs):
        ox.NamedNode(graph)  # a ValueError (400) for what is not an IRI, visible or not
    return {"default_graph": [ox.NamedNode(g) for g in default], "named_graphs": [ox.NamedNode(g) for g in named]}


def _allowed(store: ox.Store, visible: list[str] | None) -> set[str] | None:
    """The stored graphs the reader may see, or None when it may see them all."""
    if visible is None:
        return None
    stored = {g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)}
    allowed = stored & set(visible)
    if REGISTRY in allowed and bool(store.query(_DRAFT_IN_REGISTRY)):
        allowed.discard(REGISTRY)  # a store written before drafts had their own entry graph: fail closed
    return None if allowed == stored else allowed


def sees_drafts(releases: Iterable[ReleaseInfo], visible: list[str] | None) -> bool:
    """Whether a reader who may query ``visible`` (None: everything) sees a draft of ``releases``."""
    drafts = {graph_name(info.id) for info in releases if info.status == "draft"}
    return bool(drafts) if visible is None else not drafts.isdisjoint(visible)


def published_graphs(store: ox.Store, releases: Iterable[ReleaseInfo]) -> list[str]:
    """The stored graphs an anonymous reader may query: the registry and the published releases (never a
    draft, nor the registry of a store written before drafts had their own entry graph)."""
    stored = sorted(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode))
    allowed = _allowed(store, visible_graphs(releases, lambda _: False))
    return stored if allowed is None else sorted(allowed)
