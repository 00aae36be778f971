"""The curator console in Chromium over its own store (CIM-10 2020 active, the NOS tables): sign in with a
static token, upload the real CIM-10 2021 file, follow the load, read the quality report and the comparison
with 2020, publish with a reason, find it in the audit trail and on the public pages; a curator of another
publisher sees no publish button and the server refuses the forged request."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.ui.browser import ADMIN_TOKEN, ANS_CURATOR_TOKEN, Server, Visit, visiting
from tests.ui.stores import CIM10_2021, build_console_store

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"


@pytest.fixture(scope="module")
def console_server(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("console-store")
    build_console_store(shared_data, home)
    server = Server(home, tmp_path_factory.mktemp("console-server") / "uvicorn.log")
    yield server
    server.stop()


@pytest.fixture
def console(browser: Browser, console_server: Server) -> Iterator[Visit]:
    yield from visiting(browser, console_server.base)


def sign_in(visit: Visit, token: str) -> None:
    page = visit.goto("/")
    page.get_by_role("link", name="Se connecter").click()
    visit.check_page()
    page.get_by_label("Jeton d'accès").fill(token)
    page.locator("#connexion").get_by_role("button", name="Se connecter").click()
    expect(page.locator("main .fr-callout")).to_contain_text("Connecté en tant que")


def release_id(server: Server, version: str) -> str:
    listing = httpx.get(server.base + "/releases", params={"url": CIM10},
                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()
    return next(r["id"] for r in listing["releases"] if r["version"] == version)


def test_upload_review_and_publish_cim10_2021(console: Visit, console_server: Server, shared_data: Path) -> None:
    page = console.page
    sign_in(console, ADMIN_TOKEN)
    expect(page.locator("main .fr-callout")).to_contain_text("static:admin")
    console.check_page()

    page.locator("#fichier").set_input_files(str(shared_data / CIM10_2021))
    page.locator("#chargeur").select_option("cim10")
    page.get_by_role("button", name="Charger comme brouillon").click()
    expect(page.locator("h1")).to_contain_text("Chargement de cim10_fr_pmsi_2021.json.gz")
    console.check_page()
    expect(page.locator("#reussite")).to_contain_text("1 brouillon(s) créé(s)", timeout=300_000)
    console.check_page()
    page.locator("#reussite").get_by_role("link", name=re.compile("CIM-10 FR à usage PMSI 2021")).click()

    expect(page.locator("h1")).to_have_text("CIM-10 FR à usage PMSI 2021")
    draft = release_id(console_server, "2021")  # the store gives each load a new release id
    assert draft != release_id(console_server, "2020")
    expect(page).to_have_url(re.compile(f"/console/releases/{draft}$"))
    expect(page.locator("main .fr-badge").first).to_have_text("brouillon")
    expect(page.locator("#rapport-qualite")).to_contain_text("Contrôle qualité réussi")
    expect(page.locator("#rapport-qualite")).to_contain_text("43\u202f138 concept(s)")
    diff = httpx.get(console_server.base + "/releases/diff", params={"url": CIM10, "from": "2020", "to": "2021"},
                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()
    added = diff["summary"]["added"]
    assert added > 0
    expect(page.locator("#resume-comparaison")).to_contain_text(f"Ajouté : {added}")
    console.check_page()
    public = httpx.get(console_server.base + "/terminologies/cim10").text
    assert ">2021<" not in public  # a draft is not public

    page.get_by_label("Motif").fill("Version 2021 de l'ATIH relue")
    page.get_by_role("button", name="Publier cette version").click()
    expect(page.locator("main .fr-badge").first).to_have_text("actif")
    audit = page.locator("table.smt-audit tbody tr").first
    expect(audit).to_contain_text("Version 2021 de l'ATIH relue")
    expect(audit).to_contain_text("static:admin")
    expect(audit).to_contain_text("brouillon → actif")
    console.check_page()

    page.get_by_role("link", name="page publique").click()
    expect(page.locator("h1")).to_have_text("CIM-10 FR à usage PMSI")
    assert sorted(page.locator("#versions tbody tr th").all_text_contents()) == ["2020", "2021"]
    page.locator("#navigation").get_by_role("link", name="Espace curateur").click()
    page.get_by_role("link", name="Journal d'audit").click()
    expect(page.locator("table.smt-audit")).to_contain_text("Version 2021 de l'ATIH relue")
    console.check_page()


def test_another_publisher_sees_no_button_and_is_refused(console: Visit, console_server: Server) -> None:
    page = console.page
    sign_in(console, ANS_CURATOR_TOKEN)
    release = release_id(console_server, "2020")  # ATIH's: a curator of the ANS may not retire it
    console.goto(f"/console/releases/{release}")
    expect(page.locator("#pas-autorise")).to_be_visible()
    assert page.locator("form[action$='/status']").count() == 0
    console.check_page()
    csrf = next(c["value"] for c in console.context.cookies() if c["name"] == "smt_csrf")
    forged = page.request.post(console_server.base + f"/console/releases/{release}/status",
                               form={"status": "retired", "reason": "forged", "csrf": csrf})
    assert forged.status == 403
    listing = httpx.get(console_server.base + "/releases", params={"url": CIM10}).json()
    assert {r["version"]: r["status"] for r in listing["releases"]}["2020"] == "active"
