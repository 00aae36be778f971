"""The CLI's view of load progress: one rich bar per running phase (rows done of total, rate, ETA); a phase that
ends leaves one line (rows, time, rate). Shown on a terminal only; scripts see the final report lines."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

from smt.progress import Phase


class RateColumn(ProgressColumn):
    """Rows per second of a phase."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "", style="progress.data.speed")


class _RichPhase:
    def __init__(self, owner: RichProgress, name: str, total: int | None) -> None:
        self.owner = owner
        self.name = name
        self.started = time.monotonic()
        self.done = 0
        self.task = owner.add_task(name, total=total)
        self.finished = False

    def advance(self, rows: int) -> None:
        if rows:
            self.done += rows
            self.owner.update(self.task, advance=rows)

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        seconds = time.monotonic() - self.started
        rate = f", {self.done / seconds:,.0f} rows/s" if seconds > 0 and self.done > 1 else ""
        self.owner.remove_task(self.task)
        if not self.owner.disable:
            self.owner.console.print(f"  [green]✓[/] {self.name}: {self.done:,} rows in {seconds:.1f} s{rate}",
                                     highlight=False)


class RichProgressReport:
    """``smt.progress.Progress`` shown with rich (thread-safe: the compile step reports from its own thread)."""

    def __init__(self, owner: RichProgress) -> None:
        self.owner = owner

    def phase(self, name: str, total: int | None) -> Phase:
        return _RichPhase(self.owner, name, total)


@contextmanager
def load_progress(console: Console) -> Iterator[RichProgressReport]:
    """Bars on ``console`` while the block runs (nothing when it is not a terminal)."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("rows"), RateColumn(), TextColumn("ETA"), TimeRemainingColumn(), TimeElapsedColumn())
    with RichProgress(*columns, console=console, transient=True, disable=not console.is_terminal) as owner:
        yield RichProgressReport(owner)
