"""A throwaway cluster on 127.0.0.1 for tests and demos: ``smt cluster up --dir DIR --replicas N`` / ``down``.

Under ``DIR``: ``postgres/`` (a PostgreSQL made by ``initdb``), ``writer/`` and ``replica-<n>/`` (each server's
``SMT_HOME``), ``haproxy.cfg``, ``logs/`` and ``cluster.json`` (the processes with their start times, so that
``down`` stops exactly them, never a process that reused a PID). Processes run in their own sessions: they
outlive the ``smt cluster up`` that started them.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson
import psycopg

from smt.cluster import database
from smt.cluster.haproxy import config
from smt.cluster.replica import WRITER_URL
from smt.errors import SmtError

STATE = "cluster.json"
HOST = "127.0.0.1"
READY_WAIT = 120.0
STOP_WAIT = 15.0
OWN_SETTINGS = frozenset({"SMT_HOME", database.DATABASE_URL, WRITER_URL, "SMT_ROLE"})
"""Settings each process of the cluster gets from ``up``, never from the caller's environment."""
POSTGRES_USER = "postgres"
"""PostgreSQL refuses to run as root: as root, the throwaway server runs as this system user."""


@dataclass(slots=True)
class Process:
    """One process of the cluster: how to start it again, and how to recognise it."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: str
    url: str | None = None
    pid: int = 0
    started: int = 0
    """The process's start time in clock ticks since boot (``/proc/<pid>/stat``): a reused PID has another."""
    user: str | None = None


@dataclass(slots=True)
class Cluster:
    lb: str
    writer: str
    replicas: list[str]
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)

    def summary(self) -> dict:
        """The one JSON line ``smt cluster up`` prints."""
        return {"lb": self.lb, "writer": self.writer, "replicas": self.replicas,
                "pids": [p.pid for p in self.processes], "env": self.env}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def start_time(pid: int) -> int | None:
    """The start time of process ``pid``, or None when there is no such live process (a zombie is dead)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else int(fields[19])


def postgres_bin(name: str) -> str:
    """A PostgreSQL program: on the PATH, else the newest ``/usr/lib/postgresql/<version>/bin`` (Debian's)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if not candidates:
        raise SmtError(f"PostgreSQL's {name} was not found (install the postgresql package)")
    return candidates[-1]


def haproxy_bin() -> str:
    found = shutil.which("haproxy")
    if not found:
        raise SmtError("haproxy was not found (install the haproxy package)")
    return found


def _smt() -> str:
    return str(Path(sys.executable).with_name("smt"))


def _postgres_user() -> str | None:
    """The user PostgreSQL runs as: ours, unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(POSTGRES_USER)
    except KeyError:
        raise SmtError(f"PostgreSQL cannot run as root and there is no '{POSTGRES_USER}' user") from None
    return POSTGRES_USER


def _reachable_by_others(folder: Path) -> None:
    """PostgreSQL (another user when we are root) must reach its data folder through every parent."""
    for parent in folder.resolve().parents:
        if not parent.stat().st_mode & 0o001:
            raise SmtError(f"{parent} is not reachable by other users (chmod o+x), and PostgreSQL cannot run as "
                           f"root: choose a --dir it can reach")


def _spawn(process: Process) -> None:
    log = open(process.log, "ab")  # noqa: SIM115 - handed to the child, closed here right after
    try:
        child = subprocess.Popen(process.argv, env=process.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                 start_new_session=True, user=process.user)
    finally:
        log.close()
    process.pid = child.pid
    process.started = start_time(child.pid) or 0


def start(process: Process) -> None:
    """Start (or start again) one process of a cluster."""
    _spawn(process)


def _wait(url: str, process: Process, deadline: float) -> None:
    while True:
        if start_time(process.pid) is None:
            raise SmtError(f"{process.name} stopped while starting: see {process.log}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise SmtError(f"{process.name} did not answer {url} within {READY_WAIT:.0f} s: see {process.log}")
        time.sleep(0.2)


def _wait_postgres(url: str, process: Process, deadline: float) -> None:
    while True:
        if start_time(process.pid) is None:
            raise SmtError(f"PostgreSQL stopped while starting: see {process.log}")
        try:
            with database.connect(url):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise SmtError(f"PostgreSQL did not accept connections within {READY_WAIT:.0f} s: see "
                               f"{process.log}") from None
            time.sleep(0.2)


def _initdb(data: Path, user: str | None, log: Path) -> None:
    if (data / "PG_VERSION").exists():
        return
    data.mkdir(parents=True, exist_ok=True)
    if user is not None:
        _reachable_by_others(data)
        shutil.chown(data, user)
    with log.open("ab") as out:
        done = subprocess.run([postgres_bin("initdb"), "-D", str(data), "-U", "smt", "-A", "trust", "-E", "UTF8",
                               "--locale=C", "--no-sync"], stdout=out, stderr=out, user=user, check=False)
    if done.returncode != 0:
        raise SmtError(f"initdb failed: see {log}")


def _create_database(admin_url: str) -> None:
    with database.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = 'smt'").fetchone() is None:
            conn.execute("CREATE DATABASE smt")


def up(folder: Path, replicas: int) -> Cluster:
    """Start PostgreSQL, a writer, ``replicas`` replicas and HAProxy under ``folder``; return once all answer."""
    if replicas < 1:
        raise SmtError("--replicas must be at least 1")
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / STATE).exists() and any(_alive(p) for p in read(folder).processes):
        raise SmtError(f"a cluster is running in {folder}: stop it first with `smt cluster down --dir {folder}`")
    haproxy = haproxy_bin()
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    user = _postgres_user()
    pg_port, writer_port, lb_port = free_port(), free_port(), free_port()
    replica_ports = [free_port() for _ in range(replicas)]
    _initdb(folder / "postgres", user, logs / "postgres.log")
    url = f"postgresql://smt@{HOST}:{pg_port}/smt"
    base_env = {key: value for key, value in os.environ.items() if key not in OWN_SETTINGS}
    writer_url = f"http://{HOST}:{writer_port}"
    load_env = {"SMT_HOME": str(folder / "writer"), database.DATABASE_URL: url}
    cluster = Cluster(lb=f"http://{HOST}:{lb_port}", writer=writer_url,
                      replicas=[f"http://{HOST}:{port}" for port in replica_ports], env=load_env)
    postgres = Process("postgres", [postgres_bin("postgres"), "-D", str(folder / "postgres"), "-p", str(pg_port),
                                    "-c", f"listen_addresses={HOST}", "-c", "unix_socket_directories=",
                                    "-c", "fsync=off", "-c", "full_page_writes=off"],
                       env=base_env, log=str(logs / "postgres.log"), user=user)
    # one server process per node: the cluster scales by replicas behind HAProxy, and each node's lifespan
    # (registry listener, archive fetches) runs once (``smt serve`` alone defaults to one process per core)
    serve = [_smt(), "serve", "--host", HOST, "--no-access-log", "--workers", "1"]
    writer = Process("writer", [*serve, "--role", "writer", "--port", str(writer_port)],
                     env={**base_env, **load_env}, log=str(logs / "writer.log"), url=writer_url)
    replica_processes = [
        Process(f"replica-{n}", [*serve, "--role", "replica", "--port", str(port)],
                env={**base_env, "SMT_HOME": str(folder / f"replica-{n}"), database.DATABASE_URL: url,
                     WRITER_URL: writer_url},
                log=str(logs / f"replica-{n}.log"), url=f"http://{HOST}:{port}")
        for n, port in enumerate(replica_ports, 1)]
    (folder / "haproxy.cfg").write_text(config(
        bind=f"{HOST}:{lb_port}", writer=f"{HOST}:{writer_port}",
        replicas=[f"{HOST}:{port}" for port in replica_ports], socket=folder / "haproxy.sock"))
    lb = Process("haproxy", [haproxy, "-f", str(folder / "haproxy.cfg"), "-db"], env=base_env,
                 log=str(logs / "haproxy.log"), url=cluster.lb)
    deadline = time.monotonic() + READY_WAIT
    try:
        _spawn(postgres)
        cluster.processes.append(postgres)
        _save(folder, cluster)
        _wait_postgres(f"postgresql://smt@{HOST}:{pg_port}/postgres", postgres, deadline)
        _create_database(f"postgresql://smt@{HOST}:{pg_port}/postgres")
        database.migrate(url)
        for process in (writer, *replica_processes, lb):
            _spawn(process)
            cluster.processes.append(process)
            _save(folder, cluster)
        for process in (writer, *replica_processes, lb):
            _wait(f"{process.url}/health", process, deadline)
    except BaseException:
        down(folder)
        raise
    return cluster


def _save(folder: Path, cluster: Cluster) -> None:
    tmp = folder / f".{STATE}.tmp"
    tmp.touch(mode=0o600)  # the processes' environments (tokens, if the caller had any)
    tmp.write_bytes(orjson.dumps(asdict(cluster), option=orjson.OPT_INDENT_2))
    tmp.replace(folder / STATE)


def read(folder: Path) -> Cluster:
    """The cluster recorded in ``folder`` (``SmtError`` if there is none)."""
    try:
        data = orjson.loads((folder / STATE).read_bytes())
    except FileNotFoundError:
        raise SmtError(f"no cluster in {folder} (no {STATE})") from None
    return Cluster(**{**data, "processes": [Process(**p) for p in data["processes"]]})


def save(folder: Path, cluster: Cluster) -> None:
    """Record ``cluster`` in ``folder`` (after a process was started again)."""
    _save(folder.resolve(), cluster)


def _alive(process: Process) -> bool:
    return process.pid > 0 and start_time(process.pid) == process.started


def stop(process: Process, sig: int = signal.SIGTERM) -> bool:
    """Stop one process of the cluster if it is still the one started; answer whether it was running."""
    if not _alive(process):
        return False
    os.kill(process.pid, signal.SIGINT if process.name == "postgres" else sig)  # PostgreSQL: fast shutdown
    deadline = time.monotonic() + STOP_WAIT
    while _alive(process) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(process):
        os.kill(process.pid, signal.SIGKILL)
    return True


def down(folder: Path) -> list[int]:
    """Stop every process of the cluster in ``folder`` (the load balancer first, PostgreSQL last)."""
    folder = folder.resolve()
    cluster = read(folder)
    stopped = [process.pid for process in reversed(cluster.processes) if stop(process)]
    (folder / STATE).unlink(missing_ok=True)
    return stopped
