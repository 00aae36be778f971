"""ValueSet ``$validate-code``: is a code (Coding, CodeableConcept) in a value set, with a valid display?

Membership uses the same compose evaluation as ``$expand`` (``Compose.members``). Results reuse the
CodeSystem engine's ``ValidationResult`` and ``Issue`` (tx-issue-type codes: ``not-in-vs``, ``invalid-code``,
``invalid-display``, ``code-rule``, ``not-found``, ``inactive-code``/``code-comment``, ``vs-invalid``), with
tx.fhir.org wording. An unknown code system or value set is reported in the result, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass

from smt.engines.codesystem import CodingInput, Issue, ValidationResult, language_preferences
from smt.engines.expand import CodeSystemNotFound, Compose, canonical_of
from smt.engines.provider import CodeSystemProvider, ResourceContext, UnknownValueSet, preferred_display
from smt.engines.vs_errors import ValueSetError
from smt.index.reader import ConceptRecord

_MESSAGE_ORDER = {"not-found": 0, "code-comment": 1, "code-rule": 2, "not-in-vs": 3, "invalid-code": 4,
                  "invalid-display": 5}


@dataclass(slots=True)
class ValidateOptions:
    display_language: str | None = None
    active_only: bool = False
    abstract_allowed: bool = True
    lenient_display: bool = False
    infer_system: bool = False


def _path(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _message(issues: list[Issue]) -> str | None:
    ordered = sorted(issues, key=lambda i: _MESSAGE_ORDER.get(i.tx_code, 9))
    return "; ".join(dict.fromkeys(i.text for i in ordered)) or None


def _display_issue(given: str, valid: list[str], provider: CodeSystemProvider, concept: ConceptRecord,
                   options: ValidateOptions, where: str) -> Issue:
    squeeze = " ".join(given.split())
    wrong = "Wrong whitespace in Display Name" if squeeze in valid else "Wrong Display Name"
    lang = provider.meta.get("language") or "--"
    choices = list(dict.fromkeys(valid))
    shown = " or ".join(f"'{v}' ({lang})" for v in choices[:1]) if len(choices) == 1 else \
        " or ".join(f"'{v}'" for v in choices)
    valid_text = f"is {shown}" if len(choices) == 1 else f"is one of {len(choices)} choices: {shown}"
    requested = ", ".join(language_preferences(options.display_language)) or "--"
    text = (f"{wrong} '{given}' for {provider.url}#{concept.code}. Valid display {valid_text} "
            f"(for the language(s) '{requested}')")
    severity = "warning" if options.lenient_display else "error"
    return Issue(severity, "invalid", "invalid-display", text, _path(where, "display"))


class ValueSetValidator:
    """Validates codes against one value set within one request context."""

    def __init__(self, vs: dict, ctx: ResourceContext, options: ValidateOptions | None = None) -> None:
        self.vs = vs
        self.ctx = ctx
        self.options = options or ValidateOptions()
        self.canonical = canonical_of(vs) or f"#{vs.get('id', '')}"
        self.compose = Compose(ctx)
        self._members: set | None = None
        self._failure: Issue | None = None
        self._unknown: CodeSystemNotFound | None = None
        try:
            self._members = set(self.compose.members(vs))
        except CodeSystemNotFound as exc:
            self._unknown = exc
        except UnknownValueSet as exc:
            self._failure = Issue("error", "not-found", "not-found", str(exc), "")

    def _not_in_vs(self, system: str | None, code: str, where: str) -> Issue:
        shown = f"{system}#{code}" if system else f"#{code}"
        text = f"The provided code '{shown}' was not found in the value set '{self.canonical}'"
        return Issue("error", "code-invalid", "not-in-vs", text, _path(where, "code"))

    def _infer(self, code: str) -> str | None:
        """The system of ``code`` when exactly one of the value set's code systems has it."""
        systems = {s for (s, v), p in self.compose.providers.items() if p.concept(code) is not None}
        return systems.pop() if len(systems) == 1 else None

    def validate(self, coding: CodingInput, where: str = "") -> ValidationResult:
        """One coding (``where`` prefixes the issue locations: "", "Coding", "CodeableConcept.coding[0]")."""
        if self._failure is not None:
            return ValidationResult(False, self._failure.text, code=coding.code, system=coding.system,
                                    issues=[self._failure])
        code = coding.code or ""
        system = coding.system
        if not system and self.options.infer_system:
            system = self._infer(code)
            if system is None:
                text = (f"The System URI could not be determined for the code '{code}' in the ValueSet "
                        f"'{self.canonical}'")
                issues = [self._not_in_vs(None, code, where),
                          Issue("error", "not-found", "cannot-infer", text, _path(where, "code"))]
                return ValidationResult(False, _message(issues), code=code, issues=issues)
        if not system:
            text = "Coding has no system. A code with no system has no defined meaning, and it cannot be validated"
            issue = Issue("error", "invalid", "invalid-data", text, _path(where, "system"))
            return ValidationResult(False, text, code=code, issues=[issue])
        if self._unknown is not None:
            return self._unknown_vs_system(coding, system, code, where)
        return self._validate_known(coding, system, code, where)

    def _unknown_vs_system(self, coding: CodingInput, system: str, code: str, where: str) -> ValidationResult:
        unknown = self._unknown.unknown if self._unknown else None
        text = unknown.describe(", so the code cannot be validated") if unknown else ""
        issues = [Issue("error", "not-found", "not-found", text, _path(where, "system"))]
        if unknown is not None and unknown.system.rstrip("/") != system.rstrip("/"):
            issues.insert(0, self._not_in_vs(system, code, where))
            text = (f"A definition for CodeSystem {system} could not be found, so the code cannot be validated")
            issues[1] = Issue("error", "not-found", "not-found", text, _path(where, "system"))
        result = ValidationResult(False, _message(issues), code=code, system=system, issues=issues,
                                  unknown_system=unknown.canonical if unknown else None)
        return result

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

    def _is_member(self, provider: CodeSystemProvider, concept: ConceptRecord) -> bool:
        """Whether this version's concept is a member of the value set."""
        return self._members is not None and (provider.url, provider.version, concept.id) in self._members

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
            provider = self._provider(system, code, coding.version)
        except CodeSystemNotFound as exc:
            text = exc.unknown.describe(", so the code cannot be validated")
            issues = [self._not_in_vs(system, code, where),
                      Issue("error", "not-found", "not-found", text, _path(where, "system"))]
            return ValidationResult(False, _message(issues), code=code, system=system, issues=issues,
                                    unknown_system=exc.unknown.canonical)
        concept = provider.concept(code)
        if concept is None:
            text = f"Unknown code '{code}' in the CodeSystem '{provider.url}' version '{provider.version}'"
            issues = [self._not_in_vs(system, code, where),
                      Issue("error", "code-invalid", "invalid-code", text, _path(where, "code"))]
            return ValidationResult(False, _message(issues), code=code, system=system,
                                    version=provider.version, issues=issues)
        designations = provider.designations(concept)
        display, _ = preferred_display(provider, concept, designations, options.display_language)
        result = ValidationResult(True, display=display, code=concept.code, system=provider.url,
                                  version=provider.version, inactive=not concept.active)
        issues: list[Issue] = []
        member = self._is_member(provider, concept)
        if not concept.active:
            text = f"The concept '{concept.code}' has a status of {concept.status} and its use should be reviewed"
            issues.append(Issue("warning", "business-rule", "code-comment", text, where or "code"))
            if options.active_only:
                text = f"The concept '{concept.code}' is valid but is not active"
                issues.append(Issue("error", "business-rule", "code-rule", text, _path(where, "code")))
                member = False
        if member and concept.abstract and not options.abstract_allowed:
            text = f"Code '{system}#{concept.code}' is abstract, and not allowed in this context"
            issues.append(Issue("error", "business-rule", "code-rule", text, _path(where, "code")))
            member = False
        if not member:
            issues.append(self._not_in_vs(system, code, where))
        valid = self._valid_displays(provider, concept, designations)
        if coding.display is not None and coding.display not in valid and member:
            issues.append(_display_issue(coding.display, valid, provider, concept, options, where))
        result.issues = issues
        result.result = member and not any(i.severity == "error" for i in issues)
        result.message = _message(issues)
        return result

    def validate_codeable_concept(self, codings: list[CodingInput],
                                  where: str = "CodeableConcept") -> ValidationResult:
        """Valid when one of the codings is in the value set."""
        results = [self.validate(c, f"{where}.coding[{n}]") for n, c in enumerate(codings)]
        if not results:
            issue = Issue("error", "required", "invalid-data", "The CodeableConcept has no coding", where)
            return ValidationResult(False, issue.text, issues=[issue])
        chosen = next((r for r in results if r.result), None)
        if chosen is not None:
            chosen.issues = [i for r in results for i in r.issues if i.severity != "error" or r is chosen]
            chosen.message = _message(chosen.issues)
            return chosen
        first = results[0]
        general = Issue("error", "code-invalid", "not-in-vs",
                        f"No valid coding was found for the value set '{self.canonical}'", "")
        detail = [i for r in results for i in r.issues]
        first.issues = [general, *detail]
        first.message = "; ".join(dict.fromkeys([general.text, *(i.text for i in detail
                                                                  if i.tx_code != "not-in-vs")]))
        return first


def validate_value_set_code(vs: dict, ctx: ResourceContext, coding: CodingInput,
                            options: ValidateOptions | None = None, where: str = "") -> ValidationResult:
    """``$validate-code`` of one code against a value set (raises only ``ValueSetError`` for bad composes)."""
    return ValueSetValidator(vs, ctx, options).validate(coding, where)


__all__ = ["ValidateOptions", "ValueSetError", "ValueSetValidator", "validate_value_set_code"]
