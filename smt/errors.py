"""Errors raised by loaders, the quality gate and the store; the CLI and the API turn them into messages."""

from __future__ import annotations


class SmtError(Exception):
    """Base class of every error SMT reports to a user."""


class LoadError(SmtError):
    """A source file cannot be loaded. Names the file, and the line and field where known."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.detail = message
        where = ":".join(str(p) for p in (file, line) if p is not None)
        prefix = f"{where}: " if where else ""
        suffix = f" (field '{field}')" if field else ""
        super().__init__(f"{prefix}{message}{suffix}")


class QualityError(SmtError):
    """The quality gate found errors; ``problems`` lists every one of them."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n  ".join(problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"quality gate failed with {len(problems)} error(s):\n  {shown}{more}")


class ReleaseExists(SmtError):
    """A release with the same canonical URL and version is already in the store."""


class NotFound(SmtError):
    """A code system, value set, version or code that is not in the store."""
