"""Terminology-service behaviours over request resources (``tx-resource``), through the real HTTP app.

Concept extensions as expansion properties, designation extensions and sources, the ``designation`` language
token, paging echo, R5 filter operators from R4 clients, default nesting, display languages, CodeableConcept
answers, batch parameters, unknown systems and the messages that name them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fhir_api.app import create_app

SD = "http://hl7.org/fhir/StructureDefinition/"
CS = "http://example.org/cs/tx"
SUPPLEMENT = "http://example.org/cs/tx-supplement"
XV = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet."


def code_system() -> dict:
    """a > (a1, a2), b (deprecated), c (retired); extensions on a and a1, a withdrawn German term on a1."""
    return {
        "resourceType": "CodeSystem", "url": CS, "version": "1.0.0", "language": "en", "status": "active",
        "content": "complete", "caseSensitive": True,
        "property": [{"code": "status", "type": "code"}],
        "concept": [
            {"code": "a", "display": "Alpha",
             "extension": [{"url": SD + "codesystem-conceptOrder", "valueInteger": 2},
                           {"url": SD + "codesystem-label", "valueString": "A)"},
                           {"url": SD + "rendering-style", "valueString": "font-weight: bold"}],
             "designation": [{"language": "de", "value": "Alfa",
                              "extension": [{"url": SD + "coding-sctdescid", "valueId": "123"},
                                            {"url": "http://example.org/unknown", "valueString": "dropped"}]},
                             {"language": "de-CH", "value": "Alfa (CH)"}],
             "concept": [
                 {"code": "a1", "display": "Alpha one",
                  "extension": [{"url": SD + "itemWeight", "valueDecimal": 1.5}],
                  "designation": [{"language": "de", "value": "Alt eins", "extension": [
                      {"url": SD + "structuredefinition-standards-status", "valueCode": "withdrawn"}]}]},
                 {"code": "a2", "display": "Alpha two"}]},
            {"code": "b", "display": "Beta", "extension": [
                {"url": SD + "structuredefinition-standards-status", "valueCode": "deprecated"}]},
            {"code": "c", "display": "Gamma", "property": [{"code": "status", "valueCode": "retired"}]},
        ],
    }


def supplement() -> dict:
    return {"resourceType": "CodeSystem", "url": SUPPLEMENT, "version": "0.1", "status": "active",
            "content": "supplement", "supplements": CS,
            "concept": [{"code": "a", "designation": [{"language": "nl", "value": "Alfa (nl)"}]}]}


def value_set(url: str, include: dict, **extra: object) -> dict:
    return {"resourceType": "ValueSet", "url": url, "version": "1", "status": "active",
            "compose": {"include": [include]}, **extra}


ALL = value_set("http://example.org/vs/all", {"system": CS})
IS_A = value_set("http://example.org/vs/is-a", {"system": CS, "filter": [
    {"property": "concept", "op": "is-a", "value": "a"}]})
LISTED = value_set("http://example.org/vs/listed", {"system": CS, "concept": [
    {"code": "a", "extension": [{"url": SD + "valueset-label", "valueString": "first"}],
     "designation": [{"language": "fr", "value": "Alpha (fr)"}]},
    {"code": "b"}]})


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    home: Path = tmp_path_factory.mktemp("tx-home")
    return TestClient(create_app(home))


def call(client: TestClient, operation: str, *items: dict, resources: tuple[dict, ...] = (),
         headers: dict | None = None) -> tuple[int, dict]:
    """POST an operation with the test's code systems and value sets as ``tx-resource``."""
    shared = (code_system(), supplement(), ALL, IS_A, LISTED, *resources)
    body = {"resourceType": "Parameters", "parameter": [
        *({"name": "tx-resource", "resource": r} for r in shared), *items]}
    answer = client.post(f"/fhir/{operation}", json=body, headers=headers or {})
    return answer.status_code, answer.json()


def expand(client: TestClient, url: str, *items: dict, **kwargs: object) -> dict:
    status, vs = call(client, "ValueSet/$expand", {"name": "url", "valueUri": url}, *items, **kwargs)
    assert status == 200, vs
    return vs


def flat(contains: list[dict]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for item in contains:
        found[item["code"]] = item
        found.update(flat(item.get("contains", [])))
    return found


def props(item: dict) -> dict[str, object]:
    """``contains.property`` (R5 cross-version extension in R4) as {code: value}."""
    found = {}
    for ext in item.get("extension", []):
        if ext["url"] == XV + "expansion.contains.property":
            parts = {e["url"]: e for e in ext["extension"]}
            found[parts["code"]["valueCode"]] = next(v for k, v in parts["value"].items() if k.startswith("value"))
    return found


def values(answer: dict) -> dict[str, object]:
    found: dict[str, object] = {}
    for item in answer["parameter"]:
        found.setdefault(item["name"], next((v for k, v in item.items() if k.startswith("value") or k == "resource"),
                                            None))
    return found


def test_concept_extensions_become_expansion_properties(client: TestClient) -> None:
    vs = expand(client, ALL["url"], {"name": "includeDesignations", "valueBoolean": True},
                {"name": "excludeNested", "valueBoolean": True})
    items = flat(vs["expansion"]["contains"])
    assert props(items["a"]) == {"order": 2, "label": "A)"}
    assert props(items["a1"]) == {"weight": 1.5}
    assert props(items["b"]) == {"status": "deprecated"}
    assert props(items["c"]) == {"status": "retired"}
    assert {"url": SD + "rendering-style", "valueString": "font-weight: bold"} in items["a"]["extension"]
    declared = {e["extension"][0]["valueCode"]: e["extension"][1]["valueUri"] for e in vs["expansion"]["extension"]
                if e["url"] == XV + "expansion.property"}
    assert declared["order"] == "http://hl7.org/fhir/concept-properties#order"
    assert declared["weight"] == "http://hl7.org/fhir/concept-properties#itemWeight"
    # known designation extensions are echoed, unknown ones dropped
    german = next(d for d in items["a"]["designation"] if d["language"] == "de")
    assert german["extension"] == [{"url": SD + "coding-sctdescid", "valueId": "123"}]


def test_value_set_concept_label_and_designation_win(client: TestClient) -> None:
    vs = expand(client, LISTED["url"], {"name": "includeDesignations", "valueBoolean": True})
    items = flat(vs["expansion"]["contains"])
    assert props(items["a"])["label"] == "first" and props(items["a"])["order"] == 2
    assert {"language": "fr", "value": "Alpha (fr)"} in items["a"]["designation"]


def test_supplement_designation_source_in_lookup(client: TestClient) -> None:
    status, answer = call(client, "CodeSystem/$lookup", {"name": "system", "valueUri": CS},
                          {"name": "code", "valueCode": "a"}, {"name": "useSupplement", "valueCanonical": SUPPLEMENT})
    assert status == 200
    dutch = next(p["part"] for p in answer["parameter"] if p["name"] == "designation"
                 and {"name": "language", "valueCode": "nl"} in p["part"])
    assert {"name": "source", "valueCanonical": f"{SUPPLEMENT}|0.1"} in dutch


def test_lookup_states_status_once(client: TestClient) -> None:
    _, answer = call(client, "CodeSystem/$lookup", {"name": "system", "valueUri": CS},
                     {"name": "code", "valueCode": "c"}, {"name": "property", "valueCode": "*"})
    statuses = [p for p in answer["parameter"] if p["name"] == "property" and p["part"][0]["valueCode"] == "status"]
    assert len(statuses) == 1


def test_designation_language_token_is_exact(client: TestClient) -> None:
    vs = expand(client, ALL["url"], {"name": "includeDesignations", "valueBoolean": True},
                {"name": "designation", "valueString": "urn:ietf:bcp:47|de"})
    languages = {d["language"] for d in flat(vs["expansion"]["contains"])["a"]["designation"]}
    assert languages == {"de"}


def test_offset_echoed_when_paging_from_zero(client: TestClient) -> None:
    vs = expand(client, ALL["url"], {"name": "offset", "valueInteger": 0}, {"name": "count", "valueInteger": 2})
    assert vs["expansion"]["offset"] == 0 and len(vs["expansion"]["contains"]) == 2
    assert "offset" not in expand(client, ALL["url"])["expansion"]


def test_r5_filter_operator_from_r4_client(client: TestClient) -> None:
    child_of = value_set("http://example.org/vs/child-of", {"system": CS, "filter": [
        {"property": "concept", "op": "is-a", "value": "a",
         "_op": {"extension": [{"url": XV + "compose.include.filter.op", "valueCode": "child-of"}]}}]})
    vs = expand(client, child_of["url"], resources=(child_of,))
    assert sorted(flat(vs["expansion"]["contains"])) == ["a1", "a2"]


def test_default_nesting_and_flat_text_search(client: TestClient) -> None:
    nested = expand(client, ALL["url"])["expansion"]["contains"]
    assert [c["code"] for c in nested] == ["a", "b", "c"] and len(nested[0]["contains"]) == 2
    assert len(expand(client, ALL["url"], {"name": "excludeNested", "valueBoolean": True})["expansion"]
               ["contains"]) == 5
    searched_all = expand(client, ALL["url"], {"name": "filter", "valueString": "alpha"})["expansion"]["contains"]
    assert len(searched_all) == 3  # a search over a whole system: a flat list of hits
    searched_tree = expand(client, IS_A["url"], {"name": "filter", "valueString": "alpha"})["expansion"]["contains"]
    assert len(searched_tree) == 1 and len(searched_tree[0]["contains"]) == 2


def test_value_set_without_status_is_unknown(client: TestClient) -> None:
    nameless = {"resourceType": "ValueSet", "url": "http://example.org/vs/no-status",
                "compose": {"include": [{"system": CS}]}}
    assert expand(client, nameless["url"], resources=(nameless,))["status"] == "unknown"


def test_display_language_refusing_others_and_invalid_tag(client: TestClient) -> None:
    vs = expand(client, ALL["url"], {"name": "displayLanguage", "valueCode": "de,*; q=0"},
                {"name": "includeDesignations", "valueBoolean": True})
    items = flat(vs["expansion"]["contains"])
    assert items["a"]["display"] == "Alfa"
    assert "display" not in items["b"]  # no German term: no display, the English one is a designation
    assert {"language": "en", "value": "Beta"}.items() <= items["b"]["designation"][0].items()
    status, outcome = call(client, "ValueSet/$validate-code", {"name": "url", "valueUri": ALL["url"]},
                           {"name": "code", "valueCode": "a"}, {"name": "system", "valueUri": CS},
                           {"name": "displayLanguage", "valueCode": "-"})
    assert status == 400 and outcome["issue"][0]["details"]["text"] == "Invalid displayLanguage: '-'"


def test_value_set_language_is_the_default_display_language(client: TestClient) -> None:
    german = value_set("http://example.org/vs/german", {"system": CS}, language="de")
    _, answer = call(client, "ValueSet/$validate-code", {"name": "url", "valueUri": german["url"]},
                     {"name": "coding", "valueCoding": {"system": CS, "code": "a", "display": "Alpha"}},
                     resources=(german,))
    assert values(answer)["result"] is False  # English display, German value set


def test_withdrawn_designation_is_no_valid_display(client: TestClient) -> None:
    _, answer = call(client, "CodeSystem/$validate-code", {"name": "url", "valueUri": CS},
                     {"name": "code", "valueCode": "a1"}, {"name": "display", "valueString": "Alt eins"})
    found = values(answer)
    assert found["result"] is True
    issue = found["issues"]["issue"][0]  # type: ignore[index]
    assert issue["severity"] == "warning" and issue["details"]["coding"][0]["code"] == "display-comment"
    assert "(status = deprecated)" in issue["details"]["text"]


def test_retired_concept_status_reported(client: TestClient) -> None:
    _, answer = call(client, "ValueSet/$validate-code", {"name": "url", "valueUri": ALL["url"]},
                     {"name": "coding", "valueCoding": {"system": CS, "code": "c"}})
    assert values(answer)["status"] == "retired"


def test_codeable_concept_answers(client: TestClient) -> None:
    _, outside = call(client, "ValueSet/$validate-code", {"name": "url", "valueUri": IS_A["url"]},
                      {"name": "codeableConcept", "valueCodeableConcept": {"coding": [{"system": CS, "code": "b"}]}})
    found = values(outside)
    assert found["result"] is False and "code" not in found and "system" not in found
    _, bad_display = call(client, "ValueSet/$validate-code", {"name": "url", "valueUri": IS_A["url"]},
                          {"name": "codeableConcept", "valueCodeableConcept": {"coding": [
                              {"system": CS, "code": "a", "display": "Wrong"}, {"system": CS, "code": "zz"}]}})
    issues = values(bad_display)["issues"]["issue"]  # type: ignore[index]
    assert not any(i["details"]["coding"][0]["code"] == "not-in-vs" for i in issues)  # "a" is a member
    _, membership = call(client, "ValueSet/$validate-code", {"name": "url", "valueUri": IS_A["url"]},
                         {"name": "valueset-membership-only", "valueBoolean": True},
                         {"name": "codeableConcept",
                          "valueCodeableConcept": {"coding": [{"system": CS, "code": "zz"}]}})
    tx_codes = [i["details"]["coding"][0]["code"] for i in values(membership)["issues"]["issue"]]  # type: ignore[index]
    assert tx_codes == ["not-in-vs", "this-code-not-in-vs"]  # no unknown-code error: membership only


def test_unknown_systems_are_named(client: TestClient) -> None:
    broken = value_set("http://example.org/vs/broken", {"system": "http://example.org/cs/missing"})
    _, answer = call(client, "ValueSet/$validate-code", {"name": "url", "valueUri": broken["url"]},
                     {"name": "code", "valueCode": "x"}, {"name": "system", "valueUri": "http://example.org/cs/other"},
                     resources=(broken,))
    found = values(answer)
    assert found["x-unknown-system"] == "http://example.org/cs/other" and "x-caused-by-unknown-system" not in found
    _, versioned = call(client, "ValueSet/$validate-code", {"name": "url", "valueUri": ALL["url"]},
                        {"name": "coding", "valueCoding": {"system": "http://example.org/cs/other", "version": "2",
                                                           "code": "x"}})
    assert ("version '2' could not be found, so the code cannot be validated. No versions of this code system are "
            "known") in str(values(versioned)["message"])


def test_system_inference_names_the_candidates(client: TestClient) -> None:
    twin = {**code_system(), "url": "http://example.org/cs/twin"}
    both = {"resourceType": "ValueSet", "url": "http://example.org/vs/both", "status": "active",
            "compose": {"include": [{"system": CS}, {"system": twin["url"]}]}}
    _, answer = call(client, "ValueSet/$validate-code", {"name": "url", "valueUri": both["url"]},
                     {"name": "code", "valueCode": "a"}, {"name": "inferSystem", "valueBoolean": True},
                     resources=(twin, both))
    assert f"multiple matches: [http://example.org/cs/twin, {CS}]" in str(values(answer)["message"])


def test_mixed_include_versions_show_the_version(client: TestClient) -> None:
    second = {**code_system(), "version": "2.0.0"}
    mixed = {"resourceType": "ValueSet", "url": "http://example.org/vs/mixed", "status": "active", "compose": {
        "include": [{"system": CS, "version": "1.0.0", "concept": [{"code": "a"}]},
                    {"system": CS, "version": "2.0.0", "concept": [{"code": "b"}]}]}}
    vs = expand(client, mixed["url"], {"name": "force-system-version", "valueCanonical": f"{CS}|1.0.0"},
                resources=(second, mixed))
    assert {c.get("version") for c in vs["expansion"]["contains"]} == {"1.0.0"}


def test_batch_item_parameters_replace_shared_ones(client: TestClient) -> None:
    item = {"resourceType": "Parameters", "parameter": [
        {"name": "coding", "valueCoding": {"system": CS, "code": "a", "display": "Wrong"}},
        {"name": "lenient-display-validation", "valueBoolean": False}]}
    status, answer = call(client, "ValueSet/$batch-validate-code", {"name": "url", "valueUri": ALL["url"]},
                          {"name": "lenient-display-validation", "valueBoolean": True},
                          {"name": "validation", "resource": item})
    assert status == 200
    assert values(answer["parameter"][0]["resource"])["result"] is False


def test_value_set_without_url_is_unidentified(client: TestClient) -> None:
    anonymous = {"resourceType": "ValueSet", "status": "active", "compose": {"include": [
        {"system": CS, "concept": [{"code": "a"}]}]}}
    _, answer = call(client, "ValueSet/$validate-code", {"name": "valueSet", "resource": anonymous},
                     {"name": "coding", "valueCoding": {"system": CS, "code": "b"}})
    assert "in the value set '(unidentified)'" in str(values(answer)["message"])


def test_default_nesting_stays_flat_for_a_poly_hierarchy(client: TestClient) -> None:
    poly = {"resourceType": "CodeSystem", "url": "http://example.org/cs/poly", "version": "1", "status": "active",
            "content": "complete", "concept": [
                {"code": "p1", "display": "P1"}, {"code": "p2", "display": "P2"},
                {"code": "kid", "display": "Kid", "property": [{"code": "parent", "valueCode": "p1"},
                                                                {"code": "parent", "valueCode": "p2"}]}]}
    whole = value_set("http://example.org/vs/poly", {"system": poly["url"]})
    contains = expand(client, whole["url"], resources=(poly, whole))["expansion"]["contains"]
    assert [c["code"] for c in contains] == ["p1", "p2", "kid"]  # two parents: no tree by default
    asked = expand(client, whole["url"], {"name": "excludeNested", "valueBoolean": False}, resources=(poly, whole))
    assert len(asked["expansion"]["contains"]) == 2  # asked for: under its first parent


def test_include_definition_keeps_the_value_set_definition(client: TestClient) -> None:
    described = value_set("http://example.org/vs/described", {"system": CS}, publisher="Example",
                          extension=[{"url": SD + "valueset-supplement", "valueCanonical": SUPPLEMENT}])
    plain = expand(client, described["url"], resources=(described,))
    assert not {"compose", "extension", "publisher"} & plain.keys()
    full = expand(client, described["url"], {"name": "includeDefinition", "valueBoolean": True},
                  resources=(described,))
    assert full["compose"] == described["compose"] and full["extension"] == described["extension"]
    assert full["publisher"] == "Example"


def test_stored_code_system_keeps_concept_and_designation_extensions(tmp_path: Path) -> None:
    from smt.compile import writable_store
    from smt.formats.fhir_json import codesystem_release

    writable_store(tmp_path).load(codesystem_release(code_system()))
    stored = TestClient(create_app(tmp_path))
    answer = stored.post("/fhir/ValueSet/$expand", json={"resourceType": "Parameters", "parameter": [
        {"name": "valueSet", "resource": ALL}, {"name": "includeDesignations", "valueBoolean": True},
        {"name": "excludeNested", "valueBoolean": True}]})
    assert answer.status_code == 200, answer.json()
    items = flat(answer.json()["expansion"]["contains"])
    assert props(items["a"]) == {"order": 2, "label": "A)"} and props(items["a1"]) == {"weight": 1.5}
    german = next(d for d in items["a"]["designation"] if d["language"] == "de")
    assert german["extension"] == [{"url": SD + "coding-sctdescid", "valueId": "123"}]


def test_code_outside_the_value_set_is_reported_in_the_version_the_value_set_selects(client: TestClient) -> None:
    """A versionless code that is not a member is looked up, and its version reported, in the version the value
    set's include selects, not the server's default (latest) version (FHIRsmith ``validate.js``; tx-ecosystem
    1.9.6 ``sct/validate-code-pc-none``)."""
    second = {**code_system(), "version": "2.0.0"}
    pinned = value_set("http://example.org/vs/pinned", {"system": CS, "version": "1.0.0",
                                                        "concept": [{"code": "a"}]})
    unpinned = value_set("http://example.org/vs/unpinned", {"system": CS, "concept": [{"code": "a"}]})
    for url, version in ((pinned["url"], "1.0.0"), (unpinned["url"], "2.0.0")):
        _, answer = call(client, "ValueSet/$validate-code", {"name": "url", "valueUri": url},
                         {"name": "system", "valueUri": CS}, {"name": "code", "valueCode": "b"},
                         resources=(second, pinned, unpinned))
        found = values(answer)
        assert (found["result"], found["version"], found["display"]) == (False, version, "Beta"), answer
