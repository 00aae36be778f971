"""Benchmark: ``$expand?filter=`` on a 100,000-concept value set over HTTP (Search issue).

Data: a generated code system of ``--concepts`` concepts (default 100,000) whose French displays and
designations recombine the words of the real CIM-10 FR 2021 labels with a seeded generator
(``random.Random(20241124)``), so every run loads exactly the same text. Each concept has a display and one or
two French designations and sits in a shallow hierarchy (100 roots, 4,900 second-level concepts, the rest on a
third level). It is loaded into a fresh SMT_HOME in a temporary folder with one ``ReleaseStore.load_many``
together with an intensional ValueSet whose compose includes the whole system (``compose.include.system``).

Measured: ``GET /fhir/ValueSet/$expand?url=…&filter=<q>&count=20`` for 20 realistic French queries (prefixes,
multi-word prefixes, whole words, accented and unaccented forms), each query repeated so a run holds
``--requests`` requests (default 100), 3 runs. The real app (``create_app(home)``) is served by uvicorn in a
background thread on 127.0.0.1 and called with one keep-alive ``httpx.Client``; every latency is one full HTTP
round trip. Each answer is checked (status 200, page size = min(20, total)). The same queries are then timed
in process through ``smt.terminology.expand.expand.expand`` (a fresh ``ResourceContext`` per call, as a request builds).

Reported: the median over runs of each run's p50, and of each run's p95. Target: HTTP p50 ≤ 10 ms.
Usage: ``python -m benchmarks.expand_filter_bench [--concepts 100000] [--runs 3] [--requests 100]``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.common import machine, percentile, serve, timed
from benchmarks.valueset_bench import value_set
from loaders import run_loader
from smt.compile import writable_store
from smt.config import data_dir
from smt.formats.fhir_json import resource_release
from smt.model import CodeSystemRelease, Concept, Designation
from smt.releases.registry import Registry
from smt.terminology.context import ResourceContext
from smt.terminology.expand.expand import ExpandOptions, expand, resolve_value_set

SOURCE = data_dir() / "cim10" / "nomensland" / "cim10_fr_pmsi_2021.tsv.gz"
SEED = 20241124
CS_URL = "https://example.org/bench/CodeSystem/fr-100k"
VS_URL = "https://example.org/bench/ValueSet/fr-100k-all"
PAGE = 20
QUERIES = [
    "diab", "insuf card", "fracture col", "tumeur maligne", "infection", "pneumo", "hypertension",
    "hypertension artérielle", "insuffisance rénale", "épilepsie", "epilepsie", "asthme", "ulcère",
    "hémorragie", "tumeur maligne sein", "fémur", "luxation épaule", "brûlure", "dépression", "méningite",
]


def generated_release(concepts: int) -> CodeSystemRelease:
    """``concepts`` concepts with displays and designations recombined from real CIM-10 2021 labels."""
    cim10 = run_loader("cim10", SOURCE)[0]
    labels = sorted({c.display for c in cim10.concepts} | {d.value for c in cim10.concepts
                                                            for d in c.designations})
    split = [label.split() for label in labels]
    rng = random.Random(SEED)

    def label() -> str:
        first, second = rng.choice(split), rng.choice(split)
        return " ".join(first[: max(1, len(first) // 2)] + second[len(second) // 2:])

    made: list[Concept] = []
    for number in range(concepts):
        if number < 100:
            parents: list[str] = []
        elif number < 5000:
            parents = [f"F{number % 100:06d}"]
        else:
            parents = [f"F{100 + number % 4900:06d}"]
        designations = [Designation(label(), "fr") for _ in range(rng.randint(1, 2))]
        made.append(Concept(code=f"F{number:06d}", display=label(), parents=parents, designations=designations))
    return CodeSystemRelease(url=CS_URL, version="1", name="Fr100k", title="Generated French code system (100k)",
                             concepts=made, language="fr")


def run_stats(values: list[float]) -> tuple[float, float]:
    return statistics.median(values) * 1000, percentile(values, 0.95) * 1000


def measure(label: str, calls: list[Callable[[], None]], runs: int) -> str:
    for call in calls[: len(QUERIES)]:  # warm-up: every query once
        call()
    p50s, p95s = [], []
    for run in range(runs):
        p50, p95 = run_stats([timed(call) for call in calls])
        p50s.append(p50)
        p95s.append(p95)
        print(f"  {label} run {run + 1}: p50 {p50:.2f} ms, p95 {p95:.2f} ms", flush=True)
    line = (f"{label}: p50 {statistics.median(p50s):.2f} ms, p95 {statistics.median(p95s):.2f} ms "
            f"(run p50s: {', '.join(f'{v:.2f}' for v in p50s)}; run p95s: {', '.join(f'{v:.2f}' for v in p95s)})")
    print(line, flush=True)
    return line


def http_call(client: httpx.Client, query: str) -> Callable[[], None]:
    params = {"url": VS_URL, "filter": query, "count": PAGE}

    def call() -> None:
        response = client.get("/fhir/ValueSet/$expand", params=params)
        if response.status_code != 200:
            raise RuntimeError(f"$expand {params} → {response.status_code}: {response.text[:300]}")
        expansion = response.json()["expansion"]
        got = len(expansion.get("contains", []))
        if got != min(PAGE, expansion["total"]):
            raise RuntimeError(f"$expand {params}: {got} entries of {expansion['total']}")
    return call


def engine_call(registry: Registry, query: str) -> Callable[[], None]:
    def call() -> None:
        ctx = ResourceContext(registry)
        vs = resolve_value_set(ctx, VS_URL, None)
        expansion = expand(vs, ctx, ExpandOptions(count=PAGE, filter=query))
        if len(expansion.contains) != min(PAGE, expansion.total):
            raise RuntimeError(f"engine $expand filter={query!r}: {len(expansion.contains)} of {expansion.total}")
    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concepts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=100, help="requests per run (queries repeated)")
    args = parser.parse_args()
    started = time.perf_counter()
    load_start = os.getloadavg()
    print(f"load average at start: {load_start}", flush=True)

    release = generated_release(args.concepts)
    terms = sum(1 + len(c.designations) for c in release.concepts)
    vs = resource_release(value_set(VS_URL, {"system": CS_URL}))
    order = [QUERIES[i % len(QUERIES)] for i in range(args.requests)]
    results: list[str] = []
    with tempfile.TemporaryDirectory() as home:
        store = writable_store(Path(home))
        load_seconds = timed(lambda: store.load_many([release, vs]))
        print(f"data: {len(release.concepts):,} concepts, {terms:,} terms; load_many {load_seconds:.1f} s",
              flush=True)
        with serve(Path(home)) as client:
            whole = client.get("/fhir/ValueSet/$expand", params={"url": VS_URL, "count": 0})
            whole.raise_for_status()
            print(f"value set {VS_URL}: {whole.json()['expansion']['total']:,} members", flush=True)
            totals = {}
            for query in QUERIES:
                answer = client.get("/fhir/ValueSet/$expand", params={"url": VS_URL, "filter": query, "count": 0})
                answer.raise_for_status()
                totals[query] = answer.json()["expansion"]["total"]
            print("matches per query: " + ", ".join(f"{q!r} {n:,}" for q, n in totals.items()), flush=True)
            results.append(measure(f"HTTP $expand filter count={PAGE} ({len(order)} requests/run)",
                                   [http_call(client, q) for q in order], args.runs))
            per_query = {q: statistics.median([timed(http_call(client, q)) for _ in range(5)]) * 1000
                         for q in QUERIES}
        registry = Registry(Path(home))
        results.append(measure(f"in-process expand() filter count={PAGE} ({len(order)} calls/run)",
                               [engine_call(registry, q) for q in order], args.runs))

    print()
    print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"machine: {machine()}")
    print(f"load average at start: {load_start}; at end: {os.getloadavg()}")
    print(f"runtime: {time.perf_counter() - started:.0f} s")
    print("HTTP median per query (5 calls): " + ", ".join(f"{q!r} {v:.1f}" for q, v in per_query.items()))
    for line in results:
        print(line)


if __name__ == "__main__":
    main()
