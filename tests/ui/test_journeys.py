"""The reader's journeys of issue 15 in headless Chromium, by clicks from the home page, over the real CIM-10
store: find E11 by typing "diabete type 2", read it and its block E10-E14, the CIM-10 page with its seven
versions and the comparison of two of them, the ROR value set J19 found by typing "ModePriseEnCharge", and the
API documentation served without any other host. Every page is checked in French, with no serious or critical
axe-core violation and no request to another host."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.ui.browser import Server, Visit

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

YEARS = ["2015", "2016", "2017", "2018", "2019", "2020", "2021"]
CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"


def search_from_home(visit: Visit, words: str) -> None:
    page = visit.goto("/")
    visit.check_page()
    page.get_by_label("Rechercher").first.fill(words)
    page.locator("#recherche-accueil").get_by_role("button", name="Rechercher").click()
    page.wait_for_load_state("load")


def test_diabetes_from_search_to_concept_block_and_versions(visit: Visit) -> None:
    page = visit.page
    search_from_home(visit, "diabete type 2")
    assert page.url.startswith(visit.base + "/find?")
    visit.check_page()
    results = page.locator("#resultats table tbody tr")
    expect(results.first).to_contain_text("E11")
    page.get_by_role("link", name="E11", exact=True).click()

    expect(page.locator("h1")).to_have_text(re.compile(r"E11\s+Diabète sucré de type 2"))
    assert page.url == visit.base + "/terminologies/cim10/concepts/E11"
    visit.check_page()
    parents = page.locator("h3#parents + ul")
    expect(parents.get_by_role("link", name=re.compile(r"^E10-E14 Diabète sucré"))).to_be_visible()
    children = page.locator("h3#enfants + ul > li > a")
    assert children.all_text_contents()[0].startswith("E11.0")
    assert [t.split()[0] for t in children.all_text_contents()] == [f"E11.{i}" for i in range(10)]
    versions = page.locator("#versions-concept > li > a")
    assert sorted(versions.all_text_contents()) == YEARS  # E11 exists in every version, 2015 to 2021

    parents.get_by_role("link", name=re.compile(r"^E10-E14")).click()
    expect(page.locator("h1")).to_contain_text("E10-E14")
    visit.check_page()
    block_children = [t.split()[0] for t in page.locator("h3#enfants + ul > li > a").all_text_contents()]
    assert block_children == ["E10", "E11", "E12", "E13", "E14"]


def test_tree_unfolds_children_in_place(visit: Visit) -> None:
    page = visit.goto("/terminologies/cim10/concepts/E10-E14")
    details = page.locator("h3#enfants + ul > li").filter(has_text="E11 Diabète sucré de type 2").locator("details")
    details.locator("summary").click()
    unfolded = details.locator(".smt-children ul > li > a")
    expect(unfolded.first).to_contain_text("E11.0")
    assert unfolded.count() == 10
    visit.check_page()


def test_cim10_page_lists_seven_versions_and_compares_two(visit: Visit, cim10_server: Server) -> None:
    page = visit.goto("/terminologies/cim10/concepts/E11")
    page.locator(".fr-breadcrumb").get_by_role("link", name="CIM-10 FR à usage PMSI").click()
    expect(page.locator("h1")).to_have_text("CIM-10 FR à usage PMSI")
    visit.check_page()
    rows = page.locator("#versions tbody tr th")
    assert sorted(rows.all_text_contents()) == YEARS

    page.locator("#comparer-de").select_option("2019")
    page.locator("#comparer-a").select_option("2020")
    page.locator("#comparer").get_by_role("button", name="Comparer").click()
    expect(page.locator("h1")).to_have_text("CIM-10 FR à usage PMSI : de 2019 à 2020")
    visit.check_page()
    expected = httpx.get(cim10_server.base + "/releases/diff",
                         params={"url": CIM10, "from": "2019", "to": "2020"}).json()
    added = [c["code"] for c in expected["changes"]["added"]]
    assert added, "CIM-10 2020 adds codes to 2019"
    page.locator("#resume").get_by_role("link", name=re.compile(r"^Ajouté")).click()
    expect(page.locator("#resume a[aria-current=page]")).to_contain_text(f"Ajouté ({len(added)})")
    shown = page.locator("#changements tbody tr")
    assert {r.get_attribute("data-change") for r in shown.all()} == {"added"}
    assert page.locator("#changements tbody tr td.smt-code").all_text_contents() == added[:50]
    visit.check_page()


def test_ror_value_set_found_by_name_lists_its_37_concepts(visit: Visit) -> None:
    page = visit.page
    search_from_home(visit, "ModePriseEnCharge")
    visit.check_page()
    page.locator("#ressources-titre + ul").get_by_role("link", name="JDV_J19-ModePriseEnCharge-ROR").click()
    expect(page.locator("h1")).to_have_text("JDV_J19-ModePriseEnCharge-ROR")
    visit.check_page()
    expect(page.locator("#nombre-concepts")).to_have_text("37 concept(s)")
    assert page.locator("#expansion tbody tr").count() == 37
    assert "1.2.250.1.213.3.4.1" in page.locator("dl").inner_text()


def test_api_documentation_works_offline(visit: Visit) -> None:
    page = visit.goto("/")
    page.locator("#pied").get_by_role("link", name="Documentation de l'API").click()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("SMT FHIR terminology API", timeout=15000)
    expect(page.locator(".opblock").first).to_be_visible()
    visit.check_page()
    assert any(url.endswith("/openapi.json") for url in visit.requested)
    assert all(url.startswith(visit.base) for url in visit.requested)
