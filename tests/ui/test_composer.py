"""The value-set composer in Chromium: "is-a E11 minus E11.9" built by clicks and typing, its expansion and
its downloads (definition, expansion, SVS) equal to ``$expand`` of the same compose."""

from __future__ import annotations

import json

import httpx
import pytest
from lxml import etree
from playwright.sync_api import expect

from tests.ui.browser import Server, Visit

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
SVS = "{urn:ihe:iti:svs:2008}"


def expand(server: Server, value_set: dict, accept_language: str) -> dict:
    body = {"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": value_set}]}
    answer = httpx.post(server.base + "/fhir/ValueSet/$expand", json=body, timeout=30,
                        headers={"Content-Type": "application/fhir+json", "Accept-Language": accept_language})
    assert answer.status_code == 200, answer.text
    return answer.json()


def without_stamp(expanded: dict) -> dict:
    expansion = {k: v for k, v in expanded["expansion"].items() if k not in ("identifier", "timestamp")}
    return {**expanded, "expansion": expansion}


def test_is_a_e11_minus_e11_9_matches_expand(visit: Visit, cim10_server: Server) -> None:
    page = visit.goto("/")
    page.locator("#navigation").get_by_role("link", name="Composer un jeu de valeurs").click()
    expect(page.locator("h1")).to_have_text("Composer un jeu de valeurs")
    visit.check_page()
    page.locator("#composer-systeme").select_option("cim10")
    page.locator("#composer-version").select_option("2021")
    page.locator("#regle-0-kind").select_option("is-a")
    page.locator("#regle-0-value").fill("E11")
    page.locator("#ajouter-regle").click()
    page.wait_for_load_state("load")
    page.locator("#regle-1-op").select_option("exclude")
    page.locator("#regle-1-value").fill("E11.9")
    page.locator("#ajouter-regle").click()
    page.wait_for_load_state("load")
    expect(page.locator("#regle-1-value")).to_have_value("E11.9")
    visit.check_page()

    with page.expect_download() as definition_download:
        page.locator("#telecharger-valueset").click()
    definition = json.loads(definition_download.value.path().read_text())
    assert definition["compose"] == {
        "include": [{"system": CIM10, "version": "2021",
                     "filter": [{"property": "concept", "op": "is-a", "value": "E11"}]}],
        "exclude": [{"system": CIM10, "version": "2021", "concept": [{"code": "E11.9"}]}]}
    language = page.evaluate("navigator.languages.join(',')")
    expected = expand(cim10_server, definition, language)
    codes = [c["code"] for c in expected["expansion"]["contains"]]
    assert "E11" in codes and "E11.0" in codes and "E11.9" not in codes
    assert page.locator("#expansion tbody td.smt-code").all_text_contents() == codes
    expect(page.locator("#nombre-expansion")).to_have_text(f"{expected['expansion']['total']} concept(s)")

    with page.expect_download() as expansion_download:
        page.locator("#telecharger-expansion").click()
    downloaded = json.loads(expansion_download.value.path().read_text())
    assert without_stamp(downloaded) == without_stamp(expected)

    with page.expect_download() as svs_download:
        page.locator("#telecharger-svs").click()
    svs = etree.fromstring(svs_download.value.path().read_bytes())
    assert [c.get("code") for c in svs.iter(f"{SVS}Concept")] == codes


def test_checking_and_adding_codes_update_the_expansion(visit: Visit) -> None:
    page = visit.goto("/composer?system=cim10&version=2021&op=include&kind=is-a&prop=&value=E11"
                      "&op=exclude&kind=codes&prop=&value=E11.9")
    before = page.locator("#expansion tbody tr").count()
    page.locator("#composer-check").fill("E11.9")  # live update (htmx), no page load
    expect(page.locator("#resultat-verification")).to_contain_text("E11.9 n'appartient pas au jeu de valeurs")
    page.locator("#composer-check").fill("E11.0")
    expect(page.locator("#resultat-verification")).to_contain_text("E11.0 (Diabète sucré de type 2, avec coma) "
                                                                    "appartient au jeu de valeurs")
    assert "check=E11.0" in page.url  # the address follows the form: the composition can be pasted
    visit.check_page()
    page.locator("#composer-find").fill("diabete type 1")
    page.locator("#composer-find").press("Enter")
    page.wait_for_load_state("load")
    page.locator("#codes-trouves").get_by_role("button", name="Inclure E10", exact=True).click()
    page.wait_for_load_state("load")
    expect(page.locator("#regle-2-value")).to_have_value("E10")
    assert page.locator("#expansion tbody tr").count() == before + 1
    visit.check_page()
