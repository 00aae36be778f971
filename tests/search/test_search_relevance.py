"""Relevance of ``GET /search`` on real terminologies: top-3 pass rate and MRR over tests/search/search_relevance.tsv.

Each row is a query a user would type (accents or none, plurals, typos, abbreviations, codes, other
languages) with the concept(s) expected: ``system`` is ``cim10``, ``cisp2`` or a NOS table name (``|`` for
alternatives), ``expected`` lists codes, ``E11*`` meaning E11 and its descendants' codes. ``scope`` is ``all``
(every loaded terminology is searched, as the default request does) or ``system`` (the request names the
expected code system). Results are reported in docs/search.md.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fhir_api.app import create_app
from tests.factories import load_code_systems

DATA_SET = Path(__file__).with_name("search_relevance.tsv")
ALIASES = {
    "cim10": "https://smt.esante.gouv.fr/terminologie-cim-10",
    "cisp2": "https://smt.esante.gouv.fr/terminologie-cisp",
}
SOURCES = [
    ("cim10", "cim10/nomensland/cim10_fr_pmsi_2021.tsv.gz"),
    ("cisp2", "cisp2/chill-icpc2"),
    ("nos", "nos-ror/fhir-json/IG-NOS/ig/allNos2"),
    ("nos", "nos-ror/svs/TestContenuCDA-2-41/jeuxDeValeurs"),
]
REQUIRED = {"diabete type 2", "infarctus myocarde", "fract col femur", "insuf card", "E11.9", "diabéte", "diabte"}
MIN_TOP3 = 0.90


@dataclass(frozen=True, slots=True)
class Case:
    query: str
    systems: tuple[str, ...]
    expected: tuple[str, ...]
    scope: str
    category: str

    def matches(self, result: dict) -> bool:
        """Whether a result row is one of the expected concepts."""
        in_system = any(result["system"] == ALIASES[s] if s in ALIASES else f"/{s}/" in result["system"]
                        for s in self.systems)
        code = result["code"]
        return in_system and any(code == e or (e.endswith("*") and code.startswith(e[:-1])) for e in self.expected)


def load_cases() -> list[Case]:
    with DATA_SET.open(encoding="utf-8", newline="") as handle:
        return [Case(row["query"], tuple(row["system"].split("|")), tuple(row["expected"].split("|")),
                     row["scope"], row["category"]) for row in csv.DictReader(handle, delimiter="\t")]


def test_data_set_is_large_and_varied() -> None:
    cases = load_cases()
    assert len(cases) >= 60
    assert {c.query for c in cases} >= REQUIRED
    assert {"accents", "plural", "typo", "abbreviation", "code"} <= {c.category for c in cases}
    groups = {"nos" if s not in ALIASES else s for c in cases for s in c.systems}
    assert groups == {"cim10", "cisp2", "nos"}


@pytest.fixture(scope="module")
def client(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """The app over a store holding CIM-10 2021, CISP-2 and the NOS code systems of the shared data."""
    pytest.importorskip("loaders.nos")
    home = tmp_path_factory.mktemp("relevance") / "home"
    home.mkdir()
    load_code_systems(home, shared_data, SOURCES)
    return TestClient(create_app(home))


def _rank(client: TestClient, case: Case) -> int | None:
    params: dict[str, object] = {"q": case.query, "count": 10}
    if case.scope == "system":
        params["system"] = ALIASES[case.systems[0]]
    response = client.get("/search", params=params)
    assert response.status_code == 200, response.text
    return next((n for n, r in enumerate(response.json()["results"], 1) if case.matches(r)), None)


def test_relevance(client: TestClient) -> None:
    cases = load_cases()
    ranks = {case.query: _rank(client, case) for case in cases}
    top3 = sum(1 for r in ranks.values() if r and r <= 3) / len(cases)
    mrr = sum(1 / r for r in ranks.values() if r) / len(cases)
    misses = {q: r for q, r in ranks.items() if not r or r > 3}
    print(f"\nsearch relevance: {len(cases)} queries, top-3 {top3:.1%}, MRR {mrr:.3f}, misses {misses}")
    assert {q: ranks[q] for q in REQUIRED if not ranks[q] or ranks[q] > 3} == {}
    assert ranks["E11.9"] == 1
    assert top3 >= MIN_TOP3, misses
