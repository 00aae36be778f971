"""ECL (SNOMED CT Expression Constraint Language) compose filters: ``constraint``/``expression`` ``=`` <ecl>."""

from __future__ import annotations

from smt.codesystems.provider import CodeSystemProvider
from smt.ecl import EclError, EclSyntaxError, evaluate
from smt.errors import InvalidEcl, InvalidFilter
from smt.index.reader import CodeSystemIndex

ECL_PROPERTIES = {"constraint", "expression"}


def is_ecl_filter(prop: str) -> bool:
    """Whether a compose filter property carries an ECL expression."""
    return prop in ECL_PROPERTIES


def ecl_ids(provider: CodeSystemProvider, op: str, value: str, where: str = "") -> set[int]:
    """Concept ids selected by an ECL filter; ``InvalidFilter`` when it cannot be evaluated (its text names the
    expression and the problem, as tx.fhir.org, without an issue location)."""
    if op != "=":
        raise InvalidFilter(f"The filter operator '{op}' is not supported with an ECL expression (use '=')", where)
    if not isinstance(provider, CodeSystemIndex):
        raise InvalidFilter(f"ECL filters are only supported on a stored SNOMED CT release, not {provider.url}",
                            where)
    from smt.ecl.index_backend import backend_for

    try:
        return evaluate(value, backend_for(provider))
    except EclSyntaxError as exc:
        raise InvalidEcl(f"Invalid ECL expression: '{value}': (syntax error at character {exc.position + 1}: "
                         f"{exc.message})") from exc
    except EclError as exc:
        raise InvalidEcl(f"Invalid ECL expression: '{value}': ({exc})") from exc
