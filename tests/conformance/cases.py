"""The test definitions (``test-cases.json``) and which suites/tests a run selects, as ``TxTester`` does.

Selection: a suite runs when it has no ``mode`` or its mode is one of the run modes (and it is not
``disabled`` and its ``version``, if any, matches the server's FHIR version); the same rule then applies to
each test. So ``--mode general`` runs the ``metadata`` suite (no mode) plus every ``general`` suite, without
the tests marked ``tx.fhir.org``. A test's ``request:<mode>``/``response:<mode>`` file replaces the default
one when that mode runs; its ``header`` is sent unless it names a ``mode`` that does not run (``TxTester.runTest``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from .jsonio import Json, load

TESTS_SUBDIR = Path("fhir-tx-tests/hl7-tx-ecosystem-ig/tests")
DEFAULT_PROFILE = "parameters-default.json"


def _version_matches(server: str, wanted: str) -> bool:
    """``VersionUtilities.versionMatches`` for the cases used here: ``4.0`` matches ``4.0.1``."""
    return server.split(".")[: len(wanted.split("."))] == wanted.split(".")


def _passes(item: dict, modes: frozenset[str], fhir_version: str) -> bool:
    if item.get("disabled") is True:
        return False
    if "mode" in item and item["mode"] not in modes:
        return False
    return "version" not in item or _version_matches(fhir_version, str(item["version"]))


@dataclass(frozen=True)
class TestCase:
    """One test of a suite, with the files chosen for the run modes."""

    __test__ = False  # not a pytest class
    suite: str
    name: str
    operation: str
    request: str | None
    response: str
    response2: str | None
    http_code: str
    profile: str
    accept_language: str | None
    header: tuple[str, str] | None

    @property
    def id(self) -> str:
        return f"{self.suite}/{self.name}"


@dataclass(frozen=True)
class Suite:
    name: str
    mode: str | None
    description: str
    setup: tuple[str, ...]
    tests: tuple[TestCase, ...] = field(default=())


def _choose(test: dict, name: str, modes: frozenset[str]) -> str | None:
    for mode in sorted(modes):
        if f"{name}:{mode}" in test:
            return test[f"{name}:{mode}"]
    return test.get(name)


class TestData:
    """The suite folder: ``test-cases.json`` and the resource files it names (cached)."""

    __test__ = False  # not a pytest class

    def __init__(self, folder: Path, cases: Path | None = None) -> None:
        self.folder = folder
        self.definition = load(cases or folder / "test-cases.json")
        self._cache: dict[str, Json] = {}

    @classmethod
    def from_data_dir(cls, data_dir: Path) -> TestData:
        return cls(data_dir / TESTS_SUBDIR)

    def load(self, name: str) -> Json:
        """A fresh copy of a file of the suite (callers may modify it)."""
        if name not in self._cache:
            self._cache[name] = load(self.folder / name)
        return copy.deepcopy(self._cache[name])

    def suites(self, modes: frozenset[str], *, fhir_version: str = "4.0.1", only: set[str] | None = None,
               name_filter: str | None = None) -> list[Suite]:
        """The suites and tests a run with ``modes`` executes."""
        selected = []
        for suite in self.definition.get("suites", []):
            if only and suite["name"] not in only:
                continue
            if not _passes(suite, modes, fhir_version):
                continue
            tests = []
            for test in suite.get("tests", []):
                if not _passes(test, modes, fhir_version):
                    continue
                if name_filter and name_filter not in test["name"]:
                    continue
                header = test.get("header")
                tests.append(TestCase(
                    suite=suite["name"], name=test["name"], operation=test["operation"],
                    request=_choose(test, "request", modes), response=_choose(test, "response", modes),
                    response2=test.get("response2"), http_code=test.get("http-code", "2xx"),
                    profile=test.get("profile", DEFAULT_PROFILE), accept_language=test.get("Accept-Language"),
                    header=(header["name"], header["value"])
                    if isinstance(header, dict) and ("mode" not in header or header["mode"] in modes) else None,
                ))
            selected.append(Suite(suite["name"], suite.get("mode"), suite.get("description", ""),
                                  tuple(suite.get("setup", [])), tuple(tests)))
        return selected

    def all_suite_names(self) -> list[str]:
        return [s["name"] for s in self.definition.get("suites", [])]

