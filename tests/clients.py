"""HTTP test clients over the real app: anonymous readers and curators (who also see draft releases)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fhir_api.app import create_app

CURATOR_TOKEN = "test-curator-token"


@contextmanager
def curator_client(home: Path) -> Iterator[TestClient]:
    """A client authenticated as an admin curator (static token), so draft releases are visible."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMT_STATIC_TOKENS", f"{CURATOR_TOKEN}:admin")
        app = create_app(home)
    headers = {"Authorization": f"Bearer {CURATOR_TOKEN}"}
    with TestClient(app, raise_server_exceptions=False, headers=headers) as client:
        yield client
