"""Fuzz the HTTP API from its own OpenAPI document with schemathesis; count cases and server errors (5xx).

Not a test and not timed: it starts ``smt serve`` over a fresh store holding the bundled samples (or over
``--home``), runs ``schemathesis run`` against ``/openapi.json`` with the ``not_a_server_error`` check, prints the
number of cases and failures, then checks that the same server process still answers. Needs schemathesis in the
virtual environment (``.venv/bin/pip install schemathesis``; not a project dependency).

    .venv/bin/python -m benchmarks.fuzz_openapi [--examples 30] [--home PATH]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.server_process import is_up, load_samples, running_server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=30, help="examples per operation (schemathesis -n)")
    parser.add_argument("--home", type=Path, help="an existing SMT_HOME (default: a fresh one with the samples)")
    args = parser.parse_args()
    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if schemathesis is None:
        print("schemathesis is not installed: .venv/bin/pip install schemathesis", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="smt-fuzz-") as scratch:
        home = args.home or Path(scratch) / "home"
        if args.home is None:
            home.mkdir()
            load_samples(home)
        report = Path(scratch) / "report.json"
        with running_server(home) as base:
            run = subprocess.run(
                [schemathesis, "run", f"{base}/openapi.json", "--checks", "not_a_server_error", "-n",
                 str(args.examples), "--continue-on-failure", "--request-timeout", "60",
                 "--report", "ndjson", "--report-ndjson-path", str(report)],
                capture_output=True, text=True)
            alive = is_up(base)
        print(run.stdout[-4000:])
        cases, failures = count(report)
        print(f"cases: {cases}, server errors (5xx) found: {failures}, server still up: {alive}")
        return 0 if failures == 0 and alive else 1


def count(report: Path) -> tuple[int, int]:
    """Test cases run and failed checks, read from schemathesis's NDJSON event stream."""
    cases = failures = 0
    for line in report.read_text(encoding="utf-8").splitlines() if report.exists() else []:
        event = json.loads(line)
        for name, body in event.items():
            if name == "ScenarioFinished":
                recorder = body.get("recorder", {})
                cases += len(recorder.get("cases", {}))
                failures += sum(1 for checks in recorder.get("checks", {}).values() for check in checks
                                if check.get("status") == "FAILURE")
    return cases, failures


if __name__ == "__main__":
    sys.exit(main())
