"""Progress of long steps (the phases of a load): each phase states its total rows and reports rows as it goes.

The store and the compile steps report through ``Progress``; the CLI shows it (rows done, rate, ETA per phase),
everything else passes ``SILENT``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")

STEP = 2_000
"""Rows between two reports of ``counted`` (a report costs a lock and a clock read)."""


class Phase(Protocol):
    def advance(self, rows: int) -> None:
        """``rows`` more rows done."""

    def finish(self) -> None:
        """The phase is over (its bar shows complete)."""


class Progress(Protocol):
    def phase(self, name: str, total: int | None) -> Phase:
        """Start a phase of ``total`` rows (None when unknown)."""


class _SilentPhase:
    def advance(self, rows: int) -> None:
        pass

    def finish(self) -> None:
        pass


class _Silent:
    def phase(self, name: str, total: int | None) -> Phase:
        return _SilentPhase()


SILENT: Progress = _Silent()
NO_PHASE: Phase = _SilentPhase()


def counted(items: Iterable[T], phase: Phase, step: int = STEP, finish: bool = True) -> Iterator[T]:
    """``items`` unchanged, reporting every ``step`` of them to ``phase`` (then the rest, then ``finish``)."""
    pending = 0
    for item in items:
        yield item
        pending += 1
        if pending == step:
            phase.advance(pending)
            pending = 0
    phase.advance(pending)
    if finish:
        phase.finish()
