"""SNOMED CT ``$subsumes`` when a side is a post-coordinated expression: comparison of normal forms.

Following the SNOMED CT guide ("Testing subsumption and equivalence between expressions"), each side is put in
a normal form — focus concepts and attribute groups — from the expression and the inferred relationships of
the release (the necessary normal form of every concept, ``CodeSystemIndex.relationships_of`` /
``concrete_of``):

* the **predicate** (the side that may subsume): its focus concepts, a sufficiently defined one replaced by
  its primitive supertypes plus its inferred attribute groups (its definition), and its own refinement;
* the **candidate** (the side that may be subsumed): its focus concepts as they are (their ancestors come from
  the closure table), its own refinement merged with every inferred attribute group of its focus concepts.

The predicate subsumes the candidate when every predicate focus concept is an ancestor-or-self of a candidate
focus concept, and every predicate group is matched by one candidate group in which each predicate attribute
``type = value`` has an attribute ``type' = value'`` with ``type'`` a descendant-or-self of ``type`` and
``value'`` a descendant-or-self of ``value`` (nested expressions: subsumed, recursively; concrete values:
equal). Ungrouped predicate attributes match in any candidate group; an ungrouped candidate attribute is a
group on its own. ``equivalent`` when each side subsumes the other, then ``subsumes``, ``subsumed-by``, else
``not-subsumed``.

Concepts against concepts never come here: ``smt.terminology.codesystem.subsumes`` answers them from the
closure table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smt.codesystems.snomed.expression import Expression, parse_expression_or_fail, written_as_expression
from smt.codesystems.snomed.normal_form import Concrete, inferred_definition, sufficiently_defined
from smt.codesystems.snomed.validate_expr import expression_problem
from smt.codesystems.stored import StoredCodeSystem
from smt.errors import InvalidExpression, UnknownCode
from smt.index.reader import CodeSystemIndex, ConceptRecord, SubsumptionOutcome

Value = int | Concrete | Expression
"""An attribute value: a concept id, a concrete value or a nested expression."""
Pair = tuple[int, Value]


@dataclass(slots=True)
class _Form:
    """A side in normal form: focus concept ids, ungrouped attributes and attribute groups."""

    focus: list[int]
    ungrouped: list[Pair] = field(default_factory=list)
    groups: list[list[Pair]] = field(default_factory=list)


class _Subsumption:
    """Subsumption tests in one release, with the concepts, ancestors and definitions read once."""

    def __init__(self, index: CodeSystemIndex) -> None:
        self.index = index
        self._ancestors: dict[int, set[int]] = {}
        self._records: dict[int, ConceptRecord] = {}
        self._defined: dict[int, bool] = {}
        self._inferred: dict[int, tuple[list[Pair], list[list[Pair]]]] = {}

    # -- facts of the release -------------------------------------------------------------------------------

    def record(self, concept_id: int) -> ConceptRecord:
        if concept_id not in self._records:
            self._records[concept_id] = self.index.concept_by_id(concept_id)
        return self._records[concept_id]

    def id_of(self, code: str) -> int:
        concept = self.index.concept(code)
        if concept is None:  # expression_problem has ruled this out
            raise KeyError(code)
        self._records[concept.id] = concept
        return concept.id

    def ancestors_or_self(self, concept_id: int) -> set[int]:
        if concept_id not in self._ancestors:
            self._ancestors[concept_id] = {concept_id, *self.index.ancestor_ids(self.record(concept_id))}
        return self._ancestors[concept_id]

    def defined(self, concept_id: int) -> bool:
        """Whether the concept is sufficiently defined (its definition is its meaning)."""
        if concept_id not in self._defined:
            self._defined[concept_id] = sufficiently_defined(self.index.properties(self.record(concept_id)))
        return self._defined[concept_id]

    def inferred(self, concept_id: int) -> tuple[list[Pair], list[list[Pair]]]:
        """The concept's inferred attributes (is-a aside): ungrouped ones, then each role group."""
        if concept_id not in self._inferred:
            _, grouped = inferred_definition(self.index, concept_id)
            ungrouped: list[Pair] = list(grouped.pop(0, []))
            self._inferred[concept_id] = (ungrouped, [list[Pair](grouped[n]) for n in sorted(grouped)])
        return self._inferred[concept_id]

    # -- normal forms ---------------------------------------------------------------------------------------

    def _own(self, expr: Expression) -> tuple[list[Pair], list[list[Pair]]]:
        def pair(name: str, value: Expression) -> Pair:
            return self.id_of(name), value if value.refined else self.id_of(value.focus[0])

        return ([pair(n, v) for n, v in expr.attributes],
                [[pair(n, v) for n, v in group] for group in expr.groups])

    def predicate(self, expr: Expression) -> _Form:
        """The side that may subsume: sufficiently defined focus concepts replaced by their definitions."""
        ungrouped, groups = self._own(expr)
        form = _Form([], ungrouped, groups)
        for concept_id in dict.fromkeys(self.id_of(c) for c in expr.focus):
            if not self.defined(concept_id):
                form.focus.append(concept_id)
                continue
            form.focus += [a for a in self.ancestors_or_self(concept_id) if a != concept_id and not self.defined(a)]
            inherited_ungrouped, inherited_groups = self.inferred(concept_id)
            form.ungrouped += inherited_ungrouped
            form.groups += inherited_groups
        return form

    def candidate(self, expr: Expression) -> _Form:
        """The side that may be subsumed: its own refinement and everything its focus concepts carry."""
        ungrouped, groups = self._own(expr)
        form = _Form(list(dict.fromkeys(self.id_of(c) for c in expr.focus)), ungrouped, groups)
        for concept_id in form.focus:
            inherited_ungrouped, inherited_groups = self.inferred(concept_id)
            form.ungrouped += inherited_ungrouped
            form.groups += inherited_groups
        return form

    # -- comparison -----------------------------------------------------------------------------------------

    def value_subsumes(self, general: Value, specific: Value) -> bool:
        if isinstance(general, Concrete) or isinstance(specific, Concrete):
            return isinstance(general, Concrete) and isinstance(specific, Concrete) and \
                general.value == specific.value
        if isinstance(general, int) and isinstance(specific, int):
            return general in self.ancestors_or_self(specific)
        return self.form_subsumes(self.predicate(_as_expression(self, general)),
                                  self.candidate(_as_expression(self, specific)))

    def pair_subsumes(self, general: Pair, specific: Pair) -> bool:
        return general[0] in self.ancestors_or_self(specific[0]) and self.value_subsumes(general[1], specific[1])

    def form_subsumes(self, predicate: _Form, candidate: _Form) -> bool:
        candidate_focus = [self.ancestors_or_self(c) for c in candidate.focus]
        if not all(any(f in ancestors for ancestors in candidate_focus) for f in predicate.focus):
            return False
        groups = [*candidate.groups, *([p] for p in candidate.ungrouped)]
        every = [p for group in groups for p in group]
        if not all(any(self.pair_subsumes(p, q) for q in every) for p in predicate.ungrouped):
            return False
        return all(any(all(any(self.pair_subsumes(p, q) for q in group) for p in wanted) for group in groups)
                   for wanted in predicate.groups)

    def outcome(self, a: Expression, b: Expression) -> SubsumptionOutcome:
        a_subsumes = self.form_subsumes(self.predicate(a), self.candidate(b))
        b_subsumes = self.form_subsumes(self.predicate(b), self.candidate(a))
        if a_subsumes and b_subsumes:
            return "equivalent"
        if a_subsumes:
            return "subsumes"
        return "subsumed-by" if b_subsumes else "not-subsumed"


def _as_expression(tests: _Subsumption, value: int | Expression) -> Expression:
    return value if isinstance(value, Expression) else Expression([tests.record(value).code])


def parse_side(provider: StoredCodeSystem, code: str, concept: ConceptRecord | None) -> Expression:
    """The expression a ``$subsumes`` code stands for: the concept, else the compositional grammar expression
    it is (a concept id followed by its ``|term|`` is the concept); ``UnknownCode`` otherwise, an
    ``InvalidExpression`` naming the problem when the code is written as an expression (``:`` or ``+``)."""
    if concept is not None:
        return Expression([concept.code])
    version = provider.version or ""
    plain = not written_as_expression(code)
    try:
        expr = parse_expression_or_fail(code)
    except ValueError as error:
        if plain:
            raise UnknownCode(code, provider.url, version) from None
        raise InvalidExpression(code, provider.url, version, str(error)) from None
    problem = expression_problem(provider, expr)
    if problem is not None:
        if plain:
            raise UnknownCode(code, provider.url, version)
        raise InvalidExpression(code, provider.url, version, problem)
    return expr


def expression_subsumes(provider: StoredCodeSystem, code_a: str, code_b: str, concept_a: ConceptRecord | None,
                        concept_b: ConceptRecord | None) -> SubsumptionOutcome:
    """``$subsumes`` of A relative to B when one of them (``concept_x`` None) is not a concept of the release."""
    a = parse_side(provider, code_a, concept_a)
    b = parse_side(provider, code_b, concept_b)
    if not a.refined and not b.refined:  # concepts written with their terms: the closure table answers
        first, second = provider.concept(a.focus[0]), provider.concept(b.focus[0])
        if first is not None and second is not None:  # parse_side found them
            return provider.subsumption(first, second)
    return _Subsumption(provider.index).outcome(a, b)
