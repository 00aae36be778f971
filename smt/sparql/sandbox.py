"""Limits the SPARQL query process puts on itself before it opens the store: memory, and no network.

* ``limit_memory``: ``RLIMIT_DATA`` (heap and private writable mappings, Linux ≥ 4.7). A query that needs more
  fails to allocate and the process ends (pyoxigraph aborts): the server answers 503. ``RLIMIT_AS`` would also
  count the address space RocksDB reserves without using it (about 700 MB), so it fails ordinary queries.
* ``forbid_network``: a seccomp filter that makes ``socket(AF_INET | AF_INET6, …)`` fail with ``EPERM``, so that
  no query can reach another host (``SERVICE`` clauses are refused before, by ``smt.sparql.federation``; this is
  the second wall). Linux on x86-64 and AArch64; elsewhere it does nothing and says so.
"""

from __future__ import annotations

import ctypes
import platform
import resource
import struct

_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_SOCKET_SYSCALL = {"x86_64": 41, "aarch64": 198}
_AF_INET, _AF_INET6 = 2, 10
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_RET_ALLOW, _RET_EPERM = 0x7FFF0000, 0x00050000 | 1
_LD_ABS, _JEQ, _RET = 0x20, 0x15, 0x06
_NR, _ARCH, _ARG0 = 0, 4, 16
"""Offsets in ``struct seccomp_data`` (``args[0]``'s low 32 bits on a little-endian machine)."""


def limit_memory(limit_bytes: int) -> None:
    """Cap the process's data memory at ``limit_bytes`` (0: no cap)."""
    if limit_bytes > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (limit_bytes, limit_bytes))


def _filter_program(arch: str) -> bytes:
    """BPF: allow every system call but ``socket`` for IPv4/IPv6, which fails with EPERM."""
    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("=HBBI", code, jt, jf, k)
    return b"".join((
        op(_LD_ABS, _ARCH),
        op(_JEQ, _AUDIT_ARCH[arch], 0, 5),  # another ABI: allow
        op(_LD_ABS, _NR),
        op(_JEQ, _SOCKET_SYSCALL[arch], 0, 3),
        op(_LD_ABS, _ARG0),
        op(_JEQ, _AF_INET, 2, 0),
        op(_JEQ, _AF_INET6, 1, 0),
        op(_RET, _RET_ALLOW),
        op(_RET, _RET_EPERM),
    ))


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]  # a list: the ctypes convention


def forbid_network() -> bool:
    """Forbid IPv4/IPv6 sockets to this process and its future threads; False where that is not possible."""
    arch = platform.machine().lower()
    if platform.system() != "Linux" or arch not in _AUDIT_ARCH:
        return False
    program = ctypes.create_string_buffer(_filter_program(arch))
    fprog = _SockFprog(len(program.raw) // 8, ctypes.cast(program, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0
