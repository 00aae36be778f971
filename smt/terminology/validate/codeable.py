"""The ``$validate-code`` answer for a CodeableConcept, combined from the results of its codings."""

from __future__ import annotations

from smt.terminology.codesystem import Issue, ValidationResult
from smt.terminology.validate.issues import issues_message


def combine_codings(results: list[ValidationResult], canonical: str,
                    where: str = "CodeableConcept") -> ValidationResult:
    """Valid when one of the codings is (``canonical``: the value set's, "" for CodeSystem ``$validate-code``).

    As tx.fhir.org: a coding not in the value set gives an ``information`` issue (``this-code-not-in-vs``),
    plus one general error when no coding is a member (a member with a wrong display is not valid, but the
    value set holds it); version and display come from a coding whose
    concept was found, code and system too unless that concept is known not to be in the value set.
    """
    if not results:
        issue = Issue("error", "required", "invalid-data", "The CodeableConcept has no coding", where)
        return ValidationResult(False, issue.text, issues=[issue])
    for result in results:
        result.issues = [_this_code(i) if i.tx_code == "not-in-vs" else i for i in result.issues]
    chosen = next((r for r in results if r.result), None)
    if chosen is not None:
        chosen.issues = [i for r in results for i in r.issues if i.severity != "error" or r is chosen]
        chosen.message = issues_message(chosen.issues)
        return chosen
    issues = [i for r in results for i in r.issues]
    found = next((r for r in results if r.display is not None), None)
    answer = ValidationResult(False, issues=issues)
    if found is not None:
        if found.member is not False:  # a coding known not to be in the value set is not "the" code
            answer.code, answer.system = found.code, found.system
        answer.version, answer.display, answer.inactive = found.version, found.display, found.inactive
    if any(i.tx_code == "this-code-not-in-vs" for i in issues) and not any(r.member for r in results):
        general = Issue("error", "code-invalid", "not-in-vs",
                        f"No valid coding was found for the value set '{canonical}'", "")
        answer.issues = [general, *issues]
    answer.unknown_system = next((r.unknown_system for r in results if r.unknown_system), None)
    answer.missing_system = next((r.missing_system for r in results if r.missing_system), None)
    answer.message = issues_message(answer.issues)
    return answer


def _this_code(issue: Issue) -> Issue:
    """A coding's not-in-vs error as the information it is within a CodeableConcept."""
    return Issue("information", issue.code, "this-code-not-in-vs", issue.text, issue.expression)
