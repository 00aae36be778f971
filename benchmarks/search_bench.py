"""Benchmark: full-text search over ≥ 1.6 M generated terms (Search issue).

Data: the real CIM-10 FR 2021 release (43 k concepts, 85 k terms) plus generated concepts until the release
holds ``--terms`` terms (default 1,700,000; about 1.65 M indexed once a concept's identical terms merge).
Generated terms recombine the words of real CIM-10 labels with a seeded generator
(``random.Random(20240501)``), so every run indexes exactly the same text. Each generated concept has a display
and one synonym and sits in a 20-ary tree (depth ≈ 5), so ``within`` has a hierarchy to use.

Measured (median of 3 runs each):

* build — ``build_search_index`` of the whole release (the step ``compile_release`` adds to a load);
* in-process latency — ``smt.search.service.search`` (query analysis, every pass needed, grouping per
  concept, display lookup, highlighting), p50 and p99 over 1,000 seeded queries;
* HTTP latency — ``GET /search`` on the real app served by uvicorn in a background thread on 127.0.0.1,
  called with one keep-alive ``httpx.Client``; p50 over the same queries;
* abbreviation queries — 30 French medical abbreviations (``ABBREVIATION_QUERIES``), 7 times each, in process:
  p50 and slowest.

The release folder is laid out as a load leaves it (``index.sqlite``, ``search/``, ``manifest.json``) and read
through the real ``Registry``; its RDF graph is not written (the search path never reads RDF).
Targets: build ≤ 60 s, p50 ≤ 2 ms, p99 ≤ 10 ms, HTTP p50 ≤ 5 ms.
Usage: ``python benchmarks/search_bench.py [--terms N] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

from benchmarks.common import machine, percentile, serve, timed
from loaders import run_loader
from smt.config import data_dir
from smt.index import FORMAT_VERSION as INDEX_FORMAT
from smt.index.build import build_index
from smt.model import CodeSystemRelease, Concept, Designation, release_meta
from smt.releases.registry import Registry
from smt.search import FORMAT_VERSION as SEARCH_FORMAT
from smt.search.build import META, build_search_index
from smt.search.service import SEARCH_DIR, search
from smt.store.releases import INDEX, MANIFEST, new_release_id

SOURCE = data_dir() / "cim10" / "nomensland" / "cim10_fr_pmsi_2021.tsv.gz"
SEED = 20240501
QUERIES = 1000


def generated_release(terms: int) -> CodeSystemRelease:
    """CIM-10 2021 plus seeded recombinations of its words, ``terms`` terms in all."""
    release = run_loader("cim10", SOURCE)[0]
    labels = sorted({c.display for c in release.concepts} | {d.value for c in release.concepts
                                                              for d in c.designations})
    split = [label.split() for label in labels]
    rng = random.Random(SEED)
    current = sum(1 + len(c.designations) for c in release.concepts)
    concepts: list[Concept] = []
    number = 0
    while current < terms:
        parent = f"G{(number - 1) // 20:07d}" if number else None
        first, second, third = rng.choice(split), rng.choice(split), rng.choice(split)
        display = " ".join(first[: max(1, len(first) // 2)] + second[len(second) // 2:])
        synonym = " ".join(third[: max(1, len(third) // 2)] + first[len(first) // 2:])
        concepts.append(Concept(code=f"G{number:07d}", display=display, parents=[parent] if parent else [],
                                designations=[Designation(synonym, "fr")]))
        current += 2
        number += 1
    release.concepts.extend(concepts)
    release.url, release.version = "https://example.org/bench/search", "1"
    return release


def queries(release: CodeSystemRelease, count: int = QUERIES) -> list[str]:
    """Seeded, realistic queries: word prefixes in any order, whole words, codes and typos."""
    rng = random.Random(SEED + 1)
    real = [c for c in release.concepts if not c.code.startswith("G")]
    result = []
    while len(result) < count:
        concept = rng.choice(real)
        words = [w.strip(",.()") for w in concept.display.split() if len(w.strip(",.()")) > 3]
        kind = len(result) % 10
        if kind == 0:
            result.append(concept.code)
        elif not words:
            continue
        elif kind in (1, 2, 3, 4):
            picked = rng.sample(words, min(len(words), rng.randint(1, 3)))
            result.append(" ".join(w[: rng.randint(3, 6)] for w in picked))
        elif kind in (5, 6, 7):
            result.append(" ".join(rng.sample(words, min(len(words), rng.randint(1, 3)))))
        else:
            word = rng.choice(words)
            cut = rng.randrange(1, len(word) - 1)
            result.append(word[:cut] + word[cut + 1:])
    return result


def install(release: CodeSystemRelease, home: Path, search_index: Path) -> None:
    """Lay ``release`` out in ``home`` as a load does (compiled index, search index, manifest)."""
    rid = new_release_id(release)
    folder = home / "releases" / rid
    folder.mkdir(parents=True)
    build_index(release, folder / INDEX)
    search_index.rename(folder / SEARCH_DIR)
    manifest = {**release_meta(release), "id": rid, "status": "active", "loaded_at": "2024-05-01T00:00:00+00:00",
                "warnings": [], "sources": [], "artefacts": {"index": INDEX_FORMAT, "search": SEARCH_FORMAT}}
    (folder / MANIFEST).write_bytes(orjson.dumps(manifest))


def latencies(registry: Registry, texts: list[str]) -> list[float]:
    values = []
    for text in texts:
        start = time.perf_counter()
        search(registry, text, count=10)
        values.append(time.perf_counter() - start)
    return values


def http_latencies(home: Path, texts: list[str]) -> list[float]:
    values = []
    with serve(home) as client:
        for text in texts[:50]:
            client.get("/search", params={"q": text, "count": 10})
        for text in texts:
            start = time.perf_counter()
            response = client.get("/search", params={"q": text, "count": 10})
            values.append(time.perf_counter() - start)
            response.raise_for_status()
    return values


ABBREVIATION_QUERIES = (
    "hta", "avc", "avc ischémique", "hta gravidique", "idm", "bpco", "vih", "ep", "fa", "sep", "ist", "irc", "dt2",
    "tvp", "rgo", "hbp", "ivg", "oap", "H.T.A.", "tsa", "tdah", "pr", "led", "mici", "nash", "iu", "fracture ep",
    "ic", "sca", "dnid",
)
"""French medical abbreviations (``smt/search/abbreviations_fr.tsv``), each expanded at query time."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=int, default=1_700_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    release = generated_release(args.terms)
    texts = queries(release)
    builds, p50s, p99s, http50s, abbr50s, abbr_max = [], [], [], [], [], []
    documents = 0
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            target = Path(tmp) / f"build-{run}"
            builds.append(timed(lambda t=target: build_search_index(release, t)))
            documents = orjson.loads((target / META).read_bytes())["documents"]
            print(f"build {run + 1}: {builds[-1]:.1f} s", flush=True)
            if run < args.runs - 1:
                shutil.rmtree(target)
        home = Path(tmp) / "home"
        install(release, home, target)
        registry = Registry(home)
        latencies(registry, texts[:100])  # warm-up: opens the indexes, fills the OS cache
        for run in range(args.runs):
            values = latencies(registry, texts)
            p50s.append(statistics.median(values) * 1000)
            p99s.append(percentile(values, 0.99) * 1000)
            http50s.append(statistics.median(http_latencies(home, texts)) * 1000)
            abbreviations = latencies(registry, list(ABBREVIATION_QUERIES) * 7)
            abbr50s.append(statistics.median(abbreviations) * 1000)
            abbr_max.append(max(abbreviations) * 1000)
            print(f"run {run + 1}: p50 {p50s[-1]:.2f} ms, p99 {p99s[-1]:.2f} ms, HTTP p50 {http50s[-1]:.2f} ms, "
                  f"abbreviations p50 {abbr50s[-1]:.2f} ms (max {abbr_max[-1]:.2f} ms)", flush=True)
    print(f"machine: {machine()}")
    print(f"data: {len(release.concepts):,} concepts, {documents:,} indexed terms; {len(texts)} queries")
    print(f"build: median {statistics.median(builds):.1f} s (runs: {', '.join(f'{b:.1f}' for b in builds)})")
    print(f"in-process: p50 {statistics.median(p50s):.2f} ms, p99 {statistics.median(p99s):.2f} ms")
    print(f"HTTP (uvicorn thread + httpx keep-alive): p50 {statistics.median(http50s):.2f} ms")
    print(f"abbreviation queries ({len(ABBREVIATION_QUERIES)} × 7): p50 {statistics.median(abbr50s):.2f} ms, "
          f"slowest {statistics.median(abbr_max):.2f} ms")


if __name__ == "__main__":
    main()
