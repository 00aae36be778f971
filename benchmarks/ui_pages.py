"""Web interface: how long each page takes to be ready in Chromium over the CIM-10 store (target: < 1 s).

``.venv/bin/python -m benchmarks.ui_pages [--home DIR] [--runs 3]``. The store (CIM-10 FR 2015–2021, NOS, CISP-2
and the CISP-2 → CIM-10 map, as the browser tests) is built in ``--home`` when it is not there yet. The real app
runs in a uvicorn process; Debian's Chromium (Playwright) opens each page in a fresh context (empty cache: the
DSFR CSS, fonts and scripts are fetched every time) and reads the Navigation Timing entry: ``ready`` is
``loadEventEnd`` (HTML, CSS, fonts, scripts and images loaded), ``server`` the time to the last byte of the HTML.
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

from playwright.sync_api import Browser, sync_playwright

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


def timing(browser: Browser, url: str) -> tuple[float, float]:
    """(ready, server) in seconds for one visit in a fresh context."""
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(url, wait_until="load")
    if "/docs" in url:
        page.wait_for_selector(".opblock")
    entry = page.evaluate("JSON.parse(JSON.stringify(performance.getEntriesByType('navigation')[0]))")
    context.close()
    return entry["loadEventEnd"] / 1000, entry["responseEnd"] / 1000 - entry["requestStart"] / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "smt-ui-bench")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (args.home / READY).exists():
        args.home.mkdir(parents=True, exist_ok=True)
        build_cim10_store(data_dir(), args.home)
        (args.home / READY).touch()
    print(machine(), f"load average {os.getloadavg()[0]:.2f}")
    server = Server(args.home, args.home.parent / "smt-ui-bench-uvicorn.log")
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            first, first_server = timing(browser, server.base + FIRST_VISIT)
            print(f"| `{FIRST_VISIT}` (first visit, diff computed) | {first * 1000:.0f} ms | "
                  f"{first_server * 1000:.0f} ms | |")
            worst = 0.0
            for path in PAGES:
                timing(browser, server.base + path)  # warm-up: server caches, indexes opened
                runs = [timing(browser, server.base + path) for _ in range(args.runs)]
                ready = statistics.median(r[0] for r in runs)
                served = statistics.median(r[1] for r in runs)
                worst = max(worst, ready)
                print(f"| `{path}` | {ready * 1000:.0f} ms | {served * 1000:.0f} ms | "
                      f"{' / '.join(f'{r[0] * 1000:.0f}' for r in runs)} |")
            print(f"slowest page (median): {worst * 1000:.0f} ms; target 1000 ms; load average "
                  f"{os.getloadavg()[0]:.2f}")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
