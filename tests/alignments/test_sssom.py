"""SSSOM: reading and writing SSSOM/TSV, `smt load sssom`, and the lossless round trip SSSOM → store → SSSOM.

The round trip goes through the real store (ConceptMap release, RDF graph) and the HTTP export; the exported
text is parsed again and compared with the source file's parsed rows and metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fhir_api.app import create_app
from loaders.sssom import load, read_sssom
from smt.alignments import conceptmap_to_sssom
from smt.alignments.conceptmap import sssom_to_conceptmap
from smt.alignments.extensions import GENERATED_COMMENT, slot_url
from smt.alignments.sssom import MappingSet, parse_sssom, write_sssom
from smt.cli import app as cli
from smt.errors import LoadError
from tests.fhir_validation import assert_valid_fhir

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sssom"
DEMO = FIXTURES / "demo.sssom.tsv"
DEMO_URL = "https://smt.esante.gouv.fr/fhir/ConceptMap/demo-sssom"
CISP = "https://smt.esante.gouv.fr/terminologie-cisp"
CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SSSOM = "https://w3id.org/sssom/"


def rows(mapping_set: MappingSet) -> list[tuple]:
    """The rows as a sorted list (order is not part of an SSSOM mapping set)."""
    return sorted(tuple(sorted(row.items())) for row in mapping_set.mappings)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the demo SSSOM file loaded through the CLI."""
    home = tmp_path_factory.mktemp("sssom-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMT_HOME", str(home))
        result = CliRunner().invoke(cli, ["load", "sssom", str(DEMO)])
    assert result.exit_code == 0, result.output
    assert "demo-sssom version 1.0" in result.output
    return home


@pytest.fixture(scope="module")
def client(demo_home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(demo_home), raise_server_exceptions=False) as test_client:
        yield test_client


def demo_id(client: TestClient) -> str:
    bundle = client.get("/fhir/ConceptMap", params={"url": DEMO_URL}).json()
    assert bundle["total"] == 1
    return bundle["entry"][0]["resource"]["id"]


# -- reading and writing ------------------------------------------------------------------------------------


def test_reads_metadata_block_and_rows() -> None:
    mapping_set = read_sssom(DEMO)
    assert mapping_set.metadata["mapping_set_id"] == DEMO_URL
    assert mapping_set.metadata["mapping_set_version"] == "1.0"  # text, not the float 1.0
    assert mapping_set.metadata["mapping_date"] == "2024-05-01"  # text, not a date
    assert mapping_set.metadata["creator_label"] == ["SMT tests"]  # multi-valued slot: a list
    assert mapping_set.curie_map["CIM10"] == "http://data.esante.gouv.fr/atih/cim10/"
    assert len(mapping_set.mappings) == 9
    first = mapping_set.mappings[0]
    assert first == {"subject_id": "CISP2:A03", "subject_label": "Fièvre", "predicate_id": "skos:exactMatch",
                     "object_id": "CIM10:R50.9", "object_label": "Fièvre, sans précision",
                     "mapping_justification": "semapv:ManualMappingCuration",
                     "author_id": "orcid:0000-0002-0000-0001", "confidence": "0.95", "mapping_date": "2024-05-01"}


def test_write_then_parse_is_identity() -> None:
    mapping_set = read_sssom(DEMO)
    again = parse_sssom(write_sssom(mapping_set))
    assert again.metadata == mapping_set.metadata
    assert again.mappings == mapping_set.mappings


def test_external_metadata_file(tmp_path: Path) -> None:
    text = DEMO.read_text(encoding="utf-8")
    block = "\n".join(line[1:] for line in text.splitlines() if line.startswith("#"))
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    (tmp_path / "split.sssom.tsv").write_text(body + "\n", encoding="utf-8")
    (tmp_path / "split.sssom.yml").write_text(block + "\n", encoding="utf-8")
    assert read_sssom(tmp_path / "split.sssom.tsv").metadata == read_sssom(DEMO).metadata


@pytest.mark.parametrize(("text", "message"), [
    ("#mapping_set_id: x\nsubject_id\tobject_id\nA:1\tB:2\n", "missing SSSOM column(s) predicate_id"),
    ("#curie_map: [unclosed\nsubject_id\tpredicate_id\tobject_id\n", "invalid SSSOM metadata block"),
    ("#mapping_set_id: x\nsubject_id\tpredicate_id\tobject_id\nA:1\t\tB:2\n", "empty cell (field 'predicate_id')"),
])
def test_malformed_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.sssom.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LoadError) as error:
        load(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_unknown_prefix_and_missing_identity_are_load_errors() -> None:
    base = "#curie_map:\n#  A: http://example.org/a/\n#mapping_set_id: http://example.org/map\n"
    header = "subject_id\tpredicate_id\tobject_id\n"
    with pytest.raises(LoadError, match="prefix 'B' of 'B:2' is not in the curie_map"):
        sssom_to_conceptmap(parse_sssom(base + "#mapping_set_version: '1'\n" + header + "A:1\tskos:exactMatch\tB:2\n"))
    with pytest.raises(LoadError, match="no mapping_set_version"):
        sssom_to_conceptmap(parse_sssom(base + header + "A:1\tskos:exactMatch\tA:2\n"))
    resource = sssom_to_conceptmap(parse_sssom(base + header + "A:1\tskos:exactMatch\tA:2\n"), version="7")
    assert (resource["url"], resource["version"]) == ("http://example.org/map", "7")


# -- SSSOM → FHIR ConceptMap --------------------------------------------------------------------------------


def test_conceptmap_groups_equivalences_and_extensions() -> None:
    (release,) = load(DEMO)
    resource = release.resource
    assert_valid_fhir(resource)
    assert (release.kind, release.url, release.version) == ("ConceptMap", DEMO_URL, "1.0")
    assert resource["title"] == "Démo SSSOM CISP-2 vers CIM-10" and resource["date"] == "2024-06-01"
    groups = {(g["source"], g.get("target")): g for g in resource["group"]}
    assert set(groups) == {(CISP, CIM10), (CISP, None), (CISP, "http://snomed.info/sct")}
    elements = {e["code"]: e for e in groups[CISP, CIM10]["element"]}
    assert "display" not in elements["T90"]  # its rows disagree on the label: kept per target
    by_code = {t["code"]: t for t in elements["T90"]["target"]}
    assert by_code["E11"]["equivalence"] == "inexact"  # skos:closeMatch
    assert by_code["E11.9"]["equivalence"] == "narrower"
    assert {"url": GENERATED_COMMENT, "valueBoolean": True} in by_code["E11.9"]["extension"]
    assert by_code["E10"]["equivalence"] == "disjoint"  # predicate_modifier Not
    assert {"url": slot_url("confidence"), "valueDecimal": 0.95} in elements["A03"]["target"][0]["extension"]
    assert {"url": slot_url("confidence"), "valueString": "0.90"} in by_code["E11"]["extension"]
    authors = [e for e in elements["K86"]["target"][0]["extension"] if e["url"] == slot_url("author_id")]
    assert len(authors) == 2  # multi-valued slot: one extension per value
    asthma = elements["R96"]["target"][0]
    assert asthma["equivalence"] == "equivalent"
    assert {"url": slot_url("predicate_id"), "valueString": "owl:equivalentClass"} in asthma["extension"]
    assert {"url": slot_url("object_id"), "valueString": "ICD10FR:J45"} in asthma["extension"]
    (nothing,) = groups[CISP, None]["element"]
    assert nothing["code"] == "-30" and nothing["target"][0]["equivalence"] == "unmatched"


def test_url_and_version_override() -> None:
    (release,) = load(DEMO, version="2.0", url="https://example.org/other")
    assert (release.url, release.version) == ("https://example.org/other", "2.0")
    exported = parse_sssom(conceptmap_to_sssom(release.resource))
    assert exported.metadata["mapping_set_id"] == "https://example.org/other"
    assert exported.metadata["mapping_set_version"] == "2.0"


# -- round trip through the store and the API ---------------------------------------------------------------


def test_round_trip_sssom_store_sssom_is_lossless(client: TestClient) -> None:
    response = client.get(f"/fhir/ConceptMap/{demo_id(client)}/$export", params={"format": "sssom"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/tab-separated-values")
    assert "attachment" in response.headers["content-disposition"]
    exported, original = parse_sssom(response.text), read_sssom(DEMO)
    assert exported.metadata == original.metadata
    assert rows(exported) == rows(original)


def test_export_by_url_and_as_fhir_json(client: TestClient) -> None:
    by_url = client.get("/fhir/ConceptMap/$export", params={"url": DEMO_URL, "format": "sssom"})
    assert by_url.status_code == 200
    assert rows(parse_sssom(by_url.text)) == rows(read_sssom(DEMO))
    as_json = client.get(f"/fhir/ConceptMap/{demo_id(client)}/$export", params={"format": "json"}).json()
    assert_valid_fhir(as_json)
    assert as_json["url"] == DEMO_URL and as_json["id"] == demo_id(client)
    bad = client.get(f"/fhir/ConceptMap/{demo_id(client)}/$export", params={"format": "xlsx"})
    assert bad.status_code == 400 and bad.json()["resourceType"] == "OperationOutcome"


def test_rdf_has_skos_mappings_and_reified_provenance(client: TestClient, demo_home: Path) -> None:
    store = ox.Store.read_only(str(demo_home / "oxigraph"))
    query = f"""PREFIX skos: <{SKOS}> PREFIX sssom: <{SSSOM}>
    SELECT ?p ?o WHERE {{ GRAPH ?g {{ <http://data.esante.gouv.fr/wonca/cisp2/K86> ?p ?o
                          FILTER(STRSTARTS(STR(?p), STR(skos:))) }} }}"""
    found = {(r["p"].value, r["o"].value) for r in store.query(query)}
    assert found == {(SKOS + "broadMatch", "http://data.esante.gouv.fr/atih/cim10/I10")}
    exact = {r["s"].value for r in store.query(
        f"PREFIX skos: <{SKOS}> SELECT ?s WHERE {{ GRAPH ?g {{ ?s skos:exactMatch ?o }} }}")}
    assert exact == {f"http://data.esante.gouv.fr/wonca/cisp2/{code}" for code in ("A03", "T90", "R96")}
    query = f"""PREFIX sssom: <{SSSOM}>
    SELECT ?predicate ?justification ?confidence ?author ?date WHERE {{ GRAPH ?g {{
        ?m a sssom:Mapping ; sssom:subject_id <http://data.esante.gouv.fr/wonca/cisp2/K86> ;
           sssom:predicate_id ?predicate ; sssom:object_id <http://data.esante.gouv.fr/atih/cim10/I10> ;
           sssom:mapping_justification ?justification ; sssom:confidence ?confidence ; sssom:author_id ?author ;
           sssom:mapping_date ?date . }} }}"""
    answers = list(store.query(query))
    assert {r["author"].value for r in answers} == {"https://orcid.org/0000-0002-0000-0001",
                                                    "https://orcid.org/0000-0002-0000-0002"}
    answer = answers[0]
    assert answer["predicate"].value == SKOS + "broadMatch"
    assert answer["justification"].value == "https://w3id.org/semapv/vocab/ManualMappingCuration"
    assert float(answer["confidence"].value) == 0.8
    assert answer["date"].value == "2024-05-01"
    negated = list(store.query(f"""PREFIX sssom: <{SSSOM}> SELECT ?mod WHERE {{ GRAPH ?g {{
        ?m sssom:object_id <http://data.esante.gouv.fr/atih/cim10/E10> ; sssom:predicate_modifier ?mod }} }}"""))
    assert [r["mod"].value for r in negated] == ["Not"]
    disjoint = (f"ASK {{ GRAPH ?g {{ ?s ?p <http://data.esante.gouv.fr/atih/cim10/E10> "
                f"FILTER(STRSTARTS(STR(?p), \"{SKOS}\")) }} }}")
    assert not bool(store.query(disjoint))  # "disjoint": no SKOS statement, only the reified mapping
