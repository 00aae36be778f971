"""ValueSet ``$validate-code``: is a code (Coding, CodeableConcept) in a value set, with a valid display?

Membership uses the same compose resolution as ``$expand`` but tests only the concept asked for
(``Compose.membership``). Results reuse the CodeSystem engine's ``ValidationResult`` and ``Issue``
(tx-issue-type codes: ``not-in-vs``, ``invalid-code``, ``invalid-display``, ``code-rule``, ``not-found``,
``inactive-code``/``code-comment``, ``vs-invalid``), with tx.fhir.org wording. An unknown code system or value
set is reported in the result, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from smt.engines.codesystem import (
    CODE_NORMALISERS,
    CodingInput,
    Issue,
    UnknownCode,
    UnknownCodeSystem,
    ValidationResult,
    language_preferences,
)
from smt.engines.expand import CodeSystemNotFound, Compose, IncludeVersion, Membership, canonical_of
from smt.engines.expr_membership import expression_member
from smt.engines.provider import CodeSystemProvider, ResourceContext, UnknownValueSet, preferred_display
from smt.engines.sct_expression import Expression, parse_expression
from smt.engines.standing import STANDARDS_STATUS, WARNED, standing, status_text
from smt.engines.validate_expr import SNOMED, validate_expression
from smt.engines.version_rules import VersionNotAllowed, version_matches
from smt.engines.vs_errors import ValueSetError
from smt.errors import SmtError
from smt.index.reader import CodeSystemIndex, ConceptRecord, DesignationRecord

_MESSAGE_ORDER: dict[str, float] = {
    "not-found": 0, "invalid-data": 0.5, "code-comment": 1, "code-rule": 2, "vs-invalid": 3, "version-error": 4,
    "not-in-vs": 5, "invalid-code": 6, "invalid-display": 7,
}


@dataclass(slots=True)
class ValidateOptions:
    display_language: str | None = None
    active_only: bool = False
    abstract_allowed: bool = True
    lenient_display: bool = False
    infer_system: bool = False
    code_system: bool = False
    """CodeSystem ``$validate-code``: the value set is the whole code system, so no ``not-in-vs`` issues."""
    membership_only: bool = False
    """``valueset-membership-only``: only whether the code is in the value set (no code or display checks)."""


def _path(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _message(issues: list[Issue]) -> str | None:
    """The ``message``: the issue texts in tx.fhir.org order (not information, nor version-mismatch warnings)."""
    shown = [i for i in issues if i.in_message or (i.in_message is None and i.severity != "information"
                                                   and not (i.severity == "warning" and i.tx_code == "vs-invalid"))]
    ordered = sorted(shown, key=lambda i: _MESSAGE_ORDER.get(i.tx_code, 9))
    return "; ".join(dict.fromkeys(i.text for i in ordered)) or None


def _display_issue(given: str, valid: list[str], provider: CodeSystemProvider, concept: ConceptRecord,
                   options: ValidateOptions, where: str) -> Issue:
    squeeze = " ".join(given.split())
    wrong = "Wrong whitespace in Display Name" if squeeze in valid else "Wrong Display Name"
    severity = "warning" if options.lenient_display else "error"
    requested = ", ".join(t for t in language_preferences(options.display_language) if t != "*")
    in_language = _in_languages(provider, concept, requested)
    own = provider.meta.get("language")
    if requested and not in_language and own:
        text = (f"{wrong} '{given}' for {provider.url}#{concept.code}. There are no valid display names found "
                f"for language(s) '{requested}'. Default display is '{concept.display}'")
        return Issue(severity, "invalid", "invalid-display", text, _path(where, "display"))
    if requested and in_language:
        pairs = in_language
    else:
        pairs = [(concept.display, own or "")] + [(d.value, d.language or "")
                                                  for d in provider.designations(concept)]
        pairs = [(v, lang) for v, lang in pairs if v in valid]
    choices = list(dict.fromkeys(pairs))
    shown = " or ".join(f"'{v}' ({lang})" if lang else f"'{v}'" for v, lang in choices)
    valid_text = f"is {shown}" if len(choices) == 1 else f"is one of {len(choices)} choices: {shown}"
    text = (f"{wrong} '{given}' for {provider.url}#{concept.code}. Valid display {valid_text} "
            f"(for the language(s) '{requested or '--'}')")
    return Issue(severity, "invalid", "invalid-display", text, _path(where, "display"))


def _all_designations(provider: CodeSystemProvider, concept: ConceptRecord) -> list[DesignationRecord]:
    """Designations with inactive ones (SNOMED CT descriptions) when the provider keeps them."""
    if isinstance(provider, CodeSystemIndex):
        return provider.designations(concept, include_inactive=True)
    return provider.designations(concept)


def _inactive_display(given: str | None, valid: list[str], designations: list[DesignationRecord], code: str,
                      where: str, status: str = "inactive") -> Issue | None:
    """A warning when the display given is an inactive description of the concept (not a valid one); ``status``
    names it: ``inactive`` (SNOMED CT description) or ``deprecated`` (FHIR designation marked deprecated or
    withdrawn by its ``structuredefinition-standards-status``)."""
    if given is None or given in valid or not any(d.value == given and not d.active for d in designations):
        return None
    shown = ",".join(f'"{v}"' if " " in v else v for v in sorted(set(valid)))
    text = (f"'{given}' is no longer considered a correct display for code '{code}' (status = {status}). The "
            f"correct display is one of {shown}.")
    return Issue("warning", "invalid", "display-comment", text, _path(where, "display"), False,
                 message_id="INACTIVE_DISPLAY_FOUND")


def _default_language_note(given: str, provider: CodeSystemProvider, concept: ConceptRecord,
                           options: ValidateOptions, where: str) -> Issue | None:
    """A valid display given for a language the code system has no display in: an information note."""
    requested = ", ".join(t for t in language_preferences(options.display_language) if t != "*")
    if not requested or not provider.meta.get("language") or _in_languages(provider, concept, requested):
        return None
    text = (f"There are no valid display names found for the code {provider.url}#{concept.code} for language(s) "
            f"'{requested}'. The display is '{given}' which is a valid display for the default language")
    return Issue("information", "invalid", "invalid-display", text, _path(where, "display"), True)


def _in_languages(provider: CodeSystemProvider, concept: ConceptRecord, requested: str) -> list[tuple[str, str]]:
    """(display, language) of the concept in the requested languages (primary subtags compared)."""
    wanted = {t.strip().split("-")[0] for t in requested.split(",") if t.strip()}
    own = provider.meta.get("language") or ""
    found = [(concept.display, own)] if concept.display and own.split("-")[0] in wanted else []
    found += [(d.value, d.language) for d in provider.designations(concept)
              if d.language and d.language.lower().split("-")[0] in wanted]
    return found


def _status_in_value_set(extensions: list[dict]) -> str | None:
    """The status a value set gives one of its concepts (``valueset-deprecated``, standards status)."""
    for ext in extensions:
        if ext.get("url", "").endswith("/valueset-deprecated") and str(
                ext.get("valueBoolean", ext.get("valueCode"))).lower() == "true":
            return "deprecated"
        if ext.get("url") == STANDARDS_STATUS and ext.get("valueCode") in WARNED:
            return str(ext["valueCode"])
    return None


class ValueSetValidator:
    """Validates codes against one value set within one request context."""

    def __init__(self, vs: dict, ctx: ResourceContext, options: ValidateOptions | None = None) -> None:
        self.vs = vs
        self.ctx = ctx
        self.options = options or ValidateOptions()
        self.canonical = canonical_of(vs) or "(unidentified)"  # a value set without url, as tx.fhir.org names it
        self.compose = Compose(ctx, lenient=True)
        self.compose.note_standing("ValueSet", canonical_of(vs), standing(vs, lifecycle=False))
        self._membership: Membership | None = None
        self._failure: Issue | None = None
        self._unknown: CodeSystemNotFound | None = None
        try:
            self._membership = self.compose.membership(vs)
        except CodeSystemNotFound as exc:
            self._unknown = exc
        except UnknownValueSet as exc:
            self._failure = Issue("error", "not-found", "not-found", str(exc), "")

    def _issues(self, issues: list[Issue]) -> list[Issue]:
        if self.options.code_system:
            return [i for i in issues if i.tx_code != "not-in-vs"]
        return issues

    def _not_in_vs(self, system: str | None, code: str, where: str, display: str | None = None) -> Issue:
        shown = f"{system}#{code}" if system else f"#{code}"
        shown += f" ('{display}')" if display else ""
        text = f"The provided code '{shown}' was not found in the value set '{self.canonical}'"
        return Issue("error", "code-invalid", "not-in-vs", text, _path(where, "code"),
                     message_id="None_of_the_provided_codes_are_in_the_value_set_one")

    def _candidates(self, code: str) -> list[str]:
        """The value set's code systems that have ``code`` (sorted): inferring its system needs exactly one."""
        return sorted({s for (s, v), p in self.compose.providers.items() if p.concept(code) is not None})

    def validate(self, coding: CodingInput, where: str = "") -> ValidationResult:
        """One coding (``where`` prefixes the issue locations: "", "Coding", "CodeableConcept.coding[0]")."""
        if self.options.membership_only and not self.options.code_system and self._failure is None:
            return self._membership_only(coding, where)
        result = self._validate(coding, where)
        if result.system == SNOMED:  # tx.fhir.org gives SNOMED CT code findings no (deprecated) location
            result.issues = [replace(i, located=False) if i.expression.endswith("code") else i
                             for i in result.issues]
        if result.version is not None or result.result:
            result.issues += [Issue("information", "business-rule", "status-check", status_text(*item), "")
                              for item in self.compose.standings]
        if self.options.code_system:
            result.issues = self._issues(result.issues)
            result.message = _message(result.issues)
        return result

    def _membership_only(self, coding: CodingInput, where: str) -> ValidationResult:
        """Whether the code is in the value set, nothing else (no display, no code system checks)."""
        code, system = coding.code or "", coding.system or ""
        if system and self._member_by_code(system, code):
            return ValidationResult(True, code=code, system=system, member=True)
        issues = [self._not_in_vs(system or None, code, where, coding.display)]
        return ValidationResult(False, _message(issues), code=code, system=system or None, issues=issues,
                                member=False)

    def _validate(self, coding: CodingInput, where: str = "") -> ValidationResult:
        if self._failure is not None:
            return ValidationResult(False, self._failure.text, code=coding.code, system=coding.system,
                                    issues=[self._failure])
        code = coding.code or ""
        system = coding.system
        if not system and self.options.infer_system:
            candidates = self._candidates(code)
            system = candidates[0] if len(candidates) == 1 else None
            if system is None:
                text = (f"The System URI could not be determined for the code '{code}' in the ValueSet "
                        f"'{self.canonical}'")
                if candidates:
                    text += f": value set expansion has multiple matches: [{', '.join(candidates)}]"
                issues = [self._not_in_vs(None, code, where),
                          Issue("error", "not-found", "cannot-infer", text, _path(where, "code"))]
                return ValidationResult(False, _message(issues), code=code, issues=issues)
        if not system:
            text = ("Coding has no system. A code with no system has no defined meaning, and it cannot be "
                    "validated. A system should be provided")
            issues = [self._not_in_vs(None, code, where),
                      Issue("warning", "invalid", "invalid-data", text, where or "code")]
            return ValidationResult(False, _message(issues), code=code, issues=issues)
        supplement = self.ctx.supplement(system)
        if supplement is not None:
            text = (f"CodeSystem {canonical_of(supplement)} is a supplement, so can't be used as a value in "
                    f"{where or 'Coding'}.system")
            issues = [Issue("error", "invalid", "invalid-data", text, _path(where, "system"))]
            return ValidationResult(False, text, code=code, system=system, issues=issues)
        if self._unknown is not None:
            return self._unknown_vs_system(coding, system, code, where)
        return self._validate_known(coding, system, code, where)

    def _unknown_vs_system(self, coding: CodingInput, system: str, code: str, where: str) -> ValidationResult:
        unknown = self._unknown.unknown if self._unknown else None
        text = unknown.describe(", so the code cannot be validated") if unknown else ""
        issues = [Issue("error", "not-found", "not-found", text, _path(where, "system"))]
        caused_by = unknown.canonical if unknown else None
        missing = None
        if unknown is not None and unknown.system.rstrip("/") != system.rstrip("/"):
            issues.insert(0, self._not_in_vs(system, code, where))
            if not self.ctx.code_system_versions(system):  # the coding's own system is unknown too
                text = f"A definition for CodeSystem {system} could not be found, so the code cannot be validated"
                issues[1] = Issue("error", "not-found", "not-found", text, _path(where, "system"))
                caused_by, missing = None, system
        return ValidationResult(False, _message(issues), code=code, system=system, issues=issues,
                                unknown_system=caused_by, missing_system=missing)

    def _provider(self, system: str, code: str, version: str | None) -> CodeSystemProvider:
        """The code system version to check against: the one named, else the value set's (a member first)."""
        if version is None:
            used = [p for (s, v), p in self.compose.providers.items() if s.rstrip("/") == system.rstrip("/")]
            for provider in used:
                concept = provider.concept(code)
                if concept is not None and self._is_member(provider, concept):
                    return provider
            if used:
                return used[-1]
        return self.compose.provider(system, version)

    def _unknown_system(self, system: str, code: str, exc: CodeSystemNotFound, where: str,
                        version: str | None = None) -> ValidationResult:
        """A coding whose code system (or its version) is not known, or is a value set's or supplement's URL."""
        versioned = exc.unknown.version is None and version is not None and ":" in system
        issues = [self._not_in_vs(f"{system}|{version}" if versioned else system, code, where)]
        result = ValidationResult(False, code=code, system=system, issues=issues)
        if exc.unknown.version is not None:
            text = exc.unknown.describe(", so the code cannot be validated")
            issues.append(Issue("error", "not-found", "not-found", text, _path(where, "system")))
            result.unknown_system = exc.unknown.canonical
        elif self._is_value_set(system):
            text = f"The Coding references a value set, not a code system ('{system}')"
            issues.append(Issue("error", "invalid", "invalid-data", text, _path(where, "system")))
        else:
            if ":" not in system:
                text = f"{where or 'Coding'}.system must be an absolute reference, not a local reference"
                issues.append(Issue("error", "invalid", "invalid-data", text, _path(where, "system")))
            quoted = f"'{system}'" if ":" not in system else system
            text = f"A definition for CodeSystem {quoted} could not be found, so the code cannot be validated"
            if versioned:
                text = (f"A definition for CodeSystem '{system}' version '{version}' could not be found, so the code "
                        f"cannot be validated. No versions of this code system are known")
            issues.append(Issue("error", "not-found", "not-found", text, _path(where, "system")))
            result.missing_system = system
        result.message = _message(issues)
        return result

    def _is_value_set(self, url: str) -> bool:
        try:
            self.ctx.value_set(url)
        except UnknownValueSet:
            return False
        return True

    def _versioned(self, system: str, code: str, version: str | None,
                   where: str) -> tuple[CodeSystemProvider | None, list[Issue], str | None]:
        """Reconcile a coding's version with the value set's include of its system.

        Returns the provider to validate against (the include's version when the coding's differs, as
        tx.fhir.org), the issues found (version mismatch, unknown version, ``check-system-version``) and the
        canonical of an unknown code system version.
        """
        includes = self.compose.includes.get(system.rstrip("/"), [])
        issues: list[Issue] = []
        unknown: str | None = None
        if not includes:
            return self._provider(system, code, version), issues, unknown
        include = includes[0]
        if include.provider is None and version is None and include.error is not None:
            text = include.error.describe(", so the code cannot be validated")
            issues.append(Issue("error", "not-found", "not-found", text, _path(where, "system")))
            return None, issues, include.error.canonical
        fits = include.provider is not None and (
            version is None or version == include.provider.version
            or (include.effective is not None and version_matches(version, include.effective)))
        if fits:
            target = self._provider(system, code, version)
        else:
            try:
                target = self.ctx.exact_code_system(system, version)
            except UnknownCodeSystem as exc:
                target = None
                text = exc.describe(", so the code cannot be validated")
                issues.append(Issue("error", "not-found", "not-found", text, _path(where, "system")))
                unknown = exc.canonical
            if include.provider is None and include.error is not None:
                text = include.error.describe(", so the code cannot be validated")
                issues.append(Issue("error", "not-found", "not-found", text, _path(where, "system")))
                unknown = include.error.canonical
            issues.append(self._mismatch(system, include, version or "", known=target is not None, where=where))
            target = include.provider or target
        if target is not None:
            try:
                self.ctx.rules.check(system, target.version)
            except VersionNotAllowed as exc:
                issues.append(Issue("error", "exception", "version-error", str(exc), _path(where, "version")))
        return target, issues, unknown

    def _mismatch(self, system: str, include: IncludeVersion, version: str, known: bool, where: str) -> Issue:
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
        return Issue(severity, "invalid", "vs-invalid", text, _path(where, "version"))

    def _member_by_code(self, system: str, code: str) -> bool:
        """Whether ``code`` is a member through an include of ``system`` (whatever version it resolved to)."""
        for include in self.compose.includes.get(system.rstrip("/"), []):
            concept = include.provider.concept(code) if include.provider is not None else None
            if concept is not None and self._is_member(include.provider, concept):
                return True
        return False

    def _expression_member(self, provider: CodeSystemProvider, expr: Expression) -> bool:
        """Whether the value set's own includes of SNOMED CT hold a post-coordinated expression."""
        includes = [i for i in (self.vs.get("compose") or {}).get("include", []) if i.get("system") == SNOMED]
        try:
            return expression_member(provider, includes, expr)
        except (SmtError, ValueError):
            return False

    def _is_member(self, provider: CodeSystemProvider, concept: ConceptRecord) -> bool:
        """Whether this version's concept is a member of the value set."""
        return self._membership is not None and self._membership(provider, concept)

    def _valid_displays(self, provider: CodeSystemProvider, concept: ConceptRecord,
                        designations: list) -> list[str]:
        """Displays accepted: all of them, or those in the requested languages when some are asked for."""
        every = [d for d in [concept.display, *(d.value for d in designations)] if d]
        wanted = {t.split("-")[0] for t in language_preferences(self.options.display_language) if t != "*"}
        if not wanted:
            return every
        own = (provider.meta.get("language") or "").lower().split("-")[0]
        chosen = [concept.display] if concept.display and (not own or own in wanted) else []
        chosen += [d.value for d in designations if d.language and d.language.lower().split("-")[0] in wanted]
        return chosen or every

    def _validate_known(self, coding: CodingInput, system: str, code: str, where: str) -> ValidationResult:
        options = self.options
        try:
            provider, version_issues, unknown = self._versioned(system, code, coding.version, where)
        except CodeSystemNotFound as exc:
            return self._unknown_system(system, code, exc, where, coding.version)
        if provider is None:
            return ValidationResult(False, _message(version_issues), code=code, system=system,
                                    issues=version_issues, unknown_system=unknown)
        concept = provider.concept(code)
        if concept is None and provider.meta.get("content") == "fragment":
            text = (f"Unknown Code '{code}' in the CodeSystem '{provider.url}' version '{provider.version or ''}' - "
                    f"note that the code system is labeled as a fragment, so the code may be valid in some other "
                    f"fragment")
            issues = [Issue("warning", "code-invalid", "invalid-code", text, _path(where, "code"), False)]
            return ValidationResult(True, code=code, system=system, version=provider.version, issues=issues)
        expr = parse_expression(code) if concept is None and provider.url == SNOMED else None
        if expr is not None:
            not_in_vs = None if options.code_system else self._not_in_vs(system, code, where, coding.display)
            return validate_expression(provider, expr, code, _path(where, "code"), not_in_vs,
                                       options.display_language, self._expression_member(provider, expr))
        if concept is None:
            normaliser = CODE_NORMALISERS.get(provider.url)
            hint = provider.concept(normaliser(code)) if normaliser is not None else None
            text = str(UnknownCode(code, provider.url, provider.version or "", hint.code if hint else None))
            issues = [self._not_in_vs(system, code, where),
                      Issue("error", "code-invalid", "invalid-code", text, _path(where, "code"))]
            return ValidationResult(False, _message(issues), code=code, system=system,
                                    version=provider.version, issues=issues)
        designations = provider.designations(concept)
        display, _ = preferred_display(provider, concept, designations, options.display_language)
        result = ValidationResult(True, display=display, code=concept.code, system=provider.url,
                                  version=provider.version, inactive=not concept.active, unknown_system=unknown)
        issues: list[Issue] = list(version_issues)
        if concept.code != code:
            result.code, result.normalized_code = code, concept.code
            used = f"{provider.url}|{provider.version}" if provider.version else provider.url
            text = (f"The code '{code}' differs from the correct code '{concept.code}' by case. Although the code "
                    f"system '{used}' is case insensitive, implementers are strongly encouraged to use the correct "
                    f"case anyway")
            issues.append(Issue("information", "business-rule", "code-rule", text, _path(where, "code")))
        member = self._is_member(provider, concept) or self._member_by_code(system, concept.code)
        if not concept.active:
            status = concept.status if concept.status == "inactive" else f"{concept.status} and inactive"
            if concept.status != "inactive":
                result.status = concept.status  # e.g. retired: a status more precise than "inactive"
            text = f"The concept '{concept.code}' has a status of {status} and its use should be reviewed"
            issues.append(Issue("warning", "business-rule", "code-comment", text, where or "code"))
            if options.active_only:
                text = f"The concept '{concept.code}' is valid but is not active"
                issues.append(Issue("error", "business-rule", "code-rule", text, _path(where, "code")))
                member = False
        status = next((str(p.value) for p in provider.properties(concept) if p.code == "status"), None)
        if concept.active and status in ("deprecated", "withdrawn"):
            result.status = status
            text = f"The concept '{concept.code}' is {status} and its use should be reviewed"
            issues.append(Issue("warning", "business-rule", "code-comment", text, where or "code"))
        if member and concept.abstract and not options.abstract_allowed:
            text = f"Code '{system}#{concept.code}' is abstract, and not allowed in this context"
            issues.append(Issue("error", "business-rule", "code-rule", text, _path(where, "code")))
            member = False
        if not member and not version_issues:
            issues.append(self._not_in_vs(system, code, where, coding.display))
        flagged = _status_in_value_set(self.compose.concept_extensions.get((provider.url, provider.version,
                                                                            concept.id), []))
        if member and flagged:
            text = (f"The presence of the concept '{concept.code}' in the system '{provider.url}' in the value set "
                    f"{self.canonical} is marked with a status of {flagged} and its use should be reviewed")
            issues.append(Issue("warning", "business-rule", "code-comment", text, _path(where, "code"), False))
        valid = self._valid_displays(provider, concept, [d for d in designations if d.active])
        retired = _inactive_display(coding.display, valid, _all_designations(provider, concept), concept.code, where,
                                    "inactive" if isinstance(provider, CodeSystemIndex) else "deprecated")
        if retired is not None and member:
            issues.append(retired)
        elif coding.display is not None and coding.display not in valid and member:
            issues.append(_display_issue(coding.display, valid, provider, concept, options, where))
        elif coding.display is not None and member:
            note = _default_language_note(coding.display, provider, concept, options, where)
            issues += [note] if note else []
        result.issues = issues
        result.member = member
        result.result = member and not any(i.severity == "error" for i in issues)
        result.message = _message(issues)
        return result

    def validate_codeable_concept(self, codings: list[CodingInput],
                                  where: str = "CodeableConcept") -> ValidationResult:
        """Valid when one of the codings is in the value set.

        As tx.fhir.org: a coding not in the value set gives an ``information`` issue (``this-code-not-in-vs``),
        plus one general error when no coding is a member (a member with a wrong display is not valid, but the
        value set holds it); version and display come from a coding whose
        concept was found, code and system too unless that concept is known not to be in the value set.
        """
        results = [self.validate(c, f"{where}.coding[{n}]") for n, c in enumerate(codings)]
        return combine_codings(results, self.canonical, where)


def combine_codings(results: list[ValidationResult], canonical: str,
                where: str = "CodeableConcept") -> ValidationResult:
    """The answer for a CodeableConcept from the results of its codings (see ``validate_codeable_concept``)."""
    if not results:
        issue = Issue("error", "required", "invalid-data", "The CodeableConcept has no coding", where)
        return ValidationResult(False, issue.text, issues=[issue])
    for result in results:
        result.issues = [_this_code(i) if i.tx_code == "not-in-vs" else i for i in result.issues]
    chosen = next((r for r in results if r.result), None)
    if chosen is not None:
        chosen.issues = [i for r in results for i in r.issues if i.severity != "error" or r is chosen]
        chosen.message = _message(chosen.issues)
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
    answer.message = _message(answer.issues)
    return answer


def code_system_validator(ctx: ResourceContext, system: str | None, version: str | None,
                          options: ValidateOptions | None = None) -> ValueSetValidator:
    """A validator for CodeSystem ``$validate-code``: the value set of every code of ``system``."""
    include: dict = {"system": system or ""}
    if version:
        include["version"] = version
    implicit = {"resourceType": "ValueSet", "compose": {"include": [include] if system else []}}
    return ValueSetValidator(implicit, ctx, replace(options or ValidateOptions(), code_system=True))


def validate_in_code_systems(ctx: ResourceContext, codings: list[CodingInput], options: ValidateOptions,
                             where: str = "CodeableConcept") -> ValidationResult:
    """CodeSystem ``$validate-code`` of a CodeableConcept: each coding against its own code system."""
    results = [code_system_validator(ctx, c.system, c.version, options).validate(c, f"{where}.coding[{n}]")
               for n, c in enumerate(codings)]
    return combine_codings(results, "", where)


def _this_code(issue: Issue) -> Issue:
    """A coding's not-in-vs error as the information it is within a CodeableConcept."""
    return Issue("information", issue.code, "this-code-not-in-vs", issue.text, issue.expression)


def validate_value_set_code(vs: dict, ctx: ResourceContext, coding: CodingInput,
                            options: ValidateOptions | None = None, where: str = "") -> ValidationResult:
    """``$validate-code`` of one code against a value set (raises only ``ValueSetError`` for bad composes)."""
    return ValueSetValidator(vs, ctx, options).validate(coding, where)


__all__ = ["ValidateOptions", "ValueSetError", "ValueSetValidator", "validate_value_set_code"]
