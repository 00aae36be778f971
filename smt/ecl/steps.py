"""What the parts of the ECL parser and evaluator ask of the whole: the filter parser parses nested expressions
and values with the expression parser, refinements and filters evaluate nested expressions with the evaluator.

Declared here, below both sides, so that ``parser`` → ``filter_parser`` and ``evaluator`` → ``refine`` /
``filter_eval`` each go one way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from smt.ecl import ast
from smt.ecl.backend import EclBackend


class ExpressionParser(Protocol):
    """The expression parser, as the filter parser (``{{ … }}`` blocks) uses it."""

    def expression(self) -> ast.Expression: ...

    def sub_expression(self) -> ast.SubExpression: ...

    def concept_reference(self) -> ast.ConceptRef: ...

    def comparison(self) -> ast.Comparison: ...

    def attribute_value(self) -> ast.SubExpression | ast.ConcreteValue: ...

    def number_value(self) -> ast.NumberValue: ...


class ExpressionEvaluator(Protocol):
    """The evaluator, as refinements and filters use it."""

    backend: EclBackend

    def optional(self, name: str, feature: str) -> Callable[..., Any]:
        """The backend method ``name``, or ``EclUnsupported`` naming the ECL feature that needs it."""

    def concept(self, ref: ast.ConceptRef) -> int: ...

    def sctid(self, sctid: str) -> int | None: ...

    def sctids(self, sctids: tuple[str, ...] | list[str]) -> set[int]: ...

    def expression(self, node: ast.Expression | ast.Focus) -> set[int]: ...

    def constraint(self, node: ast.Expression | ast.Focus) -> set[int] | None:
        """Like ``expression`` but None for an unconstrained ``*``."""
