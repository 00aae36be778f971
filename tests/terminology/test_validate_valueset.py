"""ValueSet $validate-code engine on hand-written resources (no HTTP)."""

from __future__ import annotations

import pytest

from smt.terminology.codesystem import CodingInput
from smt.terminology.context import ResourceContext
from smt.terminology.validate.valueset import ValidateOptions, ValueSetValidator, validate_value_set_code
from tests.terminology.test_expand import CS_URL, body_code_system, include, value_set

ORGANS = value_set(include(("concept", "is-a", "organe")), url="http://example.org/vs/organs")


@pytest.fixture
def ctx() -> ResourceContext:
    return ResourceContext(None, [body_code_system()])


def tx_codes(result) -> list[str]:
    return [i.tx_code for i in result.issues]


def test_code_in_value_set(ctx: ResourceContext) -> None:
    result = validate_value_set_code(ORGANS, ctx, CodingInput(CS_URL, "coeur"))
    assert result.result is True
    assert (result.code, result.display, result.system, result.version) == ("coeur", "Cœur", CS_URL, "1.0.0")
    assert result.issues == [] and result.message is None


def test_known_code_not_in_value_set(ctx: ResourceContext) -> None:
    result = validate_value_set_code(ORGANS, ctx, CodingInput(CS_URL, "root"))
    assert result.result is False
    assert tx_codes(result) == ["not-in-vs"]
    assert result.message == (f"The provided code '{CS_URL}#root' was not found in the value set "
                              "'http://example.org/vs/organs|1'")
    assert result.issues[0].expression == "code"


def test_unknown_code(ctx: ResourceContext) -> None:
    result = validate_value_set_code(ORGANS, ctx, CodingInput(CS_URL, "rate"), where="Coding")
    assert result.result is False
    assert tx_codes(result) == ["not-in-vs", "invalid-code"]
    assert result.issues[1].text == f"Unknown code 'rate' in the CodeSystem '{CS_URL}' version '1.0.0'"
    assert result.issues[1].expression == "Coding.code"


def test_wrong_display_strict_and_lenient(ctx: ResourceContext) -> None:
    coding = CodingInput(CS_URL, "coeur", display="Coeur")
    strict = validate_value_set_code(ORGANS, ctx, coding)
    assert strict.result is False and tx_codes(strict) == ["invalid-display"]
    assert "Wrong Display Name 'Coeur'" in strict.message
    lenient = validate_value_set_code(ORGANS, ctx, coding, ValidateOptions(lenient_display=True))
    assert lenient.result is True and lenient.issues[0].severity == "warning"
    designation = validate_value_set_code(ORGANS, ctx, CodingInput(CS_URL, "coeur", display="Heart"))
    assert designation.result is True


def test_display_language_chooses_the_returned_display(ctx: ResourceContext) -> None:
    result = validate_value_set_code(ORGANS, ctx, CodingInput(CS_URL, "coeur"),
                                     ValidateOptions(display_language="en"))
    assert result.display == "Heart"


def test_inactive_code_warns_and_fails_with_active_only(ctx: ResourceContext) -> None:
    everything = value_set(include())
    warned = validate_value_set_code(everything, ctx, CodingInput(CS_URL, "ancien"))
    assert warned.result is True and warned.inactive is True
    assert tx_codes(warned) == ["code-comment"]
    refused = validate_value_set_code(everything, ctx, CodingInput(CS_URL, "ancien"),
                                      ValidateOptions(active_only=True))
    assert refused.result is False
    assert set(tx_codes(refused)) == {"code-comment", "code-rule", "not-in-vs"}


def test_abstract_code_refused_when_abstract_is_false(ctx: ResourceContext) -> None:
    everything = value_set(include())
    assert validate_value_set_code(everything, ctx, CodingInput(CS_URL, "groupe")).result is True
    refused = validate_value_set_code(everything, ctx, CodingInput(CS_URL, "groupe"),
                                      ValidateOptions(abstract_allowed=False))
    assert refused.result is False and "code-rule" in tx_codes(refused)


def test_value_set_over_an_unloaded_code_system(ctx: ResourceContext) -> None:
    vs = value_set({"system": "http://example.org/unloaded"})
    result = validate_value_set_code(vs, ctx, CodingInput("http://example.org/unloaded", "x"))
    assert result.result is False
    assert result.message == ("A definition for CodeSystem 'http://example.org/unloaded' could not be found, "
                              "so the code cannot be validated")
    assert tx_codes(result) == ["not-found"]
    assert result.unknown_system == "http://example.org/unloaded"


def test_request_code_system_unknown(ctx: ResourceContext) -> None:
    result = validate_value_set_code(ORGANS, ctx, CodingInput("http://example.org/other", "coeur"))
    assert result.result is False
    assert set(tx_codes(result)) == {"not-found", "not-in-vs"}
    assert result.message.startswith("A definition for CodeSystem 'http://example.org/other' could not be found")
    assert result.missing_system == "http://example.org/other"


def test_unknown_imported_value_set(ctx: ResourceContext) -> None:
    vs = value_set({"valueSet": ["http://example.org/vs/none"]})
    result = validate_value_set_code(vs, ctx, CodingInput(CS_URL, "coeur"))
    assert result.result is False
    assert result.message == "A definition for the value Set 'http://example.org/vs/none' could not be found"


def test_infer_system(ctx: ResourceContext) -> None:
    validator = ValueSetValidator(ORGANS, ctx, ValidateOptions(infer_system=True))
    assert validator.validate(CodingInput(None, "poumon")).result is True
    missing = validator.validate(CodingInput(None, "nothing"))
    assert missing.result is False and "cannot-infer" in tx_codes(missing)


def test_codeable_concept_valid_when_one_coding_is(ctx: ResourceContext) -> None:
    validator = ValueSetValidator(ORGANS, ctx)
    good = validator.validate_codeable_concept([CodingInput(CS_URL, "root"), CodingInput(CS_URL, "poumon")])
    assert good.result is True and good.code == "poumon"
    assert [(i.severity, i.tx_code) for i in good.issues] == [("information", "this-code-not-in-vs")]
    bad = validator.validate_codeable_concept([CodingInput(CS_URL, "nope")])
    assert bad.result is False
    assert bad.message.startswith("No valid coding was found for the value set 'http://example.org/vs/organs|1'")
    assert bad.issues[1].expression == "CodeableConcept.coding[0].code"


def test_display_must_be_in_the_requested_language(ctx: ResourceContext) -> None:
    english = ValidateOptions(display_language="en")
    assert validate_value_set_code(ORGANS, ctx, CodingInput(CS_URL, "coeur", display="Heart"), english).result
    french = validate_value_set_code(ORGANS, ctx, CodingInput(CS_URL, "coeur", display="Heart"),
                                     ValidateOptions(display_language="fr"))
    assert french.result is False and tx_codes(french) == ["invalid-display"]


# -- versions (tx.fhir.org rules) -----------------------------------------------------------------------------


def test_versionless_code_system_has_no_version() -> None:
    resource = {**body_code_system(), "version": None}
    ctx = ResourceContext(None, [{k: v for k, v in resource.items() if v is not None}])
    vs = value_set({"system": CS_URL})
    result = validate_value_set_code(vs, ctx, CodingInput(CS_URL, "coeur"))
    assert result.result is True and result.version is None


def test_coding_version_differs_from_the_included_one() -> None:
    ctx = ResourceContext(None, [body_code_system(), {**body_code_system(), "version": "2.0.0"}])
    vs = value_set({"system": CS_URL, "version": "2.0.0"})
    result = validate_value_set_code(vs, ctx, CodingInput(CS_URL, "coeur", "1.0.0"), where="Coding")
    assert result.result is False and result.version == "2.0.0"
    assert tx_codes(result) == ["vs-invalid"] and result.issues[0].expression == "Coding.version"
    unknown = validate_value_set_code(vs, ctx, CodingInput(CS_URL, "coeur", "9"), where="Coding")
    assert sorted(tx_codes(unknown)) == ["not-found", "vs-invalid"]
    assert unknown.unknown_system == f"{CS_URL}|9"


def test_codeable_concept_not_in_value_set_is_information_per_coding(ctx: ResourceContext) -> None:
    result = ValueSetValidator(ORGANS, ctx).validate_codeable_concept([CodingInput(CS_URL, "root")])
    # known but not a member: a CodeableConcept answers code and display of a member coding only (FHIRsmith)
    assert result.result is False and result.code is None and result.display is None
    assert [(i.severity, i.tx_code) for i in result.issues] == [("error", "not-in-vs"),
                                                                 ("information", "this-code-not-in-vs")]
