"""``benchmarks.txbench.medians``: each figure is the median over the runs, each ratio taken within its run."""

from __future__ import annotations

from benchmarks.txbench.medians import markdown, summarise


def _level(vus: int, rps: float, p50: float) -> dict:
    return {"vus": vus, "requests": int(rps * 10), "rps": rps, "eff_rps": rps, "p50_ms": p50, "p99_ms": p50 * 5}


def _run(ceiling: float, lookup: float, errors: int = 0) -> dict:
    return {"release": "R", "concepts": 3, "duration_s": 10, "vus": [1, 10], "cpus": 2,
            "loadavg_start": [1, 1, 1], "loadavg_end": [2, 2, 2], "preflight": {"LK01": {"ok": True}},
            "ceiling": {"/health": {"levels": [_level(1, ceiling / 2, 0.5), _level(10, ceiling, 3)],
                                    "peak_rps": ceiling}},
            "tests": {"LK01": {"levels": [_level(1, lookup / 2, 1), _level(10, lookup, 6)], "peak_rps": lookup,
                               "p50_1vu_ms": 1, "errors": errors, "requests": 100}}}


def test_ratios_are_taken_within_each_run_then_their_median() -> None:
    # ceilings 1000, 2000, 500 and lookups 500, 1200, 450: ratios 0.5, 0.6, 0.9 (median 0.6), whereas the ratio
    # of the medians would be 500 / 1000 = 0.5
    summary = summarise([_run(1000, 500), _run(2000, 1200), _run(500, 450, errors=2)])
    lookup = summary["tests"]["LK01"]
    assert lookup["peak_ratio"] == 0.6
    assert lookup["peak_rps"] == 500
    assert lookup["levels"][10]["ratio"] == 0.6 and lookup["levels"][1]["ratio"] == 0.6
    assert lookup["levels"][10]["p50_ms"] == 6
    assert lookup["errors"] == 2 and lookup["requests"] == 300 and lookup["preflight"]
    table = markdown(summary)
    assert "| LK01 | pass |" in table and "| 0.600 |" in table
