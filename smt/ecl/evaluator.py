"""Evaluate an ECL expression constraint to the set of concept ids it selects, over an ``EclBackend``.

Everything works on whole sets (hierarchy operators, refinements, filters), so a backend over the compiled
index answers each step with one set query. ``None`` stands for "every concept" where it saves building a set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from smt.ecl import ast
from smt.ecl import backend as sct
from smt.ecl.backend import EclBackend
from smt.ecl.filter_eval import FilterEvaluator
from smt.ecl.parser import parse
from smt.ecl.refine import Refiner
from smt.errors import EclEvaluationError, EclTooCostly, EclUnknownConcept, EclUnsupported

Ids = set[int]
MAX_WORK = 2_000_000
"""Concepts the steps of one evaluation may gather in all (each step's result counted): five times the
International Edition, a few seconds of work. Beyond, the expression is ``too-costly``."""

_HISTORY_PROFILES: dict[str, tuple[str, ...]] = {
    "MIN": (sct.SAME_AS,),
    "MOD": (sct.SAME_AS, sct.REPLACED_BY, sct.WAS_A, sct.PARTIALLY_EQUIVALENT_TO),
}


def evaluate(expression: str | ast.Expression, backend: EclBackend) -> set[int]:
    """The ids of the concepts that ``expression`` selects.

    Raises ``EclSyntaxError`` for a malformed text, ``EclUnknownConcept`` for a concept id the release does not
    hold and ``EclUnsupported`` for a feature the backend cannot answer.
    """
    tree = parse(expression) if isinstance(expression, str) else expression
    return Evaluator(backend).expression(tree)


class Evaluator:
    """One evaluation against one backend."""

    def __init__(self, backend: EclBackend) -> None:
        self.backend = backend
        self.refiner = Refiner(self)
        self.filters = FilterEvaluator(self)
        self._all: Ids | None = None
        self.work = 0
        """Concepts gathered so far by the steps of this evaluation (see ``MAX_WORK``)."""

    # -- helpers ------------------------------------------------------------------------------------------------

    def optional(self, name: str, feature: str) -> Callable[..., Any]:
        """The backend method ``name``, or ``EclUnsupported`` naming the ECL feature that needs it."""
        method = getattr(self.backend, name, None)
        if method is None:
            raise EclUnsupported(f"{feature} cannot be evaluated on this code system")
        return method

    def all_concepts(self) -> Ids:
        if self._all is None:
            self._all = set(self.backend.all_concepts())
        return self._all

    def concept(self, ref: ast.ConceptRef) -> int:
        found = self.backend.resolve(ref.id)
        if found is None:
            raise EclUnknownConcept(ref.id, ref.position)
        return found

    def sctid(self, sctid: str) -> int | None:
        return self.backend.resolve(sctid)

    def sctids(self, sctids: tuple[str, ...] | list[str]) -> Ids:
        return {i for i in (self.backend.resolve(s) for s in sctids) if i is not None}

    # -- expressions --------------------------------------------------------------------------------------------

    def expression(self, node: ast.Expression | ast.Focus) -> Ids:
        found = self.constraint(node)
        return set(self.all_concepts()) if found is None else found

    def constraint(self, node: ast.Expression | ast.Focus) -> Ids | None:
        """Like ``expression`` but None for an unconstrained ``*`` (any concept, any attribute)."""
        found = self._constraint(node)
        if found is not None:
            self.work += len(found)
            if self.work > MAX_WORK:
                raise EclTooCostly(f"the ECL expression gathers more than {MAX_WORK:,} concepts across its steps: "
                                   "write it with fewer or narrower sub-expressions")
        return found

    def _constraint(self, node: ast.Expression | ast.Focus) -> Ids | None:
        if isinstance(node, ast.SubExpression):
            return self.sub_expression(node)
        if isinstance(node, ast.Compound):
            return self.compound(node)
        if isinstance(node, ast.Refined):
            return self.refiner.refine(self.expression(node.subject), node.refinement)
        if isinstance(node, ast.Dotted):
            return self.dotted(node)
        return self.focus(node)

    def compound(self, node: ast.Compound) -> Ids:
        if node.operator == "OR":
            result: Ids = set()
            for operand in node.operands:
                result |= self.expression(operand)
            return result
        first, *rest = node.operands
        result = self.expression(first)
        for operand in rest:
            if node.operator == "AND":
                result &= self.expression(operand)
            else:
                result -= self.expression(operand)
        return result

    def sub_expression(self, node: ast.SubExpression) -> Ids | None:
        ids = self.focus(node.focus)
        if node.operator is not None:
            ids = self.hierarchy(node.operator, ids)
        for block in node.filters:
            ids = self.filters.apply(self.all_concepts() if ids is None else ids, block)
        if node.history is not None:
            ids = self.history(self.all_concepts() if ids is None else ids, node.history)
        return ids

    def focus(self, focus: ast.Focus) -> Ids | None:
        if isinstance(focus, ast.Wildcard):
            return None
        if isinstance(focus, ast.ConceptRef):
            return {self.concept(focus)}
        if isinstance(focus, ast.MemberOf):
            return self.member_of(focus)
        if isinstance(focus, ast.AltIdentifier):
            resolve = self.optional("resolve_alternate", f"alternate identifier {focus.scheme}#{focus.code}")
            found = resolve(focus.scheme, focus.code)
            if found is None:
                raise EclEvaluationError(f"unknown alternate identifier {focus.scheme}#{focus.code}", focus.position)
            return {found}
        if isinstance(focus, ast.ConceptSet):
            return {self.concept(ref) for ref in focus.concepts}
        return self.constraint(focus)

    def hierarchy(self, operator: ast.ConstraintOperator, ids: Ids | None) -> Ids:
        """Apply a constraint operator; ``ids`` None is ``*``."""
        b = self.backend
        if ids is None:
            everything = self.all_concepts()
            if operator in ("<<", ">>", "<<!", ">>!"):
                return set(everything)
            if operator in ("<", "<!"):
                return b.descendants(None) & everything
            if operator in (">", ">!"):
                return b.ancestors(None) & everything
            if operator == "!!>":
                return everything - b.descendants(None)
            return everything - b.ancestors(None)
        if not ids:
            return set()
        if operator == "<":
            return b.descendants(ids)
        if operator == "<<":
            return b.descendants(ids) | ids
        if operator == "<!":
            return b.children(ids)
        if operator == "<<!":
            return b.children(ids) | ids
        if operator == ">":
            return b.ancestors(ids)
        if operator == ">>":
            return b.ancestors(ids) | ids
        if operator == ">!":
            return b.parents(ids)
        if operator == ">>!":
            return b.parents(ids) | ids
        if operator == "!!>":
            return ids - b.descendants(ids)
        return ids - b.ancestors(ids)

    # -- member of, dotted attributes, history --------------------------------------------------------------

    def member_of(self, node: ast.MemberOf) -> Ids:
        refsets = self.focus(node.refset)
        fields = node.fields or ("referencedComponentId",)
        if fields == ("referencedComponentId",) and not node.filters:
            return self.backend.refset_members(refsets)
        members = self.optional("members", "member filters and refset field selection")(refsets)
        for block in node.filters:
            members = [m for m in members if self.filters.member_matches(m, block)]
        result: Ids = set()
        for member in members:
            for name in fields:
                if name == "referencedComponentId":
                    if member.referenced is not None:
                        result.add(member.referenced)
                    continue
                values = member.fields.values() if name == "*" else [member.fields.get(name)]
                result.update(v for v in values if isinstance(v, int) and not isinstance(v, bool))
        return result

    def dotted(self, node: ast.Dotted) -> Ids:
        ids = self.expression(node.subject)
        for attribute in node.attributes:
            types = self.constraint(attribute)
            if not ids or (types is not None and not types):
                return set()
            ids = {r[2] for r in self.backend.relationships(types, sources=ids)}
        return ids

    def history(self, ids: Ids, supplement: ast.HistorySupplement) -> Ids:
        find = self.optional("historical_sources", "history supplements")
        if supplement.subset is not None:
            refsets = self.expression(supplement.subset)
        elif supplement.profile in _HISTORY_PROFILES:
            refsets = self.sctids(_HISTORY_PROFILES[supplement.profile])
        else:
            refsets = self.sctids(sct.HISTORICAL_ASSOCIATIONS)
            root = self.sctid(sct.HISTORICAL_ASSOCIATION)
            if root is not None:
                refsets |= self.backend.descendants({root})
        if not refsets or not ids:
            return ids
        return ids | find(refsets, ids)
