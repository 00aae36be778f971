"""Shared fixtures: the real data folder and fresh stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from smt.config import data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``SMT_DATA_DIR`` (default ``../shared/data``); tests needing it are skipped when it is absent."""
    path = data_dir()
    if not path.is_dir():
        pytest.skip(f"real data folder {path} not found (set SMT_DATA_DIR)")
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty ``SMT_HOME`` for one test."""
    path = tmp_path / "smt-home"
    path.mkdir()
    monkeypatch.setenv("SMT_HOME", str(path))
    return path
