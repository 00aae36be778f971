"""The one table from an SMT error to its HTTP status: every route and exception handler answers through it.

Errors (``smt.errors``) say what went wrong in FHIR terms and nothing about HTTP; this table gives the status.
The most specific class listed in an error's MRO wins.
"""

from __future__ import annotations

from smt.errors import (
    Busy,
    Forbidden,
    LoadError,
    NotAcceptable,
    NotFound,
    QualityError,
    QueryFailed,
    QueryTimeout,
    RdfUnavailable,
    RegexTooCostly,
    ReleaseExists,
    SmtError,
    SparqlError,
    SvsCannotExpand,
    SvsError,
    SvsUnknownValueSet,
    SvsUnknownVersion,
    TerminologyError,
    TooCostly,
    Unauthenticated,
    UpdateRefused,
)

STATUS: dict[type[SmtError], int] = {
    SmtError: 400,
    LoadError: 422,
    QualityError: 422,
    ReleaseExists: 409,
    NotFound: 404,
    TerminologyError: 400,
    TooCostly: 422,
    RegexTooCostly: 422,
    RdfUnavailable: 503,
    SvsError: 400,
    SvsUnknownValueSet: 404,
    SvsUnknownVersion: 404,
    SvsCannotExpand: 422,
    SparqlError: 400,
    UpdateRefused: 403,
    NotAcceptable: 406,
    QueryTimeout: 503,
    Busy: 503,
    QueryFailed: 500,
    Unauthenticated: 401,
    Forbidden: 403,
}
"""HTTP status of each error class (an unlisted class takes its nearest listed ancestor's)."""


def status_of(error: SmtError) -> int:
    """The HTTP status that answers ``error``."""
    for cls in type(error).__mro__:
        if issubclass(cls, SmtError) and cls in STATUS:
            return STATUS[cls]
    return 500
