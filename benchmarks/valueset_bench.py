"""Benchmark: ValueSet ``$validate-code`` and ``$expand`` over HTTP on real data (Value sets issue).

Store: a fresh SMT_HOME in a temporary folder, loaded in one ``ReleaseStore.load_many`` with the real CIM-10 FR
2021 release (42,880 codes), every NOS table of ``nos-ror/`` (FHIR JSON and IHE SVS) and two generated value sets:

* ``cim10-10k`` — 10,000 CIM-10 2021 codes listed explicitly (``compose.include.concept``), every 4.288th code
  of the code-sorted release;
* ``cim10-all`` — intensional, ``compose.include`` of the CIM-10 system only: 43,138 concepts (42,880 codes
  plus 258 chapters and blocks, which the loader stores as abstract concepts).

The real app (``create_app(home)``) is served by uvicorn in a background thread on 127.0.0.1 (free port) and
called with one keep-alive ``httpx.Client``; every latency is one full HTTP round trip. Measured:

1. ``GET ValueSet/$validate-code?url=…&system=…&code=…`` on ``cim10-10k``: 200 requests per run (half members
   spread through the list, 40 % CIM-10 codes outside it, 10 % codes unknown to CIM-10), interleaved; 3 runs;
2. ``GET ValueSet/$expand?url=…&count=100`` first page and a deep page, 30 requests per run, 3 runs, for the
   largest loaded NOS value set (by expansion total, found with ``count=0`` on each) and for ``cim10-all``
   (deep page: offset=40000);
3. ``GET ValueSet/$expand?url=cim10-all&filter=diab&count=100``, 2 requests per run by default, 3 runs.

The default request counts date from when a $validate-code on the 10k value set cost ≈ 130 ms and a text filter
≈ 3 s; they now take a few ms, so ``--validate 500 --expand 50 --filter 50`` (the full plan) runs in about a
minute.

Reported figures are the median over the 3 runs of each run's median (and p95). Every answer is checked (status,
``result`` or page size) so a fast error cannot pass for a fast answer.
Usage: ``python -m benchmarks.valueset_bench [--runs 3] [--validate 200] [--expand 30] [--filter 2]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.common import machine, percentile, serve, timed
from loaders import run_loader
from smt.compile import writable_store
from smt.config import data_dir
from smt.formats.fhir_json import resource_release
from smt.model import CodeSystemRelease, Release
from smt.store.releases import ReleaseStore

CIM10 = data_dir() / "cim10" / "nomensland" / "cim10_fr_pmsi_2021.json.gz"
NOS = data_dir() / "nos-ror"
VS_10K = "http://example.org/bench/ValueSet/cim10-10k"
VS_ALL = "http://example.org/bench/ValueSet/cim10-all"
MEMBERS = 10_000
DEEP_CIM10 = 40_000
PAGE = 100


def value_set(url: str, include: dict) -> dict:
    return {"resourceType": "ValueSet", "url": url, "version": "1", "name": url.rsplit("/", 1)[-1],
            "status": "active", "compose": {"include": [include]}}


def validation_codes(codes: list[str], members: list[str], requests: int) -> list[tuple[str, bool]]:
    """``requests`` (code, expected result) pairs, interleaved: half members, 40 % non-members, 10 % unknown."""
    member_set = set(members)
    outside = [c for c in codes if c not in member_set]
    n_in, n_unknown = requests // 2, requests // 10
    n_out = requests - n_in - n_unknown
    picked_in = [(members[i * len(members) // n_in], True) for i in range(n_in)]
    picked_out = [(outside[i * len(outside) // n_out], False) for i in range(n_out)]
    unknown = [(f"Z{i:03d}.X", False) for i in range(n_unknown)]
    mixed: list[tuple[str, bool]] = []
    for i in range(max(n_in, n_out, n_unknown)):
        for group in (picked_in, picked_out, unknown):
            if i < len(group):
                mixed.append(group[i])
    return mixed


def get_json(client: httpx.Client, path: str, params: dict) -> dict:
    response = client.get(path, params=params)
    if response.status_code != 200:
        raise RuntimeError(f"{path} {params} → {response.status_code}: {response.text[:300]}")
    return response.json()


def result_of(answer: dict) -> object:
    return next(p.get("valueBoolean") for p in answer["parameter"] if p["name"] == "result")


def latencies(calls: list[Callable[[], None]]) -> list[float]:
    return [timed(call) for call in calls]


def summary(runs: list[list[float]]) -> str:
    medians = [statistics.median(values) * 1000 for values in runs]
    p95s = [percentile(values, 0.95) * 1000 for values in runs]
    return (f"median {statistics.median(medians):.2f} ms, p95 {statistics.median(p95s):.2f} ms "
            f"(run medians: {', '.join(f'{m:.2f}' for m in medians)})")


def measure(label: str, calls: list[Callable[[], None]], runs: int, warmup: int = 2) -> str:
    for call in calls[:warmup]:
        call()
    values = []
    for run in range(runs):
        values.append(latencies(calls))
        print(f"  {label} run {run + 1}: median {statistics.median(values[-1]) * 1000:.2f} ms", flush=True)
    line = f"{label}: {summary(values)}"
    print(line, flush=True)
    return line


def expand_call(client: httpx.Client, params: dict, expected: int) -> Callable[[], None]:
    def call() -> None:
        answer = get_json(client, "/fhir/ValueSet/$expand", params)
        got = len(answer["expansion"].get("contains", []))
        if got != expected:
            raise RuntimeError(f"$expand {params}: {got} entries, expected {expected}")
    return call


def validate_call(client: httpx.Client, system: str, code: str, expected: bool) -> Callable[[], None]:
    params = {"url": VS_10K, "system": system, "code": code}

    def call() -> None:
        if result_of(get_json(client, "/fhir/ValueSet/$validate-code", params)) is not expected:
            raise RuntimeError(f"$validate-code {code}: expected {expected}")
    return call


def largest_value_set(client: httpx.Client, store: ReleaseStore) -> tuple[str, str, int]:
    """(url, version, expansion total) of the loaded value set with the most members, ours excluded."""
    best = ("", "", -1)
    for info in store.list():
        if info.kind != "ValueSet" or info.url in (VS_10K, VS_ALL):
            continue
        params = {"url": f"{info.url}|{info.version}" if info.version else info.url, "count": 0}
        response = client.get("/fhir/ValueSet/$expand", params=params)
        if response.status_code == 200 and response.json()["expansion"]["total"] > best[2]:
            best = (params["url"], info.version, response.json()["expansion"]["total"])
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--validate", type=int, default=200, help="$validate-code requests per run")
    parser.add_argument("--expand", type=int, default=30, help="paged $expand requests per run and case")
    parser.add_argument("--filter", type=int, default=2, help="$expand filter=diab requests per run")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"load average at start: {os.getloadavg()}", flush=True)

    (cim10,) = run_loader("cim10", CIM10)
    assert isinstance(cim10, CodeSystemRelease)
    nos = run_loader("nos", NOS)
    codes = sorted(c.code for c in cim10.concepts)
    members = [codes[i * len(codes) // MEMBERS] for i in range(MEMBERS)]
    ours: list[Release] = [
        resource_release(value_set(VS_10K, {"system": cim10.url, "concept": [{"code": c} for c in members]})),
        resource_release(value_set(VS_ALL, {"system": cim10.url})),
    ]
    nos_value_sets = sum(1 for r in nos if getattr(r, "kind", "") == "ValueSet")
    results: list[str] = []
    with tempfile.TemporaryDirectory() as home:
        store = writable_store(Path(home))
        load_seconds = timed(lambda: store.load_many([cim10, *nos, *ours]))
        print(f"data: CIM-10 {cim10.version} ({len(codes):,} concepts, {cim10.url}); NOS {len(nos)} releases "
              f"({nos_value_sets} value sets); load_many of {len(nos) + 3} releases {load_seconds:.1f} s",
              flush=True)
        with serve(Path(home)) as client:
            checks = validation_codes(codes, members, args.validate)
            calls = [validate_call(client, cim10.url, code, expected) for code, expected in checks]
            results.append(measure(f"$validate-code on cim10-10k ({len(calls)} requests/run, "
                                   f"{sum(e for _, e in checks)} members)", calls, args.runs))

            url, _, total = largest_value_set(client, store)
            print(f"largest NOS value set: {url} ({total:,} codes)", flush=True)
            deep = max(0, (total - PAGE) // PAGE * PAGE)
            for label, params, expected in (
                (f"$expand largest NOS ({total:,} codes) count=100 offset=0",
                 {"url": url, "count": PAGE}, min(PAGE, total)),
                (f"$expand largest NOS count=100 offset={deep}",
                 {"url": url, "count": PAGE, "offset": deep}, min(PAGE, total - deep)),
                (f"$expand cim10-all ({len(codes):,} codes) count=100 offset=0",
                 {"url": VS_ALL, "count": PAGE}, PAGE),
                (f"$expand cim10-all count=100 offset={DEEP_CIM10}",
                 {"url": VS_ALL, "count": PAGE, "offset": DEEP_CIM10}, PAGE),
            ):
                results.append(measure(label, [expand_call(client, params, expected)] * args.expand, args.runs))
            diab = get_json(client, "/fhir/ValueSet/$expand", {"url": VS_ALL, "filter": "diab", "count": PAGE})
            matched = diab["expansion"]["total"]  # this first call is the warm-up
            results.append(measure(
                f"$expand cim10-all filter=diab count=100 ({matched} matches)",
                [expand_call(client, {"url": VS_ALL, "filter": "diab", "count": PAGE}, min(PAGE, matched))]
                * args.filter, args.runs, warmup=0))

    print()
    print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"machine: {machine()}")
    print(f"load average at end: {os.getloadavg()}")
    print(f"runtime: {time.perf_counter() - started:.0f} s")
    for line in results:
        print(line)


if __name__ == "__main__":
    main()
