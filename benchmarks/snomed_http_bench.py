"""Benchmark: the served API over a store holding a full-scale SNOMED CT edition, per HTTP server.

    python benchmarks/snomed_bench.py --keep /tmp/sct-home   # once: import the generated edition and keep it
    python benchmarks/snomed_http_bench.py /tmp/sct-home [--servers granian uvicorn-h11] [--runs 3]

For each HTTP server and each run, a fresh server process is started over the store (as ``smt serve`` does)
and measured:

* restart — wall time from spawning the process to the first answered ``$subsumes`` on SNOMED CT;
* RSS at rest — resident memory of the server's whole process tree once idle, after startup and again after
  the query run;
* ``$subsumes`` / ``$lookup`` latency over HTTP — one keep-alive connection (``http.client``), GET requests
  for ``--queries`` seeded pairs of active concepts (half of them ancestor/descendant pairs), after a warm-up.
  The client's own time is included: this is what a caller on the same host sees.

granian is not a dependency of the project (``smt serve`` runs uvicorn); install it to compare.

Targets (SNOMED CT issue): restart ≤ 5 s, RSS at rest ≤ 1.5 GB, ``$subsumes`` p50 ≤ 1 ms over HTTP.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import machine, percentile

ROOT = Path(__file__).resolve().parent.parent
SCT = "http://snomed.info/sct"
SERVERS = ("granian", "uvicorn-httptools", "uvicorn-h11")


def command(server: str, port: int) -> list[str]:
    """The command line that serves the app with ``server`` on ``port`` (one worker)."""
    if server == "smt-serve":
        return [sys.executable, "-m", "smt.cli", "serve", "--port", str(port)]
    if server == "granian":
        return [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1",
                "--port", str(port), "--log-level", "warning", "fhir_api.app:create_app"]
    http = "httptools" if server == "uvicorn-httptools" else "h11"
    loop = "uvloop" if server == "uvicorn-httptools" else "asyncio"
    return [sys.executable, "-m", "uvicorn", "--factory", "fhir_api.app:create_app", "--host", "127.0.0.1",
            "--port", str(port), "--http", http, "--loop", loop, "--log-level", "warning", "--no-access-log"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants (MB)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def get(connection: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    connection.request("GET", path, headers={"Accept": "application/fhir+json"})
    response = connection.getresponse()
    return response.status, response.read()


def subsumes_path(a: str, b: str) -> str:
    return "/fhir/CodeSystem/$subsumes?" + urlencode({"system": SCT, "codeA": a, "codeB": b})


def lookup_path(code: str) -> str:
    return "/fhir/CodeSystem/$lookup?" + urlencode({"system": SCT, "code": code})


def sample_pairs(home: Path, count: int) -> tuple[list[tuple[str, str]], list[str]]:
    """Seeded ``$subsumes`` pairs (half ancestor/descendant, half random) and ``$lookup`` codes."""
    from smt.releases.registry import Registry

    index = Registry(home).code_system(SCT)
    rng = random.Random(20250801)
    codes = [c.code for c in index.concepts() if c.active]
    chosen = rng.sample(codes, count)
    pairs = []
    for number, code in enumerate(chosen):
        if number % 2:
            pairs.append((code, rng.choice(codes)))
        else:
            parents = index.parents(index.concept(code))
            pairs.append((parents[0].code if parents else code, code))
    return pairs, chosen


def timed_requests(connection: http.client.HTTPConnection, paths: list[str]) -> list[float]:
    times = []
    for path in paths:
        start = time.perf_counter()
        status, _ = get(connection, path)
        times.append((time.perf_counter() - start) * 1000)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
    return times


def run_server(server: str, home: Path, pairs: list[tuple[str, str]], codes: list[str]) -> dict[str, float]:
    port = free_port()
    env = {**os.environ, "SMT_HOME": str(home)}
    start = time.perf_counter()
    process = subprocess.Popen(command(server, port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    probe = subsumes_path(*pairs[0])
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{server} exited with {process.returncode}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                if get(connection, probe)[0] == 200:
                    break
            except OSError:
                time.sleep(0.02)
        restart = time.perf_counter() - start
        time.sleep(1)
        rss_start = tree_rss_mb(process.pid)
        warm = [subsumes_path(a, b) for a, b in pairs[:50]] + [lookup_path(c) for c in codes[:50]]
        timed_requests(connection, warm)
        subsumes_ms = timed_requests(connection, [subsumes_path(a, b) for a, b in pairs])
        lookup_ms = timed_requests(connection, [lookup_path(c) for c in codes])
        time.sleep(1)
        rss_after = tree_rss_mb(process.pid)
        connection.close()
    finally:
        process.terminate()
        process.wait(30)
    return {
        "restart_s": restart, "rss_start_mb": rss_start, "rss_after_mb": rss_after,
        "subsumes_p50_ms": statistics.median(subsumes_ms), "subsumes_p95_ms": percentile(subsumes_ms, 0.95),
        "lookup_p50_ms": statistics.median(lookup_ms), "lookup_p95_ms": percentile(lookup_ms, 0.95),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="SNOMED CT served over HTTP: restart, RSS, latencies")
    parser.add_argument("home", type=Path, help="an SMT_HOME holding the SNOMED CT edition")
    parser.add_argument("--servers", nargs="+", choices=(*SERVERS, "smt-serve"), default=list(SERVERS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with open("/proc/loadavg") as handle:
        print(f"load average before: {handle.read().split()[:3]}")
    pairs, codes = sample_pairs(args.home, args.queries)
    for server in args.servers:
        if server == "granian" and importlib.util.find_spec("granian") is None:
            print("granian: not installed (pip install granian), skipped")
            continue
        runs = [run_server(server, args.home, pairs, codes) for _ in range(args.runs)]
        for number, run in enumerate(runs, 1):
            print(f"{server} run {number}: " + ", ".join(f"{k} {v:.2f}" for k, v in run.items()))
        medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        print(f"{server} median of {len(runs)}: " + ", ".join(f"{k} {v:.2f}" for k, v in medians.items()))


if __name__ == "__main__":
    main()
