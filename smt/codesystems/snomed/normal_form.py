"""Necessary normal form of a SNOMED CT concept, in compositional grammar, from its inferred relationships.

The focus concepts are the concept's inferred parents (proximal supertypes), the refinement its inferred
attribute relationships and concrete values: group 0 ungrouped, then each role group in ``{ }``. The
definition status prefix is ``===`` for a sufficiently defined concept and ``<<<`` for a primitive one.
``normalFormTerse`` is the text without terms or spaces, ``normalForm`` the text with ``|term|`` after each
concept (the concept's display) — as Snowstorm answers them in ``$lookup``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from smt.ecl.backend import IS_A
from smt.index.reader import CodeSystemIndex, ConceptRecord, PropertyRecord

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


@dataclass(frozen=True, slots=True)
class Concrete:
    """A concrete attribute value (number or string) of a relationship."""

    value: int | float | str


Groups = dict[int, list[tuple[int, int | Concrete]]]
"""Attribute groups by group number (0: ungrouped): (attribute id, value concept id or concrete value)."""


def sufficiently_defined(properties: Iterable[PropertyRecord]) -> bool:
    """Whether a concept's stored properties mark it sufficiently defined (its definition is its meaning)."""
    return any(p.code == "sufficientlyDefined" and p.value is True for p in properties)


def inferred_definition(index: CodeSystemIndex, concept_id: int) -> tuple[list[int], Groups]:
    """A concept's inferred supertypes (is-a destinations) and its other inferred attributes, by group."""
    is_a = index.concept(IS_A)
    parents: list[int] = []
    groups: Groups = {}
    for rel in index.relationships_of(concept_id):
        if is_a is not None and rel.type == is_a.id:
            parents.append(rel.destination)
        else:
            groups.setdefault(rel.group, []).append((rel.type, rel.destination))
    for value in index.concrete_of(concept_id):
        groups.setdefault(value.group, []).append((value.type, Concrete(value.value)))
    return parents, groups


def normal_form(index: CodeSystemIndex, concept: ConceptRecord, sufficiently_defined: bool) -> NormalForm:
    """The necessary normal form of ``concept`` (inferred relationships of the release)."""
    codes: dict[int, str] = {}

    def code(concept_id: int) -> str:
        if concept_id not in codes:
            codes[concept_id] = index.concept_by_id(concept_id).code
        return codes[concept_id]

    def value_text(value: int | Concrete) -> str:
        return _concrete(value.value) if isinstance(value, Concrete) else code(value)

    parents, groups = inferred_definition(index, concept.id)
    ordered = {number: sorted({(code(kind), value_text(value)) for kind, value in pairs},
                              key=lambda p: (_sctid(p[0]), p[1]))
               for number, pairs in sorted(groups.items())}
    return NormalForm(EQUIVALENT if sufficiently_defined else SUBTYPE,
                      sorted({code(p) for p in parents}, key=_sctid) or [concept.code], ordered)


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
