"""Benchmark: FHIR XML answers against FHIR JSON answers (FHIR XML issue), on a 10,000-entry expansion.

Store: a fresh SMT_HOME with the real CIM-10 FR 2021 release and ``cim10-10k`` (10,000 CIM-10 codes listed in
``compose.include.concept``, as in ``benchmarks/valueset_bench.py``). Measured, medians of 3 runs:

1. serialisation alone of that expansion (the ValueSet the server answers, 10,000 ``contains``): orjson (the
   JSON path), ``smt.fhir_r4.xml_writer.to_xml`` (the XML path), and — for the decision record — the
   ``fhir.resources`` R4B models (validate + ``model_dump_xml``) on the first 1,000 entries only, since they
   take seconds on 10,000;
2. the full HTTP round trip ``GET ValueSet/$expand?url=cim10-10k`` with ``_format=json`` and ``_format=xml``
   (uvicorn on 127.0.0.1, one keep-alive httpx client; 5 requests per run, gzip off: ``Accept-Encoding:
   identity``), every answer checked.

Usage: ``python -m benchmarks.xml_bench [--runs 3] [--requests 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson

from benchmarks.common import machine, serve, timed
from benchmarks.valueset_bench import CIM10, MEMBERS, VS_10K, value_set
from loaders import run_loader
from smt.compile import writable_store
from smt.fhir_r4.xml_writer import to_xml
from smt.formats.fhir_json import resource_release
from smt.model import CodeSystemRelease


def build_store(home: Path) -> None:
    (cim10,) = run_loader("cim10", CIM10)
    assert isinstance(cim10, CodeSystemRelease)
    codes = sorted(c.code for c in cim10.concepts if not c.abstract)
    members = [codes[i * len(codes) // MEMBERS] for i in range(MEMBERS)]
    include = {"system": cim10.url, "concept": [{"code": code} for code in members]}
    writable_store(home).load_many([cim10, resource_release(value_set(VS_10K, include))])


def median_ms(action: Callable[[], object], runs: int, repeat: int = 1) -> tuple[float, list[float]]:
    """Median over ``runs`` of each run's median of ``repeat`` calls, in ms."""
    medians = [statistics.median(timed(action) for _ in range(repeat)) * 1000 for _ in range(runs)]
    return statistics.median(medians), medians


def fmt(label: str, result: tuple[float, list[float]]) -> str:
    value, runs = result
    return f"{label}: median {value:.1f} ms (runs {', '.join(f'{r:.1f}' for r in runs)})"


def serialisation(expansion: dict, runs: int) -> list[str]:
    from fhir.resources.R4B.valueset import ValueSet  # the dev dependency whose XML support is measured

    first_1000 = {**expansion, "expansion": {**expansion["expansion"],
                                             "contains": expansion["expansion"]["contains"][:1000]}}
    return [
        fmt("orjson (JSON path), 10,000 entries", median_ms(lambda: orjson.dumps(expansion), runs, 5)),
        fmt("smt.fhir_r4 XML writer, 10,000 entries", median_ms(lambda: to_xml(expansion), runs, 5)),
        fmt("smt.fhir_r4 XML writer, 1,000 entries", median_ms(lambda: to_xml(first_1000), runs, 5)),
        fmt("fhir.resources R4B validate + model_dump_xml, 1,000 entries",
            median_ms(lambda: ValueSet.model_validate(first_1000).model_dump_xml(), runs)),
    ]


def round_trips(client: httpx.Client, runs: int, requests: int) -> list[str]:
    lines = []
    for fmt_name in ("json", "xml"):
        params = {"url": VS_10K, "_format": fmt_name}

        def call(params: dict = params, fmt_name: str = fmt_name) -> None:
            answer = client.get("/fhir/ValueSet/$expand", params=params, headers={"Accept-Encoding": "identity"})
            if answer.status_code != 200 or f"fhir+{fmt_name}" not in answer.headers["content-type"]:
                raise RuntimeError(f"$expand {fmt_name}: {answer.status_code} {answer.text[:200]}")
            if answer.content.count(b"<contains>" if fmt_name == "xml" else b'"code"') != MEMBERS:
                raise RuntimeError(f"$expand {fmt_name}: not {MEMBERS} entries")

        call()
        lines.append(fmt(f"GET $expand 10,000 entries, _format={fmt_name}", median_ms(call, runs, requests)))
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=5)
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="smt-xml-bench-") as tmp:
        home = Path(tmp)
        start = time.perf_counter()
        build_store(home)
        print(f"store loaded in {time.perf_counter() - start:.1f} s", flush=True)
        with serve(home) as client:
            expansion = client.get("/fhir/ValueSet/$expand", params={"url": VS_10K}).json()
            for line in serialisation(expansion, args.runs):
                print(line, flush=True)
            round_trips(client, args.runs, args.requests)


if __name__ == "__main__":
    main()
