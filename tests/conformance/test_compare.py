"""Unit tests of the comparer, the normaliser, the R4 conversion and the test selection (no server needed)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from .cases import TestData
from .compare import Comparer, lenient_base64
from .jsonio import dumps, loads
from .normalize import normalize, scrub, sort_parameters, sort_value_set
from .pass_list import passing, regressions
from .r4 import FILTER_OP, r4_parse_errors, to_r4, to_r5
from .runner import Outcome

GENERAL = frozenset({"general", "version:4"})


def check(expected: dict, actual: dict, **kwargs: object):  # type: ignore[no-untyped-def]
    return Comparer(GENERAL, **kwargs).compare(expected, actual)  # type: ignore[arg-type]


# -- objects ---------------------------------------------------------------------------------------------------
def test_identical_objects_match() -> None:
    doc = {"resourceType": "Parameters", "parameter": [{"name": "result", "valueBoolean": True}]}
    assert check(doc, json.loads(json.dumps(doc))) is None


def test_extra_property_in_actual_fails_unless_pattern_mode() -> None:
    found = check({"a": "x"}, {"a": "x", "b": "y"})
    assert found and found.kind == "unexpected-property" and found.path == ".b"
    assert Comparer(GENERAL, pattern_mode=True).compare({"a": "x"}, {"a": "x", "b": "y"}) is None


def test_missing_property_fails_unless_listed_optional() -> None:
    assert check({"a": "x", "b": "y"}, {"a": "x"}).kind == "missing-property"
    assert check({"$optional-properties$": ["b"], "a": "x", "b": "y"}, {"a": "x"}) is None
    assert check({"$optional-properties$": ["*"], "a": "x", "b": "y"}, {}) is None


def test_optional_properties_are_still_compared_when_present() -> None:
    found = check({"$optional-properties$": ["b"], "b": "y"}, {"b": "z"})
    assert found and found.kind == "value"


def test_missing_array_of_optional_items_is_fine() -> None:
    assert check({"a": [{"$optional$": True, "x": 1}]}, {}) is None
    assert check({"a": [{"$optional$": True}, {"x": 1}]}, {}).kind == "missing-property"


# -- arrays ----------------------------------------------------------------------------------------------------
def test_arrays_are_compared_in_order() -> None:
    assert check({"a": [1, 2]}, {"a": [1, 2]}) is None
    assert check({"a": [1, 2]}, {"a": [2, 1]}).kind == "value"


def test_optional_items_can_be_skipped() -> None:
    expected = {"a": [{"x": 1}, {"$optional$": True, "x": 2}, {"x": 3}]}
    assert check(expected, {"a": [{"x": 1}, {"x": 3}]}) is None
    assert check(expected, {"a": [{"x": 1}, {"x": 2}, {"x": 3}]}) is None
    assert check(expected, {"a": [{"x": 3}]}).kind == "array-count"


def test_optional_filters_follow_the_modes() -> None:
    expected = {"a": [{"x": 1}, {"$optional$": "!tx.fhir.org", "x": 2}]}
    assert check(expected, {"a": [{"x": 1}]}) is None
    assert Comparer(frozenset({"tx.fhir.org"})).compare(expected, {"a": [{"x": 1}]}) is not None
    only_r4 = {"a": [{"x": 1}, {"$optional$": "version:4", "x": 2}]}
    assert check(only_r4, {"a": [{"x": 1}]}) is None
    assert Comparer(frozenset({"general", "version:5"})).compare(only_r4, {"a": [{"x": 1}]}) is not None


def test_warning_optional_records_a_warning() -> None:
    comparer = Comparer(GENERAL)
    assert comparer.compare({"a": [{"x": 1}, {"$optional$": "warning:version", "x": 2}]}, {"a": [{"x": 1}]}) is None
    assert comparer.warnings == ["version"]


def test_non_matching_actual_item_is_unexpected() -> None:
    found = check({"a": [{"x": 1}, {"$optional$": True, "x": 2}]}, {"a": [{"x": 1}, {"x": 9}]})
    assert found and found.kind == "array-extra"


def test_count_arrays_compare_sizes_only() -> None:
    expected = {"$optional-properties$": [], "$count-arrays$": ["a"], "a": [1, 2]}
    assert check(expected, {"a": [7, 8]}) is None
    assert check(expected, {"a": [7]}).kind == "array-count"


def test_count_hint_names_missing_parameters() -> None:
    expected = {"parameter": [{"name": "result"}, {"name": "message"}]}
    found = check(expected, {"parameter": [{"name": "result"}]})
    assert found and "missing message" in found.message and found.hint == "missing message"


def test_pattern_mode_finds_items_as_ordered_subsequence() -> None:
    comparer = Comparer(GENERAL, pattern_mode=True)
    expected = {"a": [{"n": "x"}, {"n": "z"}]}
    assert comparer.compare(expected, {"a": [{"n": "x", "o": 1}, {"n": "y"}, {"n": "z"}]}) is None
    assert comparer.compare(expected, {"a": [{"n": "z"}, {"n": "x"}]}).kind == "pattern-missing"


# -- primitives ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("template", "good", "bad"), [
    ("$uuid$", "urn:uuid:8acdbfdc-e9d2-11ed-a05b-0242ac120003", "8acdbfdc-e9d2-11ed-a05b-0242ac120003"),
    ("$instant$", "2024-01-02T03:04:05.123Z", "2024-01-02"),
    ("$date$", "2024-01-02", "02/01/2024"),
    ("$id$", "abc-1.2", "a b"),
    ("$url$", "http://example.org/x", "not a url"),
    ("$token$", "active", "-bad"),
    ("$semver$", "1.2.3-beta", "1.2"),
    ("$string$", "trimmed", " padded "),
    ("$choice:a|b$", "b", "c"),
    ("$fragments:Unknown|code$", "The CODE is unknown here", "unknown only"),
    ("$external:1:Display 1X$", "Wrong display 'display 1x' for code1", "Wrong display"),
])
def test_templates(template: str, good: str, bad: str) -> None:
    comparer = Comparer(GENERAL)
    assert comparer.matches(good, template)
    assert not comparer.matches(bad, template)


def test_external_splits_on_colons_like_java() -> None:
    # "$external:1:http://x$" keeps only "http" as the fragment, as String.split(":") does
    assert Comparer(GENERAL).matches("see http", "$external:1:http://hl7.org/x$")


def test_externals_file_gives_the_exact_message() -> None:
    comparer = Comparer(GENERAL, externals={"1": "Exact text"})
    assert comparer.matches("Exact text", "$external:1:frag$")
    assert not comparer.matches("frag", "$external:1:frag$")


def test_version_variable() -> None:
    comparer = Comparer(GENERAL, variables={"version": "4.0.1"})
    assert comparer.matches("4.0.1", "$version$")
    assert not comparer.matches("5.0.0", "$version$")


def test_unknown_template_is_a_failure() -> None:
    assert check({"a": "$nope$"}, {"a": "x"}).kind == "template"


def test_numbers_compare_by_text() -> None:
    assert check(loads('{"v": 1.50}'), loads('{"v": 1.50}')) is None
    assert check(loads('{"v": 1.0}'), loads('{"v": 1}')).kind == "value"
    assert check({"v": 1}, {"v": "1"}).kind == "type"


def test_booleans_and_types() -> None:
    assert check({"v": True}, {"v": False}).kind == "value"
    assert check({"v": {"a": 1}}, {"v": [1]}).kind == "type"


def test_reference_base64_quirk() -> None:
    # commons-codec drops a lone trailing sextet: "code1" and "code2" decode alike, so the reference accepts them
    assert lenient_base64("code1") == lenient_base64("code2")
    assert check({"code": "code1"}, {"code": "code2"}) is None
    assert check({"display": "Display 1"}, {"display": "Display 2"}).kind == "value"


def test_two_xhtml_divs_always_match() -> None:
    assert check({"div": "<div>a</div>"}, {"div": "<div>b</div>"}) is None


# -- normalisation ---------------------------------------------------------------------------------------------
def test_scrub_drops_text_meta_and_unmanaged_extensions_but_not_in_compose() -> None:
    vs = {"resourceType": "ValueSet", "text": {"div": "x"}, "meta": {"versionId": "1"},
          "extension": [{"url": "http://example.org/own", "valueString": "x"},
                        {"url": "http://hl7.org/fhir/StructureDefinition/valueset-label", "valueString": "y"}],
          "compose": {"include": [{"extension": [{"url": "http://example.org/own", "valueString": "x"}]}]},
          "expansion": {"contains": [{"code": "a", "extension": [{"url": "http://example.org/own"}]}]}}
    scrub(vs, {"http://hl7.org/fhir/StructureDefinition/valueset-label"})
    assert "text" not in vs and "meta" not in vs
    assert [e["url"] for e in vs["extension"]] == ["http://hl7.org/fhir/StructureDefinition/valueset-label"]
    assert vs["compose"]["include"][0]["extension"]  # compose left alone
    assert "extension" not in vs["expansion"]["contains"][0]


def test_sort_parameters_by_name_and_message_parts() -> None:
    params = {"resourceType": "Parameters", "parameter": [
        {"name": "result", "valueBoolean": False}, {"name": "message", "valueString": "b; a"},
        {"name": "code", "valueCode": "x"}]}
    sort_parameters(params)
    assert [p["name"] for p in params["parameter"]] == ["code", "message", "result"]
    assert params["parameter"][1]["valueString"] == "a; b"


def test_sort_value_set_contains_and_parameters() -> None:
    vs = {"resourceType": "ValueSet", "expansion": {
        "parameter": [{"name": "used-codesystem", "valueUri": "b"}, {"name": "excludeNested", "valueBoolean": True}],
        "contains": [{"code": "b"}, {"code": "a", "contains": [{"code": "z"}, {"code": "y"}]}]}}
    sort_value_set(vs)
    assert [p["name"] for p in vs["expansion"]["parameter"]] == ["excludeNested", "used-codesystem"]
    assert [c["code"] for c in vs["expansion"]["contains"]] == ["a", "b"]
    assert [c["code"] for c in vs["expansion"]["contains"][0]["contains"]] == ["y", "z"]


def test_nested_lists_of_a_single_item_are_not_sorted() -> None:
    params = {"resourceType": "Parameters", "parameter": [{"name": "match", "part": [{"name": "z"}, {"name": "a"}]}]}
    normalize(params, set())
    assert [p["name"] for p in params["parameter"][0]["part"]] == ["z", "a"]  # as Java: never compared


# -- R4 conversion ---------------------------------------------------------------------------------------------
def test_r5_only_filter_operator_goes_to_r4_with_extension() -> None:
    vs = {"resourceType": "ValueSet", "compose": {"include": [{"system": "s", "filter": [
        {"property": "concept", "op": "child-of", "value": "x"}]}]}}
    flt = to_r4(vs)["compose"]["include"][0]["filter"][0]
    assert flt["op"] == "is-a"
    assert flt["_op"]["extension"] == [{"url": FILTER_OP, "valueCode": "child-of"}]
    assert vs["compose"]["include"][0]["filter"][0]["op"] == "child-of"  # input untouched


def test_r5_only_elements_and_language_variants() -> None:
    cs = {"resourceType": "CodeSystem", "title": "T", "title:de": "D",
          "versionAlgorithmCoding": {"system": "http://hl7.org/fhir/version-algorithm", "code": "semver"},
          "filter": [{"code": "f", "operator": ["is-a", "child-of"]}]}
    out = to_r4({"resourceType": "Parameters", "parameter": [{"name": "tx-resource", "resource": cs}]})
    res = out["parameter"][0]["resource"]
    assert "title:de" not in res and "versionAlgorithmCoding" not in res
    assert res["extension"][0]["valueCoding"]["code"] == "semver"
    assert res["filter"][0]["operator"] == ["is-a"]


def test_concept_map_relationships_become_equivalences() -> None:
    cm = {"resourceType": "ConceptMap", "sourceScopeUri": "a", "group": [{"element": [
        {"code": "c", "target": [{"code": "d", "relationship": "source-is-narrower-than-target"}]}],
        "unmapped": {"mode": "fixed", "code": "t", "relationship": "related-to"}}]}
    out = to_r4(cm)
    assert out["sourceUri"] == "a"
    assert out["group"][0]["element"][0]["target"][0] == {"code": "d", "equivalence": "wider"}
    assert out["group"][0]["unmapped"] == {"mode": "fixed", "code": "t"}


def test_r4_expansion_property_extensions_become_r5_elements() -> None:
    base = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion."
    vs = {"resourceType": "ValueSet", "expansion": {
        "extension": [{"url": base + "property", "extension": [{"url": "code", "valueCode": "status"},
                                                               {"url": "uri", "valueUri": "http://x"}]}],
        "contains": [{"code": "a", "extension": [{"url": base + "contains.property", "extension": [
            {"url": "code", "valueCode": "status"}, {"url": "value", "valueCode": "active"}]}]}]}}
    out = to_r5(vs)
    assert out["expansion"]["property"] == [{"code": "status", "uri": "http://x"}]
    assert out["expansion"]["contains"][0] == {"code": "a", "property": [{"code": "status", "valueCode": "active"}]}
    assert r4_parse_errors(vs) == []
    assert r4_parse_errors(out) == ["ValueSet.expansion.contains.property", "ValueSet.expansion.property"]


def test_dumps_keeps_decimals() -> None:
    assert dumps(loads('{"a": 1.50, "b": [true, null, 2]}')) == '{"a":1.50,"b":[true,null,2]}'
    assert isinstance(loads("1.5"), Decimal)


# -- selection -------------------------------------------------------------------------------------------------
def test_selection_follows_suite_and_test_modes(tmp_path: Path) -> None:
    (tmp_path / "test-cases.json").write_text(json.dumps({"suites": [
        {"name": "meta", "setup": [], "tests": [{"name": "m", "operation": "metadata", "response": "r.json"}]},
        {"name": "gen", "mode": "general", "setup": [], "tests": [
            {"name": "t1", "operation": "expand", "response": "r.json", "response:flat": "f.json"},
            {"name": "t2", "mode": "tx.fhir.org", "operation": "expand", "response": "r.json"},
            {"name": "t3", "version": "5.0", "operation": "expand", "response": "r.json"}]},
        {"name": "sct", "mode": "snomed", "setup": [], "tests": [{"name": "s", "operation": "expand",
                                                                 "response": "r.json"}]}]}))
    data = TestData(tmp_path)
    general = data.suites(frozenset({"general"}))
    assert [(s.name, [t.name for t in s.tests]) for s in general] == [("meta", ["m"]), ("gen", ["t1"])]
    assert general[1].tests[0].response == "r.json"
    flat = data.suites(frozenset({"general", "flat"}))
    assert flat[1].tests[0].response == "f.json"
    assert [s.name for s in data.suites(frozenset({"snomed"}))] == ["meta", "sct"]


def test_pass_list_regressions_name_lost_and_missing_tests() -> None:
    outcomes = [Outcome("s", "a", "expand", True), Outcome("s", "b", "expand", False, reason="value differs")]
    assert passing(outcomes) == {"s": ["a"]}
    assert regressions({"s": ["a", "b", "c"]}, outcomes) == ["s/b: value differs", "s/c: not run"]
    assert regressions(passing(outcomes), outcomes) == []


def test_version_variable_is_substituted_inside_a_string() -> None:
    comparer = Comparer(variables={"version": "4.0.1"})
    assert comparer.matches("http://hl7.org/fhir/administrative-gender|4.0.1",
                            "http://hl7.org/fhir/administrative-gender|$version$")
    assert not comparer.matches("http://hl7.org/fhir/administrative-gender|5.0.0",
                                "http://hl7.org/fhir/administrative-gender|$version$")
