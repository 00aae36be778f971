"""SNOMED CT in the engines, over the HL7 test subset: $lookup (concepts and expressions, properties, normal
forms), expansion designations, expressions listed in a compose, the expansion size limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders import run_loader
from smt.compile import writable_store
from smt.config import data_dir
from smt.errors import TooCostly, UnknownCode
from smt.releases.registry import Registry
from smt.terminology.codesystem import lookup
from smt.terminology.context import ResourceContext
from smt.terminology.expand.expand import ExpandOptions, expand

SUBSET = data_dir() / "snomed-sample" / "hl7-tx-ecosystem-subset-INT-20250909"
VERSION = "http://snomed.info/xsct/31000003106/version/20250909"
SCT = "http://snomed.info/sct"
FSN, SYNONYM = "900000000000003001", "900000000000013009"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not SUBSET.is_dir(), reason="SNOMED CT subset not under SMT_DATA_DIR"),
]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    home: Path = tmp_path_factory.mktemp("sct-lookup-home")
    store = writable_store(home)
    for release in run_loader("snomed", SUBSET, version=VERSION):
        store.load(release)
    return Registry(home)


def props(result, code: str) -> list:
    return [p for p in result.properties if p.code == code]


# -- $lookup of a concept -----------------------------------------------------------------------------------


def test_default_lookup_lists_terms_hierarchy_and_attributes(registry: Registry) -> None:
    result = lookup(registry, SCT, "367430006")
    assert result.name == f"{SCT}|{VERSION}" and result.display == "Repair of tendon of hand"
    assert [(d.use.code, d.value) for d in result.designations] == [
        (SYNONYM, "Repair of tendon of hand"), (FSN, "Repair of tendon of hand (procedure)"),
        (SYNONYM, "Tenoplasty of hand")]
    assert [(p.value, p.description) for p in props(result, "parent")] == [
        ("119657005", "Hand repair"), ("274059009", "Hand tendon operation"),
        ("281760001", "Repair of tendon of upper limb")]
    assert len(props(result, "child")) == 12
    [method] = props(result, "260686004")
    assert (method.value, method.code_display, method.description) == ("257903006", "Method", "Repair - action")
    assert [p.value for p in props(result, "effectiveTime")] == ["2005-01-31"]
    assert [p.value for p in props(result, "inactive")] == [False]
    for on_request in ("moduleId", "sufficientlyDefined", "normalForm", "normalFormTerse", "owlExpression"):
        assert not props(result, on_request), on_request


def test_properties_on_request_include_normal_forms(registry: Registry) -> None:
    result = lookup(registry, SCT, "367430006", properties=["normalForm", "normalFormTerse", "moduleId",
                                                            "sufficientlyDefined"])
    assert {p.code for p in result.properties} == {"normalForm", "normalFormTerse", "moduleId", "sufficientlyDefined"}
    assert not result.designations
    [terse] = props(result, "normalFormTerse")
    assert terse.value == "===119657005+274059009+281760001:{260686004=257903006,405813007=118632007}"
    [full] = props(result, "normalForm")
    assert full.value == (
        "=== 119657005 |Hand repair| + 274059009 |Hand tendon operation| + 281760001 |Repair of tendon of upper "
        "limb| : { 260686004 |Method| = 257903006 |Repair - action|, 405813007 |Procedure site - Direct| = "
        "118632007 |Structure of tendon within hand| }")
    [module] = props(result, "moduleId")
    assert (module.value, module.description) == ("900000000000207008", "SNOMED CT core")
    assert [p.value for p in props(result, "sufficientlyDefined")] == [True]


def test_normal_form_keeps_concrete_values_and_ungrouped_attributes(registry: Registry) -> None:
    [terse] = lookup(registry, SCT, "329238006", properties=["normalFormTerse"]).properties
    prefix, refinement = terse.value.split(":", 1)
    assert prefix == "===779430005"
    assert refinement.startswith("411116001=420692007,763032000=732937005,1142139005=#1,{")
    assert "1142135004=#4000" in refinement
    [root] = lookup(registry, SCT, "138875005", properties=["normalFormTerse"]).properties
    assert root.value == "<<<138875005"


def test_every_property_with_star(registry: Registry) -> None:
    codes = {p.code for p in lookup(registry, SCT, "367430006", properties=["*"]).properties}
    assert {"parent", "child", "inactive", "effectiveTime", "moduleId", "sufficientlyDefined", "normalForm",
            "normalFormTerse", "owlExpression", "260686004", "405813007"} <= codes


# -- $lookup of an expression -------------------------------------------------------------------------------


def test_expression_lookup_goes_through_its_focus_concept(registry: Registry) -> None:
    code = "367430006:{272741003=24028007}"
    result = lookup(registry, SCT, code)
    shown = "367430006|Repair of tendon of hand|:{272741003|Laterality|=24028007|Right|}"
    assert (result.code, result.display, result.inactive) == (code, shown, False)
    [designation] = result.designations
    assert (designation.language, designation.value) == ("en-US", shown)
    [laterality] = props(result, "272741003")
    assert (laterality.value, laterality.code_display, laterality.description) == ("24028007", "Laterality", "Right")
    assert len(props(result, "parent")) == 3 and props(result, "260686004")


def test_invalid_expression_is_an_unknown_code(registry: Registry) -> None:
    with pytest.raises(UnknownCode):
        lookup(registry, SCT, "367430006:{272741003=99999999999}")


# -- expansions ---------------------------------------------------------------------------------------------


def value_set(*codes: str) -> dict:
    return {"resourceType": "ValueSet", "url": "http://example.org/vs/sct", "version": "1", "status": "active",
            "compose": {"include": [{"system": SCT, "concept": [{"code": c} for c in codes]}]}}


def test_expansion_designations_are_fsn_then_preferred_terms(registry: Registry) -> None:
    ctx = ResourceContext(registry)
    [entry] = expand(value_set("42463004"), ctx, ExpandOptions(include_designations=True)).contains
    assert [(d.use.code, d.value) for d in entry.designations] == [
        (FSN, "Genus Opisthorchis (organism)"), (SYNONYM, "Opisthorchis")]
    chosen = expand(value_set("42463004"), ResourceContext(registry),
                    ExpandOptions(designations=[f"{SCT}|{SYNONYM}"])).contains[0]
    assert {d.value for d in chosen.designations} == {"Opisthorchis", "Genus Opisthorchis", "Opisthorchis species"}


def test_listed_expressions_are_expanded_with_their_display(registry: Registry) -> None:
    vs = value_set("128241005", "128241005:{363698007=181268008}", "128241005:{363698007=99999999999}")
    expansion = expand(vs, ResourceContext(registry), ExpandOptions())
    assert expansion.total == 2
    assert [(e.code, e.display) for e in expansion.contains] == [
        ("128241005", "Inflammatory disease of liver"),
        ("128241005:{363698007=181268008}",
         "128241005|Inflammatory disease of liver|:{363698007|Finding site|=181268008|Entire liver|}")]


def test_expansion_over_the_limit_is_too_costly(registry: Registry) -> None:
    vs = {"resourceType": "ValueSet", "url": "http://example.org/vs/all", "version": "2", "status": "active",
          "compose": {"include": [{"system": SCT, "filter": [{"property": "concept", "op": "is-a",
                                                               "value": "138875005"}]}]}}
    with pytest.raises(TooCostly) as named:
        expand(vs, ResourceContext(registry), ExpandOptions(max_size=1000))
    assert named.value.message_id == "VALUESET_TOO_COSTLY"
    assert "'http://example.org/vs/all|2'" in str(named.value) and "(>1000)" in str(named.value)
    with pytest.raises(TooCostly) as inline:
        expand(vs, ResourceContext(registry), ExpandOptions(max_size=1000, inline=True))
    assert "'http://example.org/vs/all' expansion" in str(inline.value)
