"""The code system version a ``$validate-code`` coding is checked against, and the issues of finding it.

A coding's version is reconciled with the value set's include of its system (the include's version wins when
they differ, with a ``vs-invalid`` issue); a versionless coding uses the version holding a member. An unknown
code system or version, a value set's URL used as a system and a version the request's rules do not allow
are reported as issues, never raised.
"""

from __future__ import annotations

from smt.codesystems.provider import CodeSystemProvider
from smt.errors import CodeSystemNotFound, UnknownCodeSystem, UnknownValueSet, VersionNotAllowed
from smt.terminology.codesystem import Issue, ValidationResult
from smt.terminology.context import ResourceContext
from smt.terminology.expand.compose import IncludeVersion
from smt.terminology.validate.issues import issue_path, issues_message
from smt.terminology.validate.membership import ValueSetMembership
from smt.terminology.versions import version_matches


def versioned(members: ValueSetMembership, system: str, code: str, version: str | None,
              where: str) -> tuple[CodeSystemProvider | None, list[Issue], str | None]:
    """Reconcile a coding's version with the value set's include of its system.

    Returns the provider to validate against (the include's version when the coding's differs, as
    tx.fhir.org), the issues found (version mismatch, unknown version, ``check-system-version``) and the
    canonical of an unknown code system version. Raises ``CodeSystemNotFound`` when the code system (version)
    to use is not known.
    """
    ctx = members.ctx
    includes = members.compose.includes.get(system.rstrip("/"), [])
    issues: list[Issue] = []
    unknown: str | None = None
    if not includes:
        return _provider(members, system, code, version), issues, unknown
    include = includes[0]
    if include.provider is None and version is None and include.error is not None:
        text = include.error.describe(", so the code cannot be validated")
        issues.append(Issue("error", "not-found", "not-found", text, issue_path(where, "system")))
        return None, issues, include.error.canonical
    fits = include.provider is not None and (
        version is None or version == include.provider.version
        or (include.effective is not None and version_matches(version, include.effective)))
    if fits:
        target = _provider(members, system, code, version)
    else:
        try:
            target = ctx.exact_code_system(system, version)
        except UnknownCodeSystem as exc:
            target = None
            text = exc.describe(", so the code cannot be validated")
            issues.append(Issue("error", "not-found", "not-found", text, issue_path(where, "system")))
            unknown = exc.canonical
        if include.provider is None and include.error is not None:
            text = include.error.describe(", so the code cannot be validated")
            issues.append(Issue("error", "not-found", "not-found", text, issue_path(where, "system")))
            unknown = include.error.canonical
        issues.append(_mismatch(system, include, version or "", known=target is not None, where=where))
        target = include.provider or target
    if target is not None:
        try:
            ctx.rules.check(system, target.version)
        except VersionNotAllowed as exc:
            issues.append(Issue("error", "exception", "version-error", str(exc), issue_path(where, "version")))
    return target, issues, unknown


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
    severity = "error"
    if include.effective != include.declared:
        what = f"version '{include.effective}' resulting from the version '{include.declared or ''}'"
    elif include.declared is None and not known:
        what, severity = f"version '{shown}' for the versionless include", "warning"
    else:
        what = f"version '{shown}'"
    text = (f"The code system '{system}' {what} in the ValueSet include is different to the one in the "
            f"value ('{version}')")
    return Issue(severity, "invalid", "vs-invalid", text, issue_path(where, "version"))


def unknown_system(members: ValueSetMembership, system: str, code: str, exc: CodeSystemNotFound, where: str,
                   version: str | None = None) -> ValidationResult:
    """A coding whose code system (or its version) is not known, or is a value set's or supplement's URL."""
    versioned_url = exc.unknown.version is None and version is not None and ":" in system
    issues = [members.not_in_vs(f"{system}|{version}" if versioned_url else system, code, where)]
    result = ValidationResult(False, code=code, system=system, issues=issues)
    if exc.unknown.version is not None:
        text = exc.unknown.describe(", so the code cannot be validated")
        issues.append(Issue("error", "not-found", "not-found", text, issue_path(where, "system")))
        result.unknown_system = exc.unknown.canonical
    elif _is_value_set(members.ctx, system):
        text = f"The Coding references a value set, not a code system ('{system}')"
        issues.append(Issue("error", "invalid", "invalid-data", text, issue_path(where, "system")))
    else:
        if ":" not in system:
            text = f"{where or 'Coding'}.system must be an absolute reference, not a local reference"
            issues.append(Issue("error", "invalid", "invalid-data", text, issue_path(where, "system")))
        quoted = f"'{system}'" if ":" not in system else system
        text = f"A definition for CodeSystem {quoted} could not be found, so the code cannot be validated"
        if versioned_url:
            text = (f"A definition for CodeSystem '{system}' version '{version}' could not be found, so the code "
                    f"cannot be validated. No versions of this code system are known")
        issues.append(Issue("error", "not-found", "not-found", text, issue_path(where, "system")))
        result.missing_system = system
    result.message = issues_message(issues)
    return result


def unknown_included_system(members: ValueSetMembership, system: str, code: str, where: str) -> ValidationResult:
    """A coding of a value set that includes a code system that is not known (``members.unknown``)."""
    unknown = members.unknown.unknown if members.unknown else None
    text = unknown.describe(", so the code cannot be validated") if unknown else ""
    issues = [Issue("error", "not-found", "not-found", text, issue_path(where, "system"))]
    caused_by = unknown.canonical if unknown else None
    missing = None
    if unknown is not None and unknown.system.rstrip("/") != system.rstrip("/"):
        issues.insert(0, members.not_in_vs(system, code, where))
        if not members.ctx.code_system_versions(system):  # the coding's own system is unknown too
            text = f"A definition for CodeSystem {system} could not be found, so the code cannot be validated"
            issues[1] = Issue("error", "not-found", "not-found", text, issue_path(where, "system"))
            caused_by, missing = None, system
    return ValidationResult(False, issues_message(issues), code=code, system=system, issues=issues,
                            unknown_system=caused_by, missing_system=missing)


def _is_value_set(ctx: ResourceContext, url: str) -> bool:
    try:
        ctx.value_set(url)
    except UnknownValueSet:
        return False
    return True
