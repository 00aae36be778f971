"""The ``smt`` command: load, list, publish, remove and recompile releases, and serve the API.

The CLI is a composition root: it gives the store its compile step (``smt.compile``) and the loaders what they
need from the store (``smt.releases.loader_context``). Every failure ends in one line on stderr and exit code
1; ``smt --debug …`` shows the traceback instead.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import smt
from smt.agent.command import mcp as mcp_command
from smt.compile import writable_store
from smt.config import METRICS_DIR_VARIABLE, SAMPLES_DIR, smt_home
from smt.errors import SmtError
from smt.store.releases import STATUSES, ReleaseInfo, ReleaseStore

app = typer.Typer(help="SMT — Serveur Multi-Terminologies", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

BUNDLED_SAMPLES: list[tuple[str, str, str | None]] = [
    ("cim10", "cim10", None), ("cisp2", "cisp2", None), ("nos", "nos", None),
    # the FHIR R4 core terminology (catalogue entry fhir-r4-core): a published package, served as such
    ("fhir", "fhir_r4_core", "active"),
]
"""(loader, folder under terminologies/samples, release status: None for the loader's)."""
CORE_FOLDER = "fhir_r4_core"
"""The folder of the FHIR R4 core terminology, skipped by ``smt load-samples --no-core``."""
_debug = False


def _version(value: bool) -> None:
    if value:
        console.print(f"smt {smt.__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="print the version and exit")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="show the traceback of an unexpected error")] = False,
) -> None:
    """SMT — Serveur Multi-Terminologies."""
    global _debug
    _debug = debug


def _fail(message: str) -> None:
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _store() -> ReleaseStore:
    return writable_store(smt_home())


def _context() -> dict[str, object]:
    """What loaders may need from the store (read only), as plain values and callables."""
    from smt.releases.loader_context import loader_context
    from smt.releases.registry import Registry

    return loader_context(Registry(smt_home()))


def _load(loader: str, path: Path, version: str | None, status: str | None, replace: bool,
          options: dict[str, object]) -> list[ReleaseInfo]:
    from loaders import run_loader
    from smt.cli_progress import load_progress

    with load_progress(errors) as progress:
        releases = run_loader(loader, path, version=version, context={**_context(), "progress": progress},
                              stream=True, **options)
        return _store().load_many(releases, status=status, replace=replace, progress=progress)


@app.command()
def load(
    loader: Annotated[str, typer.Argument(help="cim10, cisp2, …")],
    path: Annotated[Path, typer.Argument(help="source file or folder")],
    version: Annotated[str | None, typer.Option(help="release version (default: from the source)")] = None,
    status: Annotated[str | None, typer.Option(help="draft or active (default: the loader's)")] = None,
    base: Annotated[Path | None, typer.Option(help="snomed: the snapshot a delta or an extension applies to")]
    = None,
    hierarchy: Annotated[Path | None, typer.Option(help="cim10: the chapters and blocks file (default: one next "
                                                        "to the source, else the one shipped with SMT)")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="replace a loaded release of the same url and "
                                                            "version (it answers until the new one is stored)")]
    = False,
) -> None:
    """Load a source file into the store as one release per version it holds."""
    from loaders import loader_names, loader_options

    if loader not in loader_names():
        _fail(f"unknown loader '{loader}'; known loaders: {', '.join(loader_names())}")
    if status is not None and status not in STATUSES:
        _fail(f"--status must be one of {', '.join(STATUSES)}")
    if not path.exists():
        _fail(f"{path}: no such file or folder")
    options = {"base": base, "hierarchy": hierarchy}
    for name, value in options.items():
        if value is not None and name not in loader_options(loader):
            _fail(f"loader '{loader}' does not take --{name}")
    try:
        loaded = _load(loader, path, version, status, replace, {k: v for k, v in options.items() if v is not None})
    except SmtError as exc:
        _fail(str(exc))
    except (OSError, sqlite3.Error, RuntimeError, ValueError) as exc:  # disk full, read-only store, native errors
        if _debug:
            raise
        _fail(f"cannot load {path} into {smt_home()}: {_one_line(exc)}; the load was rolled back, the store is "
              "unchanged")
    _publish()
    for info in loaded:
        replaced = info.manifest.get("replaces")
        also = f", replacing release {replaced}" if replaced else ""
        console.print(f"loaded {info.url} version {info.version} ({info.count} concepts, {info.status}) "
                      f"as release {info.id}{also}", highlight=False)
        for warning in info.warnings:
            console.print(f"  [yellow]warning:[/] {warning}", highlight=False)


@app.command()
def releases(
    warnings: Annotated[bool, typer.Option("--warnings", help="print every quality warning")] = False,
) -> None:
    """List the releases in the store."""
    infos = _store().list()
    header = ("id", "type", "url", "version", "status", "concepts", "loaded", "warnings")
    rows = [(i.id, i.kind, i.url, i.version, i.status, str(i.count), i.loaded_at, str(len(i.warnings)))
            for i in infos]
    if console.is_terminal:
        table = Table(*header)
        for row in rows:
            table.add_row(*row)
        console.print(table)
    else:  # plain tab-separated lines for scripts (rich would expand the tabs)
        sys.stdout.write("".join("\t".join(row) + "\n" for row in (header, *rows)))
        sys.stdout.flush()
    if warnings:
        for info in infos:
            for warning in info.warnings:
                console.print(f"{info.id}: {warning}", highlight=False)


def _select(target: str, version: str | None) -> ReleaseInfo:
    store = _store()
    if version is None and (store.releases_dir / target).is_dir():
        return store.get(target)
    matches = store.find(target, version)
    if not matches:
        _fail(f"no release matches {target}" + (f" version {version}" if version else ""))
    if len(matches) > 1:
        _fail(f"{target} has several versions ({', '.join(m.version for m in matches)}); pass --version")
    return matches[0]


@app.command()
def remove(
    target: Annotated[str, typer.Argument(help="release id, or canonical URL (with --version)")],
    version: Annotated[str | None, typer.Option(help="version of the URL to remove")] = None,
) -> None:
    """Remove a release from the store."""
    info = _select(target, version)
    _store().remove(info.id)
    _publish()
    console.print(f"removed {info.url} version {info.version} (release {info.id})", highlight=False)


@app.command()
def status(
    target: Annotated[str, typer.Argument(help="release id, or canonical URL (with --version)")],
    new_status: Annotated[str, typer.Argument(metavar="STATUS", help="draft, active or retired")],
    version: Annotated[str | None, typer.Option(help="version of the URL")] = None,
) -> None:
    """Change a release's status (publish a draft, retire a release)."""
    if new_status not in STATUSES:
        _fail(f"status must be one of {', '.join(STATUSES)}")
    info = _store().set_status(_select(target, version).id, new_status)
    _publish()
    console.print(f"{info.url} version {info.version} is now {info.status}", highlight=False)


@app.command()
def diff(
    url: Annotated[str, typer.Argument(help="canonical URL (or OID, catalogue alias) of a code system or value set")],
    from_version: Annotated[str, typer.Argument(metavar="FROM", help="the older version")],
    to_version: Annotated[str, typer.Argument(metavar="TO", help="the newer version")],
    fmt: Annotated[str, typer.Option("--format", help="summary, csv or json")] = "summary",
) -> None:
    """What changed between two loaded versions (drafts included): the check before publishing a release."""
    import orjson

    from smt.publish.changes import diff_releases
    from smt.publish.diff_render import report_csv, report_json
    from smt.releases.registry import Registry

    if fmt not in ("summary", "csv", "json"):
        _fail("--format must be summary, csv or json")
    try:
        report = diff_releases(Registry(smt_home()), url, from_version, to_version)
    except SmtError as exc:
        _fail(str(exc))
    if fmt == "csv":
        sys.stdout.write(report_csv(report))
    elif fmt == "json":
        sys.stdout.write(orjson.dumps(report_json(report), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        console.print(f"{report.url}: {report.old.version} → {report.new.version}", highlight=False)
        for kind, count in report.summary.items():
            console.print(f"  {kind}: {count}", highlight=False)


@app.command("load-samples")
def load_samples(
    core: Annotated[bool, typer.Option(help="also the FHIR R4 core terminology (2370 releases: ≈ 1.5–3 min and "
                                            "≈ 480 MB the first time)")] = True,
) -> None:
    """Load the bundled sample terminologies and the FHIR R4 core terminology (skips those already loaded).
    Samples are marked as such: a real load of the same url and version replaces a sample
    (docs/reliability.md)."""
    from loaders import run_loader

    store = _store()
    context = _context()
    stored = {(info.url.rstrip("/"), info.version) for info in store.list()}
    for loader, folder, status in BUNDLED_SAMPLES:
        if folder == CORE_FOLDER and not core:
            continue
        new = []
        for release in run_loader(loader, SAMPLES_DIR / folder, context=context):
            if (release.url.rstrip("/"), release.version) in stored:
                console.print(f"sample {release.url} version {release.version} already loaded", highlight=False)
            else:
                new.append(release)
        for info in store.load_many(new, status=status, sample=True) if new else ():  # one pass, one lock
            console.print(f"loaded sample {info.url} version {info.version} ({info.count} concepts)",
                          highlight=False)
    _publish()


@app.command()
def recompile(
    ids: Annotated[list[str] | None, typer.Argument(metavar="[ID]...", help="release ids")] = None,
    all_releases: Annotated[bool, typer.Option("--all", help="every release whose artefacts are of another "
                                                             "format than this SMT's")] = False,
) -> None:
    """Rebuild the compiled artefacts (index, search index…) of stored releases from the store of record."""
    from smt.cli_progress import load_progress
    from smt.compile import ARTEFACTS
    from smt.compile.rebuild import recompile as rebuild

    store = _store()
    if all_releases:
        current = {a.name: a.version for a in ARTEFACTS}
        ids = [*(ids or []), *(i.id for i in store.list() if any(current.get(n) != v for n, v in i.artefacts.items())
                                or not i.artefacts)]
    if not ids:
        _fail("name the release ids to recompile (see `smt releases`), or pass --all")
    for release_id in dict.fromkeys(ids or []):
        try:
            with load_progress(errors) as progress:
                info = rebuild(smt_home(), release_id, progress)
        except SmtError as exc:
            _fail(str(exc))
        formats = ", ".join(f"{name} {version}" for name, version in info.artefacts.items())
        console.print(f"recompiled release {info.id} ({info.url} version {info.version}): {formats}",
                      highlight=False)
    _publish()


@contextmanager
def _metrics_directory(workers: int) -> Iterator[Path | None]:
    """For a server of ``workers`` processes (more than one): a fresh directory where they write their request
    counts (prometheus_client's multiprocess mode, named in ``PROMETHEUS_MULTIPROC_DIR`` for the processes started
    within, so that ``/metrics`` sums them), removed at exit. One set by the operator is used instead, emptied of
    the counts of an earlier run (prometheus_client needs that) and kept."""
    if workers <= 1:
        yield None
        return
    given = os.environ.get(METRICS_DIR_VARIABLE)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix="smt-metrics-"))
    os.environ[METRICS_DIR_VARIABLE] = str(folder)
    try:
        yield folder
    finally:
        os.environ.pop(METRICS_DIR_VARIABLE, None)
        shutil.rmtree(folder, ignore_errors=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int | None, typer.Option(help="server processes (default: the cores)", min=1)] = None,
    access_log: Annotated[bool, typer.Option(help="log one line per request (≈ 0.2 ms each, see "
                                                  "benchmarks/README.md)")] = True,
    role: Annotated[str, typer.Option(help="single (one process, the default), writer (publishes to the shared "
                                           "registry SMT_DATABASE_URL) or replica (read-only, synced from it; "
                                           "docs/scale-out.md)")] = "single",
) -> None:
    """Serve the FHIR terminology API (and the other HTTP interfaces) over the store."""
    import uvicorn

    from smt.cluster.database import DATABASE_URL, database_url
    from smt.cluster.replica import WRITER_URL

    if role not in ("single", "writer", "replica"):
        _fail("--role must be single, writer or replica")
    if role != "single" and database_url() is None:
        _fail(f"--role {role} needs the shared registry: set {DATABASE_URL} (docs/scale-out.md)")
    if role == "replica" and not os.environ.get(WRITER_URL):
        _fail(f"--role replica fetches releases from the writer: set {WRITER_URL} (docs/scale-out.md)")
    os.environ["SMT_HOME"] = str(smt_home())
    os.environ["SMT_ROLE"] = role
    # default: the cores this process may use; the processes share the immutable release files (fhir_api.work)
    workers = workers or len(os.sched_getaffinity(0))
    # the server's own refusals (URL over 64 KiB, request head over 1 MiB, unparsable request) answer an
    # OperationOutcome too: see fhir_api/http_protocol.py
    with _metrics_directory(workers):  # /metrics sums the counts of every worker process
        uvicorn.run("fhir_api.app:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level="info", access_log=access_log, http="fhir_api.http_protocol:OutcomeHttpToolsProtocol")


cluster_app = typer.Typer(help="A local cluster on 127.0.0.1 for tests and demos (docs/scale-out.md).",
                          no_args_is_help=True)
app.add_typer(cluster_app, name="cluster")


@cluster_app.command("up")
def cluster_up(
    folder: Annotated[Path, typer.Option("--dir", help="where PostgreSQL, the servers' stores and logs go")],
    replicas: Annotated[int, typer.Option(help="read replicas")] = 2,
) -> None:
    """Start PostgreSQL, a writer, N replicas and HAProxy; print one JSON line once all answer."""
    import orjson

    from smt.cluster import local

    try:
        cluster = local.up(folder, replicas)
    except SmtError as exc:
        _fail(str(exc))
    sys.stdout.write(orjson.dumps(cluster.summary()).decode() + "\n")
    sys.stdout.flush()


@cluster_app.command("down")
def cluster_down(
    folder: Annotated[Path, typer.Option("--dir", help="the folder given to `smt cluster up`")],
) -> None:
    """Stop every process of the cluster started in DIR (by their PIDs)."""
    import orjson

    from smt.cluster import local

    try:
        stopped = local.down(folder)
    except SmtError as exc:
        _fail(str(exc))
    sys.stdout.write(orjson.dumps({"stopped": stopped}).decode() + "\n")


sparql_app = typer.Typer(help="The SPARQL endpoint's data for a SPARQL server of its own (docs/sparql.md).",
                         no_args_is_help=True)
app.add_typer(sparql_app, name="sparql")


@sparql_app.command("export")
def sparql_export(
    folder: Annotated[Path | None, typer.Option("--to", help="an Oxigraph database folder to (re)create, served by "
                                                "`oxigraph serve-read-only --location DIR`")] = None,
    nquads: Annotated[Path | None, typer.Option("--nquads", help="an N-Quads file to write (another SPARQL "
                                                "server)")] = None,
) -> None:
    """Copy the published graphs (the registry, active and retired releases; never a draft) out of the store of
    record; print one JSON line (graphs, quads, the store generation exported)."""
    import orjson

    from smt.sparql.export import export

    store = ReleaseStore(smt_home())
    try:
        done = export(store.rdf_dir, store.list(), store.state()[0].decode() or "0", folder, nquads)
    except SmtError as exc:
        _fail(str(exc))
    summary = {"to": done.folder, "nquads": done.nquads, "graphs": len(done.graphs), "quads": done.quads,
               "generation": done.generation, "seconds": done.seconds}
    sys.stdout.write(orjson.dumps(summary).decode() + "\n")


def _publish() -> None:
    """With a shared registry (``SMT_DATABASE_URL``), publish the store's change to it now (the writer server
    would within a second; this way the command returns once replicas are told)."""
    from smt.cluster.database import database_url

    url = database_url()
    if url is None:
        return
    import psycopg

    from smt.cluster.database import migrate
    from smt.cluster.objects import ObjectStore
    from smt.cluster.publisher import publish

    try:
        migrate(url)
        publish(_store(), url, ObjectStore.from_env())
    except (psycopg.Error, OSError, SmtError) as exc:
        errors.print(f"[yellow]warning:[/] the store is changed but the shared registry could not be told "
                     f"({escape(_one_line(exc))}); the writer server publishes the change when it reaches it",
                     highlight=False, soft_wrap=True)


app.command("mcp")(mcp_command)
_REASONS = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
            errno.EROFS: "read-only file system", errno.EACCES: "permission denied", errno.EPERM: "permission denied"}


def _one_line(exc: BaseException) -> str:
    """An unexpected error as one line: what failed and where, without a traceback. Native libraries (RocksDB,
    SQLite, tantivy) report system errors in their own words; the usual ones are named the same way."""
    text = str(exc)
    code = getattr(exc, "errno", None) or next(
        (number for number in _REASONS if os.strerror(number).lower() in text.lower()), None)
    if code in _REASONS:
        reason = _REASONS[code]
        if code in (errno.EROFS, errno.EACCES, errno.EPERM):
            reason += f" (is SMT_HOME={smt_home()} writable?)"
        where = getattr(exc, "filename", None)
        return f"{reason} ({where})" if where else reason
    if isinstance(exc, OSError):
        return f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else text
    if isinstance(exc, sqlite3.Error):
        return f"SQLite: {exc}"
    return f"{type(exc).__name__}: {exc}"


def main() -> None:  # pragma: no cover - console entry point (tested through the installed command)
    """The ``smt`` command: an error nobody foresaw still ends in one line, unless ``--debug``."""
    try:
        app()
    except KeyboardInterrupt:
        errors.print("[bold red]interrupted[/]: nothing was changed in the store by the command in progress")
        sys.exit(130)
    except Exception as exc:
        if _debug:
            raise
        errors.print(f"[bold red]error:[/] {escape(_one_line(exc))} (smt --debug … shows the traceback)",
                     highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
