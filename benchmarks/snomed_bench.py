"""Benchmark: SNOMED CT at International-edition scale through the real loader and ``ReleaseStore``.

    python benchmarks/snomed_generate.py                 # once: writes benchmarks/out/ (≈ 1.2 GB)
    python benchmarks/snomed_bench.py [DATA] [--runs 1] [--queries 200]

Measured:

* import — ``smt load snomed`` end to end (RF2 reading and checks, quality gate, compiled index, search index,
  RDF graph, registry, commit) in a child process per run, into a fresh ``SMT_HOME``: wall time per phase
  and peak RSS of the child (``getrusage(RUSAGE_CHILDREN)``);
* store size on disk (SQLite index, search index, oxigraph);
* cold start — a new process: ``Registry`` + resolving ``http://snomed.info/sct`` + the first ``$lookup``;
* in-process latencies over ``--queries`` seeded active concepts: ``$lookup`` (engine, all properties),
  ``$subsumes`` (engine), and ``<< 404684003`` (≈ 100k descendants) via ``CodeSystemIndex.descendant_ids``
  and ``count_descendants``.

Targets (SNOMED CT issue): import ≤ 5 min with peak RSS ≤ 4 GB on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import machine, percentile

ROOT = Path(__file__).resolve().parent.parent
SCT = "http://snomed.info/sct"
FINDING = "404684003"

IMPORT = r"""
import json, sys, time
from pathlib import Path
import smt.compile.artefacts as artefacts
import smt.store.releases as releases
from smt.compile import writable_store
from smt.store import rdf
phases = {}
def timed(name, function):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - start
    return wrapper
artefacts.build_index = timed("index", artefacts.build_index)
artefacts.build_search_index = timed("search", artefacts.build_search_index)
releases.enforce = timed("quality", releases.enforce)
rdf.RdfStore.write_releases = timed("rdf", rdf.RdfStore.write_releases)
from loaders import run_loader
start = time.perf_counter()
(release,) = run_loader("snomed", Path(sys.argv[1]))
phases["loader"] = time.perf_counter() - start
info = writable_store(Path(sys.argv[2])).load(release)
phases["total"] = time.perf_counter() - start
print(json.dumps({"phases": phases, "stats": info.stats, "version": info.version}))
"""

COLD = r"""
import json, sys, time
start = time.perf_counter()
from pathlib import Path
from smt.terminology.codesystem import lookup
from smt.releases.registry import Registry
imported = time.perf_counter()
registry = Registry(Path(sys.argv[1]))
result = lookup(registry, "http://snomed.info/sct", sys.argv[2])
done = time.perf_counter()
print(json.dumps({"imports": imported - start, "registry_and_lookup": done - imported, "display": result.display}))
"""


def run_child(code: str, *args: str) -> tuple[dict, float]:
    """Run ``code`` in a fresh interpreter; its JSON output and the children's peak RSS so far (MB)."""
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, check=True, capture_output=True, text=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return json.loads(out.stdout.strip().splitlines()[-1]), peak


def size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
    return sum(f.stat().st_size for f in files) / 1e6


def latencies(home: Path, queries: int) -> dict[str, object]:
    from smt.releases.registry import Registry
    from smt.terminology.codesystem import lookup, subsumes

    registry = Registry(home)
    index = registry.code_system(SCT)
    rng = random.Random(20250801)
    codes = [c.code for c in index.concepts() if c.active]
    sample = rng.sample(codes, queries)
    lookup_ms, subsumes_ms = [], []
    for code in sample:
        start = time.perf_counter()
        lookup(registry, SCT, code)
        lookup_ms.append((time.perf_counter() - start) * 1000)
    for code in sample:
        other = rng.choice(codes)
        start = time.perf_counter()
        subsumes(registry, SCT, code, other)
        subsumes_ms.append((time.perf_counter() - start) * 1000)
    finding = index.concept(FINDING)
    start = time.perf_counter()
    ids = index.descendant_ids(finding)
    descendants_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    count = index.count_descendants(finding)
    count_ms = (time.perf_counter() - start) * 1000
    return {
        "lookup_p50_ms": statistics.median(lookup_ms), "lookup_p95_ms": percentile(lookup_ms, 0.95),
        "subsumes_p50_ms": statistics.median(subsumes_ms), "subsumes_p95_ms": percentile(subsumes_ms, 0.95),
        "descendants": len(ids), "descendant_ids_ms": descendants_ms, "count_descendants": count,
        "count_descendants_ms": count_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="SNOMED CT import and query benchmark")
    parser.add_argument("data", nargs="?", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--runs", type=int, default=1, help="full imports (each takes minutes)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="store the last import here instead of a temporary folder")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with open("/proc/loadavg") as handle:
        print(f"load average before: {handle.read().split()[:3]}")
    imports: list[dict] = []
    peak = 0.0
    home = args.keep or Path(tempfile.mkdtemp(prefix="smt-snomed-"))
    for run in range(args.runs):
        shutil.rmtree(home, ignore_errors=True)
        result, peak = run_child(IMPORT, str(args.data), str(home))
        imports.append(result)
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in result["phases"].items())
        print(f"import run {run + 1}: {phases}")
    stats = imports[-1]["stats"]
    print(f"data: {stats}")
    totals = [r["phases"]["total"] for r in imports]
    print(f"import: median {statistics.median(totals):.1f} s over {len(totals)} run(s); peak RSS {peak:.0f} MB")
    sizes = {part.name: size_mb(part) for part in (home / "oxigraph", *(home / "releases").glob("*/*"))
             if part.exists()}
    print("store size: " + ", ".join(f"{k} {v:.0f} MB" for k, v in sizes.items() if v >= 1)
          + f"; total {size_mb(home):.0f} MB")
    colds = [run_child(COLD, str(home), FINDING)[0] for _ in range(3)]
    cold = statistics.median(c["imports"] + c["registry_and_lookup"] for c in colds)
    first = statistics.median(c["registry_and_lookup"] for c in colds)
    print(f"cold start (median of 3): {cold * 1000:.0f} ms incl. imports; "
          f"Registry + first $lookup {first * 1000:.0f} ms")
    measured = latencies(home, args.queries)
    print("latencies: " + ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                                    for k, v in measured.items()))
    if args.keep is None:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
