"""Code system providers and their capabilities: which provider serves a release or a request resource, and what
each terminology answers its own way (CIM-10 spelling, SNOMED CT grammar, ECL, dialects, search index).

Stored releases are loaded from the real files (the bundled CIM-10 and CISP-2 samples, the SNOMED CT subset of
the HL7 tests); request code systems are built from FHIR CodeSystem resources.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders import run_loader
from smt.codesystems.cim10 import MemoryCim10, StoredCim10
from smt.codesystems.factory import memory_provider, provider_class, stored_provider
from smt.codesystems.memory import MemoryCodeSystem
from smt.codesystems.provider import CodeSystemProvider
from smt.codesystems.snomed.provider import MemorySnomed, StoredSnomed
from smt.codesystems.stored import StoredCodeSystem
from smt.compile import writable_store
from smt.config import SAMPLES_DIR, data_dir
from smt.releases.registry import Registry

SUBSET = data_dir() / "snomed-sample" / "hl7-tx-ecosystem-subset-INT-20250909"
SCT_VERSION = "http://snomed.info/xsct/31000003106/version/20250909"
SCT = "http://snomed.info/sct"
CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
CISP2 = "https://smt.esante.gouv.fr/terminologie-cisp"
FSN = "900000000000003001"
HEPATITIS = "128241005"  # Inflammatory disease of liver
FINDING_SITE, ENTIRE_LIVER = "363698007", "181268008"
OPISTHORCHIS = "42463004"
DISORDER = "64572001"  # Disease (disorder)
NO_EXPRESSIONS = [{"property": "expressions", "op": "=", "value": "false"}]

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not SUBSET.is_dir(), reason="SNOMED CT subset not under SMT_DATA_DIR"),
]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    home: Path = tmp_path_factory.mktemp("providers-home")
    store = writable_store(home)
    for release in [*run_loader("cim10", SAMPLES_DIR / "cim10"), *run_loader("cisp2", SAMPLES_DIR / "cisp2"),
                    *run_loader("snomed", SUBSET, version=SCT_VERSION)]:
        store.load(release)
    return Registry(home)


def stored(registry: Registry, system: str) -> StoredCodeSystem:
    return stored_provider(registry, registry.resolve(system))


@pytest.fixture(scope="module")
def snomed(registry: Registry) -> StoredSnomed:
    provider = stored(registry, SCT)
    assert isinstance(provider, StoredSnomed)
    return provider


@pytest.fixture(scope="module")
def cim10(registry: Registry) -> StoredCodeSystem:
    return stored(registry, CIM10)


def code_system(url: str, *codes: str, **fields: object) -> dict:
    """A FHIR CodeSystem resource as a request gives it (``tx-resource``)."""
    return {"resourceType": "CodeSystem", "url": url, "version": "1", "status": "active", "content": "complete",
            "concept": [{"code": c, "display": f"Concept {c}"} for c in codes], **fields}


# -- which provider ---------------------------------------------------------------------------------------------


def test_the_catalogue_names_the_provider_of_a_stored_release(registry: Registry, snomed: StoredSnomed) -> None:
    assert isinstance(stored(registry, CIM10), StoredCim10)
    plain = stored(registry, CISP2)
    assert type(plain) is StoredCodeSystem and plain.is_shared
    assert stored(registry, SCT) is snomed  # one provider per release, shared


def test_a_provider_goes_with_its_release(tmp_path: Path) -> None:
    store = writable_store(tmp_path)
    info = store.load(run_loader("cisp2", SAMPLES_DIR / "cisp2")[0])
    registry = Registry(tmp_path)
    provider = stored_provider(registry, registry.resolve(CISP2))
    assert provider.concept("A01") is not None
    store.remove(info.id)
    assert registry.releases() == []
    again = store.load(run_loader("cisp2", SAMPLES_DIR / "cisp2")[0])
    assert stored_provider(registry, registry.resolve(CISP2)) is not provider
    assert again.id != info.id  # a new release id per load


def test_class_capabilities_answer_for_any_spelling_of_a_system() -> None:
    assert provider_class("http://hl7.org/fhir/sid/icd-10-fr").normalise_code("e119") == "E11.9"  # an alias
    assert provider_class(CIM10 + "/").normalise_code("B24+0") == "B24.+0"
    assert provider_class("urn:oid:2.16.840.1.113883.6.96").implicit_value_set(  # SNOMED CT's OID
        "http://snomed.info/sct?fhir_vs") is not None
    assert provider_class(CISP2) is CodeSystemProvider
    assert provider_class("http://example.org/unknown").normalise_code("e119") == "e119"


def test_a_request_code_system_gets_its_terminologys_rules() -> None:
    plain = memory_provider(code_system("http://example.org/cs", "a", status="draft"))
    assert type(plain) is MemoryCodeSystem and not plain.is_shared and plain.meta["standing"] == "draft"
    cim10 = memory_provider(code_system(CIM10, "E11.9"))
    assert isinstance(cim10, MemoryCim10) and cim10.find("e119").code == "E11.9"
    fragment = memory_provider(code_system(SCT, HEPATITIS, content="fragment"))
    assert isinstance(fragment, MemorySnomed)
    assert not fragment.is_closed([]) and fragment.ecl_ids(f"<< {HEPATITIS}") is None


# -- CIM-10 -----------------------------------------------------------------------------------------------------


def test_cim10_accepts_undotted_codes_in_any_case(cim10: StoredCodeSystem) -> None:
    assert cim10.find("E1100").code == "E11.00" and cim10.find("e11.00").code == "E11.00"
    assert cim10.find("E1100", normalise=False) is None
    assert cim10.lookup("b24+0").code == "B24.+0"
    assert cim10.lookup("Z999") is None


# -- stored releases ------------------------------------------------------------------------------------------


def test_a_stored_release_filters_text_with_its_search_index(cim10: StoredCodeSystem) -> None:
    found = cim10.text_matches("diabete type 2")
    assert found is not None and {c.code for c in cim10.concepts(sorted(found))} >= {"E11", "E11.0", "E11.00"}
    assert cim10.text_matches("---") is None  # no word the index searches: the caller scans
    assert memory_provider(code_system("http://example.org/cs", "a")).text_matches("a") is None


def test_retired_designations_and_hierarchy_kind(snomed: StoredSnomed, cim10: StoredCodeSystem) -> None:
    assert (snomed.retired_designation_status, cim10.retired_designation_status) == ("inactive", "inactive")
    assert memory_provider(code_system("http://example.org/cs", "a")).retired_designation_status == "deprecated"
    assert snomed.multi_hierarchy and not cim10.multi_hierarchy
    concept = snomed.concept(OPISTHORCHIS)
    assert len(snomed.designations(concept, include_inactive=True)) >= len(snomed.designations(concept))


# -- SNOMED CT ----------------------------------------------------------------------------------------------------


def test_snomed_has_a_grammar_unless_expressions_are_excluded(snomed: StoredSnomed, cim10: StoredCodeSystem) -> None:
    assert not snomed.is_closed([]) and snomed.is_closed(NO_EXPRESSIONS)
    assert cim10.is_closed([])


def test_snomed_expressions_listed_checked_and_members(snomed: StoredSnomed, cim10: StoredCodeSystem) -> None:
    expression = f"{HEPATITIS}:{{{FINDING_SITE}={ENTIRE_LIVER}}}"
    record = snomed.listed_expression(expression, -1)
    assert record is not None and record.id == -1 and record.display == (
        "128241005|Inflammatory disease of liver|:{363698007|Finding site|=181268008|Entire liver|}")
    assert snomed.listed_expression(f"{HEPATITIS}:{{{FINDING_SITE}=99999999999}}", -2) is None
    assert cim10.listed_expression(expression, -1) is None
    check = snomed.check_expression(expression, None)
    assert check is not None and check.problem is None and check.display == record.display and "MRCM" in check.note
    assert snomed.check_expression(f"{HEPATITIS}:{{{FINDING_SITE}=99999999999}}", None).problem == (
        "Concept 99999999999 not found")
    assert snomed.check_expression(HEPATITIS, None) is None and cim10.check_expression(expression, None) is None
    under_disorders = [{"system": SCT, "filter": [{"property": "concept", "op": "is-a", "value": DISORDER}]}]
    assert snomed.expression_member(under_disorders, expression)
    assert snomed.expression_member([{"system": SCT, "filter": [
        {"property": "constraint", "op": "=", "value": f"<< {DISORDER}"}]}], expression)
    assert not snomed.expression_member([{"system": SCT, "concept": [{"code": HEPATITIS}]}], expression)


def test_snomed_evaluates_ecl_and_subsumes_expressions(snomed: StoredSnomed) -> None:
    below = snomed.ecl_ids(f"<< {HEPATITIS}")
    assert below is not None and snomed.concept(HEPATITIS).id in below
    hepatitis = snomed.concept(HEPATITIS)
    refined = f"{HEPATITIS}:{{{FINDING_SITE}={ENTIRE_LIVER}}}"
    assert snomed.expression_subsumes(HEPATITIS, refined, hepatitis, None) == "subsumes"
    assert snomed.subsumption(hepatitis, hepatitis) == "equivalent"


def test_snomed_terms_dialects_and_lookup(snomed: StoredSnomed) -> None:
    concept = snomed.concept(OPISTHORCHIS)
    designations = snomed.designations(concept)
    preferred = snomed.dialect_preferred(designations, "en-us")
    assert preferred is not None and preferred.value == "Opisthorchis" and preferred.use.code != FSN
    shown = snomed.expansion_designations(designations)
    assert [d.value for d in shown] == ["Genus Opisthorchis (organism)", "Opisthorchis"]
    assert snomed.preferred_display(concept, designations, "en-US")[0] == "Opisthorchis"
    result = snomed.lookup(OPISTHORCHIS, ["normalForm"])
    assert result is not None and result.name == f"{SCT}|{SCT_VERSION}" and [p.code for p in result.properties] == [
        "normalForm"]
    assert snomed.lookup("99999999999") is None
