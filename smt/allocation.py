"""Memory management of bulk work (loads, compiles): the cyclic garbage collector paused while millions of
acyclic objects are built, and freed memory given back to the system between the releases of a load."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Iterator
from contextlib import contextmanager

_LIBC = ctypes.CDLL(ctypes.util.find_library("c")) if ctypes.util.find_library("c") else None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (nested blocks keep it paused until the outer one ends).

    A release model is millions of objects that live as long as the load; every collection the allocations
    of a build trigger walks all of them again. SNOMED CT-scale: the closure's topological sort spent 20 of its
    30 s in such walks (cProfile, benchmarks/README.md). Reference counting still frees acyclic garbage at once;
    ``release_memory`` collects cycles explicitly.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def release_memory() -> None:
    """Collect cyclic garbage, then ask glibc to give the freed pages back (a streaming load stays within one
    release's peak: ≈ 90 MB less at the peak of CIM-10 2015–2020, benchmarks/README.md)."""
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
