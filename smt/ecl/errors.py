"""Errors of the ECL parser and evaluator; each names what went wrong so an OperationOutcome can say it."""

from __future__ import annotations

from smt.errors import SmtError


class EclError(SmtError):
    """Base class of every ECL error."""


class EclSyntaxError(EclError):
    """The expression does not follow the ECL grammar.

    ``position`` is the 0-based character offset of the problem in the expression text, ``expected`` what the
    grammar allows there (e.g. ``("a concept id", "'*'", "'('")``).
    """

    def __init__(self, message: str, position: int, expected: tuple[str, ...] = ()) -> None:
        self.message = message
        self.position = position
        self.expected = expected
        super().__init__(f"ECL syntax error at position {position}: {message}")


class EclEvaluationError(EclError):
    """A well-formed expression that cannot be evaluated (unknown concept, unsupported feature…)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.message = message
        self.position = position
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"ECL evaluation error{where}: {message}")


class EclUnknownConcept(EclEvaluationError):
    """A concept id that the code system release does not hold."""

    def __init__(self, concept_id: str, position: int | None = None) -> None:
        self.concept_id = concept_id
        super().__init__(f"unknown concept {concept_id}", position)


class EclUnsupported(EclEvaluationError):
    """A valid ECL feature that this server (or this code system's index) cannot evaluate."""
