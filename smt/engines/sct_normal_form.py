"""Necessary normal form of a SNOMED CT concept, in compositional grammar, from its inferred relationships.

The focus concepts are the concept's inferred parents (proximal supertypes), the refinement its inferred
attribute relationships and concrete values: group 0 ungrouped, then each role group in ``{ }``. The
definition status prefix is ``===`` for a sufficiently defined concept and ``<<<`` for a primitive one.
``normalFormTerse`` is the text without terms or spaces, ``normalForm`` the text with ``|term|`` after each
concept (the concept's display) — as Snowstorm answers them in ``$lookup``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from smt.index.reader import CodeSystemIndex, ConceptRecord

IS_A = "116680003"
EQUIVALENT, SUBTYPE = "===", "<<<"


@dataclass(slots=True)
class NormalForm:
    """Definition status, focus concept codes and attribute groups ((attribute, value) pairs per group)."""

    status: str
    focus: list[str]
    groups: dict[int, list[tuple[str, str]]] = field(default_factory=dict)


def _sctid(code: str) -> tuple[int, str]:
    return (int(code), code) if code.isdigit() else (0, code)


def _concrete(value: int | float | str) -> str:
    return f'"{value}"' if isinstance(value, str) else f"#{value}"


def normal_form(index: CodeSystemIndex, concept: ConceptRecord, sufficiently_defined: bool) -> NormalForm:
    """The necessary normal form of ``concept`` (inferred relationships of the release)."""
    codes: dict[int, str] = {}

    def code(concept_id: int) -> str:
        if concept_id not in codes:
            codes[concept_id] = index.concept_by_id(concept_id).code
        return codes[concept_id]

    focus: list[str] = []
    groups: dict[int, list[tuple[str, str]]] = {}
    for rel in index.relationships_of(concept.id):
        if code(rel.type) == IS_A:
            focus.append(code(rel.destination))
        else:
            groups.setdefault(rel.group, []).append((code(rel.type), code(rel.destination)))
    for value in index.concrete_of(concept.id):
        groups.setdefault(value.group, []).append((code(value.type), _concrete(value.value)))
    ordered = {number: sorted(set(pairs), key=lambda p: (_sctid(p[0]), p[1])) for number, pairs in
               sorted(groups.items())}
    return NormalForm(EQUIVALENT if sufficiently_defined else SUBTYPE,
                      sorted(set(focus), key=_sctid) or [concept.code], ordered)


def render_normal_form(form: NormalForm, term: Callable[[str], str | None] | None = None) -> str:
    """Compositional grammar text: terse (no terms, no spaces) when ``term`` is None, else with terms."""
    spaced = term is not None

    def concept(code: str) -> str:
        shown = term(code) if term is not None and code[:1].isdigit() else None
        return f"{code} |{shown}|" if shown else code

    def attribute(pair: tuple[str, str]) -> str:
        return f"{concept(pair[0])} = {concept(pair[1])}" if spaced else f"{pair[0]}={pair[1]}"

    comma, plus = (", ", " + ") if spaced else (",", "+")
    parts = [comma.join(attribute(p) for p in form.groups[0])] if form.groups.get(0) else []
    parts += [("{ %s }" if spaced else "{%s}") % comma.join(attribute(p) for p in pairs)
              for number, pairs in form.groups.items() if number != 0]
    text = f"{form.status} " if spaced else form.status
    text += plus.join(concept(c) for c in form.focus)
    if parts:
        text += (" : " if spaced else ":") + comma.join(parts)
    return text
