"""Refinements (``:``): attributes, attribute groups and cardinalities over the relationship tables.

Attribute cardinality counts matching relationships (a value repeated in two role groups counts twice, as the
HL7 test suite expects); the default is ``[1..*]``, and ``[0..n]`` also keeps concepts with no matching
attribute. In a group ``{ … }`` every attribute must hold in the same role group; ungrouped relationships
(group 0) each form a group of their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

from smt.ecl import ast
from smt.ecl.steps import ExpressionEvaluator
from smt.ecl.terms import as_number, compare, value_matcher
from smt.errors import EclEvaluationError

Ids = set[int]
GroupKey = tuple[int, int, int]
"""``(group, 0, 0)`` for a role group, ``(0, type, value)`` for an ungrouped relationship."""
Pair = tuple[int, GroupKey]
Match = tuple[int, GroupKey, int, object]
"""``(focus concept, group key, attribute type, value)``."""


def _group_key(group: int, type_id: int, value: object) -> GroupKey:
    return (group, 0, 0) if group else (0, type_id, hash(value))


def _keep(ids: Ids, counts: Counter, cardinality: ast.Cardinality | None) -> Ids:
    """The ids whose count of matches is within the cardinality (default ``[1..*]``)."""
    low, high = (cardinality.min, cardinality.max) if cardinality else (1, None)
    if low == 0:
        if high is None:
            return set(ids)
        return {i for i in ids if counts.get(i, 0) <= high}
    return {i for i, n in counts.items() if n >= low and (high is None or n <= high)}


class Refiner:
    """Refinement evaluation for one ``Evaluator``."""

    def __init__(self, evaluator: ExpressionEvaluator) -> None:
        self.ev = evaluator

    def refine(self, ids: Ids, node: ast.Refinement) -> Ids:
        """The concepts of ``ids`` that satisfy the refinement."""
        if not ids:
            return set()
        if isinstance(node, ast.RefinementSet):
            if node.operator == "OR":
                result: Ids = set()
                for operand in node.operands:
                    result |= self.refine(ids, operand)
                return result
            for operand in node.operands:
                ids = self.refine(ids, operand)
            return ids
        if isinstance(node, ast.AttributeGroup):
            pairs = self.in_group(ids, None, node.body)
            return _keep(ids, Counter(source for source, _ in pairs), node.cardinality)
        counts = Counter(focus for focus, _key, _type, _value in self.matches(ids, node))
        return _keep(ids, counts, node.cardinality)

    # -- groups -------------------------------------------------------------------------------------------------

    def in_group(self, ids: Ids, pairs: set[Pair] | None, node: ast.Refinement) -> set[Pair]:
        """The (concept, group) pairs among ``pairs`` (None: every group of ``ids``) where ``node`` holds."""
        if isinstance(node, ast.RefinementSet):
            if node.operator == "OR":
                result: set[Pair] = set()
                for operand in node.operands:
                    result |= self.in_group(ids, pairs, operand)
                return result
            for operand in node.operands:
                pairs = self.in_group(ids, pairs, operand)
                ids = {source for source, _ in pairs}
                if not pairs:
                    break
            return pairs if pairs is not None else set()
        if isinstance(node, ast.AttributeGroup):
            raise EclEvaluationError("attribute groups cannot be nested")
        counts = Counter((focus, key) for focus, key, _type, _value in self.matches(ids, node))
        low, high = (node.cardinality.min, node.cardinality.max) if node.cardinality else (1, None)
        if low == 0:
            base = pairs if pairs is not None else self.all_groups(ids)
            return base if high is None else {p for p in base if counts.get(p, 0) <= high}
        matched = {p for p, n in counts.items() if n >= low and (high is None or n <= high)}
        return matched if pairs is None else matched & pairs

    def all_groups(self, ids: Ids) -> set[Pair]:
        return {(s, _group_key(g, t, d)) for s, t, d, g in self.ev.backend.relationships(None, sources=ids)}

    # -- matching relationships ---------------------------------------------------------------------------------

    def matches(self, ids: Ids, attribute: ast.Attribute) -> Iterator[Match]:
        """Relationships of the concepts in ``ids`` that satisfy the attribute (its cardinality aside)."""
        types = self.ev.constraint(attribute.name)
        if types is not None and not types:
            return
        if isinstance(attribute.value, ast.SubExpression):
            yield from self._expression_matches(ids, types, attribute)
        else:
            yield from self._concrete_matches(ids, types, attribute)

    def _expression_matches(self, ids: Ids, types: Ids | None, attribute: ast.Attribute) -> Iterator[Match]:
        values = self.ev.constraint(attribute.value)  # type: ignore[arg-type]
        equal = attribute.comparison == "="
        if not equal and values is None:
            return
        if values is not None and not values and equal:
            return
        wanted = values if equal else None
        backend = self.ev.backend
        if attribute.reverse:
            for source, type_id, destination, group in backend.relationships(types, sources=wanted,
                                                                                destinations=ids):
                if equal or source not in values:  # type: ignore[operator]
                    yield destination, _group_key(group, type_id, source), type_id, source
            return
        for source, type_id, destination, group in backend.relationships(types, sources=ids, destinations=wanted):
            if equal or destination not in values:  # type: ignore[operator]
                yield source, _group_key(group, type_id, destination), type_id, destination
        concrete = getattr(backend, "concrete_values", None)
        if values is None and concrete is not None:  # "= *" also matches concrete values
            for source, type_id, value, group in concrete(types, sources=ids):
                yield source, _group_key(group, type_id, value), type_id, value

    def _concrete_matches(self, ids: Ids, types: Ids | None, attribute: ast.Attribute) -> Iterator[Match]:
        if attribute.reverse:
            raise EclEvaluationError("a reversed attribute cannot take a concrete value")
        rows = self.ev.optional("concrete_values", "concrete value refinements")(types, sources=ids)
        test = _concrete_test(attribute)
        for source, type_id, value, group in rows:
            if test(value):
                yield source, _group_key(group, type_id, value), type_id, value


def _concrete_test(attribute: ast.Attribute) -> Callable[[object], bool]:
    """Predicate on a stored concrete value for the attribute's comparison."""
    wanted = attribute.value
    op = attribute.comparison
    if isinstance(wanted, ast.NumberValue):
        def number(value: object) -> bool:
            found = as_number(value)
            return found is not None and compare(found, op, wanted.value)
        return number
    if isinstance(wanted, ast.BooleanValue):
        def boolean(value: object) -> bool:
            found = value if isinstance(value, bool) else str(value).strip('"').lower() == "true"
            return compare(found, op, wanted.value)
        return boolean
    assert isinstance(wanted, ast.StringValue)
    matches = value_matcher(wanted.terms)

    def string(value: object) -> bool:
        if not isinstance(value, str) or as_number(value) is not None:
            return False
        return matches(value.strip('"')) == (op == "=")
    return string
