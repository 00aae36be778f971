"""What a SPARQL dataset restricted to a list of graphs costs in pyoxigraph, against the union of all graphs.

An in-memory store of ``--graphs`` graphs of 200 concepts each (a notation and a parent per concept); one join
over the default graph (and one under ``GRAPH ?g``) counted three ways: over the union of all graphs, over an
explicit list of all graphs but one (what an anonymous reader gets while a draft exists), medians of ``--runs``.

    .venv/bin/python -m benchmarks.sparql_graph_list [--graphs 600] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import pyoxigraph as ox

SKOS = "http://www.w3.org/2004/02/skos/core#"
JOIN = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?c <{SKOS}broader> ?p . ?p <{SKOS}notation> ?code }}"
NAMED_JOIN = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?c <{SKOS}broader> ?p . ?p <{SKOS}notation> ?code }} }}"


def store(graphs: int) -> ox.Store:
    found = ox.Store()
    found.extend(ox.Quad(ox.NamedNode(f"http://x/{g}/{i}"), ox.NamedNode(SKOS + predicate), value,
                         ox.NamedNode(f"urn:smt:release:r{g}"))
                 for g in range(graphs) for i in range(200)
                 for predicate, value in (("notation", ox.Literal(f"C{i}")),
                                          ("broader", ox.NamedNode(f"http://x/{g}/{i // 2}"))))
    return found


def median_seconds(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = store(args.graphs)
    visible = [ox.NamedNode(f"urn:smt:release:r{g}") for g in range(args.graphs - 1)]
    cases = {
        "default graph, union": lambda: list(data.query(JOIN, use_default_graph_as_union=True)),
        f"default graph, list of {len(visible)}": lambda: list(data.query(JOIN, default_graph=visible,
                                                                         named_graphs=visible)),
        "GRAPH ?g, all named graphs": lambda: list(data.query(NAMED_JOIN)),
        f"GRAPH ?g, list of {len(visible)}": lambda: list(data.query(NAMED_JOIN, named_graphs=visible)),
    }
    for name, run in cases.items():
        print(f"{name}: {median_seconds(run, args.runs):.2f} s (median of {args.runs})")


if __name__ == "__main__":
    main()
