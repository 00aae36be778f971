"""A change to the releases is seen by every server process within one second, with no restart and no 5xx.

Real processes: ``smt serve --workers 2`` (two uvicorn worker processes sharing one ``SMT_HOME``) and the real
``smt`` command. CIM-10 FR 2021 is loaded with one content, then removed and loaded again with another (and
later replaced with ``--replace``); ``$lookup``, ``/search``, the release listing, downloads and their ETag must
follow the new content within 1 s of the command's end, and again after a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from smt.config import SAMPLES_DIR
from tests.server import running_server, smt_command

pytestmark = pytest.mark.slow

CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
SAMPLE = SAMPLES_DIR / "cim10" / "LIBCIM10MULTI_2021_extrait.TXT"
E11_LONG = "Diabète sucré de type 2"
DEADLINE = 1.0


def cim10_2021(folder: Path, label: str) -> Path:
    """The bundled LIBCIM10MULTI extract as a 2021 file, E11's long label replaced by ``label``."""
    folder.mkdir()
    text = SAMPLE.read_bytes().decode("latin-1")
    assert f"|{E11_LONG}\r\n" in text
    path = folder / "LIBCIM10MULTI_2021.TXT"
    path.write_bytes(text.replace(f"|{E11_LONG}\r\n", f"|{label}\r\n", 1).encode("latin-1"))
    return path


def lookup_display(client: httpx.Client) -> str | None:
    response = client.get("/fhir/CodeSystem/$lookup", params={"system": CIM10, "code": "E11", "version": "2021"})
    if response.status_code != 200:
        return None
    return next(p["valueString"] for p in response.json()["parameter"] if p["name"] == "display")


def search_displays(client: httpx.Client, text: str) -> list[str]:
    response = client.get("/search", params={"q": text, "system": CIM10})
    assert response.status_code < 500, response.text
    return [r["display"] for r in response.json().get("results", [])] if response.status_code == 200 else []


def release_id(client: httpx.Client) -> str | None:
    listing = client.get("/releases", params={"url": CIM10}).json()["releases"]
    return listing[0]["id"] if listing else None


def download(client: httpx.Client, rid: str) -> httpx.Response:
    return client.get(f"/releases/{rid}/download/csv")


class Watcher:
    """Requests ``$lookup``, ``/search`` and a download in a loop from another thread; keeps every 5xx."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.errors: list[str] = []
        self.requests = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            rid = release_id(self.client)
            for response in (
                    self.client.get("/fhir/CodeSystem/$lookup", params={"system": CIM10, "code": "E11"}),
                    self.client.get("/search", params={"q": "diabete", "system": CIM10}),
                    *([download(self.client, rid)] if rid else [])):
                self.requests += 1
                if response.status_code >= 500:
                    self.errors.append(f"{response.request.url}: {response.status_code} {response.text[:200]}")

    def __enter__(self) -> Watcher:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


def within_deadline(check: Callable[[], bool], since: float) -> float:
    """Seconds from ``since`` until ``check()`` holds (asserting it holds within ``DEADLINE``), then ``check``
    must hold for 20 more requests (both workers answer)."""
    while not check():
        assert time.monotonic() - since < DEADLINE, "the change was not seen within 1 s"
        time.sleep(0.02)
    seen = time.monotonic() - since
    assert all(check() for _ in range(20)), "a worker still answers the old content"
    return seen


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Path, Path, Path, Path]]:
    home = tmp_path / "home"
    yield (home, cim10_2021(tmp_path / "a", "Diabète de contenu A"), cim10_2021(tmp_path / "b", "Diabète de contenu B"),
           cim10_2021(tmp_path / "c", "Diabète de contenu C"))


def test_remove_then_load_is_seen_by_every_worker_within_one_second(store: tuple[Path, Path, Path, Path]) -> None:
    home, first, second, third = store
    smt_command(home, "load", "cim10", str(first))
    with running_server(home) as client, Watcher(client) as watcher:
        old_id = release_id(client)
        assert old_id is not None and lookup_display(client) == "Diabète de contenu A"
        assert "Diabète de contenu A" in search_displays(client, "contenu")
        old = download(client, old_id)
        assert old.status_code == 200 and "Diabète de contenu A" in old.text

        smt_command(home, "remove", CIM10, "--version", "2021")
        smt_command(home, "load", "cim10", str(second))
        done = time.monotonic()
        within_deadline(lambda: lookup_display(client) == "Diabète de contenu B", done)
        within_deadline(lambda: "Diabète de contenu B" in search_displays(client, "contenu"), done)
        new_id = release_id(client)
        assert new_id not in (None, old_id)
        new = download(client, new_id)
        assert new.status_code == 200 and "Diabète de contenu B" in new.text and "contenu A" not in new.text
        assert new.headers["ETag"] != old.headers["ETag"]
        assert download(client, old_id).status_code == 404  # the old file is not served any more
        revalidated = client.get(f"/releases/{new_id}/download/csv", headers={"If-None-Match": old.headers["ETag"]})
        assert revalidated.status_code == 200 and "contenu B" in revalidated.text

        smt_command(home, "status", new_id, "retired")
        done = time.monotonic()
        within_deadline(lambda: client.get(f"/releases/{new_id}").json()["status"] == "retired", done)

        # --replace: the old release answers until the new one is stored (no 404 in between), then the new one
        smt_command(home, "status", new_id, "active")
        answers: list[str | None] = []
        replacing = threading.Thread(target=smt_command, args=(home, "load", "cim10", str(third), "--replace"))
        replacing.start()
        while replacing.is_alive():
            answers.append(lookup_display(client))
        replacing.join()
        done = time.monotonic()
        within_deadline(lambda: lookup_display(client) == "Diabète de contenu C", done)
        assert None not in answers, "the release was missing while it was being replaced"
        assert set(answers) <= {"Diabète de contenu B", "Diabète de contenu C"}
        replaced_etag = download(client, release_id(client) or "").headers["ETag"]
    assert watcher.requests > 50 and watcher.errors == []

    with running_server(home) as client:  # after a restart: the new content, the same validators
        assert lookup_display(client) == "Diabète de contenu C"
        assert "Diabète de contenu C" in search_displays(client, "contenu")
        again = download(client, release_id(client) or "")
        assert "Diabète de contenu C" in again.text and again.headers["ETag"] == replaced_etag
        assert len(client.get("/releases", params={"url": CIM10}).json()["releases"]) == 1
