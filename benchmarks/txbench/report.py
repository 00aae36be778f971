"""Markdown tables of ``txbench`` runs, as ``benchmarks/README.md`` records them.

    python -m benchmarks.txbench.report RUN.json [RUN2.json …]          # one table per run
    python -m benchmarks.txbench.report --p50 BEFORE.json AFTER.json …  # p50 at 1 VU side by side

Per test: p50 / p99 (ms) and requests/s at each VU level, the errors (wrong answers included) and the peak
throughput as a ratio of the ``/health`` ceiling measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys


def _ceiling(run: dict) -> float | None:
    health = run.get("ceiling", {}).get("/health")
    return health.get("peak_rps") if health else None


def _cell(level: dict | None) -> str:
    if not level or not level.get("requests"):
        return "-"
    return f"{level['p50_ms']} / {level['p99_ms']} / {level['rps']}"


def run_table(run: dict) -> str:
    """One run: the ceiling rows then every test, levels as ``p50 / p99 / rps``."""
    levels = run.get("vus", [1, 10, 50])
    ceiling = _ceiling(run)
    head = "| test | preflight | " + " | ".join(f"{v} VU p50 / p99 ms / rps" for v in levels) + \
        " | errors | peak rps / ceiling |"
    lines = [head, "|" + "---|" * (len(levels) + 4)]
    rows = [(f"ceiling `{path}`", "-", c) for path, c in run.get("ceiling", {}).items()]
    rows += [(tid, "pass" if run.get("preflight", {}).get(tid, {}).get("ok") else "**fail**", t)
             for tid, t in run.get("tests", {}).items()]
    for name, preflight, result in rows:
        by_vus = {level["vus"]: level for level in result.get("levels", [])}
        ratio = f"{result['peak_rps'] / ceiling:.2f}" if ceiling and result.get("peak_rps") is not None else "-"
        lines.append(f"| {name} | {preflight} | " + " | ".join(_cell(by_vus.get(v)) for v in levels) +
                     f" | {result.get('errors', 0)}/{result.get('requests', 0)} | {ratio} |")
    for tid, why in run.get("skipped", {}).items():
        lines.append(f"| {tid} | skipped: {why} |" + " |" * (len(levels) + 2))
    return "\n".join(lines) + "\n"


def p50_table(runs: list[tuple[str, dict]]) -> str:
    """p50 at 1 VU and peak rps of several runs side by side (the issue's table)."""
    tests = list(dict.fromkeys(t for _, run in runs for t in run.get("tests", {})))
    lines = ["| test | " + " | ".join(f"{name}: p50 1 VU ms, peak rps" for name, _ in runs) + " |",
             "|---|" + "---|" * len(runs)]
    lines.append("| ceiling `/health` | " + " | ".join(f"-, {_ceiling(run)}" for _, run in runs) + " |")
    for tid in tests:
        cells = []
        for _, run in runs:
            t = run.get("tests", {}).get(tid)
            cells.append(f"{t.get('p50_1vu_ms')}, {t.get('peak_rps')}" if t else "-")
        lines.append(f"| {tid} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="txbench --out files")
    parser.add_argument("--p50", action="store_true", help="one table: p50 at 1 VU and peak rps per run")
    args = parser.parse_args(argv)
    runs = []
    for path in args.runs:
        with open(path, encoding="utf-8") as f:
            runs.append((path.rsplit("/", 1)[-1].removesuffix(".json"), json.load(f)))
    if args.p50:
        print(p50_table(runs))
        return 0
    for name, run in runs:
        print(f"### {name} (started {run.get('started')}, load average {run.get('loadavg_start')} → "
              f"{run.get('loadavg_end')})\n")
        print(run_table(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
