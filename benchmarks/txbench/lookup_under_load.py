"""A cheap request while expensive ones run: one client's SNOMED CT ``$lookup`` (LK01) alone, then while 10 other
clients run EX08 (is-a AND attribute = AND text filter, POST) without pause; the ``/health`` ceiling measured in
the same run. Every answer is checked as in ``txbench`` (a wrong answer counts as an error).

    python -m benchmarks.txbench.lookup_under_load --base http://127.0.0.1:8799/fhir \
        --meta RELEASE/meta.json [--duration 20] [--out lookup_under_load.json]

Target (issue 14): the ``$lookup`` p50 stays ≤ 2 ms while the 10 clients run EX08. Results in
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import urllib.parse

from benchmarks.txbench import txbench


async def _together(host: str, port: int, prefix: str, lookup: txbench.Test, load: txbench.Test, duration: float,
                    timeout: float, seed: str) -> tuple[dict, dict]:
    """LK01 at 1 VU and EX08 at 10 VUs over the same ``duration``."""
    measured, background = await asyncio.gather(
        txbench.run_level(host, port, prefix, lookup, 1, duration, timeout, seed),
        txbench.run_level(host, port, prefix, load, 10, duration, timeout, seed))
    return measured, background


def _summary(level: dict) -> dict:
    keys = ("requests", "rps", "errors", "p50_ms", "p90_ms", "p99_ms", "max_ms", "error_kinds")
    return {k: level[k] for k in keys}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="FHIR base URL, loopback only")
    parser.add_argument("--meta", required=True, help="meta.json of the gen_rf2.py release loaded in the server")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--seed", default="1")
    parser.add_argument("--pools", default="")
    parser.add_argument("--out", default="lookup_under_load.json")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    url = urllib.parse.urlsplit(args.base)
    if url.scheme != "http" or url.hostname not in ("127.0.0.1", "localhost"):
        parser.error("--base must be plain http to 127.0.0.1 or localhost")
    host, port, prefix = url.hostname, url.port or 80, url.path.rstrip("/")
    _, pools = txbench.load_pools(args.meta, args.seed, args.pools, log)

    async def one(method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        conn = txbench.Conn(host, port)
        try:
            return await asyncio.wait_for(conn.request(method, path, body), args.timeout)
        finally:
            conn.close()

    def post(path: str, body: bytes) -> tuple[int, bytes]:
        return asyncio.run(one("POST", prefix + path, body))

    listing = txbench.discover(lambda path: asyncio.run(one("GET", prefix + path)), log)
    tests = {t.id: t for t in txbench.make_tests(pools, listing, post, random.Random(args.seed), log)}
    lookup, load = tests["LK01"], tests["EX08"]
    for test in (lookup, load):  # preflight: the first entry answered right
        entry = test.pool[0]
        method, path, body = test.request(entry)
        status, data = asyncio.run(one(method, prefix + path, body))
        problem = test.check(entry, status, data)
        if problem:
            log(f"preflight {test.id}: FAIL {problem}")
            return 1
    ceiling = txbench.Test("CEIL", "/health", [{}], lambda e: txbench.GET("/health"),
                           lambda e, status, data: None if status == 200 else f"status {status}")
    result: dict = {"base": args.base, "duration_s": args.duration, "cpus": os.cpu_count(),
                    "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "loadavg_start": txbench.loadavg()}
    warm = asyncio.run(txbench.run_level(host, port, prefix, load, 10, 3.0, args.timeout, args.seed + "/warm"))
    log(f"warm-up EX08: {warm['requests']} requests")
    result["ceiling_health_10vu"] = _summary(asyncio.run(
        txbench.run_level(host, port, "", ceiling, 10, args.duration, args.timeout, args.seed)))
    result["lookup_alone"] = _summary(asyncio.run(
        txbench.run_level(host, port, prefix, lookup, 1, args.duration, args.timeout, args.seed)))
    measured, background = asyncio.run(_together(host, port, prefix, lookup, load, args.duration, args.timeout,
                                                  args.seed))
    result["lookup_with_10_ex08"] = _summary(measured)
    result["ex08_10vu_meanwhile"] = _summary(background)
    result["loadavg_end"] = txbench.loadavg()
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(result, out, indent=1)
    for name in ("ceiling_health_10vu", "lookup_alone", "lookup_with_10_ex08", "ex08_10vu_meanwhile"):
        level = result[name]
        log(f"{name}: {level['rps']} rps, p50 {level['p50_ms']} ms, p99 {level['p99_ms']} ms, "
            f"errors {level['errors']}/{level['requests']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
