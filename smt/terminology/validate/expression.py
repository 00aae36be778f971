"""The ``$validate-code`` answer for a code written as an expression of a code system with a grammar (a
SNOMED CT post-coordinated expression), from what its provider found (``CodeSystemProvider.check_expression``).

An expression naming unknown concepts is an unknown code (with a note naming the problem); a valid one is valid in
its code system (with the provider's note of what was not checked), and in a value set when one of the value
set's includes holds it.
"""

from __future__ import annotations

from smt.codesystems.provider import CodeSystemProvider, ExpressionCheck
from smt.errors import UnknownCode
from smt.terminology.codesystem import Issue, ValidationResult
from smt.terminology.validate.issues import issues_message


def expression_result(provider: CodeSystemProvider, check: ExpressionCheck, code: str, location: str,
                      not_in_vs: Issue | None, member: bool) -> ValidationResult:
    """The result for an expression: invalid when ``check`` found a problem; otherwise valid in the code system
    (``not_in_vs`` None, with the provider's note), else ``member`` or not (its issue ``not_in_vs``)."""
    system, version = provider.url, provider.version
    if check.problem:
        issues = [*([not_in_vs] if not_in_vs else []),
                  Issue("error", "code-invalid", "invalid-code", str(UnknownCode(code, system, version or "")),
                        location, message_id="Unknown_Code_in_Version"),
                  Issue("information", "code-invalid", "invalid-code", f"Not a valid expression: {check.problem}",
                        location)]
        return ValidationResult(False, issues_message(issues), code=code, system=system, version=version,
                                issues=issues)
    if member:
        return ValidationResult(True, display=check.display, code=code, system=system, version=version)
    if not_in_vs is None:
        notes = [Issue("information", "informational", "process-note", check.note, location)] if check.note else []
        return ValidationResult(True, display=check.display, code=code, system=system, version=version,
                                issues=notes)
    return ValidationResult(False, issues_message([not_in_vs]), display=check.display, code=code, system=system,
                            version=version, issues=[not_in_vs])
