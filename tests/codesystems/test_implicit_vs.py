"""SNOMED CT implicit value set URLs and ECL compose filters outside a stored SNOMED CT release."""

from __future__ import annotations

import pytest

from smt.codesystems.factory import implicit_membership_is_cheap
from smt.codesystems.memory import MemoryCodeSystem
from smt.codesystems.snomed.implicit_vs import cheap_membership, implicit_focus, implicit_value_set, is_implicit
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


@pytest.mark.parametrize(("url", "cheap"), [
    ("http://snomed.info/sct?fhir_vs", True),
    ("http://snomed.info/sct?fhir_vs=isa/71388002", True),
    ("http://snomed.info/sct?fhir_vs=refset/734139008", False),
    ("http://snomed.info/sct?fhir_vs=ecl/%3C%3C%2010200004", False),
    ("http://snomed.info/sct?fhir_vs=bogus", False),
    ("https://smt.esante.gouv.fr/terminologie-cim-10?fhir_vs", False),
])
def test_membership_is_cheap_for_all_of_snomed_and_is_a_only(url: str, cheap: bool) -> None:
    """The terminology says which of its implicit value sets test one code with a concept read and a closure probe
    (the HTTP layer then runs the call on the event loop); reference sets and ECL may build sets."""
    assert cheap_membership(url) is cheap
    assert implicit_membership_is_cheap(url) is cheap
