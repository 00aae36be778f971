"""The shape of every error answer, pinned: each error class through ``$expand``, ``$validate-code`` and ``$lookup``
(where it can occur) answers this HTTP status, issue type, tx-issue-type code and message id. A change to the
answer table (``fhir_api/answers.py``) or to an error class (``smt/errors.py``) must change this file too."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import smt.errors
from fhir_api.app import create_app
from smt.errors import SmtError
from tests.terminology.test_expand import CS_URL, body_code_system, include, value_set

TX_ISSUE_TYPE = "http://hl7.org/fhir/tools/CodeSystem/tx-issue-type"
MESSAGE_ID = "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id"
VS_URL = "http://example.org/vs/test"
SUPPLEMENT = "http://example.org/cs/body-unknown-supplement"


def tx(resource: dict) -> dict:
    return {"name": "tx-resource", "resource": resource}


def inline(resource: dict) -> dict:
    return {"name": "valueSet", "resource": resource}


def p(name: str, value: object, kind: str = "valueString") -> dict:
    return {"name": name, kind: value}


CODE_SYSTEM = tx(body_code_system())
ORGANS = value_set(include(("concept", "is-a", "organe")))
NO_VALUE_FILTER = value_set({"system": CS_URL, "filter": [{"property": "concept", "op": "is-a"}]})
CIRCULAR = value_set({"valueSet": [VS_URL]})
UNKNOWN_SYSTEM = value_set({"system": "http://example.org/cs/none", "concept": [{"code": "x"}]})
UNKNOWN_IMPORT = value_set({"valueSet": ["http://example.org/vs/none|2"]})
PINNED = value_set(include(concepts=["coeur"], version="1.0.0"))
CHECK_2 = p("check-system-version", f"{CS_URL}|2.0", "valueCanonical")


@dataclass(frozen=True)
class Case:
    error: str
    """The ``smt.errors`` class the call raises."""
    operation: str
    params: tuple[dict, ...]
    status: int
    issue: str
    tx_code: str | None = None
    message_id: str | None = None
    location: str | None = None


EXPAND = "ValueSet/$expand"
VALIDATE = "ValueSet/$validate-code"
LOOKUP = "CodeSystem/$lookup"
CS_VALIDATE = "CodeSystem/$validate-code"

CASES = [
    # $expand
    Case("UnknownValueSet", EXPAND, (p("url", "http://example.org/vs/none", "valueUri"),),
         404, "not-found", "not-found", "Unable_to_resolve_value_Set_"),
    Case("UnknownValueSet", EXPAND, (CODE_SYSTEM, inline(UNKNOWN_IMPORT)),
         404, "not-found", "not-found", "VS_EXP_IMPORT_UNK_PINNED"),
    Case("CodeSystemNotFound", EXPAND, (inline(UNKNOWN_SYSTEM),),
         404, "not-found", "not-found", "UNKNOWN_CODESYSTEM_EXP"),
    Case("SupplementNotFound", EXPAND, (CODE_SYSTEM, inline(ORGANS), p("useSupplement", SUPPLEMENT, "valueCanonical")),
         404, "not-found", "not-found", "VALUESET_SUPPLEMENT_MISSING"),
    Case("VersionNotAllowed", EXPAND, (CODE_SYSTEM, inline(PINNED), CHECK_2),
         400, "exception", "version-error", "VALUESET_VERSION_CHECK"),
    Case("InvalidFilter", EXPAND, (CODE_SYSTEM, inline(NO_VALUE_FILTER)),
         400, "invalid", "vs-invalid", None, "ValueSet.compose.include[0].filter[0]"),
    Case("CircularReference", EXPAND, (CODE_SYSTEM, tx(CIRCULAR), p("url", VS_URL, "valueUri")),
         400, "processing", "vs-invalid", "VALUESET_CIRCULAR_REFERENCE"),
    Case("TooCostly", EXPAND, (CODE_SYSTEM, inline(ORGANS), p("limit", 2, "valueInteger")),
         422, "too-costly", None, "VALUESET_TOO_COSTLY"),
    Case("NotSupported", EXPAND, (CODE_SYSTEM, inline(ORGANS), p("context", "Patient.gender")),
         400, "not-supported", None, None, "context"),
    Case("InvalidDisplayLanguage", EXPAND, (CODE_SYSTEM, inline(ORGANS), p("displayLanguage", "fr;;q", "valueCode")),
         400, "processing", "invalid-display", "INVALID_DISPLAY_NAME"),
    Case("InvalidParameter", EXPAND, (CODE_SYSTEM, inline(ORGANS), p("count", -1, "valueInteger")),
         400, "invalid", None, None, "count"),
    Case("MissingParameter", EXPAND, (CODE_SYSTEM,), 400, "required", None, None, "url"),
    Case("NotFound", "ValueSet/nope/$expand", (), 404, "not-found"),
    # ValueSet $validate-code
    Case("UnknownValueSet", VALIDATE, (p("url", "http://example.org/vs/none", "valueUri"), p("code", "coeur")),
         404, "not-found", "not-found", "Unable_to_resolve_value_Set_"),
    Case("SupplementNotFound", VALIDATE, (CODE_SYSTEM, inline(ORGANS), p("system", CS_URL, "valueUri"),
                                          p("code", "coeur"), p("useSupplement", SUPPLEMENT, "valueCanonical")),
         404, "not-found", "not-found", "VALUESET_SUPPLEMENT_MISSING"),
    Case("InvalidFilter", VALIDATE, (CODE_SYSTEM, inline(NO_VALUE_FILTER), p("system", CS_URL, "valueUri"),
                                     p("code", "coeur")),
         400, "invalid", "vs-invalid", None, "ValueSet.compose.include[0].filter[0]"),
    Case("CircularReference", VALIDATE, (CODE_SYSTEM, tx(CIRCULAR), p("url", VS_URL, "valueUri"),
                                         p("system", CS_URL, "valueUri"), p("code", "coeur")),
         400, "processing", "vs-invalid", "VALUESET_CIRCULAR_REFERENCE"),
    Case("InvalidDisplayLanguage", VALIDATE, (CODE_SYSTEM, inline(ORGANS), p("system", CS_URL, "valueUri"),
                                              p("code", "coeur"), p("displayLanguage", "fr;;q", "valueCode")),
         400, "processing", "invalid-display", "INVALID_DISPLAY_NAME"),
    Case("NothingToValidate", VALIDATE, (CODE_SYSTEM, inline(ORGANS)), 400, "invalid"),
    Case("NotFound", "ValueSet/nope/$validate-code", (p("code", "coeur"),), 404, "not-found"),
    # $lookup
    Case("UnknownCodeSystem", LOOKUP, (p("system", "http://example.org/cs/none", "valueUri"), p("code", "x")),
         404, "not-found", "not-found"),
    Case("UnknownCode", LOOKUP, (CODE_SYSTEM, p("system", CS_URL, "valueUri"), p("code", "nope")),
         404, "not-found"),
    Case("SupplementNotFound", LOOKUP, (CODE_SYSTEM, p("system", CS_URL, "valueUri"), p("code", "coeur"),
                                        p("useSupplement", SUPPLEMENT, "valueCanonical")),
         404, "not-found", "not-found", "VALUESET_SUPPLEMENT_MISSING"),
    Case("VersionNotAllowed", LOOKUP, (CODE_SYSTEM, p("system", CS_URL, "valueUri"), p("version", "1.0.0"),
                                       p("code", "coeur"), CHECK_2),
         400, "exception", "version-error", "VALUESET_VERSION_CHECK"),
    Case("InvalidDisplayLanguage", LOOKUP, (CODE_SYSTEM, p("system", CS_URL, "valueUri"), p("code", "coeur"),
                                            p("displayLanguage", "fr;;q", "valueCode")),
         400, "processing", "invalid-display", "INVALID_DISPLAY_NAME"),
    Case("MissingParameter", LOOKUP, (p("system", CS_URL, "valueUri"),), 400, "required", None, None, "code"),
    Case("NotFound", "CodeSystem/nope/$lookup", (p("code", "coeur"),), 404, "not-found"),
    # CodeSystem $validate-code: the code system named by the call
    Case("MissingParameter", CS_VALIDATE, (p("code", "coeur"),), 400, "required", None, None, "url"),
]

NOT_THROUGH_THESE_OPERATIONS = {
    "SmtError": "the base class",
    "TerminologyError": "a base class",
    "InvalidExpression": "SNOMED CT expressions: tests/codesystems (a store with SNOMED CT)",
    "InvalidEcl": "SNOMED CT ECL filters: tests/codesystems and the HL7 snomed suite",
    "RegexTooCostly": "needs a regex running past its time budget",
    "UnknownClosureTable": "$closure only",
    "LoadError": "loads (CLI, write API)", "QualityError": "loads", "ReleaseExists": "loads",
    "ArtefactOutdated": "a store to recompile: tests/store/test_recompile.py ($lookup and /search answer 503)",
    "EclError": "ECL engine, reported as InvalidEcl", "EclSyntaxError": "as InvalidEcl",
    "EclEvaluationError": "as InvalidEcl", "EclUnknownConcept": "as InvalidEcl", "EclUnsupported": "as InvalidEcl",
    "DiffUnavailable": "diffs", "RdfUnavailable": "downloads and linked data",
    "SvsError": "IHE SVS", "SvsUnknownValueSet": "IHE SVS", "SvsUnknownVersion": "IHE SVS",
    "SvsCannotExpand": "IHE SVS",
    "SparqlError": "SPARQL", "UpdateRefused": "SPARQL", "NotAcceptable": "SPARQL", "QueryTimeout": "SPARQL",
    "Busy": "SPARQL", "QueryFailed": "SPARQL", "MemoryLimit": "SPARQL", "FederationRefused": "SPARQL",
    "UpstreamUnavailable": "SPARQL (tests/sparql/test_sparql_server.py)",
    "EclTooCostly": "SNOMED CT ECL: tests/api/test_native_inputs.py",
    "AuthError": "a base class", "Unauthenticated": "writes", "Forbidden": "writes",
}
"""Error classes these operations never raise, and where they are answered instead."""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return TestClient(create_app(Path(tmp_path_factory.mktemp("empty-home"))))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.operation.replace('/', '-')}-{c.error}")
def test_error_shape(client: TestClient, case: Case) -> None:
    body = {"resourceType": "Parameters", "parameter": list(case.params)}
    answer = client.post(f"/fhir/{case.operation}", json=body)
    assert answer.status_code == case.status, answer.text
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome" and len(outcome["issue"]) == 1
    issue = outcome["issue"][0]
    assert (issue["severity"], issue["code"]) == ("error", case.issue)
    tx_codes = [c["code"] for c in issue["details"].get("coding", []) if c["system"] == TX_ISSUE_TYPE]
    assert tx_codes == ([case.tx_code] if case.tx_code else [])
    message_ids = [e["valueString"] for e in issue.get("extension", []) if e["url"] == MESSAGE_ID]
    assert message_ids == ([case.message_id] if case.message_id else [])
    assert issue.get("expression") == ([case.location] if case.location else None)
    assert "location" not in issue  # deprecated in R4 (XML specific), replaced by expression
    assert issue["details"]["text"] and "diagnostics" not in issue


def test_every_error_class_is_pinned_or_placed() -> None:
    """A new error class must get a case above (or say where else it is answered)."""
    classes = {cls.__name__ for _, cls in inspect.getmembers(smt.errors, inspect.isclass)
               if issubclass(cls, SmtError) and cls.__module__ == "smt.errors"}
    pinned = {case.error for case in CASES}
    assert classes - pinned - set(NOT_THROUGH_THESE_OPERATIONS) == set()
    assert pinned & set(NOT_THROUGH_THESE_OPERATIONS) == set()
    assert pinned | set(NOT_THROUGH_THESE_OPERATIONS) <= classes


def _parameters(answer: dict) -> dict:
    return {item["name"]: item for item in answer["parameter"]}


def test_validate_code_answers_a_refused_version_in_band(client: TestClient) -> None:
    """The documented difference: ``$validate-code`` answers a problem with the code as ``result = false``."""
    body = {"resourceType": "Parameters", "parameter": [CODE_SYSTEM, inline(PINNED), CHECK_2,
                                                        p("system", CS_URL, "valueUri"), p("code", "coeur")]}
    answer = client.post(f"/fhir/{VALIDATE}", json=body)
    assert answer.status_code == 200
    found = _parameters(answer.json())
    assert found["result"]["valueBoolean"] is False
    issues = found["issues"]["resource"]["issue"]
    assert ("exception", "version-error") in [(i["code"], i["details"]["coding"][0]["code"])
                                              for i in issues if i["severity"] == "error"]


def test_batch_answers_an_error_in_place(client: TestClient) -> None:
    """The documented difference: ``$batch-validate-code`` answers 200 with each validation's outcome."""
    one = {"resourceType": "Parameters", "parameter": [p("url", "http://example.org/vs/none", "valueUri"),
                                                       p("code", "coeur")]}
    answer = client.post("/fhir/ValueSet/$batch-validate-code",
                         json={"resourceType": "Parameters", "parameter": [{"name": "validation", "resource": one}]})
    assert answer.status_code == 200
    outcome = answer.json()["parameter"][0]["resource"]
    assert outcome["resourceType"] == "OperationOutcome"
    issue = outcome["issue"][0]
    assert (issue["code"], issue["details"]["coding"][0]["code"]) == ("not-found", "not-found")
