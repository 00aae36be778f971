"""Running the selected tests against the app, as ``TxTester.runTest`` does, one outcome per test.

Per test: the request (R5 ``Parameters``) gets one ``tx-resource`` parameter per suite setup resource, then
the parameters of the test's ``profile`` (default ``parameters-default.json``); it is converted to R4 and
POSTed to the operation's endpoint with ``Accept-Language`` when the test has one. A 2xx answer of the
expected type is converted to R5, scrubbed and sorted; an OperationOutcome (error status, or 2xx with an
error issue) is scrubbed (no sort); anything else is an exception. The comparison (``compare``) comes first,
then the HTTP status class (``http-code``, default ``2xx``), whose failure takes precedence in the message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import r4
from .cases import Suite, TestCase, TestData
from .compare import Comparer, Mismatch
from .jsonio import Json, dumps, loads
from .normalize import REFERENCE_MANAGED_EXTENSIONS, deprecated_elements_optional, extension_urls, normalize, scrub
from .transport import HarnessError, HttpResult, Transport

FHIR_BASE = "/fhir"
R4_VERSION = "4.0.1"
JSON = "application/fhir+json"

# operation -> (HTTP path under the base, resource type of a successful answer)
ENDPOINTS: dict[str, tuple[str, str]] = {
    "expand": ("ValueSet/$expand", "ValueSet"),
    "validate-code": ("ValueSet/$validate-code", "Parameters"),
    "cs-validate-code": ("CodeSystem/$validate-code", "Parameters"),
    "lookup": ("CodeSystem/$lookup", "Parameters"),
    "translate": ("ConceptMap/$translate", "Parameters"),
    "batch-validate": ("ValueSet/$batch-validate-code", "Parameters"),
    "related": ("ValueSet/$related", "Parameters"),
}


@dataclass
class Outcome:
    """The result of one test. ``reason`` is a one-line explanation when it failed."""

    suite: str
    name: str
    operation: str
    passed: bool
    reason: str | None = None
    kind: str | None = None  # status | exception | timeout | not-implemented | <compare.KINDS>
    path: str | None = None
    hint: str = ""
    status: int | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    actual: Json = None

    @property
    def id(self) -> str:
        return f"{self.suite}/{self.name}"


def _status_ok(expected: str, status: int) -> bool:
    low = {"2xx": 200, "3xx": 300, "4xx": 400, "5xx": 500}.get(expected)
    if low is None:
        raise ValueError(f"unknown http-code {expected}")
    return low <= status < low + 100


def _issue_text(outcome: Json) -> str:
    for issue in outcome.get("issue", []) if isinstance(outcome, dict) else []:
        details = issue.get("details") if isinstance(issue, dict) else None
        text = (details or {}).get("text") or issue.get("diagnostics")
        if text:
            return str(text)
    return ""


def _has_error(outcome: Json) -> bool:
    return any(isinstance(i, dict) and i.get("severity") in ("error", "fatal") for i in outcome.get("issue", []))


class Runner:
    """Runs tests of ``data`` through ``transport`` with the run ``modes`` (e.g. ``{"general"}``)."""

    def __init__(self, data: TestData, transport: Transport, modes: Iterable[str], *,
                 externals: dict | None = None, tight: bool = False) -> None:
        self.data = data
        self.transport = transport
        self.modes = frozenset(modes)
        # the runner also knows the server's FHIR version: "$optional$": "version:4" items are optional in R4
        self.compare_modes = self.modes | {"version:4"}
        self.externals = externals
        self.tight = tight
        self.variables = {"version": R4_VERSION}
        self.managed = set(REFERENCE_MANAGED_EXTENSIONS)
        self._capabilities: dict[str, tuple[HttpResult, Json]] = {}

    def suites(self, only: set[str] | None = None, name_filter: str | None = None) -> list[Suite]:
        suites = self.data.suites(self.modes, fhir_version=R4_VERSION, only=only, name_filter=name_filter)
        for suite in suites:
            for test in suite.tests:
                self.managed |= extension_urls(self.data.load(test.response))
                if test.response2:
                    self.managed |= extension_urls(self.data.load(test.response2))
        return suites

    def run(self, suites: list[Suite], progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        outcomes = []
        for suite in suites:
            setup = [self.data.load(name) for name in suite.setup]
            for test in suite.tests:
                start = time.monotonic()
                try:
                    outcome = self.run_test(test, setup)
                except HarnessError:
                    raise
                except Exception as exc:  # a harness-side failure still counts as a failed test
                    outcome = Outcome(test.suite, test.name, test.operation, False,
                                      f"exception: {type(exc).__name__}: {exc}", "exception")
                outcome.seconds = time.monotonic() - start
                outcomes.append(outcome)
                if progress:
                    progress(outcome)
        return outcomes

    # -- one test ------------------------------------------------------------------------------------
    def expected(self, name: str) -> Json:
        """An expected response, as compared: deprecated issue elements optional (``deprecated_elements_optional``)."""
        return deprecated_elements_optional(self.data.load(name))

    def _headers(self, test: TestCase) -> dict[str, str]:
        headers = {"Accept": JSON, "Content-Type": JSON, "X-Request-Id": f"txTests:{test.id}"}
        if test.accept_language:
            headers["Accept-Language"] = test.accept_language
        if test.header:
            headers[test.header[0]] = test.header[1]
        return headers

    def _comparer(self, test: TestCase, response_file: str, pattern: bool = False) -> Comparer:
        externals = None
        if self.externals is not None:
            externals = self.externals.get(response_file) or {}
        return Comparer(self.compare_modes, externals, self.variables, pattern_mode=pattern)

    def run_test(self, test: TestCase, setup: list[Json]) -> Outcome:
        if test.operation in ("metadata", "term-caps"):
            return self._capability_test(test)
        if test.operation not in ENDPOINTS:
            return Outcome(test.suite, test.name, test.operation, False,
                           f"exception: unknown operation {test.operation}", "exception")
        request = self.data.load(test.request) if test.request else {"resourceType": "Parameters"}
        params = request.setdefault("parameter", [])
        params.extend({"name": "tx-resource", "resource": resource} for resource in setup)
        params.extend(self.data.load(test.profile).get("parameter", []))
        path, success_type = ENDPOINTS[test.operation]
        result = self.transport.request("POST", f"{FHIR_BASE}/{path}", self._headers(test),
                                        dumps(r4.to_r4(request)).encode())
        return self._judge(test, result, success_type, f"POST {FHIR_BASE}/{path}")

    def _judge(self, test: TestCase, result: HttpResult, success_type: str, call: str) -> Outcome:
        outcome = Outcome(test.suite, test.name, test.operation, False, status=result.status or None)
        if result.error:
            outcome.kind = "timeout" if result.error.startswith("timeout") else "exception"
            outcome.reason = result.error
            return outcome
        try:
            body = loads(result.body)
        except ValueError:
            outcome.kind, outcome.reason = "exception", f"HTTP {result.status}: body is not JSON ({call})"
            return outcome
        kind = body.get("resourceType") if isinstance(body, dict) else None
        ok_status = 200 <= result.status < 300
        if kind == "OperationOutcome" and (not ok_status or _has_error(body)):
            actual = scrub(r4.to_r5(body), self.managed, tight=self.tight)
            actual.pop("text", None)
        elif ok_status and kind == success_type:
            errors = r4.r4_parse_errors(body)
            if errors:
                outcome.kind = "exception"
                outcome.reason = f"R4 parse error: R5-only element(s) {', '.join(errors)} in the R4 response"
                return outcome
            actual = normalize(r4.to_r5(body), self.managed, tight=self.tight)
        else:
            text = _issue_text(body) if kind == "OperationOutcome" else ""
            outcome.kind = "not-implemented" if "No FHIR endpoint" in text else "exception"
            outcome.reason = (f"HTTP {result.status} {kind or 'non-FHIR JSON'} instead of {success_type} "
                              f"({call}){': ' + text if text else ''}")
            return outcome
        outcome.actual = actual
        comparer = self._comparer(test, test.response)
        mismatch = comparer.compare(self.expected(test.response), actual)
        status_ok = _status_ok(test.http_code, result.status)
        if (mismatch or not status_ok) and test.response2:
            alternative = self._comparer(test, test.response2)
            if alternative.compare(self.expected(test.response2), actual) is None:
                outcome.passed, outcome.warnings = True, alternative.warnings
                return outcome
        outcome.warnings = comparer.warnings
        if not status_ok:
            text = _issue_text(actual) if kind == "OperationOutcome" else ""
            outcome.kind = "not-implemented" if "No FHIR endpoint" in text else "status"
            outcome.reason = (f"HTTP status {result.status}, expected {test.http_code}"
                              f"{': ' + text if text else ''}")
            return outcome
        if mismatch:
            return self._mismatch(outcome, mismatch)
        outcome.passed = True
        return outcome

    @staticmethod
    def _mismatch(outcome: Outcome, mismatch: Mismatch) -> Outcome:
        outcome.kind, outcome.path, outcome.reason = mismatch.kind, mismatch.path, mismatch.message
        outcome.hint = mismatch.hint
        return outcome

    # -- metadata ------------------------------------------------------------------------------------
    def _capabilities_of(self, query: str) -> tuple[HttpResult, Json]:
        if query not in self._capabilities:
            result = self.transport.request("GET", f"{FHIR_BASE}/metadata{query}", {"Accept": JSON}, None)
            try:
                body = loads(result.body) if not result.error else None
            except ValueError:
                body = None
            self._capabilities[query] = (result, body)
        return self._capabilities[query]

    def _capability_test(self, test: TestCase) -> Outcome:
        query, wanted = ("", "CapabilityStatement") if test.operation == "metadata" else (
            "?mode=terminology", "TerminologyCapabilities")
        result, body = self._capabilities_of(query)
        outcome = Outcome(test.suite, test.name, test.operation, False, status=result.status or None)
        if result.error or not isinstance(body, dict) or body.get("resourceType") != wanted:
            got = result.error or f"HTTP {result.status} {body.get('resourceType') if isinstance(body, dict) else ''}"
            outcome.kind, outcome.reason = "exception", f"GET metadata{query} gave no {wanted}: {got}"
            return outcome
        actual = normalize(r4.to_r5(body), self.managed, tight=self.tight)
        outcome.actual = actual
        mismatch = self._comparer(test, test.response, pattern=True).compare(self.data.load(test.response), actual)
        if mismatch:
            return self._mismatch(outcome, mismatch)
        outcome.passed = True
        return outcome


@dataclass
class RunResult:
    suites: list[Suite]
    outcomes: list[Outcome]
    data: TestData
    restarts: int = 0

    @property
    def passed(self) -> int:
        return sum(o.passed for o in self.outcomes)


def run_conformance(data_dir: Path, modes: Iterable[str], *, only: set[str] | None = None,
                    name_filter: str | None = None, home: Path | None = None, timeout: float = 60.0,
                    in_process: bool = False, externals: dict | None = None,
                    progress: Callable[[Outcome], None] | None = None, tests_dir: Path | None = None,
                    cases: Path | None = None) -> RunResult:
    """Run the selected suites against a fresh app (or the store at ``home``, e.g. with SNOMED loaded).

    ``tests_dir`` (default: the copy under ``data_dir``) and ``cases`` (default: its ``test-cases.json``) run
    another copy or version of the HL7 test set, e.g. a newer upstream checkout.
    """
    from .transport import InProcessTransport, IsolatedTransport

    data = TestData(tests_dir, cases) if tests_dir else TestData.from_data_dir(data_dir)
    if cases and not tests_dir:
        data = TestData(data.folder, cases)
    transport: Transport
    tmp = None
    if in_process:
        import tempfile

        tmp = None if home else tempfile.TemporaryDirectory(prefix="smt-conformance-")
        transport = InProcessTransport(home or Path(tmp.name))  # type: ignore[union-attr]
    else:
        transport = IsolatedTransport(home, timeout)
    try:
        runner = Runner(data, transport, modes, externals=externals)
        suites = runner.suites(only, name_filter)
        outcomes = runner.run(suites, progress)
    finally:
        transport.close()
        if tmp is not None:
            tmp.cleanup()
    return RunResult(suites, outcomes, data, getattr(transport, "restarts", 0))
