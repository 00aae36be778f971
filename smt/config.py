"""Locations and settings, read from the environment."""

from __future__ import annotations

import os
from pathlib import Path


def smt_home() -> Path:
    """Where the store lives (``SMT_HOME``, default ``./var``)."""
    return Path(os.environ.get("SMT_HOME", "./var")).resolve()


def data_dir() -> Path:
    """Where the real public terminology files are (``SMT_DATA_DIR``, default ``../shared/data``)."""
    return Path(os.environ.get("SMT_DATA_DIR", "../shared/data")).resolve()


PROJECT_ROOT = Path(__file__).resolve().parent.parent
CATALOGUE_DIR = PROJECT_ROOT / "terminologies"
SAMPLES_DIR = CATALOGUE_DIR / "samples"
