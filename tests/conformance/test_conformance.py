"""HL7 terminology ecosystem tests, modes ``general`` and ``snomed``: the ratchet.

Every test listed for a mode in ``tests/conformance/pass_list.json`` must still pass; a test that passed may not
start failing. Regenerate the list when fixes make more tests pass (see ``pass_list.py`` and docs/conformance.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conformance.pass_list import read_pass_list, regressions
from tests.conformance.runner import run_conformance

SNOMED_SUBSET = "snomed-sample/hl7-tx-ecosystem-subset-INT-20250909"
SNOMED_VERSION = "http://snomed.info/xsct/31000003106/version/20250909"


def _check_mode(mode: str, shared_data: Path, home: Path | None = None) -> None:
    listed = read_pass_list().get(mode)
    assert listed, f"no tests listed for mode {mode!r} in tests/conformance/pass_list.json"
    result = run_conformance(shared_data, {mode}, home=home, timeout=30.0)
    lost = regressions(listed, result.outcomes)
    assert not lost, f"{len(lost)} test(s) of the {mode} pass list fail now:\n" + "\n".join(lost)


@pytest.mark.shared_data
def test_general_mode_pass_list_still_passes(shared_data: Path) -> None:
    _check_mode("general", shared_data)


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
def test_snomed_mode_pass_list_still_passes(shared_data: Path, snomed_home: Path) -> None:
    _check_mode("snomed", shared_data, snomed_home)
