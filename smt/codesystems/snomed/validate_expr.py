"""$validate-code of a SNOMED CT post-coordinated expression given as the code."""

from __future__ import annotations

from smt.codesystems.provider import CodeSystemProvider, preferred_display
from smt.codesystems.snomed.expression import Expression, render
from smt.errors import UnknownCode
from smt.terminology.codesystem import Issue, ValidationResult

SNOMED = "http://snomed.info/sct"
ATTRIBUTE_ROOTS = ("410662002", "106237007")
"""Concept model attribute and Linkage concept: every attribute name descends from one of them."""
MRCM_NOTE = ("The expression is grammatically correct and the concepts are valid, but the expression has not been "
             "checked against the SNOMED CT concept model (MRCM)")


def _display(provider: CodeSystemProvider, language: str | None):
    def display(code: str) -> str | None:
        concept = provider.concept(code)
        if concept is None:
            return None
        return preferred_display(provider, concept, provider.designations(concept), language)[0]
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


def validate_expression(provider: CodeSystemProvider, expr: Expression, code: str, location: str,
                        not_in_vs: Issue | None, language: str | None, member: bool = False) -> ValidationResult:
    """The result for an expression: invalid when it names unknown concepts; otherwise valid in the code system
    (``not_in_vs`` None, with a note that the concept model was not checked), else ``member`` or not (its issue
    ``not_in_vs``)."""
    version = provider.version or ""
    problem = expression_problem(provider, expr)
    if problem:
        issues = [*([not_in_vs] if not_in_vs else []),
                  Issue("error", "code-invalid", "invalid-code", str(UnknownCode(code, provider.url, version)),
                        location, message_id="Unknown_Code_in_Version"),
                  Issue("information", "code-invalid", "invalid-code", f"Not a valid expression: {problem}",
                        location)]
        return ValidationResult(False, _message(issues), code=code, system=provider.url, version=provider.version,
                                issues=issues)
    display = render(expr, _display(provider, language))
    if member:
        return ValidationResult(True, display=display, code=code, system=provider.url, version=provider.version)
    if not_in_vs is None:
        issues = [Issue("information", "informational", "process-note", MRCM_NOTE, location)]
        return ValidationResult(True, display=display, code=code, system=provider.url, version=provider.version,
                                issues=issues)
    return ValidationResult(False, _message([not_in_vs]), display=display, code=code, system=provider.url,
                            version=provider.version, issues=[not_in_vs])


def _message(issues: list[Issue]) -> str | None:
    texts = [i.text for i in issues if i.severity in ("error", "warning")]
    return "; ".join(texts) if texts else None
