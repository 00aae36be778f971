"""Status warnings, fragments, supplements and case-insensitive codes in $expand / $validate-code (no HTTP)."""

from __future__ import annotations

import copy

import pytest

from smt.errors import SupplementNotFound
from smt.terminology.codesystem import CodingInput
from smt.terminology.context import ResourceContext
from smt.terminology.expand.expand import expand
from smt.terminology.supplements import value_set_supplements
from smt.terminology.validate.valueset import validate_value_set_code
from tests.terminology.test_expand import CS_URL, body_code_system, include, value_set

STANDARDS_STATUS = "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status"
SUPPLEMENT_URL = "http://example.org/cs/body-en"


def _system(**changes: object) -> dict:
    resource = copy.deepcopy(body_code_system())
    resource.update(changes)
    return resource


def test_draft_code_system_is_warned_in_expand_and_validate() -> None:
    ctx = ResourceContext(None, [_system(status="draft")])
    vs = value_set(include(concepts=["coeur"]))
    assert expand(vs, ctx).standings == [("CodeSystem", f"{CS_URL}|1.0.0", "draft")]
    result = validate_value_set_code(vs, ResourceContext(None, [_system(status="draft")]),
                                     CodingInput(CS_URL, "coeur"))
    assert result.result is True and result.message is None
    assert [(i.severity, i.tx_code, i.text) for i in result.issues] == [
        ("information", "status-check", f"Reference to draft CodeSystem {CS_URL}|1.0.0")]


def test_withdrawn_value_set_is_warned_but_a_draft_one_is_not() -> None:
    ctx = ResourceContext(None, [body_code_system()])
    withdrawn = value_set(include(concepts=["coeur"]))
    withdrawn["extension"] = [{"url": STANDARDS_STATUS, "valueCode": "withdrawn"}]
    assert expand(withdrawn, ctx).standings == [("ValueSet", "http://example.org/vs/test|1", "withdrawn")]
    draft = value_set(include(concepts=["coeur"]))
    draft["status"] = "draft"
    assert expand(draft, ResourceContext(None, [body_code_system()])).standings == []


def test_concept_deprecated_by_the_value_set() -> None:
    vs = value_set(include(concepts=["coeur"]))
    flag = {"url": "http://hl7.org/fhir/StructureDefinition/valueset-deprecated", "valueBoolean": True}
    vs["compose"]["include"][0]["concept"][0]["extension"] = [flag]
    entry = expand(vs, ResourceContext(None, [body_code_system()])).contains[0]
    assert entry.extensions == [flag]
    result = validate_value_set_code(vs, ResourceContext(None, [body_code_system()]), CodingInput(CS_URL, "coeur"))
    assert result.result is True and result.message is None
    assert "is marked with a status of deprecated" in result.issues[0].text


def test_deprecated_concept_is_active_with_a_warning() -> None:
    extra = [{"code": "vieux", "display": "Vieux", "extension": [{"url": STANDARDS_STATUS, "valueCode": "deprecated"}]}]
    ctx = ResourceContext(None, [body_code_system(extra=extra)])
    result = validate_value_set_code(value_set(include()), ctx, CodingInput(CS_URL, "vieux"))
    assert result.result is True and result.inactive is False and result.status == "deprecated"
    assert result.message == "The concept 'vieux' is deprecated and its use should be reviewed"


def test_unknown_code_in_a_fragment_is_only_a_warning() -> None:
    ctx = ResourceContext(None, [_system(content="fragment")])
    vs = value_set(include())
    result = validate_value_set_code(vs, ctx, CodingInput(CS_URL, "rate"))
    assert result.result is True and result.message is None
    assert [(i.severity, i.tx_code) for i in result.issues] == [("warning", "invalid-code")]
    assert expand(vs, ResourceContext(None, [_system(content="fragment")])).used_fragments == [f"{CS_URL}|1.0.0"]


def test_case_insensitive_code_is_normalised() -> None:
    ctx = ResourceContext(None, [_system(caseSensitive=False)])
    result = validate_value_set_code(value_set(include()), ctx, CodingInput(CS_URL, "COEUR"))
    assert result.result is True
    assert (result.code, result.normalized_code) == ("COEUR", "coeur")
    assert [(i.severity, i.tx_code) for i in result.issues] == [("information", "code-rule")]


def _supplement() -> dict:
    return {"resourceType": "CodeSystem", "url": SUPPLEMENT_URL, "version": "2", "content": "supplement",
            "supplements": CS_URL, "concept": [{"code": "coeur", "designation": [{"language": "nl", "value": "Hart"}]}]}


def test_supplement_applies_only_when_asked_for() -> None:
    vs = value_set(include(concepts=["coeur"]))
    plain = validate_value_set_code(vs, ResourceContext(None, [body_code_system(), _supplement()]),
                                    CodingInput(CS_URL, "coeur", display="Hart"))
    assert plain.result is False
    ctx = ResourceContext(None, [body_code_system(), _supplement()])
    vs["extension"] = [{"url": "http://hl7.org/fhir/StructureDefinition/valueset-supplement",
                        "valueCanonical": SUPPLEMENT_URL}]
    ctx.use_supplements(value_set_supplements(vs))
    assert ctx.used_supplements == [f"{SUPPLEMENT_URL}|2"]
    assert validate_value_set_code(vs, ctx, CodingInput(CS_URL, "coeur", display="Hart")).result is True


def test_unknown_supplement_and_supplement_as_system() -> None:
    ctx = ResourceContext(None, [body_code_system(), _supplement()])
    with pytest.raises(SupplementNotFound, match="Required supplement not found"):
        ctx.use_supplements(["http://example.org/cs/nope"])
    result = validate_value_set_code(value_set(include()), ctx, CodingInput(SUPPLEMENT_URL, "coeur"))
    assert result.result is False
    assert result.issues[0].tx_code == "invalid-data" and "is a supplement" in result.message
