"""ConceptMap releases: `smt load cisp2-cim10` on the real ICPC-2e table, read/search, FHIR round trip, RDF.

``aligned_home`` builds, once per test session, a store with the real CIM-10 FR 2021, CISP-2 and the
CISP-2 → CIM-10 map (loaded with the CLI, as users do), plus the demo SSSOM file and a hand-written FHIR R4
ConceptMap; ``tests/terminology/test_translate.py`` and ``tests/terminology/test_closure.py`` use it too.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import orjson
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from loaders.cisp2_cim10 import MAP_URL, build_release, read_links
from smt.alignments.sssom import parse_sssom
from smt.cli import app as cli
from smt.compile import writable_store
from smt.config import data_dir
from tests.clients import curator_client
from tests.fhir_validation import assert_valid_fhir

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sssom"
FHIR_MAP = FIXTURES / "conceptmap-r4.json"
CISP = "https://smt.esante.gouv.fr/terminologie-cisp"
CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
ICPC_TABLE = data_dir() / "cisp2" / "icpc2e-v4.4-pt-acss" / "ICPC_2e_v4_4__2015_03_27.csv"
SKOS = "http://www.w3.org/2004/02/skos/core#"

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


def aligned_home(factory: pytest.TempPathFactory) -> Path:
    """The session's store with real CIM-10, CISP-2 and alignments (built on first use)."""
    home = factory.getbasetemp() / "alignments-home"
    if (home / ".complete").exists():
        return home
    shared = data_dir()
    loads = [
        ("cim10", shared / "cim10" / "nomensland" / "cim10_fr_pmsi_2021.json.gz"),
        ("cisp2", shared / "cisp2" / "chill-icpc2"),
        ("cisp2-cim10", ICPC_TABLE),
        ("sssom", FIXTURES / "demo.sssom.tsv"),
        ("fhir", FHIR_MAP),
    ]
    home.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMT_HOME", str(home))
        for loader, path in loads:
            result = CliRunner().invoke(cli, ["load", loader, str(path)])
            assert result.exit_code == 0, result.output
    (home / ".complete").touch()
    return home


@pytest.fixture(scope="module")
def home(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return aligned_home(tmp_path_factory)


@pytest.fixture(scope="module")
def client(home: Path) -> Iterator[TestClient]:
    with curator_client(home) as test_client:
        yield test_client


def fhir(response: object, status: int = 200) -> dict:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert_valid_fhir(body)
    return body


def search(client: TestClient, **params: str) -> dict:
    return fhir(client.get("/fhir/ConceptMap", params=params))


def map_id(client: TestClient, url: str) -> str:
    bundle = search(client, url=url, _summary="true")
    assert bundle["total"] == 1
    return bundle["entry"][0]["resource"]["id"]


# -- the CISP-2 → CIM-10 loader -----------------------------------------------------------------------------


def test_cisp2_cim10_release(home: Path) -> None:
    (info,) = writable_store(home).find(MAP_URL)
    assert (info.kind, info.version, info.count) == ("ConceptMap", "2015-03-27", 686)
    assert info.stats["rubrics"] == 686
    assert info.stats["unknown_targets"] == 1
    assert info.stats["targets"] == info.stats["derived"] + 9903  # every listed code, plus derived categories
    assert info.warnings == ["ICPC_2e_v4_4__2015_03_27.csv:572: rubric U99: target N06.9 is not a code of "
                             "CIM-10 FR 2021"]
    resource = info.resource()
    assert_valid_fhir(resource)
    (group,) = resource["group"]
    assert (group["source"], group["target"], group["targetVersion"]) == (CISP, CIM10, "2021")
    t90 = next(e for e in group["element"] if e["code"] == "T90")
    assert t90["display"] == "Diabète non insulino-dépendant"  # French label, from the loaded CISP-2
    targets = {t["code"]: t for t in t90["target"]}
    assert targets["E11.9"]["display"] == "Diabète sucré de type 2, sans complication"
    assert targets["E11.9"]["equivalence"] == "narrower"
    assert targets["E11"]["equivalence"] == "narrower" and "déduit" in targets["E11"]["comment"]


def test_shared_codes_are_relatedto_and_name_the_other_rubrics(home: Path) -> None:
    (info,) = writable_store(home).find(MAP_URL)
    elements = {e["code"]: e for e in info.resource()["group"][0]["element"]}
    nausea = {t["code"]: t for t in elements["D09"]["target"]}["R11"]  # listed for D09 and D10
    assert nausea["equivalence"] == "relatedto"
    assert "D10" in nausea["comment"]


def test_without_cim10_codes_are_kept_as_written_with_a_warning() -> None:
    if not ICPC_TABLE.exists():
        pytest.skip("ICPC-2e table not found")
    release = build_release(read_links(ICPC_TABLE), None, None)
    assert release.stats == {"rubrics": 686, "targets": 9903, "derived": 0, "unknown_targets": 0}
    assert any("no CIM-10 FR release loaded" in w for w in release.warnings)


def test_ranges_expand_against_cim10(home: Path, tmp_path: Path) -> None:
    from loaders.cisp2_cim10 import CodeSet
    from smt.releases.loader_context import code_table
    from smt.releases.registry import Registry

    table = tmp_path / "ranges.csv"
    table.write_text("cod,nome,icd10\nD70,Infecção,A00-A03; A09\nX99,Outra,Z99.9-Z99.9\n", encoding="utf-8")
    codes = code_table(Registry(home), CIM10)  # what the CLI gives the loader
    assert codes is not None and codes.version == "2021"
    release = build_release(read_links(table), CodeSet(codes), None)
    elements = {e["code"]: [t["code"] for t in e["target"]] for e in release.resource["group"][0]["element"]}
    assert elements["D70"][:5] == ["A00", "A01", "A02", "A03", "A09"]
    assert elements["X99"] == ["Z99.9"]


# -- read and search ----------------------------------------------------------------------------------------


def test_search_by_url_version_and_systems(client: TestClient) -> None:
    assert search(client)["total"] == 3
    assert search(client, url=MAP_URL, version="2015-03-27")["total"] == 1
    assert search(client, url=MAP_URL, version="1999")["total"] == 0
    assert search(client, **{"source-system": CISP, "target-system": CIM10})["total"] == 3
    assert search(client, **{"target-system": "http://snomed.info/sct"})["total"] == 1  # the demo SSSOM map
    assert search(client, **{"target-system": "http://hl7.org/fhir/sid/icd-10-fr"})["total"] == 3  # an alias
    assert search(client, source="https://smt.esante.gouv.fr/fhir/ValueSet/demo-cisp")["total"] == 1
    assert search(client, **{"source-code": "U99", "target-code": "N06.9"})["total"] == 1
    assert search(client, _summary="count") == {"resourceType": "Bundle", "type": "searchset", "total": 3,
                                                "link": [{"relation": "self", "url": "http://testserver/fhir/"
                                                          "ConceptMap?_summary=count"}]}
    summary = search(client, url=MAP_URL, _summary="true")["entry"][0]["resource"]
    assert "group" not in summary and summary["title"].startswith("CISP-2")
    paged = search(client, _count="1", _offset="1")
    assert len(paged["entry"]) == 1 and any(link["relation"] == "next" for link in paged["link"])


def test_read_and_unknown_ids(client: TestClient) -> None:
    resource = fhir(client.get(f"/fhir/ConceptMap/{map_id(client, MAP_URL)}"))
    assert resource["url"] == MAP_URL and len(resource["group"][0]["element"]) == 686
    missing = client.get("/fhir/ConceptMap/no-such-map")
    assert missing.status_code == 404
    assert fhir(missing, 404)["issue"][0]["code"] == "not-found"
    assert client.get("/fhir/ConceptMap/no-such-map/$export").status_code == 404


def test_fhir_conceptmap_round_trip_is_lossless(client: TestClient) -> None:
    original = orjson.loads(FHIR_MAP.read_bytes())
    rid = map_id(client, original["url"])
    served = fhir(client.get(f"/fhir/ConceptMap/{rid}"))
    assert served.pop("id") == rid
    expected = copy.deepcopy(original)
    expected.pop("id")
    assert served == expected
    exported = fhir(client.get(f"/fhir/ConceptMap/{rid}/$export", params={"format": "json"}))
    exported.pop("id")
    assert exported == expected


def test_fhir_born_map_exports_as_sssom(client: TestClient) -> None:
    text = client.get(f"/fhir/ConceptMap/{map_id(client, 'https://smt.esante.gouv.fr/fhir/ConceptMap/demo-fhir')}"
                      "/$export", params={"format": "sssom"}).text
    mapping_set = parse_sssom(text)
    assert mapping_set.metadata["mapping_set_id"] == "https://smt.esante.gouv.fr/fhir/ConceptMap/demo-fhir"
    assert mapping_set.metadata["license"] == "https://w3id.org/sssom/license/unspecified"  # "CC0-1.0" is no IRI
    rows = {(r["subject_id"], r["object_id"]): r for r in mapping_set.mappings}
    assert rows["CISP2:K86", "CIM10:I10"]["predicate_id"] == "skos:exactMatch"
    assert '"dependsOn"' in rows["CISP2:K86", "CIM10:I10"]["other"]
    assert rows["CISP2:T90", "CIM10:E10"]["predicate_modifier"] == "Not"
    assert rows["CISP2:A97", "sssom:NoTermFound"]["subject_label"] == "Pas de maladie"


def test_cisp2_cim10_exports_every_mapping_as_sssom(client: TestClient, home: Path) -> None:
    (info,) = writable_store(home).find(MAP_URL)
    text = client.get(f"/fhir/ConceptMap/{info.id}/$export", params={"format": "sssom"}).text
    mapping_set = parse_sssom(text)
    assert len(mapping_set.mappings) == info.stats["targets"]
    assert mapping_set.curie_map == {"CISP2": "http://data.esante.gouv.fr/wonca/cisp2/",
                                     "CIM10": "http://data.esante.gouv.fr/atih/cim10/"}
    justifications = {r["mapping_justification"] for r in mapping_set.mappings}
    assert justifications == {"semapv:ManualMappingCuration", "semapv:LogicalReasoning"}


# -- RDF ----------------------------------------------------------------------------------------------------


def test_sparql_finds_the_alignments(home: Path) -> None:
    store = ox.Store.read_only(str(home / "oxigraph"))
    query = f"""PREFIX skos: <{SKOS}>
    SELECT ?target ?label WHERE {{
        GRAPH ?map {{ <http://data.esante.gouv.fr/wonca/cisp2/T90> skos:narrowMatch ?target }}
        GRAPH ?cim10 {{ ?target skos:prefLabel ?label ; skos:broader <http://data.esante.gouv.fr/atih/cim10/E11> }}
    }}"""
    labels = {r["target"].value.rsplit("/", 1)[-1]: r["label"].value for r in store.query(query)}
    assert set(labels) >= {f"E11.{n}" for n in range(10)}
    assert labels["E11.9"] == "Diabète sucré de type 2, sans complication"
    counts = {r["p"].value: int(r["n"].value) for r in store.query(
        f"""PREFIX skos: <{SKOS}> SELECT ?p (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o
        FILTER(?p IN (skos:exactMatch, skos:broadMatch, skos:narrowMatch, skos:relatedMatch)) }} }} GROUP BY ?p""")}
    assert counts[SKOS + "exactMatch"] >= 3 and counts[SKOS + "broadMatch"] >= 1  # SSSOM and FHIR demo maps
    assert counts[SKOS + "narrowMatch"] > 9000 and counts[SKOS + "relatedMatch"] > 1000  # CISP-2 → CIM-10
