"""A real server process and a real Chromium for the browser tests.

``Server`` runs ``uvicorn --factory fhir_api.app:create_app`` on a free port over a store. ``launch`` starts
Debian's Chromium (``/usr/bin/chromium``, or ``SMT_CHROMIUM``) through Playwright — never a downloaded browser.
``Visit`` is one browser context that records every request the pages make and refuses (and records) any
request to another host, and audits pages with axe-core.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ADMIN_TOKEN = "ui-test-admin-token"
ANS_CURATOR_TOKEN = "ui-test-ans-curator-token"
STATIC_TOKENS = f"{ADMIN_TOKEN}:admin,{ANS_CURATOR_TOKEN}:curator:ANS"
BLOCKING = ("serious", "critical")


def chromium_path() -> str | None:
    found = os.environ.get("SMT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return found if Path(found).exists() else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``uvicorn`` serving the real app over ``home`` on a free local port."""

    def __init__(self, home: Path, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "SMT_HOME": str(home), "SMT_STATIC_TOKENS": STATIC_TOKENS}
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "fhir_api.app:create_app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait(log)

    def _wait(self, log: Path, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(self.base + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not answer /health in time")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def launch(playwright: Playwright) -> Browser:
    path = chromium_path()
    if path is None:
        raise RuntimeError("Chromium not found (apt-get install chromium, or set SMT_CHROMIUM)")
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)


@dataclass
class Visit:
    """One browser context on one server: its page, every URL requested, and those refused as foreign."""

    context: BrowserContext
    page: Page
    base: str
    requested: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    audited: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def open(cls, browser: Browser, base: str) -> Visit:
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900},
                                      accept_downloads=True)
        visit = cls(context, context.new_page(), base)
        host = urlsplit(base).netloc

        def guard(route: Route) -> None:
            url = route.request.url
            visit.requested.append(url)
            if urlsplit(url).netloc != host and not url.startswith(("data:", "blob:")):
                visit.foreign.append(url)
                route.abort()
            else:
                route.continue_()

        context.route("**/*", guard)
        return visit

    def goto(self, path: str) -> Page:
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, f"{path}: {response.status if response else 'no answer'}"
        self.page.wait_for_load_state("load")
        return self.page

    def audit(self) -> list[str]:
        """axe-core on the current page: the serious and critical violations (rule id and first node)."""
        result = Axe().run(self.page)
        found = [f"{v['id']} ({v['impact']}): {v['help']} — {v['nodes'][0]['html'][:160] if v['nodes'] else ''}"
                 for v in result.response["violations"] if v.get("impact") in BLOCKING]
        self.audited[self.page.url] = found
        return found

    def check_page(self) -> None:
        """The current page: in French, no serious or critical axe-core violation, nothing asked elsewhere."""
        assert self.page.locator("html").get_attribute("lang") == "fr", self.page.url
        assert self.audit() == [], self.page.url
        assert self.foreign == [], self.foreign

    def close(self) -> None:
        self.context.close()


def visiting(browser: Browser, base: str) -> Iterator[Visit]:
    """A fixture's fresh browser context on ``base``; fails the test if a page asked another host."""
    opened = Visit.open(browser, base)
    yield opened
    opened.close()
    assert opened.foreign == [], f"requests to other hosts: {opened.foreign}"
