"""Whether a SNOMED CT post-coordinated expression belongs to a value set's SNOMED CT includes.

Rules (as tx.fhir.org): an enumerated concept matches when it is the same expression; a filter keeps the
expression when its focus concepts are kept by ``is-a``/``descendent-of``, or are X or below for an ECL
``< X``/``<< X`` constraint (or ``*``) whose refinement the expression's own attributes satisfy;
``expressions = true`` keeps it, any other filter does not. ``listed_expression`` makes an expression an
include lists into a concept record, for its expansion.
"""

from __future__ import annotations

from dataclasses import replace

from smt.codesystems.provider import CodeSystemProvider
from smt.codesystems.snomed.expression import Expression, parse_expression, render
from smt.codesystems.snomed.validate_expr import expression_problem
from smt.ecl import ast, evaluate, parse
from smt.ecl.index_backend import IndexBackend
from smt.index.reader import ConceptRecord


def _plain(expr: Expression) -> str:
    return render(expr, lambda code: None)


def _under(provider: CodeSystemProvider, expr: Expression, value: str) -> bool:
    """Whether every focus concept of the expression is one of the concepts ``value`` lists (comma-separated) or
    a descendant of one (a ``concept is-a`` filter)."""
    roots = [c for code in value.split(",") if code.strip() and (c := provider.concept(code.strip())) is not None]
    focus = [c for code in expr.focus if (c := provider.concept(code)) is not None]
    return all(any(f.id == r.id or provider.is_descendant(f, r) for r in roots) for f in focus)


class _Ecl:
    def __init__(self, backend: IndexBackend, expr: Expression) -> None:
        self.backend = backend
        self.expr = expr
        self.focus = {self.backend.resolve(c) for c in expr.focus}

    def ids(self, node: ast.Expression) -> set[int]:
        return evaluate(node, self.backend)

    def member(self, node: object) -> bool:
        if isinstance(node, ast.SubExpression):
            if isinstance(node.focus, ast.Wildcard) and node.operator in (None, "<", "<<"):
                return True
            if node.operator in ("<", "<<") and isinstance(node.focus, ast.ConceptRef):
                # a refined expression is a strict subtype of its focus: ``< X`` keeps it when the focus is X
                return self.focus <= self.ids(replace(node, operator="<<"))
            return isinstance(node.focus, ast.SubExpression | ast.Compound | ast.Refined) and \
                node.operator is None and self.member(node.focus)
        if isinstance(node, ast.Compound):
            results = [self.member(o) for o in node.operands]
            if node.operator == "AND":
                return all(results)
            if node.operator == "OR":
                return any(results)
            return results[0] and not any(results[1:])
        if isinstance(node, ast.Refined):
            return self.member(node.subject) and self.satisfies(node.refinement)
        return False

    def pairs(self) -> list[tuple[int | None, int | None]]:
        items = [*self.expr.attributes, *(a for group in self.expr.groups for a in group)]
        return [(self.backend.resolve(name), self.backend.resolve(value.focus[0])) for name, value in items]

    def satisfies(self, refinement: object) -> bool:
        if isinstance(refinement, ast.RefinementSet):
            results = [self.satisfies(o) for o in refinement.operands]
            return all(results) if refinement.operator == "AND" else any(results)
        if isinstance(refinement, ast.AttributeGroup):
            return self.satisfies(refinement.body)
        if isinstance(refinement, ast.Attribute) and not refinement.reverse and refinement.comparison == "=" \
                and isinstance(refinement.value, ast.SubExpression):
            names, values = self.ids(refinement.name), self.ids(refinement.value)
            count = sum(1 for name, value in self.pairs() if name in names and value in values)
            low = refinement.cardinality.min if refinement.cardinality else 1
            high = refinement.cardinality.max if refinement.cardinality else None
            return count >= max(low, 1) and (high is None or count <= high)
        return False


def _filter_keeps(provider: CodeSystemProvider, flt: dict, expr: Expression, backend: IndexBackend | None) -> bool:
    prop, op, value = flt.get("property"), flt.get("op"), str(flt.get("value", ""))
    if prop == "expressions":
        return value.lower() == "true"
    if prop in ("concept", "code") and op in ("is-a", "descendent-of"):
        return _under(provider, expr, value)
    if prop in ("constraint", "expression") and op == "=" and backend is not None:
        return _Ecl(backend, expr).member(parse(value))
    return False


def expression_member(provider: CodeSystemProvider, includes: list[dict], expr: Expression,
                      backend: IndexBackend | None) -> bool:
    """Whether one of ``includes`` (those of ``provider``'s system) holds the expression; ECL filters keep it
    only with the ``backend`` of a stored release."""
    wanted = _plain(expr)
    for include in includes:
        listed = [parse_expression(c.get("code", "")) for c in include.get("concept", [])]
        if any(e is not None and _plain(e) == wanted for e in listed):
            return True
        filters = include.get("filter", [])
        if filters and not include.get("concept") and all(_filter_keeps(provider, f, expr, backend)
                                                          for f in filters):
            return True
    return False


def listed_expression(provider: CodeSystemProvider, code: str, number: int) -> ConceptRecord | None:
    """A valid expression listed as a code, as a record with id ``number`` (negative: no stored concept has
    it) and the expression with terms as display; None when ``code`` is no valid expression."""
    expr = parse_expression(code)
    if expr is None or expression_problem(provider, expr) is not None:
        return None

    def term(concept_id: str) -> str | None:
        concept = provider.concept(concept_id)
        return concept.display if concept is not None else None

    return ConceptRecord(number, code, render(expr, term), None, "active", False, True)
