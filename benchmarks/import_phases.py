"""Benchmark: where an import spends its time and memory, phase by phase (one run, in this process).

    python -m benchmarks.import_phases snomed /work/bench/rf2/SnomedCT_SyntheticRF2_20250901 [--home DIR]
    python -m benchmarks.import_phases cim10 ../shared/data/cim10/nomensland/cim10_fr_pmsi_2015-2020.json.gz

Runs ``smt load <loader> <source>`` the way the CLI does (the loader's ``stream`` when it has one, then
``ReleaseStore.load_many``) into a fresh ``SMT_HOME``, with the store's phases wrapped: for each call of a
phase, its start and end (seconds since the start) and the largest resident set size of the process while it
ran (sampled every 50 ms by a thread; children processes included through ``RUSAGE_CHILDREN`` at the end).
Phases may overlap (the compiled artefacts are built while the RDF graph is written), so they do not add up.
"""

from __future__ import annotations

import argparse
import importlib
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

PHASES: tuple[tuple[str, str, str], ...] = (
    ("loaders.snomed", "read_release", "RF2 read + checks"),
    ("loaders.snomed", "missing_concepts", "RF2 references"),
    ("loaders.snomed", "release_tables", "RF2 tables"),
    ("loaders.snomed", "build_concepts", "concept objects"),
    ("loaders.snomed", "build_release", "release model"),
    ("smt.index.build", "write_closure", "closure"),
    ("smt.index.build", "write_tables", "index tables"),
    ("smt.store.rdf", "RdfStore.register", "registry"),
)
"""Functions timed besides the phases the store reports through its ``Progress``."""


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class Sampler(threading.Thread):
    """The process's RSS every 50 ms: (seconds since ``start``, MB)."""

    def __init__(self, start: float) -> None:
        super().__init__(daemon=True)
        self.start_time = start
        self.samples: list[tuple[float, float]] = []

    def run(self) -> None:
        while True:
            self.samples.append((time.perf_counter() - self.start_time, rss_mb()))
            time.sleep(0.05)

    def peak(self, began: float = 0.0, ended: float = float("inf")) -> float:
        return max((mb for t, mb in list(self.samples) if began <= t <= ended), default=0.0)


class _Phase:
    def __init__(self, recorder: Recorder, name: str) -> None:
        self.recorder, self.name, self.began = recorder, name, recorder.now()

    def advance(self, rows: int) -> None:
        pass

    def finish(self) -> None:
        if self.began is not None:
            self.recorder.rows.append((self.name, self.began, self.recorder.now()))
            self.began = None


class Recorder:
    """A ``Progress`` that records when each phase of the store starts and finishes."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.rows: list[tuple[str, float, float]] = []
        self.open: list[_Phase] = []

    def now(self) -> float:
        return time.perf_counter() - self.start

    def phase(self, name: str, total: int | None) -> _Phase:
        self.open.append(_Phase(self, name))
        return self.open[-1]


def wrap(owner: Any, attribute: str, label: str, recorder: Recorder) -> None:
    function = getattr(owner, attribute)

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = recorder.now()
        try:
            return function(*args, **kwargs)
        finally:
            recorder.rows.append((f"[{label}]", began, recorder.now()))

    setattr(owner, attribute, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("loader")
    parser.add_argument("source", type=Path)
    parser.add_argument("--home", type=Path, help="store here (kept) instead of a temporary folder")
    parser.add_argument("--version")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="smt-phases-"))
    shutil.rmtree(home, ignore_errors=True)
    start = time.perf_counter()
    sampler = Sampler(start)
    sampler.start()
    recorder = Recorder(start)
    for module_name, dotted, label in PHASES:
        module = importlib.import_module(module_name)
        *path, attribute = dotted.split(".")
        owner = module
        for part in path:
            owner = getattr(owner, part)
        wrap(owner, attribute, label, recorder)
    from loaders import run_loader
    from smt.compile import writable_store

    releases = run_loader(args.loader, args.source, args.version, stream=True, context={"progress": recorder})
    infos = writable_store(home).load_many(releases, progress=recorder)
    total = time.perf_counter() - start
    for phase in recorder.open:  # phases not finished explicitly end with the load
        phase.finish()
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[:3]
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{args.loader} {args.source.name}: {len(infos)} release(s); load average {' '.join(load)}")
    print(f"{'phase':<44}{'start':>8}{'end':>8}{'seconds':>9}{'peak RSS MB':>12}")
    for label, began, ended in sorted(recorder.rows, key=lambda row: row[1]):
        print(f"{label[-44:]:<44}{began:>8.1f}{ended:>8.1f}{ended - began:>9.1f}{sampler.peak(began, ended):>12.0f}")
    print(f"total {total:.1f} s; peak RSS {sampler.peak():.0f} MB (children {children:.0f} MB); "
          f"CPU user {resource.getrusage(resource.RUSAGE_SELF).ru_utime:.0f} s "
          f"sys {resource.getrusage(resource.RUSAGE_SELF).ru_stime:.0f} s")
    if args.home is None:
        shutil.rmtree(home, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
