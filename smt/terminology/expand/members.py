"""The members of an expansion as ordered parts of id sets, so that only the page asked for is materialised.

A value set's members are the concatenation of ``Part``s, each of one code system version (``Pair``): a filter
or a whole system gives a set of ids (``bits``, a roaring bitmap iterated in load order), listed concepts give
their listed order (``listed``, which may hold the negative ids of post-coordinated expressions). Includes,
excludes, nested value sets and the ``$expand`` filters (``activeOnly``, text ``filter``…) are set operations on
the parts; ``len`` is the expansion's total and ``page`` turns one rank range into member keys (a bitmap part is
sliced by rank, nothing else is read).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from smt.index.sets import BitMap, FrozenBitMap

Pair = tuple[str, str | None]
"""A code system version: URL and version (None: the system has none)."""
Key = tuple[str, str | None, int]
"""A member of an expansion: code system URL, version and concept id."""
Bits = BitMap | FrozenBitMap


@dataclass(slots=True)
class IdSet:
    """The ids of one code system version: concepts in a bitmap, expressions (negative ids) apart."""

    bits: Bits = field(default_factory=BitMap)
    negative: frozenset[int] = frozenset()

    def __contains__(self, number: int) -> bool:
        return number in self.bits if number >= 0 else number in self.negative

    def __or__(self, other: IdSet) -> IdSet:
        return IdSet(self.bits | other.bits, self.negative | other.negative)


@dataclass(slots=True)
class Part:
    """Members of one code system version in one order: ascending ids (``bits``), or ``listed`` order."""

    pair: Pair
    bits: Bits
    listed: list[int] | None = None
    """The listed order (bits then holds its non-negative ids, for set operations)."""

    @classmethod
    def of_list(cls, pair: Pair, ids: list[int]) -> Part:
        return cls(pair, BitMap(i for i in ids if i >= 0), ids)

    def __len__(self) -> int:
        return len(self.listed) if self.listed is not None else len(self.bits)

    def ids(self) -> Iterator[int]:
        """The ids in member order."""
        return iter(self.listed) if self.listed is not None else iter(self.bits)

    def id_set(self) -> IdSet:
        negative = frozenset(i for i in self.listed if i < 0) if self.listed is not None else frozenset()
        return IdSet(self.bits, negative)

    def slice(self, start: int, end: int) -> list[int]:
        """The ids at ranks ``start`` … ``end - 1``."""
        if self.listed is not None:
            return self.listed[start:end]
        return list(self.bits[start:end]) if start < end else []

    def keep(self, bits: Bits, negative: Callable[[int], bool]) -> Part:
        """The members in ``bits`` (non-negative ids) or passing ``negative`` (negative ids)."""
        if self.listed is None:
            return Part(self.pair, self.bits & bits)
        kept = self.bits & bits
        return Part(self.pair, kept, [i for i in self.listed if (i in kept if i >= 0 else negative(i))])

    def within(self, allowed: IdSet) -> Part:
        return self.keep(allowed.bits, allowed.negative.__contains__)

    def without(self, removed: IdSet) -> Part:
        if self.listed is None:
            return Part(self.pair, self.bits - removed.bits)
        kept = self.bits - removed.bits
        return Part(self.pair, kept, [i for i in self.listed
                                      if (i in kept if i >= 0 else i not in removed.negative)])


@dataclass(slots=True)
class Members:
    """Ordered, de-duplicated members of a value set (see the module docstring)."""

    parts: list[Part] = field(default_factory=list)

    @classmethod
    def concatenated(cls, groups: list[Members]) -> Members:
        """The members of ``groups`` in order, each member kept at its first place."""
        if len(groups) == 1:
            return groups[0]
        seen: dict[Pair, IdSet] = {}
        parts = []
        for group in groups:
            for part in group.parts:
                earlier = seen.get(part.pair)
                if earlier is not None:
                    part = part.without(earlier)
                    seen[part.pair] = earlier | part.id_set()
                else:
                    seen[part.pair] = part.id_set()
                if len(part):
                    parts.append(part)
        return cls(parts)

    @classmethod
    def of_keys(cls, keys: list[Key]) -> Members:
        """Members in the order of ``keys`` (one listed part per run of keys of one code system version)."""
        parts: list[Part] = []
        run: list[int] = []
        pair: Pair | None = None
        for url, version, number in keys:
            if (url, version) != pair:
                if pair is not None:
                    parts.append(Part.of_list(pair, run))
                pair, run = (url, version), []
            run.append(number)
        if pair is not None:
            parts.append(Part.of_list(pair, run))
        return cls(parts)

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    def __iter__(self) -> Iterator[Key]:
        return iter(self.keys())

    def id_sets(self) -> dict[Pair, IdSet]:
        """Every member id, by code system version."""
        found: dict[Pair, IdSet] = {}
        for part in self.parts:
            mine = part.id_set()
            found[part.pair] = found[part.pair] | mine if part.pair in found else mine
        return found

    def map(self, change: Callable[[Part], Part]) -> Members:
        """Each part changed by ``change`` (empty parts dropped)."""
        return Members([p for p in (change(part) for part in self.parts) if len(p)])

    def within(self, other: Members) -> Members:
        """The members that are also members of ``other`` (order kept)."""
        allowed = other.id_sets()
        return self.map(lambda p: p.within(allowed[p.pair]) if p.pair in allowed else Part(p.pair, BitMap()))

    def without(self, other: Members) -> Members:
        removed = other.id_sets()
        return self.map(lambda p: p.without(removed[p.pair]) if p.pair in removed else p)

    def page(self, start: int, end: int | None = None) -> list[Key]:
        """The member keys at ranks ``start`` … ``end - 1`` (all from ``start`` when ``end`` is None)."""
        keys: list[Key] = []
        for part in self.parts:
            size = len(part)
            if end is not None and end <= 0:
                break
            if start < size:
                url, version = part.pair
                stop = size if end is None else min(end, size)
                keys += [(url, version, number) for number in part.slice(max(start, 0), stop)]
            start -= size
            if end is not None:
                end -= size
        return keys

    def keys(self) -> list[Key]:
        """Every member key, in order."""
        return self.page(0)
