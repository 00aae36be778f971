"""``$validate-code`` (ValueSet and CodeSystem): is a code (Coding, CodeableConcept) in a value set, with a valid
display? A CodeSystem's ``$validate-code`` uses the implicit value set of the whole code system.

The entry point; the work is done by ``validate_membership`` (the value set's members, tested without
expanding), ``validate_coding`` (the code system check of one coding, with ``validate_system`` for the code
system version and ``validate_display`` for the display), ``validate_codeable`` (a CodeableConcept's answer)
and ``validate_issues`` (the ``message``). Results reuse the CodeSystem engine's ``ValidationResult`` and
``Issue`` (tx-issue-type codes: ``not-in-vs``, ``invalid-code``, ``invalid-display``, ``code-rule``,
``not-found``, ``inactive-code``/``code-comment``, ``vs-invalid``), with tx.fhir.org wording. An unknown code
system or value set is reported in the result, never raised.
"""

from __future__ import annotations

from dataclasses import replace

from smt.errors import ValueSetError
from smt.terminology.codesystem import CodingInput, Issue, ValidationResult
from smt.terminology.context import ResourceContext
from smt.terminology.standing import status_text
from smt.terminology.validate.codeable import combine_codings
from smt.terminology.validate.coding import validate_coding
from smt.terminology.validate.issues import issues_message
from smt.terminology.validate.membership import ValueSetMembership
from smt.terminology.validate.options import ValidateOptions

__all__ = ["ValidateOptions", "ValueSetError", "ValueSetValidator", "validate_value_set_code"]


class ValueSetValidator(ValueSetMembership):
    """Validates codes against one value set within one request context."""

    def __init__(self, vs: dict, ctx: ResourceContext, options: ValidateOptions | None = None) -> None:
        super().__init__(vs, ctx, options or ValidateOptions())

    def validate(self, coding: CodingInput, where: str = "") -> ValidationResult:
        """One coding (``where`` prefixes the issue locations: "", "Coding", "CodeableConcept.coding[0]")."""
        if self.options.membership_only and not self.options.code_system and self.failure is None:
            return self.membership_only(coding, where)
        result = validate_coding(self, coding, where)
        if result.version is not None or result.result:
            result.issues += [Issue("information", "business-rule", "status-check", status_text(*item), "")
                              for item in self.compose.standings]
        if self.options.code_system:
            result.issues = [i for i in result.issues if i.tx_code != "not-in-vs"]
            result.message = issues_message(result.issues)
        return result

    def validate_codeable_concept(self, codings: list[CodingInput],
                                  where: str = "CodeableConcept") -> ValidationResult:
        """Valid when one of the codings is in the value set (see ``combine_codings``)."""
        results = [self.validate(c, f"{where}.coding[{n}]") for n, c in enumerate(codings)]
        return combine_codings(results, self.canonical, where)


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


def validate_value_set_code(vs: dict, ctx: ResourceContext, coding: CodingInput,
                            options: ValidateOptions | None = None, where: str = "") -> ValidationResult:
    """``$validate-code`` of one code against a value set (raises only ``ValueSetError`` for bad composes)."""
    return ValueSetValidator(vs, ctx, options).validate(coding, where)
