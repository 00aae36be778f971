"""One concept across the versions of its code system: where it exists and what changed from one to the next.

The changes are those of ``smt.publish.diff`` restricted to one code and to what a reader follows from year
to year: ``added`` (first version, or back after an absence), ``removed`` (absent after being present),
``display``, ``retired`` / ``reactivated`` (status) and ``moved`` (the set of parent codes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smt.publish.diff import Change
from smt.releases.registry import Registry
from smt.store.releases import ReleaseInfo


@dataclass(frozen=True, slots=True)
class ConceptVersion:
    """The concept in one release: absent (``display`` None) or its label, status and parents."""

    release: ReleaseInfo
    present: bool
    display: str | None = None
    status: str | None = None
    parents: tuple[str, ...] = ()
    changes: list[Change] = field(default_factory=list)
    """Changes from the previous release of the code system (none for the first release)."""


def _state(registry: Registry, release: ReleaseInfo, code: str) -> ConceptVersion:
    index = registry.index(release)
    concept = index.concept(code)
    if concept is None:
        return ConceptVersion(release, False)
    parents = tuple(sorted(p.code for p in index.parents(concept)))
    return ConceptVersion(release, True, concept.display, concept.status, parents)


def _changes(code: str, before: ConceptVersion | None, after: ConceptVersion) -> list[Change]:
    if before is None or not before.present:
        return [Change("added", code, after.display)] if after.present and before is not None else []
    if not after.present:
        return [Change("removed", code, before.display)]
    found = []
    if before.display != after.display:
        found.append(Change("display", code, after.display, old=before.display, new=after.display))
    if before.status != after.status:
        kind = "reactivated" if after.status == "active" else "retired"
        found.append(Change(kind, code, after.display, old=before.status, new=after.status))
    if before.parents != after.parents:
        found.append(Change("moved", code, after.display, old=list(before.parents), new=list(after.parents)))
    return found


def concept_history(registry: Registry, releases: list[ReleaseInfo], code: str) -> list[ConceptVersion]:
    """``code`` in each of ``releases`` (the versions of one code system, oldest first)."""
    history: list[ConceptVersion] = []
    previous: ConceptVersion | None = None
    for release in releases:
        state = _state(registry, release, code)
        state.changes.extend(_changes(code, previous, state))
        history.append(state)
        previous = state
    return history
