"""Benchmark: `smt load cim10` of the real CIM-10 FR 2021 file (42,880 codes), end to end.

Each run loads into a fresh SMT_HOME: loader, quality gate, compiled index, RDF graph, registry, commit.
Prints the median of 3 runs. Target (Core issue): ≤ 10 s. Run: ``python -m benchmarks.load_cim10``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import machine, median_of, timed
from loaders import run_loader
from smt.compile import writable_store
from smt.config import data_dir

SOURCE = data_dir() / "cim10" / "nomensland" / "cim10_fr_pmsi_2021.json.gz"


def one_run(_: int) -> float:
    with tempfile.TemporaryDirectory() as home:
        store = writable_store(Path(home))

        def load() -> None:
            for release in run_loader("cim10", SOURCE):
                store.load(release)

        return timed(load)


def main() -> None:
    median, values = median_of(3, one_run)
    print(f"machine: {machine()}")
    print(f"source: {SOURCE.name}")
    print(f"load CIM-10 2021 end to end: median {median:.2f} s (runs: {', '.join(f'{v:.2f}' for v in values)})")


if __name__ == "__main__":
    main()
