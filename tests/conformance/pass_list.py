"""The conformance ratchet: the tests that pass, by mode and suite, kept in ``tests/conformance/pass_list.json``.

A test in the list may not start failing (``test_conformance.py`` runs each mode and checks it). The list is
regenerated from a full run of both modes, after fixes that make more tests pass::

    python -m tests.conformance --mode general --write-pass-list tests/conformance/pass_list.json
    python -m tests.conformance --mode snomed --home <store> --write-pass-list tests/conformance/pass_list.json

Each run rewrites only the mode it ran (``metadata``, which every mode runs, is kept under each).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from .runner import Outcome

PASS_LIST = Path(__file__).with_name("pass_list.json")

PassList = dict[str, dict[str, list[str]]]
"""mode → suite → names of the tests that pass."""


def read_pass_list(path: Path = PASS_LIST) -> PassList:
    """The committed pass list (empty when the file does not exist yet)."""
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def passing(outcomes: Iterable[Outcome]) -> dict[str, list[str]]:
    """suite → sorted names of the passed tests of one run."""
    found: dict[str, list[str]] = {}
    for outcome in outcomes:
        if outcome.passed:
            found.setdefault(outcome.suite, []).append(outcome.name)
    return {suite: sorted(names) for suite, names in sorted(found.items())}


def write_pass_list(path: Path, mode: str, outcomes: Iterable[Outcome]) -> None:
    """Record the passed tests of a run of ``mode`` in the pass list at ``path`` (other modes kept)."""
    current = read_pass_list(path)
    current[mode] = passing(outcomes)
    path.write_text(json.dumps(dict(sorted(current.items())), indent=1, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def regressions(listed: dict[str, list[str]], outcomes: Iterable[Outcome]) -> list[str]:
    """``suite/name: reason`` of every listed test that did not pass (or did not run) in this run."""
    by_id = {(o.suite, o.name): o for o in outcomes}
    lost = []
    for suite, names in sorted(listed.items()):
        for name in names:
            outcome = by_id.get((suite, name))
            if outcome is None:
                lost.append(f"{suite}/{name}: not run")
            elif not outcome.passed:
                lost.append(f"{suite}/{name}: {outcome.reason}")
    return lost
