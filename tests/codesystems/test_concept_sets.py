"""Set-based evaluation: compose filters as sets of concept ids (``smt.index.sets``), compiled and cached sets,
batched reads of a page, and the ordered member parts an expansion is paged from.

The sets are checked against the concept-by-concept definition of each filter (``filter_test``, the membership
path of ``$validate-code``) and against the closure and concept tables, on the SNOMED CT subset of the HL7 tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders import run_loader
from smt.codesystems.factory import stored_provider
from smt.codesystems.snomed.provider import StoredSnomed
from smt.compile import writable_store
from smt.config import data_dir
from smt.index.sets import FrozenBitMap, SetCache
from smt.releases.registry import Registry
from smt.terminology.expand.filters import filter_ids, filter_test
from smt.terminology.expand.members import Members, Part

SUBSET = data_dir() / "snomed-sample" / "hl7-tx-ecosystem-subset-INT-20250909"
SCT_VERSION = "http://snomed.info/xsct/31000003106/version/20250909"
SCT = "http://snomed.info/sct"
HEPATITIS = "128241005"  # Inflammatory disease of liver
DISORDER = "64572001"  # Disease (disorder)
FINDING_SITE, ENTIRE_LIVER, LIVER_STRUCTURE = "363698007", "181268008", "10200004"
ASSOCIATED_MORPHOLOGY, INFLAMMATION = "116676008", "23583003"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not SUBSET.is_dir(), reason="SNOMED CT subset not under SMT_DATA_DIR"),
]

FILTERS = [
    ("concept", "is-a", HEPATITIS),
    ("concept", "descendent-of", DISORDER),
    ("concept", "is-not-a", DISORDER),
    ("concept", "descendent-leaf", DISORDER),
    ("concept", "generalizes", HEPATITIS),
    ("concept", "in", f"{HEPATITIS},{DISORDER},0"),
    ("concept", "not-in", HEPATITIS),
    (FINDING_SITE, "=", ENTIRE_LIVER),
    (FINDING_SITE, "in", f"{ENTIRE_LIVER},{LIVER_STRUCTURE}"),
    (FINDING_SITE, "not-in", ENTIRE_LIVER),
    (FINDING_SITE, "exists", "true"),
    (FINDING_SITE, "exists", "false"),
    (FINDING_SITE, "is-a", LIVER_STRUCTURE),
    (ASSOCIATED_MORPHOLOGY, "regex", "2358.*"),
    ("parent", "=", HEPATITIS),
    ("child", "exists", "false"),
    ("inactive", "=", "true"),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home: Path = tmp_path_factory.mktemp("sets-home")
    writable_store(home).load(run_loader("snomed", SUBSET, version=SCT_VERSION)[0])
    return home


@pytest.fixture(scope="module")
def snomed(home: Path) -> StoredSnomed:
    registry = Registry(home)
    provider = stored_provider(registry, registry.resolve(SCT))
    assert isinstance(provider, StoredSnomed)
    return provider


def _flt(prop: str, op: str, value: str) -> dict:
    return {"property": prop, "op": op, "value": value}


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: " ".join(f))
def test_a_filter_set_is_what_the_filter_selects_concept_by_concept(flt: tuple[str, str, str],
                                                                    snomed: StoredSnomed) -> None:
    selected = filter_ids(snomed, _flt(*flt))
    test = filter_test(snomed, _flt(*flt))
    assert set(selected) == {c.id for c in snomed.concepts() if test(c)}


def test_the_attribute_filter_finds_the_concepts_of_the_release(snomed: StoredSnomed) -> None:
    hits = filter_ids(snomed, _flt(FINDING_SITE, "=", ENTIRE_LIVER))
    assert len(hits) > 3  # a real answer: the comparisons above are not between empty sets
    for concept in snomed.concepts(list(hits)):
        assert any(p.code == FINDING_SITE and p.value == ENTIRE_LIVER for p in snomed.properties(concept))
        parent = snomed.parents(concept)[0]
        both = filter_ids(snomed, _flt("concept", "is-a", parent.code)) & hits
        assert concept.id in both


def test_compiled_sets_match_the_concept_and_closure_tables(snomed: StoredSnomed) -> None:
    concepts = list(snomed.concepts())
    assert set(snomed.concept_set("active")) == {c.id for c in concepts if c.active}
    assert set(snomed.concept_set("leaf")) == {c.id for c in concepts if c.leaf}
    assert set(snomed.concept_set("abstract")) == {c.id for c in concepts if c.abstract}
    assert set(snomed.all_set()) == {c.id for c in concepts}
    disorder = snomed.concept(DISORDER)
    assert set(snomed.descendant_set(disorder)) == set(snomed.descendant_ids(disorder)) != set()


def test_a_page_is_read_in_one_query_per_kind_like_one_concept_at_a_time(snomed: StoredSnomed) -> None:
    page = list(snomed.concepts(sorted(filter_ids(snomed, _flt("concept", "is-a", HEPATITIS)))))
    designations = snomed.designations_of(page)
    properties = snomed.properties_of(page)
    shown = snomed.properties_of(page, ["status", FINDING_SITE, "no-such-property"])
    assert any(designations.values()) and any(shown.values())
    for concept in page:
        assert designations.get(concept.id, []) == snomed.designations(concept)
        assert properties.get(concept.id, []) == snomed.properties(concept)
        assert shown.get(concept.id, []) == [p for p in snomed.properties(concept)
                                             if p.code in ("status", FINDING_SITE)]


def test_derived_sets_are_cached_per_release_within_a_byte_budget() -> None:
    cache = SetCache(budget=3000)
    calls: list[int] = []

    def build(n: int) -> range:
        calls.append(n)
        return range(n * 1000, n * 1000 + 500)  # 500 ids: about 1 kB each

    first = cache.get("a", lambda: build(1))
    assert cache.get("a", lambda: build(99)) is first and calls == [1]  # kept, shared
    cache.get("b", lambda: build(2))
    cache.peek("a")  # "a" used more recently than "b"
    cache.get("c", lambda: build(3))
    assert cache.used <= cache.budget and len(cache) == 2
    assert cache.peek("b") is None and cache.peek("a") is first  # the least recently used one went
    assert isinstance(first, FrozenBitMap) and list(first[:3]) == [1000, 1001, 1002]
    huge = cache.get("huge", lambda: range(0, 1 << 20, 2))  # over the budget on its own: answered, not kept
    assert len(huge) == 1 << 19 and cache.peek("huge") is None


def test_members_keep_include_order_drop_repeats_and_page_by_rank() -> None:
    cs, other = ("http://example.org/cs", "1"), ("http://example.org/other", None)
    listed = Part.of_list(cs, [9, 2, -1, 5])  # listed order, an expression (negative id) among them
    members = Members.concatenated([Members([listed]), Members([Part(other, FrozenBitMap([4, 1]))]),
                                    Members([Part(cs, FrozenBitMap([1, 2, 3, 9]))])])
    keys = [(cs[0], cs[1], i) for i in (9, 2, -1, 5)] + [(other[0], None, 1), (other[0], None, 4)] + [
        (cs[0], cs[1], i) for i in (1, 3)]
    assert members.keys() == keys and len(members) == len(keys)
    assert [members.page(start, start + 3) for start in range(0, 9, 3)] == [keys[0:3], keys[3:6], keys[6:9]]
    assert members.page(7, 100) == keys[7:] and members.page(20, 30) == []
    removed = members.without(Members([Part.of_list(cs, [2, -1]), Part(other, FrozenBitMap([4]))]))
    assert removed.keys() == [k for k in keys if k not in {(cs[0], cs[1], 2), (cs[0], cs[1], -1),
                                                           (other[0], None, 4)}]
    kept = members.within(Members([Part(cs, FrozenBitMap([3, 5, 9]))]))
    assert kept.keys() == [(cs[0], cs[1], 9), (cs[0], cs[1], 5), (cs[0], cs[1], 3)]
