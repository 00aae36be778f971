"""The ``$validate-code`` answer for a CodeableConcept, combined from the results of its codings.

The rule is FHIRsmith's ``ValueSetChecker.checkCodeableConcept`` (``tx/workers/validate.js``): a CodeableConcept is
valid when one of its codings is a member of the value set *and* no issue of any coding is an error (a member
whose display is wrong, or another coding whose code is unknown, makes it invalid); every coding's issues are
kept, a coding that is not in the value set giving an ``information`` issue (``this-code-not-in-vs``) in place of
its error, plus one general error when no coding is a member. ``code``, ``system``, ``version`` and ``display``
describe the first member coding, and nothing when there is none. A coding whose code system (or its version) is
unknown does not veto a membership another coding confirmed: its error becomes a warning
(``UNKNOWN_CODESYSTEM_CODING_NOT_CHECKED``; FHIRsmith after hapifhir/org.hl7.fhir.core#2272: a required binding
on a CodeableConcept is met when any coding is in the value set).
"""

from __future__ import annotations

from smt.terminology.codesystem import Issue, ValidationResult
from smt.terminology.validate.issues import issues_message


def combine_codings(results: list[ValidationResult], canonical: str,
                    where: str = "CodeableConcept") -> ValidationResult:
    """The answer for a CodeableConcept (``canonical``: the value set's, "" for CodeSystem ``$validate-code``)."""
    if not results:
        issue = Issue("error", "required", "invalid-data", "The CodeableConcept has no coding", where)
        return ValidationResult(False, issue.text, issues=[issue])
    for result in results:
        result.issues = [_this_code(i) if i.tx_code == "not-in-vs" else i for i in result.issues]
    member = next((r for r in results if r.member), None)
    if member is not None:
        for index, result in enumerate(results):
            if not result.member:
                system_path = f"{where}.coding[{index}].system"
                unknown = result.unknown_system or result.missing_system or ""
                result.issues = [_not_checked(i, unknown) if _unknown_system_error(i, system_path) else i
                                 for i in result.issues]
    issues = [i for r in results for i in r.issues]
    answer = ValidationResult(False, issues=issues)
    if member is not None:
        answer.code, answer.system, answer.version, answer.display = (member.code, member.system, member.version,
                                                                      member.display)
        answer.inactive, answer.status, answer.normalized_code = member.inactive, member.status, member.normalized_code
    elif any(i.tx_code == "this-code-not-in-vs" for i in issues):
        general = Issue("error", "code-invalid", "not-in-vs",
                        f"No valid coding was found for the value set '{canonical}'", "",
                        message_id="TX_GENERAL_CC_ERROR_MESSAGE")
        answer.issues = [general, *issues]
    answer.result = member is not None and not any(i.severity == "error" for i in answer.issues)
    if not answer.result:
        answer.unknown_system = next((r.unknown_system for r in results if r.unknown_system), None)
        answer.missing_system = next((r.missing_system for r in results if r.missing_system), None)
    answer.message = issues_message(answer.issues)
    return answer


def _this_code(issue: Issue) -> Issue:
    """A coding's not-in-vs error as the information it is within a CodeableConcept."""
    return Issue("information", issue.code, "this-code-not-in-vs", issue.text, issue.expression,
                 message_id=issue.message_id)


UNKNOWN_SYSTEM_IDS = frozenset({"UNKNOWN_CODESYSTEM", "UNKNOWN_CODESYSTEM_VERSION", "UNKNOWN_CODESYSTEM_VERSION_NONE"})


def _unknown_system_error(issue: Issue, system_path: str) -> bool:
    return issue.severity == "error" and issue.message_id in UNKNOWN_SYSTEM_IDS and issue.expression == system_path


def _not_checked(issue: Issue, system: str) -> Issue:
    """An unknown code system's error, on a coding beside one that is a member, as the warning it then is."""
    text = (f"A definition for CodeSystem '{system}' could not be found, so this coding was not checked "
            "(another coding of the CodeableConcept is in the value set)")
    return Issue("warning", issue.code, issue.tx_code, text, issue.expression,
                 message_id="UNKNOWN_CODESYSTEM_CODING_NOT_CHECKED")
