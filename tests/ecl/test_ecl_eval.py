"""ECL evaluator on the real SNOMED CT International subset (HL7 tx-ecosystem, 20250909), loaded with the SNOMED
loader into a fresh store. Expected sets come from the HL7 ``sct-ecl`` suite (read from the data folder at test
time), from the RF2 rows, or from the index reader's own per-concept methods."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import orjson
import pytest

from loaders import run_loader
from smt.compile import writable_store
from smt.config import data_dir
from smt.ecl import EclError, EclSyntaxError, EclUnknownConcept, EclUnsupported, evaluate, parse
from smt.ecl.index_backend import IndexBackend, backend_for
from smt.index.reader import CodeSystemIndex
from smt.releases.registry import Registry

SUBSET = data_dir() / "snomed-sample" / "hl7-tx-ecosystem-subset-INT-20250909"
SUITE = data_dir() / "fhir-tx-tests" / "hl7-tx-ecosystem-ig" / "tests"
VERSION = "http://snomed.info/xsct/31000003106/version/20250909"
SCT = "http://snomed.info/sct"
Ecl = Callable[[str], set[str]]

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not SUBSET.is_dir(), reason="SNOMED CT subset not under SMT_DATA_DIR"),
]


# -- the HL7 sct-ecl suite ------------------------------------------------------------------------------------

def suite_cases(operation: str) -> list[tuple[str, dict, dict]]:
    """(name, request, expected response) of the ``sct-ecl`` tests of one operation."""
    manifest = SUITE / "test-cases.json"
    if not manifest.is_file():
        return []
    suites = orjson.loads(manifest.read_bytes())["suites"]
    tests = next((s["tests"] for s in suites if s["name"] == "sct-ecl"), [])
    return [(t["name"], orjson.loads((SUITE / t["request"]).read_bytes()),
             orjson.loads((SUITE / t["response"]).read_bytes()))
            for t in tests if t["operation"] == operation]


def parameters(request: dict) -> dict[str, dict]:
    return {p["name"]: p for p in request["parameter"]}


def constraint(request: dict) -> str:
    (include,) = parameters(request)["valueSet"]["resource"]["compose"]["include"]
    (rule,) = [f for f in include["filter"] if f["property"] == "constraint"]
    assert rule["op"] == "="
    return rule["value"]


EXPANSIONS = suite_cases("expand")
CODE_CHECKS = [case for case in suite_cases("validate-code")
               if parameters(case[1]).get("code", {}).get("valueCode", "").isdigit()]
"""validate-code tests of a plain code (those of post-coordinated expressions are not ECL evaluation)."""


# -- fixtures ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> CodeSystemIndex:
    home = tmp_path_factory.mktemp("sct-ecl-home")
    store = writable_store(home)
    for release in run_loader("snomed", SUBSET, version=VERSION):
        store.load(release)
    return Registry(home).code_system(SCT)


@pytest.fixture(scope="module")
def backend(index: CodeSystemIndex) -> IndexBackend:
    shared = backend_for(index)
    assert backend_for(index) is shared
    return shared


@pytest.fixture(scope="module")
def ecl(index: CodeSystemIndex, backend: IndexBackend) -> Ecl:
    """Evaluate an expression to the set of SCTIDs it selects."""
    def run(expression: str) -> set[str]:
        return {concept.code for concept in index.concepts(sorted(evaluate(expression, backend)))}
    return run


def cid(index: CodeSystemIndex, code: str) -> int:
    concept = index.concept(code)
    assert concept is not None, code
    return concept.id


def codes(index: CodeSystemIndex, ids: set[int]) -> set[str]:
    return {concept.code for concept in index.concepts(sorted(ids))}


def descendants(index: CodeSystemIndex, code: str) -> set[int]:
    return set(index.descendant_ids(index.concept(code)))  # type: ignore[arg-type]


def attributes(index: CodeSystemIndex, concept_id: int) -> list:
    """Inferred attribute relationships of a concept (is-a left out)."""
    is_a = cid(index, "116680003")
    return [r for r in index.relationships_of(concept_id) if r.type != is_a]


# -- HL7 expectations -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "request_", "expected"), EXPANSIONS, ids=[c[0] for c in EXPANSIONS])
def test_hl7_sct_ecl_expansions(name: str, request_: dict, expected: dict, backend: IndexBackend,
                                index: CodeSystemIndex) -> None:
    expression = constraint(request_)
    if expected["resourceType"] == "OperationOutcome":
        with pytest.raises(EclError) as caught:
            evaluate(expression, backend)
        assert caught.value.position is not None  # the error can name where the expression is wrong
        return
    wanted = {c["code"] for c in expected["expansion"].get("contains", [])}
    assert len(wanted) == expected["expansion"]["total"]
    assert codes(index, evaluate(expression, backend)) == wanted


def test_hl7_suite_covers_the_ecl_features() -> None:
    assert len(EXPANSIONS) >= 15
    assert len(CODE_CHECKS) >= 15


@pytest.mark.parametrize(("name", "request_", "expected"), CODE_CHECKS, ids=[c[0] for c in CODE_CHECKS])
def test_hl7_sct_ecl_code_membership(name: str, request_: dict, expected: dict, backend: IndexBackend,
                                     index: CodeSystemIndex) -> None:
    code = parameters(request_)["code"]["valueCode"]
    result = next(p["valueBoolean"] for p in expected["parameter"] if p["name"] == "result")
    assert (cid(index, code) in evaluate(constraint(request_), backend)) is result


def test_hl7_error_cases_name_their_problem(backend: IndexBackend) -> None:
    with pytest.raises(EclSyntaxError) as syntax:
        evaluate("<< 128045006 OR << 10200004 AND << 64572001", backend)
    assert syntax.value.position == 28
    with pytest.raises(EclSyntaxError) as missing:
        evaluate("<<", backend)
    assert missing.value.position == 2
    with pytest.raises(EclUnknownConcept) as unknown:
        evaluate("< 99999999", backend)
    assert unknown.value.concept_id == "99999999" and unknown.value.position == 2


# -- hierarchy ----------------------------------------------------------------------------------------------

def test_hierarchy_operators_match_the_index(index: CodeSystemIndex, backend: IndexBackend) -> None:
    liver = index.concept("10200004")
    assert liver is not None
    below = set(index.descendant_ids(liver))
    above = set(index.ancestor_ids(liver))
    children = {c.id for c in index.children(liver)}
    parents = {c.id for c in index.parents(liver)}
    assert evaluate("< 10200004", backend) == below
    assert evaluate("<< 10200004", backend) == below | {liver.id}
    assert evaluate("<! 10200004", backend) == children
    assert evaluate("<<! 10200004", backend) == children | {liver.id}
    assert evaluate("> 10200004", backend) == above
    assert evaluate(">> 10200004", backend) == above | {liver.id}
    assert evaluate(">! 10200004", backend) == parents
    assert evaluate(">>! 10200004", backend) == parents | {liver.id}
    assert evaluate("< (10200004 OR 64572001)", backend) == below | descendants(index, "64572001")


def test_wildcard_with_operators(index: CodeSystemIndex, backend: IndexBackend) -> None:
    everything = evaluate("*", backend)
    root = cid(index, "138875005")
    assert evaluate("<< *", backend) == everything
    assert evaluate("< *", backend) == everything - {root}
    assert evaluate("!!> *", backend) == {root}
    leaves = {c.id for c in index.concepts(sorted(everything)) if c.leaf}
    assert evaluate("!!< *", backend) == leaves
    assert evaluate("* MINUS << 10200004", backend) == everything - evaluate("<< 10200004", backend)


def test_top_and_bottom(ecl: Ecl) -> None:
    assert ecl("!!> (<< 10200004)") == {"10200004"}
    assert ecl("!!> (<< 10200004 OR << 64572001)") == {"10200004", "64572001"}
    bottom = ecl("!!< (<< 10200004)")
    assert bottom and bottom == {c for c in ecl("<< 10200004") if not ecl(f"< {c}")}


def test_compounds_and_nesting(ecl: Ecl) -> None:
    liver = ecl("<< 10200004")
    assert ecl("<< 10200004 AND << 10200004") == liver
    assert ecl("<< 10200004, (<< 10200004 OR << 64572001)") == liver
    assert ecl("(<< 10200004 MINUS < 10200004) OR (<! 10200004 MINUS <! 10200004)") == {"10200004"}
    assert ecl("<< 10200004 |Liver structure| /* the whole liver */") == liver


# -- refinements ----------------------------------------------------------------------------------------------

def test_attribute_refinement(index: CodeSystemIndex, ecl: Ecl) -> None:
    site = cid(index, "363698007")
    liver = {cid(index, c) for c in ecl("<< 10200004")}
    expected = descendants(index, "64572001") & index.sources_with(site, liver)
    assert expected and ecl("< 64572001 : 363698007 = << 10200004") == codes(index, expected)


def test_dotted_attribute(index: CodeSystemIndex, ecl: Ecl) -> None:
    expected = index.destinations_of(cid(index, "363698007"), descendants(index, "64572001"))
    assert ecl("< 64572001 . 363698007") == codes(index, expected)
    assert ecl("< 64572001 . 363698007 . 272741003") == codes(
        index, index.destinations_of(cid(index, "272741003"), expected))


def test_reverse_attribute(index: CodeSystemIndex, ecl: Ecl) -> None:
    fractures = {cid(index, c) for c in ecl("< 64572001 : 116676008 = 20946005")}
    expected = index.destinations_of(cid(index, "363698007"), fractures)
    assert expected
    assert ecl("* : R 363698007 = (< 64572001 : 116676008 = 20946005)") == codes(index, expected)


def test_cardinality(index: CodeSystemIndex, ecl: Ecl) -> None:
    site = cid(index, "363698007")
    diseases = descendants(index, "64572001")
    counts = {c: sum(r.type == site for r in attributes(index, c)) for c in diseases}
    assert ecl("< 64572001 : [0..0] 363698007 = *") == codes(index, {c for c, n in counts.items() if n == 0})
    assert ecl("< 64572001 : [2..*] 363698007 = *") == codes(index, {c for c, n in counts.items() if n >= 2})
    assert ecl("< 64572001 : [0..1] 363698007 = *") == codes(index, {c for c, n in counts.items() if n <= 1})
    assert ecl("< 64572001 : [0..*] 363698007 = *") == codes(index, diseases)


def test_not_equal_value(index: CodeSystemIndex, ecl: Ecl) -> None:
    morphology, closed = cid(index, "116676008"), cid(index, "20946005")
    expected = {c for c in descendants(index, "64572001")
                if any(r.type == morphology and r.destination != closed for r in attributes(index, c))}
    assert expected and ecl("< 64572001 : 116676008 != 20946005") == codes(index, expected)


def test_any_attribute(index: CodeSystemIndex, ecl: Ecl) -> None:
    liver = cid(index, "10200004")
    expected = {c for c in descendants(index, "64572001")
                if any(r.destination == liver for r in attributes(index, c))}
    assert expected and ecl("< 64572001 : * = 10200004") == codes(index, expected)


def test_attribute_groups(index: CodeSystemIndex, ecl: Ecl) -> None:
    site, morphology = cid(index, "363698007"), cid(index, "116676008")
    liver = {cid(index, c) for c in ecl("<< 10200004")}
    together, apart = set(), set()
    for concept in descendants(index, "64572001"):
        kinds: dict[int, set[str]] = {}
        for r in attributes(index, concept):
            if r.type == site and r.destination in liver:
                kinds.setdefault(r.group, set()).add("site")
            if r.type == morphology:
                kinds.setdefault(r.group, set()).add("morphology")
        both = {"site", "morphology"}
        if any(group != 0 and found == both for group, found in kinds.items()):
            together.add(concept)
        if both <= set().union(*kinds.values()):
            apart.add(concept)
    assert together and together <= apart
    assert ecl("< 64572001 : { 363698007 = << 10200004, 116676008 = * }") == codes(index, together)
    assert ecl("< 64572001 : 363698007 = << 10200004, 116676008 = *") == codes(index, apart)


def test_group_cardinality(index: CodeSystemIndex, ecl: Ecl) -> None:
    site = cid(index, "363698007")
    per_concept = {c: Counter(r.group for r in attributes(index, c) if r.type == site)
                   for c in descendants(index, "64572001")}
    two_groups = {c for c, groups in per_concept.items() if len(groups) >= 2}
    assert two_groups
    assert ecl("< 64572001 : [2..*] { 363698007 = * }") == codes(index, two_groups)
    assert ecl("< 64572001 : [0..0] { 363698007 = * }") == ecl("< 64572001 : [0..0] 363698007 = *")


def test_refinement_disjunction_and_brackets(ecl: Ecl) -> None:
    either = ecl("< 64572001 : 363698007 = << 10200004 OR 116676008 = 20946005")
    assert either == ecl("< 64572001 : 363698007 = << 10200004") | ecl("< 64572001 : 116676008 = 20946005")
    assert ecl("< 64572001 : (363698007 = << 10200004 OR 116676008 = 20946005)") == either


def test_concrete_values(ecl: Ecl) -> None:
    # RF2 concrete values of the subset: 329238006 has strength 4000 (1142135004) in group 1 with a count of 1
    # (1142136003); four products have a count of base of 1 (1142139005) in group 0.
    assert ecl("* : 1142135004 = #4000") == {"329238006"}
    assert ecl("* : 1142135004 > #3999.5") == {"329238006"}
    assert ecl("* : 1142135004 < #4000") == set()
    assert ecl("* : 1142139005 = #1") == {"329238006", "776168003", "779430005", "1204474000"}
    assert ecl("* : 1142139005 != #1") == set()
    assert ecl("* : { 1142135004 = #4000, 1142136003 = #1 }") == {"329238006"}
    assert ecl("* : { 1142135004 = #4000, 1142139005 = #1 }") == set()
    assert ecl("* : 1142139005 = *") == {"329238006", "776168003", "779430005", "1204474000"}


# -- reference sets and history ---------------------------------------------------------------------------------

def test_member_of(index: CodeSystemIndex, ecl: Ecl) -> None:
    anatomy = codes(index, index.refset_concept_ids("734139008"))
    assert anatomy and ecl("^ 734139008") == anatomy
    assert ecl("<< ^ 734139008") >= anatomy
    assert ecl("^ 10200004") == set()  # not a reference set


def test_member_filters_and_fields(ecl: Ecl) -> None:
    # der2_cRefset_Association: 10200004 → 119216005 in refset 734139008
    assert ecl("^ 734139008 {{ M targetComponentId = 119216005 }}") == {"10200004"}
    assert ecl("^ [targetComponentId] 734139008 {{ M referencedComponentId = 10200004 }}") == {"119216005"}
    ungrouped = ecl('^ 723561005 {{ M grouped = "0" }}')
    assert "272741003" in ungrouped and "363698007" not in ungrouped
    assert ecl("^ 723561005 {{ M domainId = << 373873005 }}") >= {"1142135004", "127489000"}


def test_history_supplements(ecl: Ecl) -> None:
    # der2_cRefset_Association: 307530000 (inactive) REPLACED BY 74400008
    assert ecl("74400008") == {"74400008"}
    assert ecl("74400008 {{ +HISTORY }}") == {"74400008", "307530000"}
    assert ecl("74400008 {{ +HISTORY-MOD }}") == {"74400008", "307530000"}
    assert ecl("74400008 {{ +HISTORY-MIN }}") == {"74400008"}  # SAME AS only
    assert ecl("74400008 {{ +HISTORY (900000000000526001) }}") == {"74400008", "307530000"}


# -- filters --------------------------------------------------------------------------------------------------

def self_and_below(index: CodeSystemIndex, code: str) -> list[int]:
    return sorted(descendants(index, code) | {cid(index, code)})


def test_term_filters(index: CodeSystemIndex, ecl: Ecl) -> None:
    def having(test: Callable[[str], bool]) -> set[str]:
        return {c.code for c in index.concepts(self_and_below(index, "10200004"))
                if any(test(d.value.lower()) for d in index.designations(c))}
    def words(text: str) -> list[str]:
        return text.replace(",", " ").replace("(", " ").replace(")", " ").split()
    caudate = having(lambda t: any(w.startswith("caud") for w in words(t)) and any(
        w.startswith("lob") for w in words(t)))
    assert caudate and ecl('<< 10200004 {{ term = "lob caud" }}') == caudate
    ducts = having(lambda t: "hepatic duct" in t)
    assert ducts and ecl('<< 10200004 {{ term = wild:"*hepatic duct*" }}') == ducts
    assert ecl('<< 10200004 {{ term = ("lob caud" wild:"*hepatic duct*") }}') == caudate | ducts
    assert ecl('<< 10200004 {{ term = "lob caud" }} {{ term = wild:"*hepatic duct*" }}') == caudate & ducts


def test_language_type_and_dialect_filters(index: CodeSystemIndex, ecl: Ecl) -> None:
    liver = ecl("<< 10200004")
    assert ecl("<< 10200004 {{ language = en }}") == liver
    assert ecl("<< 10200004 {{ language = fr }}") == set()
    assert ecl("<< 10200004 {{ type = fsn }}") == liver
    defined = {c.code for c in index.concepts(self_and_below(index, "64572001"))
               if any(d.use is not None and d.use.code == "900000000000550004" for d in index.designations(c))}
    assert defined and ecl("<< 64572001 {{ type = def }}") == defined
    gb_only = {c.code for c in index.concepts(self_and_below(index, "10200004"))
               if any(("en-GB", "preferred") in d.acceptability and ("en-US", "preferred") not in d.acceptability
                      for d in index.designations(c))}
    assert gb_only
    assert ecl("<< 10200004 {{ dialect = en-gb (prefer), dialect != en-us (prefer) }}") == gb_only
    assert ecl("<< 10200004 {{ dialectId = 900000000000508004 (900000000000548007), "
               "dialectId != 900000000000509007 (prefer) }}") == gb_only


def test_description_active_and_id_filters(index: CodeSystemIndex, ecl: Ecl) -> None:
    with_inactive = {c.code for c in index.concepts(self_and_below(index, "10200004"))
                     if any(not d.active for d in index.designations(c, include_inactive=True))}
    assert with_inactive and ecl("<< 10200004 {{ D active = false }}") == with_inactive
    liver = index.concept("10200004")
    some = index.designations(liver)[0]  # type: ignore[arg-type]
    assert ecl(f"<< 10200004 {{{{ id = {some.id} }}}}") == {"10200004"}


def test_concept_filters(index: CodeSystemIndex, ecl: Ecl) -> None:
    def where(test: Callable[[dict], bool]) -> set[str]:
        return {c.code for c in index.concepts(sorted(evaluate("*", IndexBackend(index))))
                if test({p.code: p.value for p in index.properties(c)})}
    defined = where(lambda p: p.get("sufficientlyDefined") is True)
    assert defined and ecl("* {{ C definitionStatus = defined }}") == defined
    assert ecl("* {{ C definitionStatusId = 900000000000074008 }}") == ecl("*") - defined
    metadata = where(lambda p: p.get("moduleId") == "900000000000012004")
    assert metadata and ecl("* {{ C moduleId = 900000000000012004 }}") == metadata
    recent = where(lambda p: str(p.get("effectiveTime")) >= "2025-01-01")
    assert recent and ecl('* {{ C effectiveTime >= "20250101" }}') == recent
    assert ecl("(307530000 OR 74400008) {{ C active = 0 }}") == {"307530000"}
    assert ecl("(307530000 OR 74400008) {{ C active = true }}") == {"74400008"}


# -- API -----------------------------------------------------------------------------------------------------

def test_evaluate_takes_a_parsed_expression(backend: IndexBackend) -> None:
    tree = parse("<< 10200004")
    assert evaluate(tree, backend) == evaluate("<< 10200004", backend)


def test_unsupported_features_say_so(backend: IndexBackend) -> None:
    with pytest.raises(EclUnsupported):
        evaluate("LOINC#54486-6", backend)
    with pytest.raises(EclUnsupported, match="moduleId"):  # the index records no module for descriptions
        evaluate("<< 10200004 {{ D moduleId = 900000000000207008 }}", backend)


def test_unknown_concept_in_refinement_names_its_position(backend: IndexBackend) -> None:
    with pytest.raises(EclUnknownConcept) as caught:
        evaluate("< 64572001 : 363698007 = 1234567", backend)
    assert caught.value.position == 25

