"""HL7 terminology ecosystem tests, modes ``general`` and ``snomed``: pass counts must not fall below the floors.

Raise ``GENERAL_PASS_FLOOR`` / ``SNOMED_PASS_FLOOR`` when fixes land (``python -m tests.conformance --mode general``
or ``--mode snomed --home <store>`` prints the count); see docs/conformance.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conformance.report import group_causes
from tests.conformance.runner import run_conformance

GENERAL_PASS_FLOOR = 434
SNOMED_PASS_FLOOR = 75
SNOMED_SUBSET = "snomed-sample/hl7-tx-ecosystem-subset-INT-20250909"
SNOMED_VERSION = "http://snomed.info/xsct/31000003106/version/20250909"


@pytest.mark.shared_data
def test_general_mode_pass_count_does_not_regress(shared_data: Path) -> None:
    result = run_conformance(shared_data, {"general"}, timeout=15.0)
    total = len(result.outcomes)
    assert total > 400, f"only {total} tests selected: is the suite folder complete?"
    causes = "\n".join(f"{len(items):4} × {cause}" for cause, items in group_causes(result.outcomes)[:10])
    assert result.passed >= GENERAL_PASS_FLOOR, (
        f"{result.passed}/{total} general tests pass, below the floor {GENERAL_PASS_FLOOR}. Top causes:\n{causes}")


@pytest.fixture(scope="module")
def snomed_home(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ``SMT_HOME`` with the HL7 test subset of SNOMED CT loaded (once per module)."""
    subset = shared_data / SNOMED_SUBSET
    if not subset.is_dir():
        pytest.skip(f"SNOMED CT test subset {subset} not found")
    home = tmp_path_factory.mktemp("sct-home")
    smt = Path(sys.executable).with_name("smt")
    subprocess.run([str(smt), "load", "snomed", str(subset), "--version", SNOMED_VERSION], check=True,
                   env={**os.environ, "SMT_HOME": str(home)}, capture_output=True)
    return home


@pytest.mark.shared_data
def test_snomed_mode_pass_count_does_not_regress(shared_data: Path, snomed_home: Path) -> None:
    result = run_conformance(shared_data, {"snomed"}, home=snomed_home, timeout=30.0)
    total = len(result.outcomes)
    assert total > 70, f"only {total} tests selected: is the suite folder complete?"
    causes = "\n".join(f"{len(items):4} × {cause}" for cause, items in group_causes(result.outcomes)[:10])
    assert result.passed >= SNOMED_PASS_FLOOR, (
        f"{result.passed}/{total} snomed tests pass, below the floor {SNOMED_PASS_FLOOR}. Top causes:\n{causes}")
