"""Description, concept and member filters (``{{ … }}``) as predicates over the backend's facts.

Every filter of one block applies to the same description (or concept, or member). Description filters look
at active descriptions only unless the block has an ``active`` filter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from smt.ecl import ast
from smt.ecl import backend as sct
from smt.ecl.backend import ConceptFacts, DescriptionFacts, MemberFacts
from smt.ecl.steps import ExpressionEvaluator
from smt.ecl.terms import as_number, compare, term_matcher, value_matcher
from smt.errors import EclEvaluationError, EclUnsupported

Ids = set[int]
T = TypeVar("T")
_TYPE_TOKENS = {"syn": sct.SYNONYM, "fsn": sct.FSN, "def": sct.TEXT_DEFINITION}
_STATUS_TOKENS = {"primitive": sct.PRIMITIVE, "defined": sct.DEFINED}
_ACCEPTABILITY_TOKENS = {"prefer": sct.PREFERRED, "accept": sct.ACCEPTABLE}


def _membership(values: set, op: ast.Comparison) -> Callable[[object], bool]:
    if op == "=":
        return lambda value: value in values
    if op == "!=":
        return lambda value: value not in values
    raise EclEvaluationError(f"'{op}' cannot compare concept ids")


def _known(value: T | None, name: str) -> T:
    """A fact a filter needs; ``EclUnsupported`` when the code system's index does not hold it."""
    if value is None:
        raise EclUnsupported(f"{name} filters cannot be evaluated: this code system's index does not record it")
    return value


def _times(times: tuple[str, ...], op: ast.Comparison) -> Callable[[str], bool]:
    """Effective time test: ``=`` any of the times, ``!=`` none of them, ``<``… against each one."""
    if op == "=":
        return lambda value: value in times
    if op == "!=":
        return lambda value: value not in times
    return lambda value: all(compare(value, op, t) for t in times)


class FilterEvaluator:
    """Filter evaluation for one ``Evaluator``."""

    def __init__(self, evaluator: ExpressionEvaluator) -> None:
        self.ev = evaluator

    def apply(self, ids: Ids, block: ast.FilterBlock) -> Ids:
        if not ids:
            return set()
        if block.kind == "concept":
            facts = self.ev.optional("concept_facts", "concept filters")(ids)
            tests = [self.concept_test(f) for f in block.filters]
            return {c.id for c in facts if all(t(c) for t in tests)}
        if block.kind == "description":
            rows = self.ev.optional("descriptions", "description filters")(ids)
            description_tests = [self.description_test(f) for f in block.filters]
            if not any(isinstance(f, ast.ActiveFilter) for f in block.filters):
                description_tests.append(lambda d: d.active)
            return {d.concept for d in rows if all(t(d) for t in description_tests)}
        raise EclEvaluationError("member filters apply to '^' only")

    # -- shared -------------------------------------------------------------------------------------------------

    def ids(self, value: ast.SubExpression | ast.ConceptSet | None) -> Ids:
        if value is None:
            return set()
        if isinstance(value, ast.ConceptSet):
            return {self.ev.concept(ref) for ref in value.concepts}
        return self.ev.expression(value)

    def _common(self, item: ast.Filter) -> Callable | None:
        """Tests on module, effective time and active status, shared by every kind of filter."""
        if isinstance(item, ast.ActiveFilter):
            if item.value is None:
                return lambda facts: True
            wanted = item.value if item.op == "=" else not item.value
            return lambda facts: facts.active == wanted
        if isinstance(item, ast.ModuleFilter):
            test = _membership(self.ids(item.value), item.op)
            return lambda facts: test(_known(facts.module, "moduleId"))
        if isinstance(item, ast.EffectiveTimeFilter):
            check = _times(item.times, item.op)
            return lambda facts: check(_known(facts.effective_time, "effectiveTime"))
        return None

    # -- concepts -----------------------------------------------------------------------------------------------

    def concept_test(self, item: ast.Filter) -> Callable[[ConceptFacts], bool]:
        common = self._common(item)
        if common is not None:
            return common
        if isinstance(item, ast.DefinitionStatusFilter):
            statuses = self.ids(item.value) if item.value is not None else self.ev.sctids(
                [_STATUS_TOKENS[t] for t in item.tokens])
            test = _membership(statuses, item.op)
            return lambda c: test(c.definition_status)
        raise EclEvaluationError(f"{type(item).__name__} is not a concept filter")

    # -- descriptions -------------------------------------------------------------------------------------------

    def description_test(self, item: ast.Filter) -> Callable[[DescriptionFacts], bool]:
        common = self._common(item)
        if common is not None:
            return common
        equal = item.op == "="
        if isinstance(item, ast.TermFilter):
            match = term_matcher(item.terms)
            return lambda d: match(d.term) == equal
        if isinstance(item, ast.LanguageFilter):
            codes = set(item.codes)
            return lambda d: ((d.language or "")[:2].lower() in codes) == equal
        if isinstance(item, ast.TypeFilter):
            types = self.ids(item.value) if item.value is not None else self.ev.sctids(
                [_TYPE_TOKENS[t] for t in item.tokens])
            test = _membership(types, item.op)
            return lambda d: test(d.type)
        if isinstance(item, ast.DescriptionIdFilter):
            test = _membership(set(item.ids), item.op)
            return lambda d: test(d.id)
        if isinstance(item, ast.DialectFilter):
            return self.dialect_test(item)
        raise EclEvaluationError(f"{type(item).__name__} is not a description filter")

    def dialect_test(self, item: ast.DialectFilter) -> Callable[[DescriptionFacts], bool]:
        wanted: list[tuple[Ids, Ids]] = []
        for dialect in item.dialects:
            if dialect.alias is not None:
                sctid = sct.DIALECTS.get(dialect.alias)
                found = self.ev.sctid(sctid) if sctid else None
                refsets = {found} if found is not None else set()
            elif isinstance(dialect.refset, ast.ConceptRef):
                refsets = {self.ev.concept(dialect.refset)}
            else:
                refsets = self.ids(dialect.refset)
            accept: Ids = set()
            for token in dialect.acceptability:
                if isinstance(token, ast.ConceptRef):
                    accept.add(self.ev.concept(token))
                else:
                    accept |= self.ev.sctids([_ACCEPTABILITY_TOKENS[token]])
            wanted.append((refsets, accept))

        def in_dialect(d: DescriptionFacts) -> bool:
            for refsets, accept in wanted:
                for refset in refsets:
                    found = d.acceptability.get(refset)
                    if found is not None and (not accept or found in accept):
                        return True
            return False
        equal = item.op == "="
        return lambda d: in_dialect(d) == equal

    # -- members ------------------------------------------------------------------------------------------------

    def member_matches(self, member: MemberFacts, block: ast.FilterBlock) -> bool:
        return all(self.member_test(item)(member) for item in block.filters)

    def member_test(self, item: ast.Filter) -> Callable[[MemberFacts], bool]:
        common = self._common(item)
        if common is not None:
            return common
        if not isinstance(item, ast.MemberFieldFilter):
            raise EclEvaluationError(f"{type(item).__name__} is not a member filter")
        name, op, value = item.name, item.op, item.value

        def field(member: MemberFacts) -> object:
            return member.referenced if name == "referencedComponentId" else member.fields.get(name)
        if isinstance(value, ast.SubExpression):
            test = _membership(self.ev.expression(value), op)
            return lambda m: test(field(m))
        if isinstance(value, tuple):
            check = _times(value, op)
            return lambda m: field(m) is not None and check(str(field(m)))
        if isinstance(value, ast.NumberValue):
            def number(m: MemberFacts) -> bool:
                found = as_number(field(m))
                return found is not None and compare(found, op, value.value)
            return number
        if isinstance(value, ast.BooleanValue):
            return lambda m: compare(field(m) in (True, "1", "true"), op, value.value)
        match = value_matcher(value.terms)
        return lambda m: isinstance(field(m), str) and match(field(m)) == (op == "=")  # type: ignore[arg-type]
