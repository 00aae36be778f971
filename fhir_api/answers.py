"""The one table from an SMT error to its answer: the HTTP status and the OperationOutcome issue.

Errors (``smt.errors``) say what went wrong in FHIR terms (issue type, tx-issue-type code, message id,
location) and nothing about HTTP. Every route and the app's exception handler answer them through this module:
``status_of`` gives the HTTP status (the most specific class of the error's MRO listed in ``STATUS``),
``error_issue`` the issue, in the shape tx.fhir.org gives it (``details.text`` and the tx-issue-type coding,
the message id as an ``operationoutcome-message-id`` extension, ``location`` and ``expression``, no
``diagnostics`` — the HL7 test outcomes, e.g. ``omop-lookup-code2``, carry none).

Every operation answers an error class with the same status. Where an operation answers differently, it is
said here, next to the rule that requires it:

* ``$batch-validate-code`` answers an error of one validation inside the batch, as that validation's
  OperationOutcome, and the batch itself with 200 (tx.fhir.org's batch operation; HL7 test
  ``batch/batch-validate-bad``): ``fhir_api.valueset.batch_validate`` calls ``error_outcome``.
* ``$validate-code`` (CodeSystem and ValueSet) answers a problem with the *code* — unknown code, unknown or
  refused code system version — as ``result = false`` with issues, not as an error: the operation "returns a
  result (true / false), an error message, and the recommended display" (OperationDefinition
  ValueSet-validate-code); only a problem with the value set itself (unknown value set, supplement, invalid
  compose) is an error status (HL7 tests ``validation/validation-simple-code-bad-valueSet``: 4xx,
  ``validation/simple-code-bad-code``: 200). The engines (``smt.terminology.validate``) make that choice.
"""

from __future__ import annotations

from smt.errors import (
    TX_ISSUE_TYPE,
    ArtefactOutdated,
    Busy,
    EclTooCostly,
    Forbidden,
    LoadError,
    MemoryLimit,
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
    UpstreamUnavailable,
    VersionNotAllowed,
)

MESSAGE_ID_EXTENSION = "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id"

STATUS: dict[type[SmtError], int] = {
    SmtError: 400,
    # loading and storing (the write API)
    LoadError: 422,
    QualityError: 422,
    ReleaseExists: 409,
    ArtefactOutdated: 503,  # a release to recompile (`smt recompile <id>`): the server, not the request, is at fault
    # not found: code systems, codes, value sets, supplements, closure tables, releases
    NotFound: 404,
    # terminology operations: a request the server understands but cannot carry out as asked
    TerminologyError: 400,
    VersionNotAllowed: 400,  # FHIRsmith tx/workers/worker.js checkVersion: VALUESET_VERSION_CHECK, 400
    TooCostly: 422,  # FHIRsmith tx/workers/expand.js: VALUESET_TOO_COSTLY, 422
    RegexTooCostly: 422,
    EclTooCostly: 422,
    # publication
    RdfUnavailable: 503,
    # IHE SVS (ITI-48/60): the SOAP fault's HTTP status
    SvsError: 400,
    SvsUnknownValueSet: 404,
    SvsUnknownVersion: 404,
    SvsCannotExpand: 422,
    # SPARQL 1.1 Protocol
    SparqlError: 400,
    UpdateRefused: 403,
    NotAcceptable: 406,
    QueryTimeout: 503,
    MemoryLimit: 503,
    Busy: 503,
    QueryFailed: 500,
    UpstreamUnavailable: 502,
    # security
    Unauthenticated: 401,
    Forbidden: 403,
}
"""HTTP status of each error class; an unlisted class takes its nearest listed ancestor's."""


def status_of(error: SmtError) -> int:
    """The HTTP status that answers ``error``."""
    for cls in type(error).__mro__:
        if issubclass(cls, SmtError) and cls in STATUS:
            return STATUS[cls]
    return 500  # pragma: no cover - SmtError itself is listed


def error_issue(error: SmtError) -> dict:
    """The OperationOutcome issue of ``error``."""
    item: dict = {"severity": "error", "code": error.issue_type, "details": {"text": str(error)}}
    if error.tx_code:
        item["details"]["coding"] = [{"system": TX_ISSUE_TYPE, "code": error.tx_code}]
    if error.message_id:
        item["extension"] = [{"url": MESSAGE_ID_EXTENSION, "valueString": error.message_id}]
    if error.location:
        item["expression"] = [error.location]  # not the deprecated location: R4 OperationOutcome.issue.location
    return item


def error_outcome(error: SmtError) -> dict:
    """The OperationOutcome that answers ``error``."""
    return {"resourceType": "OperationOutcome", "issue": [error_issue(error)]}
