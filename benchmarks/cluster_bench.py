"""Scale-out: ``$validate-code`` throughput through HAProxy with 1 and 2 replicas, and how long a load takes to
reach every replica, on one local cluster (``smt cluster up``).

    .venv/bin/python -m benchmarks.cluster_bench [--seconds 10] [--connections 8] [--rounds 3]

One cluster (PostgreSQL, a writer, 2 replicas, HAProxy) with CIM-10 FR 2021 loaded. Rounds alternate 2 replicas
and 1 (the second taken out through HAProxy's admin socket), each ``--seconds`` of closed-loop GET
``CodeSystem/$validate-code`` of seeded CIM-10 codes over ``--connections`` keep-alive connections (threads of
``http.client``); medians of ``--rounds``. The ceiling of the setup is measured in the same run: the same load
generator against ``/haproxy-ping`` (answered by HAProxy itself). The CPU each process used is read from
``/proc`` so the load generator's share of the 2 cores is reported beside the figures. Propagation: seconds from
the return of ``smt load`` (which publishes to the registry) until both replicas answer the new release, for
the CIM-10 load (a 50 MB archive) and ``--rounds`` reloads of CISP-2 (``--replace``).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import orjson

from benchmarks.common import machine
from smt.cluster import local
from smt.config import data_dir

CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
CISP2 = "https://smt.esante.gouv.fr/terminologie-cisp"
TICKS = os.sysconf("SC_CLK_TCK")


def _smt(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(Path(sys.executable).with_name("smt")), *args], check=True, capture_output=True,
                   env={**os.environ, **env})


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children, from ``/proc/<pid>/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / TICKS


def _codes(count: int) -> list[str]:
    with gzip.open(data_dir() / "cim10/nomensland/cim10_fr_pmsi_2021.tsv.gz", "rt", encoding="utf-8") as rows:
        next(rows)
        codes = [line.split("\t", 1)[0] for line in rows]
    dotted = [c if len(c) <= 3 else f"{c[:3]}.{c[3:]}" for c in codes]
    return random.Random(42).sample(dotted, count)


def _load(base: str, paths: list[str], seconds: float, connections: int) -> tuple[float, int]:
    """Closed-loop GETs of ``paths`` for ``seconds`` over ``connections`` connections: (answers/s, errors)."""
    address = urllib.parse.urlsplit(base)
    done = [0] * connections
    errors = [0] * connections
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
        rng = random.Random(n)
        while time.monotonic() < deadline:
            try:
                conn.request("GET", rng.choice(paths))
                answer = conn.getresponse()
                body = answer.read()
                if answer.status == 200 and (b"valueBoolean\":true" in body or body == b"ok\n"):
                    done[n] += 1
                else:
                    errors[n] += 1
            except (OSError, http.client.HTTPException):
                errors[n] += 1
                conn.close()
                conn = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
        conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - start), sum(errors)


def _admin(folder: Path, command: str) -> None:
    with socket.socket(socket.AF_UNIX) as admin:
        admin.connect(str(folder / "haproxy.sock"))
        admin.sendall(command.encode() + b"\n")
        admin.recv(4096)


def _wait_served(urls: list[str], system: str, code: str, release: str | None = None) -> float:
    """Seconds until every replica answers ``code`` of ``system`` (and lists ``release`` when given)."""
    start = time.monotonic()
    pending = set(urls)
    query = urllib.parse.urlencode({"url": system, "code": code})
    while pending:
        for url in list(pending):
            parts = urllib.parse.urlsplit(url)
            conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
            try:
                conn.request("GET", f"/releases/{release}" if release else f"/fhir/CodeSystem/$validate-code?{query}")
                answer = conn.getresponse()
                body = answer.read()
                if answer.status == 200 and (release or b"valueBoolean\":true" in body):
                    pending.discard(url)
            finally:
                conn.close()
        if time.monotonic() - start > 120:
            raise RuntimeError(f"not served after 120 s by {pending}")
        time.sleep(0.01)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="smt-cluster-bench-"))
    folder.chmod(0o755)
    print(machine(), f"load average {os.getloadavg()[0]:.1f}", flush=True)
    try:
        cluster = local.up(folder, 2)
        env = cluster.env
        started = time.monotonic()
        _smt(env, "load", "cim10", str(data_dir() / "cim10/nomensland/cim10_fr_pmsi_2021.tsv.gz"))
        print(f"CIM-10 2021 load: {time.monotonic() - started:.1f} s; "
              f"reached both replicas {_wait_served(cluster.replicas, CIM10, 'A00.0'):.2f} s after", flush=True)
        propagation = []
        for _ in range(args.rounds):
            _smt(env, "load", "cisp2", str(data_dir() / "cisp2/chill-icpc2"), "--replace")
            with urllib.request.urlopen(f"{cluster.writer}/releases?url={CISP2}", timeout=30) as answer:
                newest = orjson.loads(answer.read())["releases"][-1]["id"]
            propagation.append(_wait_served(cluster.replicas, CISP2, "A01", newest))
        print("CISP-2 reload reached both replicas after " + " / ".join(f"{p:.2f}" for p in propagation)
              + f" s (median {statistics.median(propagation):.2f} s)", flush=True)
        paths = [f"/fhir/CodeSystem/$validate-code?{urllib.parse.urlencode({'url': CIM10, 'code': c})}"
                 for c in _codes(500)]
        pids = {p.name: p.pid for p in cluster.processes}
        _load(cluster.lb, paths, 3, args.connections)  # warm-up: indexes opened, caches filled
        results: dict[str, list[tuple[float, int, float, dict[str, float]]]] = {"1": [], "2": [], "ping": []}
        for _ in range(args.rounds):
            for setting in ("2", "1", "ping"):
                _admin(folder, f"{'disable' if setting == '1' else 'enable'} server replicas/replica2")
                time.sleep(1.0)
                before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
                own = os.times()
                wall = time.monotonic()
                rate, errors = _load(cluster.lb, ["/haproxy-ping"] if setting == "ping" else paths, args.seconds,
                                     args.connections)
                wall = time.monotonic() - wall
                after = os.times()
                generator = (after.user + after.system - own.user - own.system) / wall
                cpu = {name: (_cpu_seconds(pid) - before[name]) / wall for name, pid in pids.items()}
                results[setting].append((rate, errors, generator, cpu))
                print(f"  {setting:>4}: {rate:8.0f} /s, {errors} errors, load generator {generator:.2f} cores, "
                      + ", ".join(f"{name} {share:.2f}" for name, share in cpu.items() if share >= 0.01), flush=True)
        _admin(folder, "enable server replicas/replica2")
        one = statistics.median(r[0] for r in results["1"])
        two = statistics.median(r[0] for r in results["2"])
        ping = statistics.median(r[0] for r in results["ping"])
        generator_share = statistics.median(r[2] for r in results["2"])
        print(f"$validate-code through HAProxy, median of {args.rounds}: 1 replica {one:.0f} /s, 2 replicas "
              f"{two:.0f} /s (ratio {two / one:.2f}); ceiling (HAProxy's own answer) {ping:.0f} /s; "
              f"load generator {generator_share:.2f} of the 2 cores with 2 replicas; "
              f"load average {os.getloadavg()[0]:.1f}")
    finally:
        if (folder / local.STATE).exists():
            local.down(folder)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
