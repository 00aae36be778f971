"""Errors of the value set engines, each carrying what its FHIR OperationOutcome issue needs."""

from __future__ import annotations

from smt.errors import SmtError


class ValueSetError(SmtError):
    """A value set operation that cannot be carried out.

    ``status`` is the HTTP status, ``code`` the FHIR issue type, ``tx_code`` the
    ``http://hl7.org/fhir/tools/CodeSystem/tx-issue-type`` code, ``message_id`` the message identifier
    (``operationoutcome-message-id``, as tx.fhir.org reports it) and ``location`` a FHIRPath.
    """

    status = 400
    code = "invalid"
    tx_code: str | None = "vs-invalid"
    message_id: str | None = None

    def __init__(self, message: str, location: str | None = None) -> None:
        self.location = location
        super().__init__(message)


class InvalidFilter(ValueSetError):
    """A compose filter that is malformed or not supported."""


class InvalidEcl(InvalidFilter):
    """An ECL expression that does not parse or names unknown concepts."""

    message_id = "INVALID_ECL"


class RegexTooCostly(ValueSetError):
    """A regex filter that ran out of its time budget."""

    code = "too-costly"
    tx_code = None
    status = 422


class TooCostly(ValueSetError):
    """An expansion larger than the server's limit (or the request's ``limit``), requested without paging."""

    code = "too-costly"
    tx_code = None
    status = 422
    message_id = "VALUESET_TOO_COSTLY"


class CircularReference(ValueSetError):
    """A value set that includes itself through ``compose.include.valueSet``."""

    code = "processing"
    tx_code = "vs-invalid"


class NotSupported(ValueSetError):
    """A parameter or feature the server does not implement."""

    code = "not-supported"
    tx_code = None


class InvalidDisplayLanguage(ValueSetError):
    """A ``displayLanguage`` that is not a language tag list (BCP 47 tags, ``*``, optional ``;q=`` weights)."""

    code = "processing"
    tx_code = "invalid-display"
    message_id = "INVALID_DISPLAY_NAME"

    def __init__(self, value: str) -> None:
        super().__init__(f"Invalid displayLanguage: '{value}'")
