"""Benchmark: `smt load cim10` of the multi-year CIM-10 FR file 2015–2020 (246,890 rows, 6 releases): wall time and
peak memory of the real command, measured by ``/usr/bin/time -v`` in a child process per run, into a fresh
``SMT_HOME``. Prints each run and the medians of 3. Target (Trust issue): peak under 1 GB.

Run: ``python -m benchmarks.load_cim10_years`` (≈ 2 min a run on the 2-core machine).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import machine
from smt.config import data_dir

SOURCE = data_dir() / "cim10" / "nomensland" / "cim10_fr_pmsi_2015-2020.json.gz"
SMT = str(Path(sys.executable).with_name("smt"))


def one_run() -> tuple[float, int]:
    """(wall seconds, peak RSS in kB) of one ``smt load cim10`` into a fresh store."""
    with tempfile.TemporaryDirectory() as home:
        result = subprocess.run(["/usr/bin/time", "-v", SMT, "load", "cim10", str(SOURCE)], capture_output=True,
                                text=True, env={**os.environ, "SMT_HOME": home}, check=True)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", result.stderr)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    assert wall and peak, result.stderr
    hours, minutes, seconds = int(wall[1] or 0), int(wall[2]), float(wall[3])
    return hours * 3600 + minutes * 60 + seconds, int(peak[1])


def main() -> None:
    runs = [one_run() for _ in range(3)]
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    print(f"source: {SOURCE.name}")
    for wall, peak in runs:
        print(f"  {wall:.1f} s, peak RSS {peak:,} kB ({peak / 1024 / 1024:.2f} GiB)")
    wall = statistics.median(w for w, _ in runs)
    peak = statistics.median(p for _, p in runs)
    print(f"median: {wall:.1f} s, peak RSS {peak:,.0f} kB ({peak / 1024 / 1024:.2f} GiB)")


if __name__ == "__main__":
    main()
