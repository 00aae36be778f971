"""Value set membership for ``$validate-code``, without expanding.

The value set's compose is resolved once per validator (``Compose.membership``, as ``$expand`` resolves it); then a
concept of one code system version, a code of any included version or an expression (a SNOMED CT post-coordinated
expression) is tested alone. Also here: the ``not-in-vs`` issue, the status a value set gives one of its concepts
and the ``valueset-membership-only`` answer.
"""

from __future__ import annotations

from smt.codesystems.provider import CodeSystemProvider
from smt.errors import CodeSystemNotFound, UnknownValueSet
from smt.formats.fhir_json import STANDARDS_STATUS, WARNED_STANDINGS, standing
from smt.index.reader import ConceptRecord
from smt.terminology.codesystem import CodingInput, Issue, ValidationResult
from smt.terminology.context import ResourceContext
from smt.terminology.expand.compose import Compose, Membership, canonical_of
from smt.terminology.validate.issues import issue_path, issues_message
from smt.terminology.validate.options import ValidateOptions


class ValueSetMembership:
    """One value set's members within one request context: what a ``ValueSetValidator`` tests codes against.

    ``failure`` is the issue of a value set that cannot be resolved (an unknown nested value set), ``unknown``
    the error of an included code system that is not known; either leaves ``membership`` None.
    """

    def __init__(self, vs: dict, ctx: ResourceContext, options: ValidateOptions) -> None:
        self.vs = vs
        self.ctx = ctx
        self.options = options
        self.canonical = canonical_of(vs) or "(unidentified)"  # a value set without url, as tx.fhir.org names it
        self.compose = Compose(ctx, lenient=True, versions_match=options.versions_match)
        self.compose.note_standing("ValueSet", canonical_of(vs), standing(vs, lifecycle=False))
        self.membership: Membership | None = None
        self.failure: Issue | None = None
        self.unknown: CodeSystemNotFound | None = None
        try:
            self.membership = self.compose.membership(vs)
        except CodeSystemNotFound as exc:
            self.unknown = exc
        except UnknownValueSet as exc:
            self.failure = Issue("error", "not-found", "not-found", str(exc), "",
                                 message_id="Unable_to_resolve_value_Set_")

    def is_member(self, provider: CodeSystemProvider, concept: ConceptRecord) -> bool:
        """Whether this version's concept is a member of the value set."""
        return self.membership is not None and self.membership(provider, concept)

    def member_by_code(self, system: str, code: str) -> bool:
        """Whether ``code`` is a member through an include of ``system`` (whatever version it resolved to)."""
        for include in self.compose.includes.get(system.rstrip("/"), []):
            provider = include.provider
            concept = provider.concept(code) if provider is not None else None
            if provider is not None and concept is not None and self.is_member(provider, concept):
                return True
        return False

    def expression_member(self, provider: CodeSystemProvider, code: str) -> bool:
        """Whether the value set's own includes of the provider's system hold the expression ``code``."""
        includes = [i for i in (self.vs.get("compose") or {}).get("include", []) if i.get("system") == provider.url]
        return provider.expression_member(includes, code)

    def candidates(self, code: str) -> list[str]:
        """The value set's code systems that have ``code`` (sorted): inferring its system needs exactly one."""
        return sorted({s for (s, v), p in self.compose.providers.items() if p.concept(code) is not None})

    def status_of(self, provider: CodeSystemProvider, concept: ConceptRecord) -> str | None:
        """The status the value set gives one of its concepts (``valueset-deprecated``, standards status)."""
        for ext in self.compose.concept_extensions.get((provider.url, provider.version, concept.id), []):
            if ext.get("url", "").endswith("/valueset-deprecated") and str(
                    ext.get("valueBoolean", ext.get("valueCode"))).lower() == "true":
                return "deprecated"
            if ext.get("url") == STANDARDS_STATUS and ext.get("valueCode") in WARNED_STANDINGS:
                return str(ext["valueCode"])
        return None

    def not_in_vs(self, coding: CodingInput, where: str, system: str | None = None) -> Issue:
        """The error of a coding that is not in the value set, naming it as given: ``system|version#code
        ('display')`` (``system``: the one inferred when the coding has none). FHIRsmith
        ``ValueSetChecker.checkCodeableConcept`` (its ``codelist``)."""
        shown = (system or coding.system or "") + (f"|{coding.version}" if coding.version else "")
        shown += f"#{coding.code or ''}" + (f" ('{coding.display}')" if coding.display else "")
        text = f"The provided code '{shown}' was not found in the value set '{self.canonical}'"
        return Issue("error", "code-invalid", "not-in-vs", text, issue_path(where, "code"),
                     message_id="None_of_the_provided_codes_are_in_the_value_set_one")

    def membership_only(self, coding: CodingInput, where: str) -> ValidationResult:
        """Whether the code is in the value set, nothing else (no display, no code system checks)."""
        code, system = coding.code or "", coding.system or ""
        if system and self.member_by_code(system, code):
            return ValidationResult(True, code=code, system=system, member=True)
        issues = [self.not_in_vs(coding, where)]
        return ValidationResult(False, issues_message(issues), code=code, system=system or None, issues=issues,
                                member=False)
