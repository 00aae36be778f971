"""Fixtures of the browser tests: the CIM-10 store (built once per session), a server over it, Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.stores import shared_home
from tests.ui.browser import Server, Visit, chromium_path, launch, visiting
from tests.ui.stores import build_cim10_store

expect.set_options(timeout=20_000)  # a loaded CI machine: pages stay well under a second when it is not


@pytest.fixture(scope="session")
def cim10_home(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CIM-10 2015–2021, NOS, CISP-2 and the CISP-2 → CIM-10 map (shared by the xdist workers)."""
    return shared_home(tmp_path_factory, "ui-cim10-store", lambda home: build_cim10_store(shared_data, home))


@pytest.fixture(scope="session")
def cim10_server(cim10_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(cim10_home, tmp_path_factory.mktemp("server") / "uvicorn.log")
    yield server
    server.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Chromium for the tests of this package only: Playwright's sync API keeps an event loop running in the
    thread while it is open, which the asyncio tests of other packages run by the same worker cannot share."""
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


@pytest.fixture
def visit(browser: Browser, cim10_server: Server) -> Iterator[Visit]:
    """A fresh browser context on the CIM-10 server; fails the test if a page asked another host."""
    yield from visiting(browser, cim10_server.base)
