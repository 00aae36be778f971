"""What ``$validate-code`` finds of a SNOMED CT post-coordinated expression given as the code: whether its
concepts exist and its attributes are concept model attributes, and its display with terms."""

from __future__ import annotations

from collections.abc import Callable

from smt.codesystems.provider import CodeSystemProvider, ExpressionCheck
from smt.codesystems.snomed.expression import Expression, parse_expression, render

ATTRIBUTE_ROOTS = ("410662002", "106237007")
"""Concept model attribute and Linkage concept: every attribute name descends from one of them."""
MRCM_NOTE = ("The expression is grammatically correct and the concepts are valid, but the expression has not been "
             "checked against the SNOMED CT concept model (MRCM)")


def _display(provider: CodeSystemProvider, language: str | None) -> Callable[[str], str | None]:
    def display(code: str) -> str | None:
        concept = provider.concept(code)
        if concept is None:
            return None
        return provider.preferred_display(concept, provider.designations(concept), language)[0]
    return display


def expression_problem(provider: CodeSystemProvider, expr: Expression) -> str | None:
    """Why the expression is not valid: an unknown concept, or an attribute that is not a concept model one."""
    for code in expr.concepts():
        if provider.concept(code) is None:
            return f"Concept {code} not found"
    roots = [c for code in ATTRIBUTE_ROOTS if (c := provider.concept(code)) is not None]
    for code in expr.attribute_names():
        concept = provider.concept(code)
        if roots and concept is not None and not any(provider.is_descendant(concept, r) for r in roots):
            return (f"Concept {code} is not valid in this context (must be a descendent of one of "
                    f"{','.join(ATTRIBUTE_ROOTS)})")
    return None


def check_expression(provider: CodeSystemProvider, code: str, language: str | None) -> ExpressionCheck | None:
    """The check of ``code`` as an expression: its problem, else its display with terms (in ``language``) and a
    note that the concept model was not checked; None when ``code`` is not written as an expression."""
    expr = parse_expression(code)
    if expr is None:
        return None
    problem = expression_problem(provider, expr)
    if problem:
        return ExpressionCheck(problem)
    return ExpressionCheck(None, render(expr, _display(provider, language)), MRCM_NOTE)
