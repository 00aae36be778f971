"""Every error SMT reports to a user, in one hierarchy at the bottom layer (this module imports nothing of SMT).

An error says what went wrong in FHIR terms and nothing about HTTP:

* ``issue_type`` — the FHIR ``OperationOutcome.issue.code`` (``IssueType``: invalid, not-found, processing…);
* ``tx_code`` — the ``http://hl7.org/fhir/tools/CodeSystem/tx-issue-type`` code, None when the issue has none;
* ``message_id`` — the message id tx.fhir.org and FHIRsmith give the same error (``operationoutcome-message-id``);
* ``location`` — the FHIRPath of the element at fault (``issue.expression``), per instance, None when unknown.

The HTTP status and the OperationOutcome an operation answers come from one table in the API
(``fhir_api.answers``); the CLI prints ``str(error)`` on one line. Groups, top to bottom:

* loading and storing (``LoadError``, ``QualityError``, ``ReleaseExists``, ``ArtefactOutdated``);
* requests (``InvalidParameter``, ``MissingParameter``);
* not found (``NotFound`` and its terminology cases);
* terminology operations (``TerminologyError``: value sets, filters, versions, supplements, parameters);
* ECL (``EclError``), publication (``DiffUnavailable``, ``RdfUnavailable``), IHE SVS (``SvsError``),
  SPARQL (``SparqlError``) and security (``AuthError``).
"""

from __future__ import annotations

from collections.abc import Iterable

TX_ISSUE_TYPE = "http://hl7.org/fhir/tools/CodeSystem/tx-issue-type"
"""The code system of ``tx_code``."""


class SmtError(Exception):
    """Base class of every error SMT reports to a user."""

    issue_type: str = "processing"
    tx_code: str | None = None
    message_id: str | None = None
    location: str | None = None

    def __init__(self, message: str = "", location: str | None = None, *, message_id: str | None = None) -> None:
        super().__init__(message)
        if location is not None:
            self.location = location
        if message_id is not None:
            self.message_id = message_id


# -- loading and storing ------------------------------------------------------------------------------------


class LoadError(SmtError):
    """A source file cannot be loaded. Names the file, and the line and field where known."""

    issue_type = "invalid"

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

    issue_type = "business-rule"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n  ".join(problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"quality gate failed with {len(problems)} error(s):\n  {shown}{more}")


class ReleaseExists(SmtError):
    """A release with the same canonical URL and version is already in the store."""

    issue_type = "duplicate"


class ArtefactOutdated(SmtError):
    """A stored release's compiled artefact is in a format this SMT does not read; ``smt recompile`` fixes it."""

    issue_type = "transient"


# -- requests -----------------------------------------------------------------------------------------------


class InvalidParameter(SmtError):
    """An operation or search parameter of the wrong type, out of its bounds, or that contradicts another;
    ``location`` names the parameter."""

    issue_type = "invalid"


class MissingParameter(InvalidParameter):
    """A parameter the call needs is missing."""

    issue_type = "required"


class NothingToValidate(InvalidParameter):
    """A ``$validate-code`` request that names no code to validate (no ``code``, ``coding`` nor
    ``codeableConcept``): an ``invalid`` request, with the reference server's message (FHIRsmith
    ``ValidateWorker.handleValueSetInner``)."""

    def __init__(self) -> None:
        super().__init__("Unable to find code to validate (looked for coding | codeableConcept | code+system | "
                         "code+inferSystem in parameters")


# -- not found ----------------------------------------------------------------------------------------------


class NotFound(SmtError):
    """A code system, value set, version, code or resource that is not in the store."""

    issue_type = "not-found"


class UnknownCodeSystem(NotFound):
    """No release of ``system`` (or none with ``version``)."""

    tx_code = "not-found"

    def __init__(self, system: str, version: str | None = None, known: Iterable[str] = ()) -> None:
        self.system = system
        self.version = version
        self.known = list(known)
        super().__init__(self.describe())

    def describe(self, consequence: str = "") -> str:
        """The message, with an optional consequence (", so the code cannot be validated")."""
        if self.version is None:
            return f"A definition for CodeSystem '{self.system}' could not be found{consequence}"
        found = f"A definition for CodeSystem '{self.system}' version '{self.version}' could not be found{consequence}"
        if not self.known:
            return f"{found}. No versions of this code system are known"
        return f"{found}. Valid versions: {' or '.join(self.known)}"

    @property
    def canonical(self) -> str:
        """``url|version`` as FHIR's ``x-caused-by-unknown-system`` names it."""
        return f"{self.system}|{self.version}" if self.version else self.system


class UnknownCode(NotFound):
    """The release exists but has no such code (tx.fhir.org answers it with no tx-issue-type)."""

    def __init__(self, code: str, system: str, version: str, hint: str | None = None) -> None:
        self.code = code
        self.system = system
        self.version = version
        self.hint = hint
        message = f"Unknown code '{code}' in the CodeSystem '{system}' version '{version}'"
        super().__init__(message + (f" (did you mean '{hint}'?)" if hint else ""))


class InvalidExpression(UnknownCode):
    """A code that is neither a concept of the release nor a valid expression; the message names why."""

    def __init__(self, code: str, system: str, version: str, problem: str) -> None:
        super().__init__(code, system, version)
        self.problem = problem
        self.args = (f"{self.args[0]}: not a valid expression ({problem})",)


class UnknownValueSet(NotFound):
    """A value set canonical that neither the request nor the store defines."""

    tx_code = "not-found"
    message_id = "Unable_to_resolve_value_Set_"

    def __init__(self, url: str, version: str | None = None) -> None:
        self.url = url
        self.version = version
        shown = f"{url}|{version}" if version else url
        super().__init__(f"A definition for the value Set '{shown}' could not be found")


class UnknownClosureTable(NotFound):
    """A ``$closure`` call naming a table that was never initialised."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Closure table '{name}' is not known: initialise it first with a call that has only a name")


# -- terminology operations ---------------------------------------------------------------------------------


class TerminologyError(SmtError):
    """A terminology operation (``$expand``, ``$validate-code``, ``$lookup``…) that cannot be carried out."""

    issue_type = "invalid"
    tx_code: str | None = "vs-invalid"


ValueSetError = TerminologyError
"""The name the value set engines have always raised and caught."""


class CodeSystemNotFound(NotFound, TerminologyError):
    """A code system the value set needs is not known (or not in the version it names)."""

    tx_code = "not-found"

    def __init__(self, error: UnknownCodeSystem, consequence: str = ", so the value set cannot be expanded"):
        self.unknown = error
        message_id = "UNKNOWN_CODESYSTEM_VERSION_EXP" if error.version else "UNKNOWN_CODESYSTEM_EXP"
        super().__init__(error.describe(consequence), message_id=message_id)


class SupplementNotFound(NotFound, TerminologyError):
    """A supplement the request or the value set requires is not known."""

    tx_code = "not-found"
    message_id = "VALUESET_SUPPLEMENT_MISSING"

    def __init__(self, canonical: str) -> None:
        super().__init__(f"Required supplement not found: {canonical}")


class VersionNotAllowed(TerminologyError):
    """The resolved version does not satisfy a ``check-system-version`` parameter."""

    issue_type = "exception"
    tx_code = "version-error"
    message_id = "VALUESET_VERSION_CHECK"

    def __init__(self, system: str, version: str, required: str) -> None:
        self.system = system
        self.version = version
        self.required = required
        super().__init__(f"The version '{version}' is not allowed for system '{system}': required to be "
                         f"'{required}' by a version-check parameter")


class InvalidFilter(TerminologyError):
    """A compose filter that is malformed or not supported."""


class InvalidEcl(InvalidFilter):
    """An ECL expression that does not parse or names unknown concepts."""

    message_id = "INVALID_ECL"


class RegexTooCostly(TerminologyError):
    """A regex filter that ran out of its time budget."""

    issue_type = "too-costly"
    tx_code = None


class TooCostly(TerminologyError):
    """An expansion larger than the server's limit (or the request's ``limit``), requested without paging."""

    issue_type = "too-costly"
    tx_code = None
    message_id = "VALUESET_TOO_COSTLY"


class EclTooCostly(TerminologyError):
    """An ECL expression whose steps gather more concepts than the evaluation budget allows."""

    issue_type = "too-costly"
    tx_code = None


class CircularReference(TerminologyError):
    """A value set that includes itself through ``compose.include.valueSet``."""

    issue_type = "processing"
    message_id = "VALUESET_CIRCULAR_REFERENCE"


class NotSupported(TerminologyError):
    """A parameter or feature the server does not implement."""

    issue_type = "not-supported"
    tx_code = None


class InvalidDisplayLanguage(TerminologyError):
    """A ``displayLanguage`` that is not a language tag list (BCP 47 tags, ``*``, optional ``;q=`` weights)."""

    issue_type = "processing"
    tx_code = "invalid-display"
    message_id = "INVALID_DISPLAY_NAME"

    def __init__(self, value: str) -> None:
        super().__init__(f"Invalid displayLanguage: '{value}'")


# -- ECL ----------------------------------------------------------------------------------------------------


class EclError(SmtError):
    """Base class of every ECL error."""

    issue_type = "invalid"


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

    issue_type = "processing"

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

    issue_type = "not-supported"


# -- publication --------------------------------------------------------------------------------------------


class DiffUnavailable(SmtError):
    """The resource cannot be compared (a concept map, or two different canonical URLs)."""


class RdfUnavailable(SmtError):
    """The RDF store could not be opened for reading."""

    issue_type = "transient"


# -- IHE SVS ------------------------------------------------------------------------------------------------


class SvsError(SmtError):
    """An SVS request that cannot be answered: ``reason`` (the fault text), ``detail``, the SOAP fault code
    (``fault_code``: Sender for the caller's mistakes, Receiver for the server's) and the IHE ``subcode``."""

    issue_type = "invalid"
    fault_code = "Sender"
    subcode: str | None = None

    def __init__(self, reason: str, *, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class SvsUnknownValueSet(SvsError):
    """No value set has the OID (IHE subcode ``NAV``)."""

    issue_type = "not-found"
    subcode = "NAV"


class SvsUnknownVersion(SvsError):
    """The value set has no such version (IHE subcode ``VERUNK``)."""

    issue_type = "not-found"
    subcode = "VERUNK"


class SvsCannotExpand(SvsError):
    """The value set exists but cannot be expanded here."""

    issue_type = "too-costly"
    fault_code = "Receiver"


# -- SPARQL -------------------------------------------------------------------------------------------------


class SparqlError(SmtError):
    """A SPARQL request that cannot be answered (a malformed query or request)."""

    issue_type = "invalid"


class UpdateRefused(SparqlError):
    """A SPARQL update on the read-only endpoint."""

    issue_type = "forbidden"


class NotAcceptable(SparqlError):
    """No result format the caller accepts."""

    issue_type = "not-supported"


class QueryTimeout(SparqlError):
    """A query stopped at the time limit."""

    issue_type = "timeout"


class Busy(SparqlError):
    """Every query slot is taken."""

    issue_type = "transient"


class QueryFailed(SparqlError):
    """A query that failed inside the query engine (not the caller's mistake)."""

    issue_type = "exception"


class UpstreamUnavailable(SparqlError):
    """The SPARQL server queries are forwarded to (``SMT_SPARQL_ENDPOINT``) did not answer, or not readably."""

    issue_type = "transient"


class FederationRefused(SparqlError):
    """A ``SERVICE`` clause naming an endpoint that is not allowed (``SMT_SPARQL_SERVICE_ALLOW``)."""

    issue_type = "forbidden"


class MemoryLimit(SparqlError):
    """A query stopped at the memory limit; ``peak_memory``: the bytes its process reached."""

    issue_type = "too-costly"

    def __init__(self, message: str, peak_memory: int = 0) -> None:
        super().__init__(message)
        self.peak_memory = peak_memory


# -- security -----------------------------------------------------------------------------------------------


class AuthError(SmtError):
    """A request refused by security: base of ``Unauthenticated`` and ``Forbidden``."""

    issue_type = "security"


class Unauthenticated(AuthError):
    """No credentials, or credentials that cannot be verified."""

    issue_type = "login"


class Forbidden(AuthError):
    """An authenticated principal that may not do this."""

    issue_type = "forbidden"
