"""Screenshots of the main pages for ``docs/ui.md`` (``docs/img/ui-*.png``), taken in Chromium over the CIM-10
store of the browser tests.

``.venv/bin/python -m tests.ui.screenshots [--home DIR]`` (the store is built in ``--home`` when missing; the
benchmark ``benchmarks/ui_pages.py`` uses the same one).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from smt.config import data_dir
from tests.ui.browser import ADMIN_TOKEN, Server, launch
from tests.ui.stores import READY, build_cim10_store

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
COMPOSED = ("/composer?system=cim10&version=2021&op=include&kind=is-a&prop=&value=E11&op=exclude&kind=codes"
            "&prop=&value=E11.9&check=E11.9")
SHOTS = [
    ("home", "/"),
    ("search", "/find?q=diabete+type+2"),
    ("concept", "/terminologies/cim10/concepts/E11"),
    ("terminology", "/terminologies/cim10"),
    ("compare", "/terminologies/cim10/compare?from=2020&to=2021"),
    ("valueset", "/valuesets/JDV_J19-ModePriseEnCharge-ROR"),
    ("composer", COMPOSED),
    ("docs", "/docs"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "smt-ui-bench")
    args = parser.parse_args()
    if not (args.home / READY).exists():
        args.home.mkdir(parents=True, exist_ok=True)
        build_cim10_store(data_dir(), args.home)
    IMAGES.mkdir(parents=True, exist_ok=True)
    server = Server(args.home, args.home.parent / "smt-ui-screenshots-uvicorn.log")
    try:
        release = next(r["id"] for r in httpx.get(server.base + "/releases", params={
            "url": "https://smt.esante.gouv.fr/terminologie-cim-10"}).json()["releases"] if r["version"] == "2021")
        with sync_playwright() as playwright:
            browser = launch(playwright)
            context = browser.new_context(locale="fr-FR", viewport={"width": 1200, "height": 820})
            page = context.new_page()
            for name, path in SHOTS:
                page.goto(server.base + path, wait_until="load")
                if path == "/docs":
                    page.wait_for_selector(".opblock")
                page.screenshot(path=IMAGES / f"ui-{name}.png")
                print(f"docs/img/ui-{name}.png ← {path}")
            page.goto(server.base + "/console", wait_until="load")
            page.locator("#jeton").fill(ADMIN_TOKEN)
            page.locator("#connexion button").click()
            page.goto(server.base + f"/console/releases/{release}", wait_until="load")
            page.screenshot(path=IMAGES / "ui-console.png")
            print("docs/img/ui-console.png ← the review page of CIM-10 2021 in the curator console")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
