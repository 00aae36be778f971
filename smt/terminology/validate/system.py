"""The code system version a ``$validate-code`` coding is checked against, and the issues of finding it.

A coding's version is reconciled with the value set's include of its system (the include's version wins when
they differ, with a ``vs-invalid`` issue); a versionless coding uses the version holding a member. An unknown
code system or version, a value set's URL used as a system and a version the request's rules do not allow
are reported as issues, never raised.
"""

from __future__ import annotations

from smt.codesystems.provider import CodeSystemProvider
from smt.errors import CodeSystemNotFound, UnknownCodeSystem, UnknownValueSet, VersionNotAllowed
from smt.terminology.codesystem import CodingInput, Issue, ValidationResult
from smt.terminology.context import ResourceContext
from smt.terminology.expand.compose import IncludeVersion
from smt.terminology.validate.issues import issue_path, issues_message
from smt.terminology.validate.membership import ValueSetMembership
from smt.terminology.versions import version_matches


def versioned(members: ValueSetMembership, coding: CodingInput, system: str,
              where: str) -> tuple[CodeSystemProvider | None, list[Issue], str | None]:
    """Reconcile a coding's version with the value set's include of its system.

    Returns the provider to validate against (the include's version when the coding's differs, as
    tx.fhir.org), the issues found (version mismatch, unknown version, ``check-system-version``) and the
    canonical of an unknown code system version. Raises ``CodeSystemNotFound`` when the code system (version)
    to use is not known.
    """
    ctx = members.ctx
    code, version = coding.code or "", coding.version
    includes = members.compose.includes.get(system.rstrip("/"), [])
    issues: list[Issue] = []
    unknown: str | None = None
    if not includes:
        return _provider(members, system, code, version), issues, unknown
    include = _include_for(members, includes, coding)
    if include.provider is None and version is None and include.error is not None:
        issues.append(unknown_issue(include.error, where))
        return None, issues, include.error.canonical
    fits = include.provider is not None and (
        version is None or version == include.provider.version
        or (include.effective is not None and version_matches(version, include.effective)))
    if fits:  # the version the coding names (within a wildcard include), else the include's
        target = include.provider if version is None else _provider(members, system, code, version)
    else:
        try:
            target = ctx.exact_code_system(system, version)
        except UnknownCodeSystem as exc:
            target = None
            issues.append(unknown_issue(exc, where))
            unknown = exc.canonical
        if include.provider is None and include.error is not None:
            issues.append(unknown_issue(include.error, where))
            unknown = include.error.canonical
        issues.append(_mismatch(system, include, version or "", known=target is not None, where=where))
        target = include.provider or target
    if target is not None:
        try:
            ctx.rules.check(system, target.version)
        except VersionNotAllowed as exc:
            issues.append(Issue("error", "exception", "version-error", str(exc), issue_path(where, "version"),
                                message_id=exc.message_id))
    return target, issues, unknown


def _include_for(members: ValueSetMembership, includes: list[IncludeVersion], coding: CodingInput) -> IncludeVersion:
    """Which of the value set's includes of a system (latest version first) checks a coding: the one of its
    version; for a versionless coding, the latest version that holds the code (with its display) when only some
    do, else the latest that has it as a member, else the latest. FHIRsmith ``ValueSetChecker.check`` and
    ``pickApplicableVersion``."""
    code, version = coding.code or "", coding.version
    known = [i for i in includes if i.provider is not None]
    if version is not None:
        return next((i for i in known if i.provider is not None and (
            version == i.provider.version or (i.effective is not None and version_matches(version, i.effective)))),
            includes[0])
    holding = [i for i in known if i.provider is not None and _holds(i.provider, code, coding.display)]
    if 0 < len(holding) < len(known):
        return holding[0]
    for include in known:
        assert include.provider is not None
        concept = include.provider.concept(code)
        if concept is not None and members.is_member(include.provider, concept):
            return include
    return includes[0]


def _holds(provider: CodeSystemProvider, code: str, display: str | None) -> bool:
    """Whether a code system version has the code, and the display (when given) as one of its terms."""
    concept = provider.concept(code)
    if concept is None:
        return False
    return display is None or display == concept.display or any(
        d.value == display for d in provider.designations(concept))


def _provider(members: ValueSetMembership, system: str, code: str, version: str | None) -> CodeSystemProvider:
    """The code system version to check against: the one named, else the value set's (a member first)."""
    if version is None:
        used = [p for (s, v), p in members.compose.providers.items() if s.rstrip("/") == system.rstrip("/")]
        for provider in used:
            concept = provider.concept(code)
            if concept is not None and members.is_member(provider, concept):
                return provider
        if used:
            return used[-1]
    return members.compose.provider(system, version)


def _mismatch(system: str, include: IncludeVersion, version: str, known: bool, where: str) -> Issue:
    """The issue of a coding whose version differs from the one the value set includes."""
    shown = include.provider.version if include.provider is not None else include.declared
    severity, message_id = "error", "VALUESET_VALUE_MISMATCH"
    if include.effective != include.declared:
        what = f"version '{include.effective}' resulting from the version '{include.declared or ''}'"
        message_id = "VALUESET_VALUE_MISMATCH_CHANGED"
    elif include.declared is None and not known:
        what, severity = f"version '{shown}' for the versionless include", "warning"
        message_id = "VALUESET_VALUE_MISMATCH_DEFAULT"
    else:
        what = f"version '{shown}'"
    text = (f"The code system '{system}' {what} in the ValueSet include is different to the one in the "
            f"value ('{version}')")
    return Issue(severity, "invalid", "vs-invalid", text, issue_path(where, "version"), message_id=message_id)


def unknown_system(members: ValueSetMembership, coding: CodingInput, system: str, exc: CodeSystemNotFound,
                   where: str) -> ValidationResult:
    """A coding whose code system (or its version) is not known, or is a value set's or supplement's URL."""
    code = coding.code or ""
    issues = [members.not_in_vs(coding, where)]
    result = ValidationResult(False, code=code, system=system, issues=issues)
    if exc.unknown.version is not None:
        issues.append(unknown_issue(exc.unknown, where))
        result.unknown_system = exc.unknown.canonical
    elif _is_value_set(members.ctx, system):
        text = f"The Coding references a value set, not a code system ('{system}')"
        issues.append(Issue("error", "invalid", "invalid-data", text, issue_path(where, "system"),
                            message_id="Terminology_TX_System_ValueSet2"))
    else:
        if ":" not in system:
            text = f"{where or 'Coding'}.system must be an absolute reference, not a local reference"
            issues.append(Issue("error", "invalid", "invalid-data", text, issue_path(where, "system"),
                                message_id="Terminology_TX_System_Relative"))
        issues.append(unknown_issue(UnknownCodeSystem(system, coding.version), where))
        result.missing_system = system
    result.message = issues_message(issues)
    return result


def unknown_issue(unknown: UnknownCodeSystem, where: str) -> Issue:
    """The ``not-found`` issue of a code system (version) that is not known (FHIRsmith message ids
    ``UNKNOWN_CODESYSTEM``, ``UNKNOWN_CODESYSTEM_VERSION``, ``UNKNOWN_CODESYSTEM_VERSION_NONE``)."""
    if unknown.version is None:
        message_id = "UNKNOWN_CODESYSTEM"
    else:
        message_id = "UNKNOWN_CODESYSTEM_VERSION" if unknown.known else "UNKNOWN_CODESYSTEM_VERSION_NONE"
    return Issue("error", "not-found", "not-found", unknown.describe(", so the code cannot be validated"),
                 issue_path(where, "system"), message_id=message_id)


def unknown_included_system(members: ValueSetMembership, coding: CodingInput, system: str,
                            where: str) -> ValidationResult:
    """A coding of a value set that includes a code system that is not known (``members.unknown``)."""
    code = coding.code or ""
    unknown = members.unknown.unknown if members.unknown else UnknownCodeSystem(system)
    issues = [unknown_issue(unknown, where)]
    caused_by: str | None = unknown.canonical
    missing = None
    if unknown.system.rstrip("/") != system.rstrip("/"):
        issues.insert(0, members.not_in_vs(coding, where))
        if not members.ctx.code_system_versions(system):  # the coding's own system is unknown too
            issues[1] = unknown_issue(UnknownCodeSystem(system), where)
            caused_by, missing = None, system
    return ValidationResult(False, issues_message(issues), code=code, system=system, issues=issues,
                            unknown_system=caused_by, missing_system=missing)


def _is_value_set(ctx: ResourceContext, url: str) -> bool:
    try:
        ctx.value_set(url)
    except UnknownValueSet:
        return False
    return True
