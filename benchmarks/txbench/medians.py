"""Medians of several ``txbench`` runs: the project's standard, each figure the median of 3 runs (each run with
its own ``/health`` ceiling, so every ratio divides figures of one run).

    python -m benchmarks.txbench.medians --runs 3 --out tp -- --base http://127.0.0.1:8812/fhir \
        --meta RELEASE/meta.json --server-pid PID --tests LK01,VC01 --vus 1,10 --duration 10
    python -m benchmarks.txbench.medians --out tp --from tp-1.json tp-2.json tp-3.json   # runs already made

Runs ``txbench.py`` (the arguments after ``--``) N times in turn, writing ``OUT-1.json`` … and ``OUT.json`` /
``OUT.md``: per test and VU level the median p50, p99 and requests/s and the median of the per-run ratios to
the ceiling measured at the same VU level of the same run, and the server's CPU time per request (with
``--server-pid``); per test the median peak rps and the median of the
per-run peak ratios ("rps / ceiling" of the issue: the test's peak over the ceiling's peak), with the load
averages of each run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

TXBENCH = Path(__file__).with_name("txbench.py")
CEILING = "/health"


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def _ratio(value: float | None, ceiling: float | None) -> float | None:
    return value / ceiling if value is not None and ceiling else None


def _levels(result: dict) -> dict[int, dict]:
    return {level["vus"]: level for level in result.get("levels", []) if level.get("requests")}


def summarise(runs: list[dict]) -> dict:
    """The medians over ``runs`` (txbench ``--out`` documents) of every figure, per test and per VU level."""
    ceilings = [run.get("ceiling", {}).get(CEILING, {}) for run in runs]
    names = list(dict.fromkeys(t for run in runs for t in run.get("tests", {})))
    vus = sorted({v for run in runs for v in run.get("vus", [])})
    summary: dict = {"runs": len(runs), "release": runs[0].get("release"), "concepts": runs[0].get("concepts"),
                     "duration_s": runs[0].get("duration_s"), "vus": vus, "cpus": runs[0].get("cpus"),
                     "started": [run.get("started") for run in runs],
                     "loadavg": [[run.get("loadavg_start"), run.get("loadavg_end")] for run in runs],
                     "ceiling": {}, "tests": {}}
    rows = [(CEILING, ceilings)] + [(name, [run.get("tests", {}).get(name, {}) for run in runs]) for name in names]
    for name, results in rows:
        per_level = {}
        for v in vus:
            got = [_levels(r).get(v) for r in results]
            at_ceiling = [_levels(c).get(v) for c in ceilings]
            per_level[v] = {
                "p50_ms": _median([g and g["p50_ms"] for g in got]),
                "p99_ms": _median([g and g["p99_ms"] for g in got]),
                "rps": _median([g and g.get("eff_rps", g["rps"]) for g in got]),
                "ratio": _median([_ratio(g and g.get("eff_rps", g["rps"]), c and c["rps"])
                                  for g, c in zip(got, at_ceiling, strict=True)]),
                "server_cpu_us": _median([g and g.get("server_cpu_us") for g in got]),
            }
        entry = {"levels": per_level,
                 "peak_rps": _median([r.get("peak_rps") for r in results]),
                 "peak_ratio": _median([_ratio(r.get("peak_rps"), c.get("peak_rps"))
                                        for r, c in zip(results, ceilings, strict=True)]),
                 "p50_1vu_ms": _median([r.get("p50_1vu_ms") for r in results]),
                 "errors": sum(r.get("errors", 0) for r in results),
                 "requests": sum(r.get("requests", 0) for r in results),
                 "preflight": all(run.get("preflight", {}).get(name, {}).get("ok", name == CEILING)
                                  for run in runs)}
        summary["ceiling" if name == CEILING else "tests"][name] = entry
    return summary


def markdown(summary: dict) -> str:
    """The medians as one table: per VU level ``p50 / p99 ms / rps (ratio)``, then peak rps and ratio, and the
    server's CPU µs per request at the highest level."""
    vus = summary["vus"]
    lines = [f"Medians of {summary['runs']} runs ({summary['release']}, {summary['concepts']} concepts, "
             f"{summary['duration_s']} s per level, {summary['cpus']} CPUs; load averages at start → end of "
             "each run: " + "; ".join(f"{a} → {b}" for a, b in summary["loadavg"]) + ")", "",
             "| test | preflight | " + " | ".join(f"{v} VU p50 / p99 ms / rps (÷ ceiling)" for v in vus)
             + f" | peak rps | peak ÷ ceiling | server CPU µs / request at {vus[-1]} VU | errors |",
             "|" + "---|" * (len(vus) + 6)]
    rows = [(f"ceiling `{CEILING}`", summary["ceiling"][CEILING])] + list(summary["tests"].items())
    for name, entry in rows:
        cells = []
        for v in vus:
            level = entry["levels"].get(v) or entry["levels"].get(str(v)) or {}
            ratio = f" ({level['ratio']:.2f})" if level.get("ratio") is not None else ""
            cells.append(f"{level.get('p50_ms')} / {level.get('p99_ms')} / {level.get('rps')}{ratio}")
        peak_ratio = f"{entry['peak_ratio']:.3f}" if entry.get("peak_ratio") is not None else "-"
        top = entry["levels"].get(vus[-1]) or entry["levels"].get(str(vus[-1])) or {}
        lines.append(f"| {name} | {'pass' if entry['preflight'] else '**fail**'} | " + " | ".join(cells)
                     + f" | {entry['peak_rps']} | {peak_ratio} | {top.get('server_cpu_us') or '-'} | "
                       f"{entry['errors']}/{entry['requests']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    own, passed = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="txbench runs (default 3)")
    parser.add_argument("--out", required=True, help="prefix of the files written (OUT-1.json…, OUT.json, OUT.md)")
    parser.add_argument("--from", dest="existing", nargs="+", default=[], help="summarise these runs instead")
    args = parser.parse_args(own)
    paths = [Path(p) for p in args.existing]
    if not paths:
        if not passed:
            parser.error("give txbench's arguments after -- (or --from RUN.json…)")
        for n in range(1, args.runs + 1):
            path = Path(f"{args.out}-{n}.json")
            print(f"run {n}/{args.runs} → {path}", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, str(TXBENCH), *passed, "--out", str(path), "--md",
                            os.devnull], check=True, stdout=subprocess.DEVNULL)
            paths.append(path)
    runs = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    summary = summarise(runs)
    Path(f"{args.out}.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    table = markdown(summary)
    Path(f"{args.out}.md").write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
