"""Locations and settings, read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import terminologies


def smt_home() -> Path:
    """Where the store lives (``SMT_HOME``, default ``./var``)."""
    return Path(os.environ.get("SMT_HOME", "./var")).resolve()


def data_dir() -> Path:
    """Where the real public terminology files are (``SMT_DATA_DIR``, default ``../shared/data``): tests and
    benchmarks only; no loader reads it."""
    return Path(os.environ.get("SMT_DATA_DIR", "../shared/data")).resolve()


PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The checkout (docs, tests); not part of an installed wheel."""
CATALOGUE_DIR = Path(terminologies.__file__).resolve().parent
"""The catalogue (``*.toml``): package data of the ``terminologies`` package, in a checkout as in a wheel."""
SAMPLES_DIR = CATALOGUE_DIR / "samples"

METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus_client's variable: the directory where the processes of one server write their request counts
(set by ``smt serve --workers N``, read by ``fhir_api.metrics``)."""
