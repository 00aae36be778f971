"""Where the work of a request runs: cheap calls on the event loop, CPU-bound ones in a small thread pool.

A server process runs Python in one thread at a time (the GIL). With FastAPI's default pool (40 threads) ten
concurrent expansions are ten threads taking turns, and a ``$lookup`` waits behind all of them. So:

- the operations' handlers (``fhir_api.deps.operation_routes``) run in a pool of ``SMT_CPU_THREADS`` threads
  per process (1 by default): concurrent expensive calls queue there instead of sharing the interpreter;
- a call its route marks cheap (``$lookup``, ``$subsumes``, code system ``$validate-code``: one concept, no
  request resources) runs on the event loop, with no hop to a thread;
- the interpreter lets another thread run every ``SMT_SWITCH_INTERVAL_MS`` (1 ms; Python's default is 5), so
  the event loop gets its turn promptly while the pool computes.

Throughput comes from processes: ``smt serve --workers N`` (default: the cores) runs N of them over the same
immutable release files (``benchmarks/README.md``, "Concurrency").
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from anyio import CapacityLimiter, to_thread

T = TypeVar("T")

_limiter: CapacityLimiter | None = None


def cpu_threads() -> int:
    """``SMT_CPU_THREADS``: threads per server process for CPU-bound calls (1 by default)."""
    value = os.environ.get("SMT_CPU_THREADS", "1")
    return max(1, int(value)) if value.isdigit() else 1


def tune_interpreter() -> None:
    """Let the event loop run within ``SMT_SWITCH_INTERVAL_MS`` of a computing thread (1 ms by default)."""
    try:
        milliseconds = float(os.environ.get("SMT_SWITCH_INTERVAL_MS", "1"))
    except ValueError:
        milliseconds = 1.0
    sys.setswitchinterval(min(max(milliseconds, 0.1), 100.0) / 1000)


async def run_cpu_bound(function: Callable[..., T], *args: object) -> T:
    """``function(*args)`` in the process's pool of CPU threads (created on first use, in the event loop)."""
    global _limiter
    if _limiter is None:
        _limiter = CapacityLimiter(cpu_threads())
    return await to_thread.run_sync(partial(function, *args), limiter=_limiter)
