"""smt.allocation.bound_fragmentation: large blocks freed go back to the system (glibc), in a fresh process."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")

PROBE = """
import sys
from smt.allocation import bound_fragmentation

def rss():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096

if sys.argv[1] == "bounded":
    assert bound_fragmentation()
big = bytearray(16 << 20)  # freed: glibc would now carve blocks up to 16 MiB from the heap
del big
small = [bytearray(100) for _ in range(1000)]
before = rss()
block = bytearray(8 << 20)
block[::4096] = b"x" * len(range(0, 8 << 20, 4096))  # every page touched
after_block = [bytearray(100) for _ in range(1000)]  # the heap's top is not the block any more
del block
print(rss() - before)
"""


def _kept_after_free(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_a_freed_large_block_leaves_the_process() -> None:
    assert _kept_after_free("bounded") < 2 << 20


def test_without_it_glibc_keeps_the_block_in_its_heap() -> None:
    """The control: what bound_fragmentation prevents does happen with glibc's moving threshold."""
    assert _kept_after_free("default") >= 7 << 20
