"""What loaders may need from the store, as plain values and callables.

Loaders are pure: they read files and return release models. The composition roots (the ``smt`` CLI, the upload
route) hand them this context (``loaders.run_loader(..., context=…)``); a loader receives only the entries its
``load`` function names.
"""

from __future__ import annotations

from collections import defaultdict

from smt.errors import NotFound
from smt.model import CodeTable
from smt.releases.oids import resolve_system_oid
from smt.releases.registry import Registry


def code_table(registry: Registry, url: str) -> CodeTable | None:
    """The codes of the default release of ``url`` in the store, or None when it has none."""
    try:
        info = registry.resolve(url)
    except NotFound:
        return None
    index = registry.index(info)
    parents: dict[str, list[str]] = defaultdict(list)
    for child, parent in index.edges():
        parents[child].append(parent)
    return CodeTable(url=info.url, version=info.version,
                     displays={concept.code: concept.display for concept in index.concepts()},
                     parents={code: tuple(found) for code, found in parents.items()})


def loader_context(registry: Registry) -> dict[str, object]:
    """``code_table(url)``: a stored code system's codes; ``stored_system_for_oid(oid)``: the canonical URL of a
    code system the store (or the catalogue) knows by that OID."""
    return {
        "code_table": lambda url: code_table(registry, url),
        "stored_system_for_oid": lambda oid: resolve_system_oid(oid, registry),
    }
