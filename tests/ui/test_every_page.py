"""Every kind of page in Chromium over the CIM-10 store: French, zero serious or critical axe-core violation,
no request to another host; English on demand; concept IRIs open the concept page; search filters and paging;
mappings on concept pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.ui.browser import Server, Visit

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

PAGES = [
    "/",
    "/find?q=diabete+type+2",
    "/find?q=infarctus&system=cim10&version=all&language=fr&active=true&within=I20-I25",
    "/find?q=HTA",
    "/terminologies/cim10",
    "/terminologies/cim10/concepts/E11",
    "/terminologies/cim10/concepts/E11?version=2015",
    "/terminologies/cim10/concepts/U07.1",
    "/terminologies/cim10/compare?from=2020&to=2021",
    "/terminologies/cim10/compare?from=2015&to=2016&change=display&q=diabete",
    "/terminologies/cisp2/concepts/T90",
    "/terminologies/nos-tre-r02",
    "/valuesets",
    "/valuesets?q=ROR",
    "/valuesets/JDV_J19-ModePriseEnCharge-ROR",
    "/valuesets/JDV_J29-PublicPrisEnCharge-ROR",
    "/composer",
    "/composer?system=cim10&version=2021&op=include&kind=property&prop=typeMcoHad&value=4",
    "/console",
]


@pytest.mark.parametrize("path", PAGES)
def test_page_is_french_accessible_and_local(visit: Visit, path: str) -> None:
    visit.goto(path)
    expect(visit.page.locator("main h1")).to_be_visible()
    visit.check_page()


def test_error_page_is_accessible_too(visit: Visit) -> None:
    answer = visit.page.goto(visit.base + "/terminologies/cim10/concepts/NOPE")
    assert answer is not None and answer.status == 404
    expect(visit.page.locator("main")).to_contain_text("Le code « NOPE » n'existe pas")
    visit.check_page()


def test_english_on_demand(visit: Visit) -> None:
    page = visit.goto("/terminologies/cim10/concepts/E11")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Versions and changes")).to_be_visible()
    assert visit.audit() == []
    page.locator("#navigation").get_by_role("link", name="Value sets").click()
    expect(page.locator("h1")).to_have_text("Value sets")  # the choice is remembered
    page.get_by_role("link", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")


def test_concept_iri_opens_the_concept_page(visit: Visit) -> None:
    visit.page.goto(visit.base + "/id/atih/cim10/E11.9")
    assert visit.page.url == visit.base + "/terminologies/cim10/concepts/E11.9"
    expect(visit.page.locator("h1")).to_contain_text("E11.9")
    turtle = visit.page.locator("a", has_text="RDF Turtle").get_attribute("href")
    assert turtle is not None and turtle.startswith("/concept?iri=http%3A%2F%2Fdata.esante.gouv.fr%2Fatih%2Fcim10")


def test_search_pages_and_filters(visit: Visit) -> None:
    page = visit.goto("/find?q=diabete")
    first = page.locator("#resultats tbody td.smt-code").all_text_contents()
    page.get_by_role("link", name="Page suivante").first.click()
    assert "page=2" in page.url
    second = page.locator("#resultats tbody td.smt-code").all_text_contents()
    assert first and second and not set(first) & set(second)
    page.locator("#filtre-within").fill("E10-E14")
    page.get_by_role("button", name="Appliquer les filtres").click()
    codes = page.locator("#resultats tbody td.smt-code").all_text_contents()
    assert codes and all(re.match(r"E1[0-4]", code) for code in codes)
    visit.check_page()


def test_typo_and_abbreviation_as_the_search_api(visit: Visit) -> None:
    page = visit.goto("/find?q=diabette")
    expect(page.locator("#resultats tbody td").first).to_be_visible()
    assert "diab" in page.locator("#resultats tbody").inner_text().lower()
    page = visit.goto("/find?q=HTA")
    expect(page.locator("#resultats")).to_contain_text("hypertension")


def test_mappings_both_ways(visit: Visit) -> None:
    page = visit.goto("/terminologies/cisp2/concepts/T90")
    mappings = page.locator("#correspondances-titre + div table tbody")
    expect(mappings).to_contain_text("E11")
    page = visit.goto("/terminologies/cim10/concepts/E11")
    reverse = page.locator("#correspondances-titre + div table tbody tr").filter(has_text="T90")
    expect(reverse.first).to_contain_text("depuis")


def test_keyboard_skip_link_reaches_the_content(visit: Visit) -> None:
    page = visit.goto("/terminologies/cim10/concepts/E11")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Contenu"
    page.keyboard.press("Enter")
    assert page.url.endswith("#contenu")


def test_pages_work_without_javascript(browser: Browser, cim10_server: Server) -> None:
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(cim10_server.base + "/")
        page.locator("#recherche-accueil-q").fill("diabete type 2")
        page.locator("#recherche-accueil").get_by_role("button", name="Rechercher").click()
        page.get_by_role("link", name="E11", exact=True).click()
        expect(page.locator("h1")).to_contain_text("Diabète sucré de type 2")
        child = page.locator("h3#enfants + ul > li").filter(has_text="E11.0 Diabète").locator("details")
        child.locator("summary").click()
        expect(child.get_by_role("link", name="Voir les sous-concepts de E11.0 sur sa page")).to_be_visible()
    finally:
        context.close()
