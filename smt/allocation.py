"""Memory management of bulk work (loads, compiles): the cyclic garbage collector paused while millions of
acyclic objects are built, large blocks kept out of the threads' heaps, and freed memory given back to the system
between the releases of a load."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Iterator
from contextlib import contextmanager

_LIBC = ctypes.CDLL(ctypes.util.find_library("c")) if ctypes.util.find_library("c") else None

M_MMAP_THRESHOLD = -3
"""``mallopt`` parameter of glibc's mmap threshold (``malloc.h``)."""
MMAP_THRESHOLD = 4 << 20
"""Blocks of at least 4 MiB get pages of their own, given back to the system when freed.

glibc starts at 128 KiB but raises its threshold to the size of each such block freed (up to 32 MiB); from then
on the N-Quads chunks of a graph write, pyoxigraph's bulk-load batches and the index builders' buffers are carved
from the heaps of the threads that asked, and freed memory stays scattered there. At SNOMED CT scale the compile
and graph phases of an import peaked at 2.48 GB with the moving threshold and 1.90 GB with this one
(benchmarks/README.md, "Memory of a SNOMED CT-scale import").
"""


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


def bound_fragmentation() -> bool:
    """Fix glibc's mmap threshold at ``MMAP_THRESHOLD`` for the rest of the process; True when it was set (False
    with a C library that has no ``mallopt``)."""
    mallopt = getattr(_LIBC, "mallopt", None)
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) if mallopt is not None else False


def release_memory() -> None:
    """Collect cyclic garbage, then ask glibc to give the freed pages back (a streaming load stays within one
    release's peak: ≈ 90 MB less at the peak of CIM-10 2015–2020, benchmarks/README.md)."""
    gc.collect()
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)
