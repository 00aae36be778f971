"""FHIR search and canonicals as clients use them, over the real NOS folder (FHIR JSON + IHE SVS: 558 value
sets): string modifiers, url/identifier by OID, dates, _text, _sort, _summary/_elements, unknown parameters and
``Prefer: handling=strict``, the ecosystem's registry scans, and operations named by a value set's OID."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from fhir_api.searchset import date_match
from loaders import run_loader
from smt.compile import writable_store
from smt.terminology.expand.filters import fold
from tests.clients import curator_client
from tests.fhir_validation import assert_valid_fhir

pytestmark = pytest.mark.shared_data

J19 = "https://mos.esante.gouv.fr/NOS/JDV_J19-ModePriseEnCharge-ROR/FHIR/JDV-J19-ModePriseEnCharge-ROR"
J19_OID = "1.2.250.1.213.3.4.1"
R213 = "https://mos.esante.gouv.fr/NOS/TRE_R213-ModePriseEnCharge/FHIR/TRE-R213-ModePriseEnCharge"
R213_OID = "1.2.250.1.213.3.3.13"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("nos-search")
    writable_store(home).load_many(run_loader("nos", shared_data / "nos-ror"))
    with curator_client(home) as test_client:
        yield test_client


def search(client: TestClient, resource_type: str = "ValueSet", headers: dict | None = None, **params: str) -> dict:
    response = client.get(f"/fhir/{resource_type}", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert_valid_fhir(bundle)
    return bundle


def resources(bundle: dict) -> list[dict]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def test_string_parameters_start_with_contain_or_match_exactly(client: TestClient) -> None:
    everything = search(client, _summary="count")["total"]
    assert everything == 558
    contains = resources(search(client, **{"name:contains": "ModePriseEnCharge"}))
    assert contains and all("modepriseencharge" in fold(r["name"]) for r in contains)
    assert {r["url"] for r in contains} == {J19}
    starts = resources(search(client, name="jdv_j19"))  # default: starts with, any case
    assert {r["name"] for r in starts} >= {"JDV_J19-ModePriseEnCharge-ROR", "JDV_J199-StatutJuridique-ROR"}
    exact = resources(search(client, **{"name:exact": "JDV_J19-ModePriseEnCharge-ROR"}))
    assert {r["url"] for r in exact} == {J19}
    assert search(client, **{"name:exact": "jdv_j19-modepriseencharge-ror"})["total"] == 0  # :exact keeps case
    titled = resources(search(client, **{"title:contains": "prise en charge"}))
    assert titled and all("prise en charge" in fold(r["title"]) for r in titled)
    assert J19 in {r["url"] for r in titled} and len(titled) < everything
    accents = search(client, **{"title:contains": "établissement"})["total"]
    assert accents == search(client, **{"title:contains": "ETABLISSEMENT"})["total"] > 0


def test_publisher_description_and_text(client: TestClient) -> None:
    assert search(client, publisher="ANS", _summary="count")["total"] == 558
    assert search(client, publisher="Nobody")["total"] == 0
    text = resources(search(client, _text="prise charge", _count="1000"))
    searched = [fold(" ".join(str(r.get(k, "")) for k in ("name", "title", "description"))) for r in text]
    assert text and all("prise" in t and "charge" in t for t in searched)
    described = resources(search(client, **{"description:contains": "prise en charge"}))
    assert described and all("prise en charge" in fold(r["description"]) for r in described)


def test_identifier_and_url_accept_oids(client: TestClient) -> None:
    for value in (J19_OID, f"urn:oid:{J19_OID}", f"urn:ietf:rfc:3986|urn:oid:{J19_OID}"):
        found = resources(search(client, identifier=value))
        assert {r["url"] for r in found} == {J19}, value
    assert {r["url"] for r in resources(search(client, url=f"urn:oid:{J19_OID}"))} == {J19}
    below = resources(search(client, **{"url:below": "https://mos.esante.gouv.fr/NOS/JDV_J19-ModePriseEnCharge-ROR"}))
    assert {r["url"] for r in below} == {J19}  # a path prefix: JDV_J199… is not below it
    assert search(client, "CodeSystem", url=f"urn:oid:{R213_OID}")["total"] >= 1


def test_date_prefixes_and_sort(client: TestClient) -> None:
    later = resources(search(client, date="ge2024-01-01", _count="1000"))
    earlier = resources(search(client, date="lt2024-01-01", _count="1000"))
    dated = search(client, _count="1000", _elements="date")
    assert len(later) + len(earlier) == len([r for r in resources(dated) if r.get("date")])
    assert all(r["date"] >= "2024" for r in later) and all(r["date"] < "2024" for r in earlier)
    assert date_match("2023-01-27T12:00:00+01:00", "eq2023-01") and not date_match("2023-01-27", "gt2023-01-27")
    assert date_match("2023-01-27", "sa2023-01-26") and date_match("2023-01-27", "le2023")
    ordered = [r["name"] for r in resources(search(client, _sort="-name", _count="20"))]
    assert ordered == sorted(ordered, key=fold, reverse=True)
    by_date = resources(search(client, _sort="date,name", _count="1000"))
    dates = [r["date"] for r in by_date if r.get("date")]
    assert dates == sorted(dates) and not any(r.get("date") for r in by_date[len(dates):])  # undated last
    unsortable = client.get("/fhir/ValueSet", params={"_sort": "nope"}, headers={"Prefer": "handling=strict"})
    assert unsortable.status_code == 400


def test_unknown_parameters_are_ignored_reported_or_refused(client: TestClient) -> None:
    bundle = search(client, name="JDV_J19", foo="bar", **{"name:missing": "true"})
    self_link = next(link["url"] for link in bundle["link"] if link["relation"] == "self")
    assert dict(parse_qsl(urlsplit(self_link).query)) == {"name": "JDV_J19"}
    outcome = next(e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "outcome")
    assert set(outcome["issue"][0]["expression"]) == {"foo", "name:missing"}
    assert bundle["total"] == len(resources(search(client, name="JDV_J19", _count="1000")))
    strict = client.get("/fhir/ValueSet", params={"name": "JDV_J19", "foo": "bar"},
                        headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400
    body = strict.json()
    assert body["resourceType"] == "OperationOutcome" and "foo" in body["issue"][0]["details"]["text"]
    assert body["issue"][0]["code"] == "not-supported"
    lenient = client.get("/fhir/CodeSystem", params={"foo": "bar"}, headers={"Prefer": "handling=lenient"})
    assert lenient.status_code == 200


def test_registry_scans_answer_every_resource_with_url_and_version(client: TestClient) -> None:
    """The HL7 ecosystem's coordination service lists what a server holds this way."""
    value_sets = search(client, _elements="url,version", _count="1000")
    assert value_sets["total"] == len(value_sets["entry"]) == 558
    for entry in value_sets["entry"]:
        resource = entry["resource"]
        assert resource["url"] and resource["version"] and "compose" not in resource
        assert resource["meta"]["tag"][0]["code"] == "SUBSETTED"
    code_systems = search(client, "CodeSystem", _elements="url,version", _count="1000")
    assert code_systems["total"] == len(code_systems["entry"]) > 0
    assert all("concept" not in e["resource"] and e["resource"]["version"] for e in code_systems["entry"])
    capabilities = client.get("/fhir/metadata", params={"mode": "terminology"}).json()
    listed = {(cs["uri"], v["code"]) for cs in capabilities["codeSystem"] for v in cs["version"]}
    assert listed == {(e["resource"]["url"], e["resource"]["version"]) for e in code_systems["entry"]}


def test_summary_and_elements_follow_the_r4_definitions(client: TestClient) -> None:
    summary = resources(search(client, url=J19, _summary="true"))
    assert summary and all("compose" not in r and "description" not in r and r["status"] for r in summary)
    full = resources(search(client, url=J19))
    assert all("compose" in r for r in full)
    read = client.get(f"/fhir/ValueSet/{full[0]['id']}", params={"_elements": "name"}).json()
    assert set(read) == {"resourceType", "id", "meta", "status", "name"}


def test_operations_take_a_value_set_or_code_system_by_oid(client: TestClient) -> None:
    expansion = client.get("/fhir/ValueSet/$expand", params={"url": f"urn:oid:{J19_OID}"}).json()
    assert_valid_fhir(expansion)
    assert expansion["url"] == J19 and expansion["expansion"]["total"] == 37
    assert len(expansion["expansion"]["contains"]) == 37
    validated = client.get("/fhir/ValueSet/$validate-code", params={
        "url": f"urn:oid:{J19_OID}", "system": f"urn:oid:{R213_OID}", "code": "27"}).json()
    assert {p["name"]: p.get("valueBoolean") for p in validated["parameter"]}["result"] is True
    looked_up = client.get("/fhir/CodeSystem/$lookup", params={"system": f"urn:oid:{R213_OID}", "code": "27"}).json()
    assert {p["name"]: p.get("valueString") for p in looked_up["parameter"]}["display"] == "Télémédecine"
