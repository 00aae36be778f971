"""SNOMED CT compositional grammar expressions (post-coordination) used as codes: parse, check, render.

Supported: focus concepts joined by ``+``, then ``:`` and attributes ``name = value`` (value a concept or a
bracketed nested expression), ungrouped or in ``{ }`` groups; ``|term|`` after any concept id is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

_TOKEN = re.compile(r"\s*(?:(\d{6,18})|(\|[^|]*\|)|(===|<<<|[:+,={}()]))")
MAX_NESTING = 50
"""Brackets open at once at most (the parser and the normal form recurse per level)."""


@dataclass(slots=True)
class Expression:
    """Focus concept ids, ungrouped attributes and attribute groups."""

    focus: list[str]
    attributes: list[tuple[str, Expression]] = field(default_factory=list)
    groups: list[list[tuple[str, Expression]]] = field(default_factory=list)

    def concepts(self) -> list[str]:
        """Every concept id the expression names, in order."""
        found = list(self.focus)
        for name, value in [*self.attributes, *(a for g in self.groups for a in g)]:
            found += [name, *value.concepts()]
        return found

    def attribute_names(self) -> list[str]:
        """The attribute (relationship type) ids of the expression and of its nested values."""
        found: list[str] = []
        for name, value in [*self.attributes, *(a for g in self.groups for a in g)]:
            found += [name, *value.attribute_names()]
        return found

    @property
    def refined(self) -> bool:
        return bool(self.attributes or self.groups or len(self.focus) > 1)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        position = 0
        text = text.strip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:
                raise ValueError(f"unexpected character at {position}")
            if match.group(2) is None:
                self.tokens.append(match.group(1) or match.group(3))
            position = match.end()
        self.at = 0
        depth = 0
        for token in self.tokens:
            depth += token in ("(", "{")
            depth -= token in (")", "}")
            if depth > MAX_NESTING:
                raise ValueError(f"brackets are nested more than {MAX_NESTING} deep")

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, wanted: str | None = None) -> str:
        token = self.peek()
        if token is None or (wanted is not None and token != wanted):
            raise ValueError(f"expected {wanted or 'more'} at token {self.at}")
        self.at += 1
        return token

    def concept(self) -> str:
        token = self.take()
        if not token.isdigit():
            raise ValueError(f"expected a concept id, found {token!r}")
        return token

    def expression(self) -> Expression:
        if self.peek() in ("===", "<<<"):
            self.take()
        expr = Expression([self.concept()])
        while self.peek() == "+":
            self.take()
            expr.focus.append(self.concept())
        if self.peek() == ":":
            self.take()
            self.refinement(expr)
        return expr

    def refinement(self, expr: Expression) -> None:
        while True:
            if self.peek() == "{":
                self.take()
                expr.groups.append(self.attribute_set())
                self.take("}")
            else:
                expr.attributes.append(self.attribute())
            if self.peek() == ",":
                self.take()
            elif self.peek() != "{":
                return

    def attribute_set(self) -> list[tuple[str, Expression]]:
        found = [self.attribute()]
        while self.peek() == ",":
            self.take()
            found.append(self.attribute())
        return found

    def attribute(self) -> tuple[str, Expression]:
        name = self.concept()
        self.take("=")
        if self.peek() == "(":
            self.take()
            value = self.expression()
            self.take(")")
        else:
            value = Expression([self.concept()])
        return name, value


def parse_expression_or_fail(text: str) -> Expression:
    """The expression ``text`` is in compositional grammar; ``ValueError`` saying where it goes wrong."""
    parser = _Parser(text)
    expr = parser.expression()
    if parser.peek() is not None:
        raise ValueError(f"unexpected {parser.peek()!r} at token {parser.at}")
    return expr


def written_as_expression(text: str) -> bool:
    """Whether a code has the shape of a post-coordinated expression (a refinement ``:`` or several ``+``)."""
    return re.search(r"[:+]", text) is not None


def parse_expression(text: str) -> Expression | None:
    """The expression of a code that is a post-coordinated expression; None for a plain or malformed code."""
    if text.strip().isdigit() or not written_as_expression(text):
        return None
    try:
        return parse_expression_or_fail(text)
    except ValueError:
        return None


def render(expr: Expression, display: Callable[[str], str | None]) -> str:
    """The expression with every concept's display as ``id|term|`` and no white space."""

    def concept(code: str) -> str:
        term = display(code)
        return f"{code}|{term}|" if term else code

    def attribute(item: tuple[str, Expression]) -> str:
        name, value = item
        shown = render(value, display)
        return f"{concept(name)}={f'({shown})' if value.refined else shown}"

    text = "+".join(concept(c) for c in expr.focus)
    parts = [attribute(a) for a in expr.attributes]
    parts += ["{" + ",".join(attribute(a) for a in group) + "}" for group in expr.groups]
    return f"{text}:{','.join(parts)}" if parts else text
