"""The code system check of one coding in ``$validate-code``, within a value set's membership.

A coding without a system (unless it can be inferred from the value set), with a supplement's URL or of a code
system the value set cannot resolve fails early. Otherwise the code is looked up in the code system version chosen
(``smt.terminology.validate.system``): unknown code (a fragment's is only a warning), expression of a code system
with a grammar (SNOMED CT post-coordination), case-insensitive match, inactive, deprecated or abstract concept,
membership and the status the value set gives it, then the display (``smt.terminology.validate.display``).
"""

from __future__ import annotations

from smt.codesystems.provider import CodeSystemProvider
from smt.errors import CodeSystemNotFound, UnknownCode
from smt.index.reader import ConceptRecord
from smt.terminology.codesystem import CodingInput, Issue, ValidationResult
from smt.terminology.expand.compose import canonical_of
from smt.terminology.retirement import retirement_issues
from smt.terminology.validate.display import display_issues
from smt.terminology.validate.expression import expression_result
from smt.terminology.validate.issues import issue_path, issues_message
from smt.terminology.validate.membership import ValueSetMembership
from smt.terminology.validate.system import unknown_included_system, unknown_system, versioned


def validate_coding(members: ValueSetMembership, coding: CodingInput, where: str = "") -> ValidationResult:
    """One coding against the value set of ``members`` (``where`` prefixes the issue locations)."""
    if members.failure is not None:
        return ValidationResult(False, members.failure.text, code=coding.code, system=coding.system,
                                issues=[members.failure])
    code = coding.code or ""
    system = coding.system
    if not system and members.options.infer_system:
        candidates = members.candidates(code)
        system = candidates[0] if len(candidates) == 1 else None
        if system is None:
            text = (f"The System URI could not be determined for the code '{code}' in the ValueSet "
                    f"'{members.canonical}'")
            if candidates:
                text += f": value set expansion has multiple matches: [{', '.join(candidates)}]"
            issues = [members.not_in_vs(coding, where),
                      Issue("error", "not-found", "cannot-infer", text, issue_path(where, "code"),
                            message_id="Unable_to_resolve_system__value_set_has_multiple_matches" if candidates
                            else "UNABLE_TO_INFER_CODESYSTEM")]
            return ValidationResult(False, issues_message(issues), code=code, issues=issues)
    if not system:
        text = ("Coding has no system. A code with no system has no defined meaning, and it cannot be "
                "validated. A system should be provided")
        issues = [members.not_in_vs(coding, where),
                  Issue("warning", "invalid", "invalid-data", text, where or "code",
                        message_id="Coding_has_no_system__cannot_validate")]
        return ValidationResult(False, issues_message(issues), code=code, issues=issues)
    supplement = members.ctx.supplement(system)
    if supplement is not None:
        text = (f"CodeSystem {canonical_of(supplement)} is a supplement, so can't be used as a value in "
                f"{where or 'Coding'}.system")
        issues = [Issue("error", "invalid", "invalid-data", text, issue_path(where, "system"),
                        message_id="CODESYSTEM_CS_NO_SUPPLEMENT")]
        return ValidationResult(False, text, code=code, system=system, issues=issues)
    if members.unknown is not None:
        return unknown_included_system(members, coding, system, where)
    return _validate_known(members, coding, system, code, where)


def _validate_known(members: ValueSetMembership, coding: CodingInput, system: str, code: str,
                    where: str) -> ValidationResult:
    """A coding of a code system the value set could resolve."""
    options = members.options
    try:
        provider, version_issues, unknown = versioned(members, coding, system, where)
    except CodeSystemNotFound as exc:
        return unknown_system(members, coding, system, exc, where)
    if provider is None:
        return ValidationResult(False, issues_message(version_issues), code=code, system=system,
                                issues=version_issues, unknown_system=unknown)
    concept = provider.concept(code)
    if concept is None:
        return _no_concept(members, coding, provider, system, code, where)
    designations = provider.designations(concept)
    display, _ = provider.preferred_display(concept, designations, options.display_language)
    result = ValidationResult(True, display=display, code=concept.code, system=provider.url,
                              version=provider.version, inactive=not concept.active, unknown_system=unknown)
    issues: list[Issue] = list(version_issues)
    if concept.code != code:
        result.code, result.normalized_code = code, concept.code
        used = f"{provider.url}|{provider.version}" if provider.version else provider.url
        text = (f"The code '{code}' differs from the correct code '{concept.code}' by case. Although the code "
                f"system '{used}' is case insensitive, implementers are strongly encouraged to use the correct "
                f"case anyway")
        issues.append(Issue("information", "business-rule", "code-rule", text, issue_path(where, "code"),
                            message_id="CODE_CASE_DIFFERENCE"))
    member = members.is_member(provider, concept) or members.member_by_code(system, concept.code)
    excludes_inactive = options.active_only or (members.membership is not None and members.membership.active_only)
    member = _concept_status(provider, concept, result, issues, member, excludes_inactive, where)
    issues += retirement_issues(members.ctx.registry, provider, concept, where)
    if member and concept.abstract and not options.abstract_allowed:
        text = f"Code '{system}#{concept.code}' is abstract, and not allowed in this context"
        issues.append(Issue("error", "business-rule", "code-rule", text, issue_path(where, "code"),
                            message_id="ABSTRACT_CODE_NOT_ALLOWED"))
        member = False
    if not member and not version_issues:
        issues.append(members.not_in_vs(coding, where, system))
    flagged = members.status_of(provider, concept)
    if member and flagged:
        text = (f"The presence of the concept '{concept.code}' in the system '{provider.url}' in the value set "
                f"{members.canonical} is marked with a status of {flagged} and its use should be reviewed")
        issues.append(Issue("warning", "business-rule", "code-comment", text, issue_path(where, "code"), False,
                            message_id="CONCEPT_DEPRECATED_IN_VALUESET"))
    issues += display_issues(coding.display, provider, concept, designations, options, where)
    result.issues = issues
    result.member = member
    result.result = member and not any(i.severity == "error" for i in issues)
    result.message = issues_message(issues)
    return result


def _no_concept(members: ValueSetMembership, coding: CodingInput, provider: CodeSystemProvider, system: str,
                code: str, where: str) -> ValidationResult:
    """A code the code system version has no concept for: a fragment's, an expression, or an unknown code."""
    if provider.meta.get("content") == "fragment":
        text = (f"Unknown Code '{code}' in the CodeSystem '{provider.url}' version '{provider.version or ''}' - "
                f"note that the code system is labeled as a fragment, so the code may be valid in some other "
                f"fragment")
        issues = [Issue("warning", "code-invalid", "invalid-code", text, issue_path(where, "code"), False,
                        message_id="UNKNOWN_CODE_IN_FRAGMENT")]
        return ValidationResult(True, code=code, system=system, version=provider.version, issues=issues,
                                member=True)  # a fragment cannot say the code is not in it (FHIRsmith check)
    check = provider.check_expression(code, members.options.display_language)
    if check is not None:
        not_in_vs = None if members.options.code_system else members.not_in_vs(coding, where, system)
        return expression_result(provider, check, code, issue_path(where, "code"), not_in_vs,
                                 members.expression_member(provider, code))
    spelling = provider.normalise_code(code)
    hint = provider.concept(spelling) if spelling != code else None
    text = str(UnknownCode(code, provider.url, provider.version or "", hint.code if hint else None))
    issues = [members.not_in_vs(coding, where, system),
              Issue("error", "code-invalid", "invalid-code", text, issue_path(where, "code"),
                    message_id="Unknown_Code_in_Version" if provider.version else "Unknown_Code_in")]
    return ValidationResult(False, issues_message(issues), code=code, system=system,
                            version=provider.version, issues=issues)


def _concept_status(provider: CodeSystemProvider, concept: ConceptRecord, result: ValidationResult,
                    issues: list[Issue], member: bool, active_only: bool, where: str) -> bool:
    """Add the issues of an inactive, deprecated or withdrawn concept (and its status to ``result``); returns
    whether the concept still counts as a member (an inactive one does not with ``activeOnly`` nor in a value set
    whose ``compose.inactive`` is false: FHIRsmith ``checkConceptSet``, ``STATUS_CODE_WARNING_CODE``)."""
    if not concept.active:
        status = concept.status if concept.status == "inactive" else f"{concept.status} and inactive"
        if concept.status != "inactive":
            result.status = concept.status  # e.g. retired: a status more precise than "inactive"
        text = f"The concept '{concept.code}' has a status of {status} and its use should be reviewed"
        issues.append(Issue("warning", "business-rule", "code-comment", text, where or "code",
                            message_id="INACTIVE_CONCEPT_FOUND"))
        if active_only:
            text = f"The concept '{concept.code}' is valid but is not active"
            issues.append(Issue("error", "business-rule", "code-rule", text, issue_path(where, "code"),
                                message_id="STATUS_CODE_WARNING_CODE"))
            member = False
    declared = next((str(p.value) for p in provider.properties(concept) if p.code == "status"), None)
    if concept.active and declared in ("deprecated", "withdrawn"):
        result.status = declared
        text = f"The concept '{concept.code}' is {declared} and its use should be reviewed"
        issues.append(Issue("warning", "business-rule", "code-comment", text, where or "code",
                            message_id="DEPRECATED_CONCEPT_FOUND"))
    return member
