"""Web interface: how long each page takes to be ready in Chromium over the CIM-10 store (target: < 1 s).

``.venv/bin/python -m benchmarks.ui_pages [--home DIR] [--runs 3]``. The store (CIM-10 FR 2015–2021, NOS, CISP-2
and the CISP-2 → CIM-10 map, as the browser tests) is built in ``--home`` when it is not there yet. The real app
runs in a uvicorn process; Debian's Chromium (Playwright) opens each page in a fresh context (empty cache: the
DSFR CSS, fonts and scripts are fetched), then opens it again (static files from the browser cache), and reads
the Navigation Timing entry: ``ready`` is ``loadEventEnd`` (HTML, CSS, fonts, scripts and images loaded),
``server`` the time to the last byte of the HTML.
Medians of ``--runs`` runs per page. The comparison page is also timed on its first visit, before the diff of
the two versions is cached (the terminology page computes the diff of its two latest versions in the
background, so a visitor coming from it finds that one ready).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from benchmarks.common import machine
from smt.config import data_dir
from tests.ui.browser import Server, launch
from tests.ui.stores import READY, build_cim10_store

PAGES = [
    "/",
    "/find?q=diabete+type+2",
    "/find?q=infarctus&system=cim10&version=all&active=true",
    "/terminologies/cim10",
    "/terminologies/cim10/concepts/E11",
    "/terminologies/cim10/concepts/E10-E14",
    "/terminologies/cim10/compare?from=2020&to=2021",
    "/terminologies/cim10/compare?from=2015&to=2021&change=added",
    "/valuesets",
    "/valuesets/JDV_J19-ModePriseEnCharge-ROR",
    "/composer?system=cim10&version=2021&op=include&kind=is-a&prop=&value=E11&op=exclude&kind=codes&prop=&value=E11.9",
    "/docs",
]
FIRST_VISIT = "/terminologies/cim10/compare?from=2016&to=2019"


def _visit(page: Page, url: str) -> tuple[float, float]:
    page.goto(url, wait_until="load")
    if "/docs" in url:
        page.wait_for_selector(".opblock")
    entry = page.evaluate("JSON.parse(JSON.stringify(performance.getEntriesByType('navigation')[0]))")
    return entry["loadEventEnd"] / 1000, entry["responseEnd"] / 1000 - entry["requestStart"] / 1000


def timing(browser: Browser, url: str) -> tuple[float, float, float]:
    """(ready with an empty cache, ready with the static files cached, server) in seconds: two visits of
    ``url`` in a fresh context."""
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    cold, _ = _visit(page, url)
    warm, served = _visit(page, url)
    context.close()
    return cold, warm, served


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "smt-ui-bench")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (args.home / READY).exists():
        args.home.mkdir(parents=True, exist_ok=True)
        build_cim10_store(data_dir(), args.home)
    print(machine(), f"load average {os.getloadavg()[0]:.2f}")
    server = Server(args.home, args.home.parent / "smt-ui-bench-uvicorn.log")
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            first = timing(browser, server.base + FIRST_VISIT)
            print(f"| `{FIRST_VISIT}` (first visit: diff computed) | {first[0] * 1000:.0f} ms | | "
                  f"{first[2] * 1000:.0f} ms (second visit) | |")
            print("| Page | ready, empty cache | ready, cached assets | server (HTML) | runs (empty cache) |")
            worst = 0.0
            for path in PAGES:
                timing(browser, server.base + path)  # warm-up: server caches, indexes opened
                runs = [timing(browser, server.base + path) for _ in range(args.runs)]
                cold, warm, served = (statistics.median(r[i] for r in runs) for i in range(3))
                worst = max(worst, cold)
                print(f"| `{path}` | {cold * 1000:.0f} ms | {warm * 1000:.0f} ms | {served * 1000:.0f} ms | "
                      f"{' / '.join(f'{r[0] * 1000:.0f}' for r in runs)} |")
            print(f"slowest page, empty cache (median): {worst * 1000:.0f} ms; target 1000 ms; load average "
                  f"{os.getloadavg()[0]:.2f}")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
