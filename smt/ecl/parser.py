"""Recursive-descent parser for ECL 2.2 brief syntax: text → ``smt.ecl.ast`` nodes.

Follows the official ABNF (expressionConstraint, eclRefinement, filters, history supplements). Where the ABNF
lets ``AND`` and ``OR`` meet at one level, the parser asks for brackets, as the specification's text requires.
"""

from __future__ import annotations

import re
from decimal import Decimal

from smt.ecl import ast
from smt.ecl.filter_parser import FilterParser
from smt.ecl.scanner import Cursor, check_size
from smt.errors import EclSyntaxError

_OPERATORS: tuple[ast.ConstraintOperator, ...] = ("<<!", "<<", "<!", "<", ">>!", ">>", ">!", ">", "!!>", "!!<")
_FOCUS = ("a concept id", "'*'", "'^'", "'('")
_ATTRIBUTE_START = re.compile(r'[0-9*^(<>!A-Za-z"]')


def parse(text: str) -> ast.Expression:
    """Parse an ECL expression constraint; raises ``EclSyntaxError`` naming the position and what was expected
    (or that the expression is longer or more deeply nested than the parser accepts)."""
    check_size(text)
    cursor = Cursor(text)
    parser = Parser(cursor)
    try:
        cursor.ws()
        if cursor.at_end:
            raise cursor.error("an expression constraint")
        expression = parser.expression()
        cursor.ws()
        if not cursor.at_end:
            raise parser.trailing_error()
        return expression
    except EclSyntaxError as error:
        raise cursor.best_error(error) from None


class Parser:
    """One parse of one text; methods mirror the ABNF rules."""

    def __init__(self, cursor: Cursor) -> None:
        self.c = cursor
        self.filters = FilterParser(cursor, self)

    # -- expression constraints ---------------------------------------------------------------------------------

    def expression(self) -> ast.Expression:
        c = self.c
        first = self.sub_expression()
        mark = c.pos
        c.ws()
        if c.peek(":"):
            c.pos += 1
            c.ws()
            return ast.Refined(first, self.refinement(in_group=False))
        if c.peek(".") and not c.peek(".."):
            return self.dotted(first)
        operator = self.logical_operator()
        if operator is None:
            c.pos = mark
            return first
        operands: list[ast.Expression] = [first]
        while operator is not None:
            c.ws()
            operands.append(self.sub_expression())
            mark = c.pos
            c.ws()
            here = c.pos
            following = self.logical_operator()
            if following is None:
                c.pos = mark
                break
            if operator == "MINUS" or following != operator:
                raise c.record(EclSyntaxError(
                    f"'{following}' cannot follow '{operator}' without brackets: use ( ) to group the operands",
                    here, ("')'", "end of expression")))
        return ast.Compound(operator, tuple(operands))

    def logical_operator(self) -> ast.LogicalOperator | None:
        """``AND``/``,``, ``OR`` or ``MINUS`` here (consumed), else None."""
        c = self.c
        if c.accept(","):
            return "AND"
        for word in ("AND", "OR", "MINUS"):
            if c.keyword_ahead(word):
                c.pos += len(word)
                return word
        return None

    def dotted(self, subject: ast.SubExpression) -> ast.Dotted:
        c = self.c
        attributes: list[ast.SubExpression] = []
        while True:
            mark = c.pos
            c.ws()
            if not c.peek(".") or c.peek(".."):
                c.pos = mark
                return ast.Dotted(subject, tuple(attributes))
            c.pos += 1
            c.ws()
            attributes.append(self.sub_expression())

    def sub_expression(self) -> ast.SubExpression:
        c = self.c
        operator = self.constraint_operator()
        if operator is not None:
            c.ws()
        focus = self.member_of() if c.peek("^") else self.focus()
        filters: list[ast.FilterBlock] = []
        history: ast.HistorySupplement | None = None
        while True:
            mark = c.pos
            c.ws()
            if not c.peek("{{") or history is not None:
                c.pos = mark
                break
            block = self.filters.block(member_allowed=False)
            if isinstance(block, ast.HistorySupplement):
                history = block
            else:
                filters.append(block)
        return ast.SubExpression(focus, operator, tuple(filters), history)

    def constraint_operator(self) -> ast.ConstraintOperator | None:
        for operator in _OPERATORS:
            if self.c.accept(operator):
                return operator
        return None

    def focus(self) -> ast.Focus:
        """A concept reference, ``*``, an alternate identifier or a bracketed expression constraint."""
        c = self.c
        if c.accept("*"):
            return ast.Wildcard()
        if c.peek("("):
            c.pos += 1
            c.ws()
            inner = self.expression()
            c.ws()
            c.expect(")")
            return inner
        if c.char().isdigit():
            return self.concept_reference()
        if c.char().isalpha() or c.peek('"'):
            alternate = c.attempt(self.alt_identifier)
            if alternate is not None:
                return alternate
        raise c.error(*_FOCUS)

    def member_of(self) -> ast.MemberOf:
        c = self.c
        c.expect("^")
        c.ws()
        fields: tuple[str, ...] | None = None
        if c.accept("["):
            c.ws()
            if c.accept("*"):
                fields = ("*",)
            else:
                names = [self.field_name()]
                c.ws()
                while c.accept(","):
                    c.ws()
                    names.append(self.field_name())
                    c.ws()
                fields = tuple(names)
            c.ws()
            c.expect("]")
            c.ws()
        refset = self.focus()
        blocks: list[ast.FilterBlock] = []
        while True:
            mark = c.pos
            c.ws()
            if not self.filters.member_block_ahead():
                c.pos = mark
                break
            block = self.filters.block(member_allowed=True)
            assert isinstance(block, ast.FilterBlock)
            blocks.append(block)
        return ast.MemberOf(refset, fields, tuple(blocks))

    def field_name(self) -> str:
        name = self.c.word()
        if name is None or not name.isalpha():
            raise self.c.error("a refset field name")
        return name

    def concept_reference(self) -> ast.ConceptRef:
        c = self.c
        start = c.pos
        concept_id = c.sctid()
        return ast.ConceptRef(concept_id, self.optional_term(), start)

    def optional_term(self) -> str | None:
        """``|term|`` after a concept id (white space allowed before it); the term is only a label."""
        c = self.c
        mark = c.pos
        c.ws()
        if not c.peek("|"):
            c.pos = mark
            return None
        start = c.pos
        end = c.text.find("|", start + 1)
        if end < 0:
            raise EclSyntaxError("unterminated term: expected a closing '|'", start, ("'|'",))
        term = c.text[start + 1:end].strip()
        if not term:
            raise c.error("a term between the '|'", pos=start + 1)
        c.pos = end + 1
        return term

    def alt_identifier(self) -> ast.AltIdentifier:
        """``SCHEME#code`` or ``"SCHEME#code"``."""
        c = self.c
        start = c.pos
        if c.peek('"'):
            raw = c.quoted()
            scheme, hash_sign, code = raw.partition("#")
            if not hash_sign or not scheme or not code:
                raise c.error("an alternate identifier \"SCHEME#code\"", pos=start)
        else:
            scheme = c.word() or ""
            if not scheme or not c.accept("#"):
                raise c.error(*_FOCUS, pos=start)
            begin = c.pos
            while c.char() and (c.char().isalnum() or c.char() in "-._"):
                c.pos += 1
            code = c.text[begin:c.pos]
            if not code:
                raise c.error("an alternate identifier code")
        return ast.AltIdentifier(scheme, code, self.optional_term(), start)

    # -- refinements --------------------------------------------------------------------------------------------

    def refinement(self, in_group: bool) -> ast.Refinement:
        """A conjunction or disjunction of sub-refinements (attributes only when ``in_group``)."""
        c = self.c
        first = self.sub_refinement(in_group)
        operands = [first]
        operator: str | None = None
        while True:
            mark = c.pos
            c.ws()
            here = c.pos
            following = self.logical_operator() if not c.keyword_ahead("MINUS") else None
            if following is None:
                c.pos = mark
                break
            if operator is not None and following != operator:
                raise c.record(EclSyntaxError(
                    f"'{following}' cannot follow '{operator}' in a refinement without brackets",
                    here, ("'('",)))
            operator = following
            c.ws()
            operands.append(self.sub_refinement(in_group))
        if operator is None:
            return first
        return ast.RefinementSet(operator, tuple(operands))  # type: ignore[arg-type]

    def sub_refinement(self, in_group: bool) -> ast.Refinement:
        c = self.c
        if c.peek("("):
            bracketed = c.attempt(lambda: self.bracketed_refinement(in_group))
            if bracketed is not None:
                return bracketed
        cardinality = None
        if c.peek("["):
            cardinality = self.cardinality()
            c.ws()
        if c.peek("{"):
            if in_group:
                raise c.error("an attribute (groups cannot be nested)")
            c.pos += 1
            c.ws()
            body = self.refinement(in_group=True)
            c.ws()
            c.expect("}")
            return ast.AttributeGroup(body, cardinality)
        return self.attribute(cardinality)

    def bracketed_refinement(self, in_group: bool) -> ast.Refinement:
        c = self.c
        c.expect("(")
        c.ws()
        inner = self.refinement(in_group)
        c.ws()
        c.expect(")")
        return inner

    def cardinality(self) -> ast.Cardinality:
        c = self.c
        c.expect("[")
        c.ws()
        start = c.pos
        low = c.integer("a minimum cardinality")
        c.ws()
        c.expect("..")
        c.ws()
        high = None if c.accept("*") else c.integer("a maximum cardinality or '*'")
        c.ws()
        c.expect("]")
        if high is not None and high < low:
            raise EclSyntaxError(f"cardinality minimum {low} is greater than maximum {high}", start)
        return ast.Cardinality(low, high)

    def attribute(self, cardinality: ast.Cardinality | None) -> ast.Attribute:
        c = self.c
        reverse = False
        if c.peek("R") and not c.char(1).isalpha() and c.char(1) != "#":
            reverse = True
            c.pos += 1
            c.ws()
        if not _ATTRIBUTE_START.match(c.text, c.pos):
            raise c.error("an attribute (name = value)", "'{'", "'('")
        name = self.sub_expression()
        c.ws()
        comparison = self.comparison()
        c.ws()
        value = self.attribute_value() if comparison in ("=", "!=") else self.number_value()
        return ast.Attribute(name, comparison, value, cardinality, reverse)

    def comparison(self) -> ast.Comparison:
        c = self.c
        for operator in ("!=", "<=", ">=", "=", "<", ">"):
            if c.peek(operator):
                if operator in ("<", ">") and c.char(1) in "<>!":
                    break
                c.pos += len(operator)
                return operator
        raise c.error("'='", "'!='", "'<'", "'<='", "'>'", "'>='")

    def attribute_value(self) -> ast.SubExpression | ast.ConcreteValue:
        c = self.c
        if c.peek("#"):
            return self.number_value()
        for word, flag in (("true", True), ("false", False)):
            if c.keyword_ahead(word) and not c.text.startswith("#", c.pos + len(word)):
                c.pos += len(word)
                return ast.BooleanValue(flag)
        if self.filters.search_term_ahead():
            return ast.StringValue(self.filters.typed_search_terms())
        return self.sub_expression()

    def number_value(self) -> ast.NumberValue:
        c = self.c
        if not c.accept("#"):
            raise c.error("'#' and a number")
        return ast.NumberValue(Decimal(c.number()))

    # -- errors -------------------------------------------------------------------------------------------------

    def trailing_error(self) -> EclSyntaxError:
        """What to say about text left over after a complete expression."""
        c = self.c
        if c.peek(")"):
            return c.error("end of expression (unbalanced ')')")
        return c.error("'AND'", "'OR'", "'MINUS'", "':'", "'.'", "'{{'", "end of expression")
