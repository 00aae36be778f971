"""Parquet downloads of CIM-10 FR 2021: generation time and size of each table, and reading in place.

``.venv/bin/python -m benchmarks.parquet_bench`` loads CIM-10 2020 and 2021 into a fresh store, then, median of
3 runs each: writes every ``parquet-*`` table of 2021 (``smt.publish.parquet_exports.write``, the diff from
2020 included); serves the store (the real app, uvicorn on 127.0.0.1) and runs one subtree query on the closure
file through DuckDB's ``httpfs`` (a fresh connection each run, so nothing is cached) against downloading the
whole file. Bytes on the wire are counted by a middleware around the app. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import importlib.resources
import tempfile
import time
from pathlib import Path

import duckdb
import duckdb_extension_httpfs

from benchmarks.common import machine, median_of, timed
from loaders import run_loader
from smt.config import data_dir
from smt.publish import parquet_exports
from smt.releases.registry import Registry
from smt.store.releases import ReleaseStore

CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
NOMENSLAND = data_dir() / "cim10" / "nomensland"
RUNS = 3


def load(home: Path) -> Registry:
    years = [r for r in run_loader("cim10", NOMENSLAND / "cim10_fr_pmsi_2015-2020.json.gz") if r.version == "2020"]
    ReleaseStore(home).load_many([*years, *run_loader("cim10", NOMENSLAND / "cim10_fr_pmsi_2021.json.gz")])
    return Registry(home)


def generation(registry: Registry, work: Path) -> None:
    info = registry.resolve(CIM10, "2021")
    print("| Table | Median of 3 | Runs | Size |\n| --- | --- | --- | --- |")
    total = 0.0
    for name in parquet_exports.FORMATS:
        if info.kind not in parquet_exports.FORMATS[name][1]:
            continue
        target = work / f"{name}.parquet"
        median, runs = median_of(RUNS, lambda _, name=name, target=target: timed(
            lambda: parquet_exports.write(registry, info, name, target)))
        total += median
        print(f"| `{name}` | {median:.2f} s | {' / '.join(f'{r:.2f}' for r in runs)} s | "
              f"{target.stat().st_size / 1e6:.2f} MB |")
    print(f"| all | {total:.2f} s | | |")


def reading(home: Path) -> None:
    import socket
    import threading

    import uvicorn

    from fhir_api.app import create_app

    sent = {"bytes": 0}
    app = create_app(home)

    async def counting(scope, receive, send):  # type: ignore[no-untyped-def]  # a bare ASGI wrapper
        async def note(message):  # type: ignore[no-untyped-def]  # the ASGI message dict
            if message["type"] == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))
            await send(message)
        await app(scope, receive, note)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(counting, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    info = Registry(home).resolve(CIM10, "2021")
    url = f"http://127.0.0.1:{port}/releases/{info.id}/download/parquet-closure"
    extension = (Path(str(importlib.resources.files(duckdb_extension_httpfs))) / "extensions"
                 / f"v{duckdb.__version__}" / "httpfs.duckdb_extension")
    import httpx

    httpx.get(url)  # generated once
    try:
        def query(_: int) -> float:
            connection = duckdb.connect(config={"autoinstall_known_extensions": False,
                                                "autoload_known_extensions": False})
            connection.execute(f"LOAD '{extension}'")
            sent["bytes"] = 0
            elapsed = timed(lambda: connection.execute(
                f"SELECT count(*) FROM read_parquet('{url}') WHERE ancestor = 'I50'").fetchall())
            connection.close()
            return elapsed

        median, runs = median_of(RUNS, query)
        print(f"DuckDB httpfs, is-a I50: {median * 1000:.0f} ms (runs {', '.join(f'{r * 1000:.0f}' for r in runs)} ms),"
              f" {sent['bytes'] / 1e3:.0f} kB sent")
        sent["bytes"] = 0
        median, runs = median_of(RUNS, lambda _: timed(lambda: httpx.get(url).content))
        print(f"whole file: {median * 1000:.0f} ms (runs {', '.join(f'{r * 1000:.0f}' for r in runs)} ms), "
              f"{sent['bytes'] / RUNS / 1e3:.0f} kB sent")
    finally:
        server.should_exit = True
        thread.join()


def main() -> None:
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        registry = load(home)
        work = Path(folder) / "out"
        work.mkdir()
        generation(registry, work)
        reading(home)


if __name__ == "__main__":
    main()
