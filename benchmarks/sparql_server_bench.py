"""SPARQL evaluated in-process against forwarded to Oxigraph's own server (``SMT_SPARQL_ENDPOINT``).

A fresh store holds CIM-10 FR 2021 (the real file, 43,138 concepts); ``smt sparql export`` copies its published
graphs; ``oxigraph serve-read-only`` serves the copy on loopback and the real app is served by uvicorn (in this
process). Each query is asked through ``POST /sparql`` three ways, medians of ``--runs``: evaluated in-process
(one boxed child process per query, the default), forwarded by SMT to the Oxigraph server, and asked of the
Oxigraph server directly (the ceiling: no SMT in the way). Prints a Markdown table.

    .venv/bin/python -m benchmarks.sparql_server_bench [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from benchmarks.common import machine, median_of, serve, timed
from smt.config import data_dir

SOURCE = data_dir() / "cim10" / "nomensland" / "cim10_fr_pmsi_2021.json.gz"
SKOS = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
QUERIES = {
    "one concept in every version (E11.9)": SKOS + 'SELECT ?g ?label WHERE { GRAPH ?g { ?c skos:notation "E11.9" ; '
                                            "skos:prefLabel ?label } }",
    "ancestors of E11.9 (property path)": SKOS + "SELECT ?code WHERE { <http://data.esante.gouv.fr/atih/cim10/E11.9> "
                                          "skos:broader+ ?a . ?a skos:notation ?code }",
    "labels starting with 'Diab' (scan)": SKOS + 'SELECT ?code ?label WHERE { ?c skos:notation ?code ; '
                                          'skos:prefLabel ?label FILTER STRSTARTS(?label, "Diab") }',
    "concepts per graph (count)": SKOS + "SELECT ?g (COUNT(?c) AS ?n) WHERE { GRAPH ?g { ?c a skos:Concept } } "
                                  "GROUP BY ?g",
    "1,000 labels (LIMIT)": SKOS + "SELECT ?c ?label WHERE { ?c skos:prefLabel ?label } LIMIT 1000",
}


def bin_of(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smt-sparql-bench-") as tmp:
        home, export = Path(tmp) / "home", Path(tmp) / "export"
        env = {**os.environ, "SMT_HOME": str(home)}
        subprocess.run([bin_of("smt"), "load", "cim10", str(SOURCE)], check=True, env=env, capture_output=True)
        exported = orjson.loads(subprocess.run([bin_of("smt"), "sparql", "export", "--to", str(export)],
                                               check=True, env=env, capture_output=True).stdout)
        port = 17000 + os.getpid() % 1000
        endpoint = f"http://127.0.0.1:{port}/query"
        server = subprocess.Popen([bin_of("oxigraph"), "serve-read-only", "--location", str(export), "--bind",
                                   f"127.0.0.1:{port}", "--timeout-s", "60"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(endpoint)
            rows = _measure(home, endpoint, args.runs)
        finally:
            server.terminate()
            server.wait()
    print(f"{machine()}; load average {os.getloadavg()[0]:.1f}; export of CIM-10 FR 2021: {exported['quads']:,} "
          f"quads in {exported['seconds']:.2f} s\n")
    print("| Query | rows | in-process | forwarded by SMT | Oxigraph server directly |")
    print("| --- | --- | --- | --- | --- |")
    for name, (count, here, forwarded, direct) in rows.items():
        print(f"| {name} | {count} | {here * 1000:.0f} ms | {forwarded * 1000:.0f} ms | {direct * 1000:.0f} ms |")


def _wait(endpoint: str) -> None:
    for _ in range(200):
        try:
            httpx.post(endpoint, data={"query": "ASK {}"}, timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the Oxigraph server did not start")


def _measure(home: Path, endpoint: str, runs: int) -> dict[str, tuple[int, float, float, float]]:
    found: dict[str, tuple[int, float, float, float]] = {}
    accept = {"Accept": "application/sparql-results+json"}
    with serve(home) as client, httpx.Client(timeout=120) as direct:
        for name, query in QUERIES.items():
            def through_smt(_: int, query: str = query) -> float:
                return timed(lambda: client.post("/sparql", data={"query": query}, headers=accept)
                             .raise_for_status())

            def to_oxigraph(_: int, query: str = query) -> float:
                return timed(lambda: direct.post(endpoint, data={"query": query, "union-default-graph": ""},
                                                 headers=accept).raise_for_status())

            os.environ.pop("SMT_SPARQL_ENDPOINT", None)  # read per query
            count = len(client.post("/sparql", data={"query": query}, headers=accept).json()["results"]["bindings"])
            here, _ = median_of(runs, through_smt)
            os.environ["SMT_SPARQL_ENDPOINT"] = endpoint
            forwarded_count = len(client.post("/sparql", data={"query": query}, headers=accept)
                                  .json()["results"]["bindings"])
            assert forwarded_count == count, (name, forwarded_count, count)
            forwarded, _ = median_of(runs, through_smt)
            os.environ.pop("SMT_SPARQL_ENDPOINT")
            ceiling, _ = median_of(runs, to_oxigraph)
            found[name] = (count, here, forwarded, ceiling)
    return found


if __name__ == "__main__":
    main()
