"""IHE SVS endpoints (ITI-48, ITI-60) over a real store of NOS tables, through the real HTTP app.

Round trip: ANS SVS files loaded with ``smt load nos`` and served by ``/svs/RetrieveValueSet`` give back the
same (code, codeSystem, displayName) triples, in XML valid against the ANS copy of the IHE ``SVS.xsd`` (read
from the shared data folder; its CDA ``datatypes-base.xsd`` include and the W3C ``xml.xsd`` import are served
by small hand-written stand-ins from ``tests/fixtures/nos``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import etree

from fhir_api.app import create_app
from loaders.nos import load
from smt.catalogue.terminologies import load_catalogue
from smt.compile import writable_store
from smt.releases.loader_context import loader_context
from smt.releases.registry import Registry

FIXTURES = Path(__file__).parents[1] / "fixtures" / "nos"
NS = {"svs": "urn:ihe:iti:svs:2008", "env": "http://www.w3.org/2003/05/soap-envelope"}
OID_CHARS = set("0123456789.")
ROUND_TRIP_FILES = [
    "JDV_J19_ModePriseEnCharge_ROR.xml",  # NOS TRE (catalogue)
    "JDV_Age_CISIS.xml",  # CI-SIS terminology + SNOMED CT
    "JDV_AnomalieCroissance_CISIS.xml",  # CIM-10
    "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS.xml",  # TRE_R02 + TRE_A00 (OID known from the stored TRE only)
    "JDV_HL7_AdministrativeGender_CISIS.xml",  # HL7 v3
    "JDV_InvestigationsRealiseesAUNV_CISIS.xml",  # CCAM
    "JDV_J07_XdsTypeCode_CISIS.xml",  # LOINC + a non-OID code system (left out)
    "JDV_CompletudeDispensation_CISIS.xml",  # a code with a trailing space
    "JDV_SecteurActiviteEmployeur_CISIS.xml",  # an OID nothing knows (served back as is)
    "JDV_J163_GlucoseUnits_ENS.xml",  # UCUM
    "JDV_TrousseCCU_CISIS.xml",  # placeholder codes (left out)
]
J19_OID = "1.2.250.1.213.3.4.1"


class _Stubs(etree.Resolver):
    def resolve(self, url: str, pubid: str | None, context: object) -> object:
        if url.endswith("datatypes-base.xsd"):
            return self.resolve_filename(str(FIXTURES / "cda-datatypes-stub.xsd"), context)
        if url.endswith("xml.xsd"):
            return self.resolve_filename(str(FIXTURES / "xml-namespace-stub.xsd"), context)
        return None


@pytest.fixture(scope="module")
def jdv_dir(shared_data: Path) -> Path:
    path = shared_data / "nos-ror" / "svs" / "TestContenuCDA-3-0" / "jeuxDeValeurs"
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="module")
def schema(jdv_dir: Path) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Stubs())
    return etree.XMLSchema(etree.parse(str(jdv_dir / "SVS.xsd"), parser))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, shared_data: Path, jdv_dir: Path) -> Path:
    """A store with two TREs (SVS), R02/R213/J19 (FHIR), the round-trip JDVs (SVS) and two hand-made value sets."""
    home = tmp_path_factory.mktemp("svs-home")
    store, registry = writable_store(home), Registry(home)
    nos = shared_data / "nos-ror"
    tre = nos / "svs" / "TestContenuCDA-2-41" / "jeuxDeValeurs"
    fhir = nos / "fhir-json" / "IG-NOS" / "ig" / "allNos2"
    jdv = tmp_path_factory.mktemp("jdv")
    for name in ROUND_TRIP_FILES:
        shutil.copy(jdv_dir / name, jdv / name)
    sources = [tre / "TRE_A00-ProducteurDocNonPS.xml", tre / "TRE_R02-SecteurActivite.xml",
               fhir / "CodeSystem-TRE-R213-ModePriseEnCharge.json",
               fhir / "ValueSet-JDV-J19-ModePriseEnCharge-ROR.json",
               FIXTURES / "ValueSet-intensional-R02.json", FIXTURES / "ValueSet-intensional-unknown-system.json",
               jdv]
    for source in sources:
        for release in load(source, stored_system_for_oid=loader_context(registry)["stored_system_for_oid"]):
            store.load(release)
    return home


@pytest.fixture(scope="module")
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(home), raise_server_exceptions=False) as test_client:
        yield test_client


def xml(response: httpx.Response, status: int = 200) -> etree._Element:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert "Traceback" not in response.text
    return etree.fromstring(response.content)


def triples(value_set: etree._Element) -> set[tuple[str, str | None, str | None]]:
    return {(c.get("code"), c.get("codeSystem"), c.get("displayName"))
            for c in value_set.iterfind("svs:ConceptList/svs:Concept", NS)}


def source_triples(path: Path) -> set[tuple[str, str, str]]:
    """The concepts of an ANS SVS file that are codes: trimmed, without placeholders or non-OID systems."""
    root = etree.parse(str(path)).getroot()
    found = set()
    for concept in root.iterfind("svs:ValueSet/svs:ConceptList/svs:Concept", NS):
        code, system = concept.get("code", "").strip(), concept.get("codeSystem", "")
        if code and not any(ch.isspace() for ch in code) and system and set(system) <= OID_CHARS:
            found.add((code, system, concept.get("displayName")))
    return found


def fault(response: httpx.Response, status: int) -> tuple[str | None, str]:
    """(IHE subcode, reason) of a SOAP fault answer; the subcode's prefix must be the SVS namespace."""
    root = xml(response, status)
    assert root.tag == "{http://www.w3.org/2003/05/soap-envelope}Envelope"
    value = root.find(".//env:Subcode/env:Value", NS)
    subcode = None
    if value is not None:
        prefix, _, subcode = value.text.partition(":")
        assert value.nsmap[prefix] == NS["svs"]
    return subcode, root.findtext(".//env:Reason/env:Text", namespaces=NS)


# -- ITI-48 ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ROUND_TRIP_FILES)
def test_round_trip_svs_file_to_retrieve_value_set(client: TestClient, schema: etree.XMLSchema, jdv_dir: Path,
                                                   name: str) -> None:
    source = etree.parse(str(jdv_dir / name)).getroot().find("svs:ValueSet", NS)
    response = client.get("/svs/RetrieveValueSet", params={"id": source.get("id")})
    root = xml(response)
    assert schema.validate(root), schema.error_log
    (value_set,) = root.iterfind("svs:ValueSet", NS)
    assert value_set.get("id") == source.get("id")
    expected = source_triples(jdv_dir / name)
    assert expected and triples(value_set) == expected


def test_retrieve_value_set_names_code_systems_and_language(client: TestClient) -> None:
    root = xml(client.get("/svs/RetrieveValueSet", params={"id": "1.2.250.1.213.1.1.5.43"}))
    (concept_list,) = root.iterfind("svs:ValueSet/svs:ConceptList", NS)
    assert concept_list.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr-FR"
    names = {c.get("codeSystem"): c.get("codeSystemName") for c in concept_list}
    catalogue = {oid: item.name for item in load_catalogue().values() for oid in item.oids}
    assert names == {oid: catalogue[oid] for oid in ("2.16.840.1.113883.6.96", "1.2.250.1.213.1.1.4.322")}
    assert names["1.2.250.1.213.1.1.4.322"] == "TerminologieCISIS"


def test_latest_active_version_by_default_and_versions_on_request(client: TestClient, home: Path) -> None:
    latest = xml(client.get("/svs/RetrieveValueSet", params={"id": J19_OID})).find("svs:ValueSet", NS)
    assert latest.get("version") == "20230127120000"
    by_day = xml(client.get("/svs/RetrieveValueSet", params={"id": J19_OID, "version": "20230127"}))
    assert by_day.find("svs:ValueSet", NS).get("version") == "20230127120000"
    fhir = xml(client.get("/svs/RetrieveValueSet", params={"id": J19_OID, "version": "0.1.0"}))
    fhir_set = fhir.find("svs:ValueSet", NS)
    assert fhir_set.get("version") == "0.1.0"
    assert {s for _, s, _ in triples(fhir_set)} == {"1.2.250.1.213.3.3.13"}
    assert {c for c, _, _ in triples(fhir_set)} == {c for c, _, _ in triples(latest)}
    store = writable_store(home)
    svs_release = next(r for r in store.list() if r.kind == "ValueSet" and r.version == "20230127120000")
    store.set_status(svs_release.id, "retired")
    try:
        again = xml(client.get("/svs/RetrieveValueSet", params={"id": J19_OID}))
        assert again.find("svs:ValueSet", NS).get("version") == "0.1.0"
    finally:
        store.set_status(svs_release.id, "active")


def test_intensional_value_set_is_expanded(client: TestClient, schema: etree.XMLSchema) -> None:
    root = xml(client.get("/svs/RetrieveValueSet", params={"id": "1.2.250.1.213.99.99.3"}))
    assert schema.validate(root), schema.error_log
    found = triples(root.find("svs:ValueSet", NS))
    assert len(found) == 63 and {s for _, s, _ in found} == {"1.2.250.1.71.4.2.4"}
    assert ("SA01", "1.2.250.1.71.4.2.4", "Etablissement public de santé") in found


def test_intensional_value_set_over_a_missing_code_system_is_an_error(client: TestClient) -> None:
    subcode, reason = fault(client.get("/svs/RetrieveValueSet", params={"id": "1.2.250.1.213.99.99.4"}), 422)
    assert subcode is None and "cannot be expanded" in reason


@pytest.mark.parametrize(
    ("params", "status", "subcode", "reason"),
    [
        ({"id": "1.2.3.4.5.6"}, 404, "NAV", "Unknown value set"),
        ({"id": J19_OID, "version": "1999"}, 404, "VERUNK", "Version unknown"),
        ({}, 400, None, "Missing value set id"),
        ({"id": "not-an-oid"}, 400, None, "Invalid value set id"),
    ],
)
def test_retrieve_value_set_errors(client: TestClient, params: dict, status: int, subcode: str | None,
                                   reason: str) -> None:
    assert fault(client.get("/svs/RetrieveValueSet", params=params), status) == (subcode, reason)


# -- ITI-60 ----------------------------------------------------------------------------------------------------


def described(root: etree._Element) -> dict[str, etree._Element]:
    return {e.get("ID"): e for e in root.iterfind("svs:DescribedValueSet", NS)}


def test_retrieve_multiple_by_id(client: TestClient) -> None:
    root = xml(client.get("/svs/RetrieveMultipleValueSets", params={"ID": J19_OID}))
    assert root.tag == "{urn:ihe:iti:svs:2008}RetrieveMultipleValueSetsResponse"
    (item,) = described(root).values()
    assert item.get("version") == "20230127120000" and len(triples(item)) == 37
    assert item.findtext("svs:Source", namespaces=NS) == "ANS"
    assert item.findtext("svs:Status", namespaces=NS) == "Active"
    assert item.findtext("svs:RevisionDate", namespaces=NS) == "2023-01-27"
    assert item.findtext("svs:SourceURI", namespaces=NS).endswith("/FHIR/JDV-J19-ModePriseEnCharge-ROR")
    children = [etree.QName(c).localname for c in item]
    assert children[0] == "ConceptList" and children.index("Type") < children.index("Status")


def test_retrieve_multiple_by_metadata(client: TestClient, jdv_dir: Path) -> None:
    hl7 = described(xml(client.get("/svs/RetrieveMultipleValueSets", params={"DisplayNameContains": "hl7_admin"})))
    source = etree.parse(str(jdv_dir / "JDV_HL7_AdministrativeGender_CISIS.xml")).getroot()
    assert set(hl7) == {source.find("svs:ValueSet", NS).get("id")}
    recent = described(xml(client.get("/svs/RetrieveMultipleValueSets",
                                      params={"SourceContains": "ans", "RevisionDateAfter": "2024-01-01"})))
    older = described(xml(client.get("/svs/RetrieveMultipleValueSets",
                                     params={"SourceContains": "ans", "RevisionDateBefore": "20240101"})))
    assert recent and older and not set(recent) & set(older)
    assert all(e.findtext("svs:RevisionDate", namespaces=NS) > "2024-01-01" for e in recent.values())
    assert J19_OID in older


def test_retrieve_multiple_post_form_and_xml(client: TestClient) -> None:
    form = described(xml(client.post("/svs/RetrieveMultipleValueSets", data={"ID": J19_OID})))
    body = (f'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
            f'<RetrieveMultipleValueSetsRequest xmlns="urn:ihe:iti:svs:2008" ID="{J19_OID}"/>'
            f'</soap:Body></soap:Envelope>')
    soap = described(xml(client.post("/svs/RetrieveMultipleValueSets", content=body,
                                     headers={"content-type": "application/soap+xml"})))
    assert set(form) == set(soap) == {J19_OID}
    malformed = client.post("/svs/RetrieveMultipleValueSets", content="<oops", headers={"content-type": "text/xml"})
    assert fault(malformed, 400) == (None, "Malformed XML request")


@pytest.mark.parametrize(
    ("params", "reason"),
    [({}, "No selection criterion"), ({"Colour": "blue"}, "Unknown parameter"),
     ({"RevisionDateAfter": "last year"}, "Invalid date")],
)
def test_retrieve_multiple_errors(client: TestClient, params: dict, reason: str) -> None:
    assert fault(client.get("/svs/RetrieveMultipleValueSets", params=params), 400) == (None, reason)


def test_retrieve_multiple_with_no_match_is_empty(client: TestClient) -> None:
    root = xml(client.get("/svs/RetrieveMultipleValueSets", params={"ID": "1.2.3.4.5.6"}))
    assert described(root) == {}
