"""Quality gate run on every release before it reaches the store.

Errors (duplicate codes, unknown parents, cycles, empty codes or labels) abort the load and name the source
line; warnings (e.g. concepts without a label in the release language) are stored with the release.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smt.errors import QualityError
from smt.model import CodeSystemRelease, Concept, Release, ResourceRelease


@dataclass(slots=True)
class QualityReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _where(concept: Concept) -> str:
    return f"{concept.origin}: " if concept.origin else ""


def _check_codes_and_labels(release: CodeSystemRelease, report: QualityReport) -> dict[str, Concept]:
    by_code: dict[str, Concept] = {}
    for concept in release.concepts:
        if not concept.code or concept.code != concept.code.strip():
            report.errors.append(f"{_where(concept)}empty or padded code {concept.code!r} (field 'code')")
            continue
        if not concept.display:  # FHIR CodeSystem.concept.display is 0..1: allowed, but worth a look
            report.warnings.append(f"{_where(concept)}code {concept.code}: no label (field 'display')")
        elif not concept.display.strip():
            report.errors.append(f"{_where(concept)}code {concept.code}: empty label (field 'display')")
        first = by_code.get(concept.code)
        if first is not None:
            report.errors.append(
                f"{_where(concept)}duplicate code {concept.code} (first defined at {first.origin or '?'})"
            )
            continue
        by_code[concept.code] = concept
    return by_code


def _check_parents(by_code: dict[str, Concept], report: QualityReport) -> None:
    for concept in by_code.values():
        for parent in concept.parents:
            if parent not in by_code:
                report.errors.append(
                    f"{_where(concept)}code {concept.code}: unknown parent {parent} (field 'parent')"
                )
            elif parent == concept.code:
                report.errors.append(f"{_where(concept)}code {concept.code} is its own parent")


def find_cycle(parents: dict[str, list[str]]) -> list[str] | None:
    """A cycle in the parent graph as a list of codes, or ``None``. Iterative, so deep trees are fine."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(parents, white)
    for start in parents:
        if colour[start] != white:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = [start]
        colour[start] = grey
        while stack:
            node, index = stack[-1]
            edges = parents.get(node, [])
            if index < len(edges):
                stack[-1] = (node, index + 1)
                nxt = edges[index]
                if nxt not in colour:
                    continue
                if colour[nxt] == grey:
                    return [*path[path.index(nxt):], nxt]
                if colour[nxt] == white:
                    colour[nxt] = grey
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                colour[node] = black
                stack.pop()
                path.pop()
    return None


def check_release(release: CodeSystemRelease) -> QualityReport:
    """Run every check; the report lists errors and warnings (nothing is raised here)."""
    report = QualityReport()
    if not release.url or not release.version:
        report.errors.append("release has no canonical URL or no version")
    by_code = _check_codes_and_labels(release, report)
    _check_parents(by_code, report)
    if not report.errors:
        cycle = find_cycle({code: c.parents for code, c in by_code.items()})
        if cycle:
            origin = by_code[cycle[0]].origin
            report.errors.append(f"{origin + ': ' if origin else ''}hierarchy cycle: {' -> '.join(cycle)}")
    if not release.concepts and release.content == "complete":
        report.warnings.append("release has no concepts")
    return report


def check_resource(release: ResourceRelease) -> QualityReport:
    """Checks for value sets and concept maps: identity, and codes present in every enumerated concept."""
    report = QualityReport()
    if not release.url or not release.version:
        report.errors.append(f"{release.kind} has no canonical URL or no version")
    if release.kind == "ValueSet":
        if "compose" not in release.resource and "expansion" not in release.resource:
            report.errors.append(f"ValueSet {release.url} has neither compose nor expansion")
        for number, include in enumerate(release.resource.get("compose", {}).get("include", []), start=1):
            for concept in include.get("concept", []):
                if not str(concept.get("code", "")).strip():
                    report.errors.append(f"ValueSet {release.url}: include #{number} has a concept without code")
    return report


def enforce(release: Release) -> list[str]:
    """Raise ``QualityError`` on errors; return the warnings (loader warnings included)."""
    report = check_resource(release) if isinstance(release, ResourceRelease) else check_release(release)
    if report.errors:
        raise QualityError(report.errors)
    return [*release.warnings, *report.warnings]
