"""One short-lived child process: send its input, read its output until a deadline, watch its peak memory.

The peak is the child's own high-water mark of resident memory (``VmHWM`` in ``/proc/<pid>/status``, Linux),
sampled while it runs: the ``ru_maxrss`` that ``wait4`` reports also counts the parent's memory copied at fork,
so it would say the child of a 1.5 GB server used 1.5 GB. The SPARQL service reports the peak (and its tests
check it against the memory limit); elsewhere it is 0.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass

STDERR_KEPT = 64 * 1024
"""Bytes of the child's standard error kept (its end): enough for a panic or an allocation failure message."""
SAMPLE_SECONDS = 0.02
"""How often the child's peak memory is read while it runs."""


def peak_memory(pid: int) -> int:
    """The process's peak resident memory so far, in bytes (0 when it cannot be read: ended, or not Linux)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


@dataclass(frozen=True, slots=True)
class Finished:
    """How a child ended: its output, the end of its standard error, its exit code (negative: the signal that
    ended it), its peak resident memory in bytes, and whether the deadline killed it."""

    stdout: bytes
    stderr: bytes
    exit_code: int
    peak_memory: int
    timed_out: bool


def run(argv: list[str], data: bytes, timeout: float, env: dict[str, str]) -> Finished:
    """Run ``argv`` with ``data`` on its standard input; kill it if it has not ended within ``timeout`` s."""
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdin and process.stdout and process.stderr  # pipes were asked for
    deadline = time.monotonic() + timeout
    try:
        process.stdin.write(data)  # the child reads all of it before it writes anything
        process.stdin.close()
    except BrokenPipeError:
        pass  # it ended at once: its exit code and standard error say why
    out, err = bytearray(), bytearray()
    timed_out = False
    peak = peak_memory(process.pid)
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, out)
        selector.register(process.stderr, selectors.EVENT_READ, err)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                process.send_signal(signal.SIGKILL)
                break
            peak = max(peak, peak_memory(process.pid))
            for key, _ in selector.select(min(remaining, SAMPLE_SECONDS)):
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                key.data.extend(chunk)
                if key.data is err and len(err) > STDERR_KEPT:
                    del err[:-STDERR_KEPT]
    peak = max(peak, peak_memory(process.pid))
    _, status = os.waitpid(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    process.stdout.close()
    process.stderr.close()
    return Finished(bytes(out), bytes(err), process.returncode, peak, timed_out)
