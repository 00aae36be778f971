"""SNOMED CT implicit value set URLs and ECL compose filters outside a stored SNOMED CT release."""

from __future__ import annotations

import pytest

from smt.codesystems.memory import MemoryCodeSystem
from smt.codesystems.snomed.implicit_vs import implicit_focus, implicit_value_set, is_implicit
from smt.errors import InvalidFilter
from smt.terminology.expand.filters import ecl_filter_ids
from tests.factories import make_release


def test_all_of_snomed_has_no_filter() -> None:
    vs = implicit_value_set("http://snomed.info/sct?fhir_vs")
    assert vs is not None and vs["name"] == "ALLSNOMEDCT"
    assert vs["compose"]["include"] == [{"system": "http://snomed.info/sct"}]


@pytest.mark.parametrize(("suffix", "flt"), [
    ("isa/71388002", {"property": "concept", "op": "is-a", "value": "71388002"}),
    ("refset/734139008", {"property": "constraint", "op": "=", "value": "^ 734139008"}),
    ("ecl/%3C%3C%2010200004", {"property": "constraint", "op": "=", "value": "<< 10200004"}),
])
def test_filtered_implicit_value_sets(suffix: str, flt: dict) -> None:
    vs = implicit_value_set(f"http://snomed.info/sct?fhir_vs={suffix}")
    assert vs is not None and vs["compose"]["include"][0]["filter"] == [flt]


def test_focus_and_other_urls() -> None:
    assert implicit_focus(implicit_value_set("http://snomed.info/sct?fhir_vs=isa/123") or {}) == "123"
    assert implicit_focus(implicit_value_set("http://snomed.info/sct?fhir_vs=ecl/*") or {}) is None
    assert not is_implicit("http://loinc.org/vs")
    assert implicit_value_set("http://snomed.info/sct?fhir_vs=other/1") is None


def test_ecl_filter_needs_a_stored_release() -> None:
    with pytest.raises(InvalidFilter, match="ECL"):
        ecl_filter_ids(MemoryCodeSystem(make_release()), "=", "<< 1")


def test_ecl_filter_needs_the_equals_operator() -> None:
    with pytest.raises(InvalidFilter, match="'is-a'"):
        ecl_filter_ids(MemoryCodeSystem(make_release()), "is-a", "<< 1")
