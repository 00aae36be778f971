"""SNOMED CT ``$subsumes`` with post-coordinated expressions (normal forms compared), served by the real app
over a store loaded with the real International subset; concepts against concepts still use the closure table."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fhir_api.app import create_app
from loaders.snomed import load
from smt.compile import writable_store
from smt.index.reader import CodeSystemIndex
from smt.releases.registry import Registry
from smt.terminology.codesystem import resolve
from tests.loaders.test_loader_snomed import SUBSET

SCT = "http://snomed.info/sct"
VERSION = "http://snomed.info/xsct/31000003106/version/20250909"
REPAIR_OF_HAND_TENDON = "367430006"  # sufficiently defined: method = repair, direct site = tendon within hand
HAND_REPAIR = "119657005"  # a parent of 367430006
SURGICAL_PROCEDURE = "387713003"  # primitive supertype of 119657005
LATERALITY, RIGHT, SIDE = "272741003", "24028007", "182353008"
METHOD, REPAIR, DIRECT_SITE, HAND = "260686004", "257903006", "405813007", "85562004"
TENDON_WITHIN_HAND = "118632007"
RIGHT_REPAIR = f"{REPAIR_OF_HAND_TENDON}:{{{LATERALITY}={RIGHT}}}"
SIDED_REPAIR = f"{REPAIR_OF_HAND_TENDON}:{{{LATERALITY}={SIDE}}}"

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def home(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("sct-subsumes") / "home"
    writable_store(home).load_many(load(shared_data / SUBSET, version=VERSION))
    return home


@pytest.fixture(scope="module")
def client(home: Path) -> TestClient:
    return TestClient(create_app(home))


@pytest.fixture(scope="module")
def index(home: Path) -> CodeSystemIndex:
    return resolve(Registry(home), SCT).index


def _is_ancestor(index: CodeSystemIndex, ancestor: str, descendant: str) -> bool:
    return index.is_descendant(index.concept(descendant), index.concept(ancestor))


def _subsumes(client: TestClient, code_a: str, code_b: str, status: int = 200) -> dict:
    response = client.get("/fhir/CodeSystem/$subsumes", params={"system": SCT, "codeA": code_a, "codeB": code_b})
    assert response.status_code == status, response.text
    return response.json()


def outcome(client: TestClient, code_a: str, code_b: str) -> str:
    [found] = [p["valueCode"] for p in _subsumes(client, code_a, code_b)["parameter"] if p["name"] == "outcome"]
    return found


def test_the_hierarchy_the_tests_rely_on(index: CodeSystemIndex) -> None:
    assert _is_ancestor(index, SIDE, RIGHT) and not _is_ancestor(index, RIGHT, SIDE)
    assert _is_ancestor(index, HAND_REPAIR, REPAIR_OF_HAND_TENDON)
    assert _is_ancestor(index, SURGICAL_PROCEDURE, HAND_REPAIR)
    assert not _is_ancestor(index, RIGHT, REPAIR_OF_HAND_TENDON) and not _is_ancestor(index, REPAIR_OF_HAND_TENDON,
                                                                                       RIGHT)
    hand_repair = index.concept(HAND_REPAIR)
    attributes = {(index.concept_by_id(r.type).code, index.concept_by_id(r.destination).code)
                  for r in index.relationships_of(hand_repair.id) if r.group}
    assert attributes == {(METHOD, REPAIR), (DIRECT_SITE, HAND)}
    assert any(p.code == "sufficientlyDefined" and p.value is True for p in index.properties(hand_repair))


def test_a_concept_subsumes_a_refinement_of_itself(client: TestClient) -> None:
    assert outcome(client, REPAIR_OF_HAND_TENDON, RIGHT_REPAIR) == "subsumes"
    assert outcome(client, RIGHT_REPAIR, REPAIR_OF_HAND_TENDON) == "subsumed-by"


def test_a_more_general_value_subsumes_a_more_specific_one(client: TestClient) -> None:
    assert outcome(client, SIDED_REPAIR, RIGHT_REPAIR) == "subsumes"
    assert outcome(client, RIGHT_REPAIR, SIDED_REPAIR) == "subsumed-by"
    nested = f"{REPAIR_OF_HAND_TENDON}:{{{DIRECT_SITE}=({TENDON_WITHIN_HAND}:{LATERALITY}={RIGHT})}}"
    assert outcome(client, REPAIR_OF_HAND_TENDON, nested) == "subsumes"


def test_an_ancestor_concept_subsumes_the_expression(client: TestClient) -> None:
    assert outcome(client, HAND_REPAIR, RIGHT_REPAIR) == "subsumes"
    assert outcome(client, RIGHT_REPAIR, SURGICAL_PROCEDURE) == "subsumed-by"


def test_unrelated_is_not_subsumed(client: TestClient) -> None:
    assert outcome(client, RIGHT, RIGHT_REPAIR) == "not-subsumed"
    assert outcome(client, f"{HAND_REPAIR}:{{{LATERALITY}={RIGHT}}}", SIDED_REPAIR) == "not-subsumed"


def test_identical_expressions_and_a_definition_are_equivalent(client: TestClient) -> None:
    assert outcome(client, RIGHT_REPAIR, RIGHT_REPAIR) == "equivalent"
    # a sufficiently defined concept is equivalent to its definition written as an expression
    definition = f"{SURGICAL_PROCEDURE}:{{{METHOD}={REPAIR},{DIRECT_SITE}={HAND}}}"
    assert outcome(client, definition, HAND_REPAIR) == "equivalent"


def test_concepts_still_answer_from_the_closure_table(client: TestClient) -> None:
    assert outcome(client, HAND_REPAIR, REPAIR_OF_HAND_TENDON) == "subsumes"
    assert outcome(client, REPAIR_OF_HAND_TENDON, REPAIR_OF_HAND_TENDON) == "equivalent"


@pytest.mark.parametrize(("code", "problem"), [
    (f"{REPAIR_OF_HAND_TENDON}:{{{LATERALITY}=99999999}}", "Concept 99999999 not found"),
    (f"{REPAIR_OF_HAND_TENDON}:{{{RIGHT}={RIGHT}}}", f"Concept {RIGHT} is not valid in this context"),
    (f"{REPAIR_OF_HAND_TENDON}:{{{LATERALITY}=}}", "expected a concept id"),
])
def test_an_invalid_expression_is_an_unknown_code_naming_the_problem(client: TestClient, code: str,
                                                                      problem: str) -> None:
    body = _subsumes(client, REPAIR_OF_HAND_TENDON, code, status=404)
    [issue] = body["issue"]
    assert issue["code"] == "not-found"
    assert f"Unknown code '{code}'" in issue["details"]["text"] and problem in issue["details"]["text"]
    plain = _subsumes(client, "99999999", REPAIR_OF_HAND_TENDON, status=404)
    assert plain["issue"][0]["details"]["text"].startswith("Unknown code '99999999'")
