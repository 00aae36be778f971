"""Sets of concept ids as compressed bitmaps (pyroaring), and a bounded cache of the sets derived from a release.

Concept ids are dense (0 … count-1, in load order), so a set of them is a roaring bitmap: set operations run in
native code on compressed containers, iteration is in ascending id order (an expansion's order), and a page is a
rank slice (``ids[offset:offset + count]``) without materialising the rest. See
``docs/adr/0017-set-based-evaluation.md``.

Compiled indexes store some sets ready to use (``smt.index.build``): the descendants of every concept with
descendants, and the active, abstract and leaf concepts. ``SetCache`` keeps the sets a release derives on
demand (an ``isa/`` hierarchy, a reference set, an ECL result, a text filter's matches) within a byte budget.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

from pyroaring import BitMap, FrozenBitMap

__all__ = ["EMPTY", "BitMap", "FrozenBitMap", "SetCache", "id_set", "pack", "unpack"]

EMPTY = FrozenBitMap()

CACHE_BYTES = int(os.environ.get("SMT_SET_CACHE_MB", "64")) * 1024 * 1024
"""Bytes of derived sets a release keeps in memory (``SMT_SET_CACHE_MB``, 64 by default), per process."""


def id_set(ids: Iterable[int]) -> FrozenBitMap:
    """An immutable set of (non-negative) concept ids."""
    return ids if isinstance(ids, FrozenBitMap) else FrozenBitMap(ids)


def pack(ids: Iterable[int]) -> bytes:
    """The portable serialisation of a set of ids (what compiled indexes store)."""
    bitmap = BitMap(ids)
    bitmap.run_optimize()
    return bitmap.serialize()


def unpack(blob: bytes | None) -> FrozenBitMap:
    """The set ``pack`` wrote (empty for None)."""
    return FrozenBitMap.deserialize(blob) if blob else EMPTY


def _size(ids: FrozenBitMap) -> int:
    """An upper bound of a set's memory: 2 bytes per id (array containers) plus container headers."""
    return 64 + min(2 * len(ids), 8192 * (1 + (ids.max() >> 16) if ids else 0))


class SetCache:
    """Sets derived from one release, least recently used first out when over ``budget`` bytes (thread-safe).

    Values are immutable (``FrozenBitMap``), so they are shared between requests without copies.
    """

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget = budget
        self.used = 0
        self._items: OrderedDict[object, tuple[FrozenBitMap, int]] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: object) -> FrozenBitMap | None:
        """The set cached under ``key``, if any."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def get(self, key: object, build: Callable[[], Iterable[int]]) -> FrozenBitMap:
        """The set cached under ``key``, else ``build()`` (outside the lock) cached."""
        found = self.peek(key)
        if found is not None:
            return found
        ids = id_set(build())
        size = _size(ids) + len(repr(key))  # keys (an ECL text, a filter text) count too
        with self._lock:
            if key not in self._items and size <= self.budget:
                self._items[key] = (ids, size)
                self.used += size
                while self.used > self.budget:
                    _, (_, dropped) = self._items.popitem(last=False)
                    self.used -= dropped
        return ids

    def __len__(self) -> int:
        return len(self._items)
