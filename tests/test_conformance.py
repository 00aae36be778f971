"""HL7 terminology ecosystem tests, mode ``general``: the pass count must not fall below the floor.

Raise ``GENERAL_PASS_FLOOR`` when fixes land (``python -m tests.conformance --mode general`` prints the
count); see docs/conformance.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.report import group_causes
from tests.conformance.runner import run_conformance

GENERAL_PASS_FLOOR = 403


@pytest.mark.shared_data
def test_general_mode_pass_count_does_not_regress(shared_data: Path) -> None:
    result = run_conformance(shared_data, {"general"}, timeout=15.0)
    total = len(result.outcomes)
    assert total > 400, f"only {total} tests selected: is the suite folder complete?"
    causes = "\n".join(f"{len(items):4} × {cause}" for cause, items in group_causes(result.outcomes)[:10])
    assert result.passed >= GENERAL_PASS_FLOOR, (
        f"{result.passed}/{total} general tests pass, below the floor {GENERAL_PASS_FLOOR}. Top causes:\n{causes}")
