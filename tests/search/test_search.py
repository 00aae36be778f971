"""Full-text search: French analysis, the index built at load time, ``GET /search`` and ``search_concept_ids``.

Real store (``ReleaseStore.load``), real app (``TestClient``), real data: CIM-10 FR 2021, CISP-2 (fr/nl/en) and
NOS tables (TRE_R02 in two versions, TRE_R81 with a retired concept).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fhir_api.app import create_app
from loaders import run_loader
from smt.compile import writable_store
from smt.model import Concept, Designation
from smt.releases.registry import Registry
from smt.search import abbreviations, analysis
from smt.search.build import code_key
from smt.search.highlight import edit_distance, highlight
from smt.search.searcher import matching_concept_ids
from smt.search.service import SEARCH_DIR, search, search_concept_ids, search_path
from tests.factories import load_code_systems, make_release

CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
CISP2 = "https://smt.esante.gouv.fr/terminologie-cisp"
R02 = "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
R81 = "https://mos.esante.gouv.fr/NOS/TRE_R81-Civilite/FHIR/TRE-R81-Civilite"
SOURCES = [
    ("cim10", "cim10/nomensland/cim10_fr_pmsi_2021.tsv.gz"),
    ("cisp2", "cisp2/chill-icpc2"),
    ("nos", "nos-ror/fhir-json/IG-NOS/ig/allNos2/CodeSystem-TRE-R02-SecteurActivite.json"),
    ("nos", "nos-ror/svs/TestContenuCDA-2-41/jeuxDeValeurs/TRE_R02-SecteurActivite.xml"),
    ("nos", "nos-ror/svs/TestContenuCDA-2-41/jeuxDeValeurs/TRE_R81-Civilite.xml"),
]


# -- analysis (no data needed) ------------------------------------------------------------------------------

def test_folding_removes_case_diacritics_and_ligatures() -> None:
    assert analysis.words("Œdème du CŒUR, ça À l'Hôpital") == ["oedeme", "du", "coeur", "ca", "a", "hopital"]


def test_elision_and_possessive_are_dropped_from_queries() -> None:
    assert [w.text for w in analysis.query_words("l'artère d’œdème qu'il Alzheimer's")] == [
        "artere", "oedeme", "il", "alzheimer"]


def test_plural_and_singular_share_a_stem_and_a_match_prefix() -> None:
    assert analysis.stem("cardiaques", "fr") == analysis.stem("cardiaque", "fr")
    words = {w.text: w for w in analysis.query_words("cardiaques hôpitaux fract")}
    assert words["cardiaques"].prefix == "cardiaqu"
    assert words["hopitaux"].prefix == "hopita"
    assert words["fract"].prefix == "fract"


def test_stop_words_do_not_change_the_term_key() -> None:
    assert analysis.term_key("fracture du col du fémur", "fr") == analysis.term_key("Fracture col femur", "fr")
    assert analysis.term_key("Heart failures", "en") == analysis.term_key("heart failure", "en")


def test_stop_words_are_optional_unless_the_query_has_nothing_else() -> None:
    assert [w.stop for w in analysis.query_words("fracture du col")] == [False, True, False]
    assert [w.stop for w in analysis.query_words("de la")] == [False, False]


def test_compounds_join_hyphenated_words_and_dotted_acronyms() -> None:
    for text, extra in [("Diabète non insulino-dépendant", ["insulinodependant"]), ("G.E.U.", ["geu"]),
                        ("T.M. DU SEIN", ["tm"]), ("Vitamine D", [])]:
        assert analysis.compounds(text, analysis.index_words(text)) == extra


def test_codes_match_with_or_without_dot() -> None:
    assert code_key("e11.9") == code_key("E119") == "E119"


def test_highlight_marks_matched_words_and_escapes_html() -> None:
    assert highlight("Insuffisance cardiaque", "fr", "insuf card") == "<b>Insuffisance</b> <b>cardiaque</b>"
    assert highlight("CE dans l'oreille <x>", "fr", "oreilles") == "CE dans l&#x27;<b>oreille</b> &lt;x&gt;"
    assert highlight("Diabète sucré", "fr", "diabte", fuzzy=True) == "<b>Diabète</b> sucré"
    assert edit_distance("diabte", "diabete", 2) == 1
    assert edit_distance("myocrade", "myocarde", 2) == 1


def test_abbreviation_dictionary_is_curated_and_well_formed() -> None:
    entries = abbreviations.dictionary()
    assert 150 <= len(entries) <= 500  # abbreviations and everyday words
    assert entries[("hta",)].expansions[0] == "hypertension artérielle"
    assert len(entries[("ep",)].expansions) >= 2  # ambiguous: several meanings
    assert all(e.expansions and all(x.strip() for x in e.expansions) for e in entries.values())
    with pytest.raises(ValueError, match="already listed"):
        abbreviations.parse(["HTA\thypertension", "h.t.a.\thypertension artérielle"])


def test_everyday_words_are_a_second_dictionary_of_the_same_format() -> None:
    entries = abbreviations.dictionary()
    lay = abbreviations.parse(abbreviations.SYNONYMS.read_text(encoding="utf-8").splitlines(), "synonyms_fr.tsv")
    assert 80 <= len(lay) <= 150
    assert set(lay) <= set(entries)  # both files feed the same expansion
    assert entries[("crise", "cardiaque")].expansions[0] == "infarctus du myocarde"
    assert abbreviations.find(abbreviations.key_words("sucre dans le sang"))[0][2].expansions == ("hyperglycémie",)
    with pytest.raises(ValueError, match="already listed"):  # a key may not be in both files
        abbreviations.parse(["HTA\thypertension"], "synonyms_fr.tsv", {("hta",): entries[("hta",)]})


def test_abbreviations_are_found_folded_dotted_and_longest_first() -> None:
    assert abbreviations.key_words("H.T.A.") == abbreviations.key_words("hta") == ("hta",)
    found = abbreviations.find(["avc", "ischemique", "droit", "hta"])
    assert [(start, end, entry.text) for start, end, entry in found] == [(0, 2, "AVC ischémique"), (3, 4, "HTA")]
    assert abbreviations.join_known_dotted("H.T.A. gravidique") == "HTA gravidique"
    assert abbreviations.join_known_dotted("G.X.Q. et E11.9") == "G.X.Q. et E11.9"  # unknown: unchanged


# -- store and API ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def search_home(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding CIM-10 2021, CISP-2 and three NOS releases, loaded through ``ReleaseStore.load``."""
    pytest.importorskip("loaders.nos")
    home = tmp_path_factory.mktemp("search") / "home"
    home.mkdir()
    load_code_systems(home, shared_data, SOURCES)
    return home


@pytest.fixture(scope="module")
def client(search_home: Path) -> TestClient:
    return TestClient(create_app(search_home))


def _search(client: TestClient, **params: object) -> dict:
    response = client.get("/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _codes(body: dict) -> list[str]:
    return [r["code"] for r in body["results"]]


def test_every_code_system_release_gets_a_search_index(search_home: Path) -> None:
    releases = Registry(search_home).code_systems()
    assert len(releases) == 5
    assert all((r.path / SEARCH_DIR / "smt-search.json").is_file() for r in releases)


def test_result_shape(client: TestClient) -> None:
    body = _search(client, q="diabete type 2", count=3)
    assert body["total"] >= 3
    first = body["results"][0]
    assert set(first) == {"system", "version", "code", "display", "matched", "language", "score", "active"}
    assert (first["system"], first["version"], first["code"]) == (CIM10, "2021", "E11")
    assert first["display"] == "Diabète sucré de type 2"
    assert "<b>" in first["matched"] and first["language"] == "fr" and first["active"] is True


@pytest.mark.parametrize("query", ["E11.9", "E119", "e11.9"])
def test_exact_code_comes_first(client: TestClient, query: str) -> None:
    body = _search(client, q=query, system=CIM10)
    assert _codes(body)[0] == "E11.9"
    assert all(code.startswith("E11.9") for code in _codes(body))


def test_code_prefix_lists_the_category_then_its_children(client: TestClient) -> None:
    codes = _codes(_search(client, q="E11", system=CIM10, count=10))
    assert codes[0] == "E11" and all(c.startswith("E11.") for c in codes[1:])


@pytest.mark.parametrize(("query", "family"), [
    ("diabete type 2", "E11"), ("infarctus myocarde", "I21"), ("fract col femur", "S72.0"),
    ("col fem fract", "S72.0"), ("fracture du col du fémur", "S72.0"), ("insuf card", "I50"),
])
def test_required_queries_find_their_family_in_the_top_3(client: TestClient, query: str, family: str) -> None:
    codes = _codes(_search(client, q=query, count=3))
    assert any(code.startswith(family) for code in codes), codes


@pytest.mark.parametrize("query", ["diabéte", "diabete", "DIABETE", "diabte", "diabetes"])
def test_accents_case_and_typos_still_find_diabetes(client: TestClient, query: str) -> None:
    results = _search(client, q=query, system=CIM10, count=3)["results"]
    assert results and all("iabète" in r["display"] for r in results)


def test_typo_matches_are_highlighted(client: TestClient) -> None:
    first = _search(client, q="diabte", system=CIM10, count=1)["results"][0]
    assert "<b>Diabète</b>" in first["matched"]


def test_one_result_per_concept(client: TestClient) -> None:
    body = _search(client, q="fracture", count=50)
    keys = [(r["system"], r["version"], r["code"]) for r in body["results"]]
    assert len(keys) == len(set(keys)) == 50


def test_pages_follow_each_other(client: TestClient) -> None:
    whole = _codes(_search(client, q="fracture", system=CIM10, count=20))
    second = _codes(_search(client, q="fracture", system=CIM10, count=10, offset=10))
    assert second == whole[10:20]


def test_system_filter_accepts_the_url(client: TestClient) -> None:
    body = _search(client, q="diabete", system=CISP2)
    assert body["results"] and {r["system"] for r in body["results"]} == {CISP2}


def test_language_filter_searches_other_languages(client: TestClient) -> None:
    results = _search(client, q="hartkloppingen", lang="nl")["results"]
    assert results[0]["code"] == "K04" and results[0]["language"] == "nl"
    assert "<b>Hartkloppingen</b>" in results[0]["matched"]
    assert _search(client, q="oreille", lang="nl")["total"] == 0


def test_within_keeps_a_concept_and_its_descendants(client: TestClient) -> None:
    codes = _codes(_search(client, q="diabete", system=CIM10, within="E11", count=50))
    assert codes and codes[0] == "E11" and all(c.startswith("E11") for c in codes)
    assert _codes(_search(client, q="diabete", system=CIM10, within="E119"))[0] == "E11.9"


def test_active_filter(client: TestClient) -> None:
    retired = _search(client, q="mademoiselle", system=R81)["results"]
    assert [(r["code"], r["active"]) for r in retired] == [("MLLE", False)]
    assert _search(client, q="mademoiselle", active="true")["total"] == 0
    assert _codes(_search(client, q="mademoiselle", active="false")) == ["MLLE"]


def test_versions_default_named_and_all(client: TestClient) -> None:
    default = _search(client, q="centre transfusion sanguine", system=R02)["results"]
    assert [(r["code"], r["version"]) for r in default] == [("SA37", "20201030120000")]
    named = _search(client, q="centre transfusion sanguine", system=R02, version="0.1.0")["results"]
    assert [(r["code"], r["version"]) for r in named] == [("SA37", "0.1.0")]
    every = [r for r in _search(client, q="centre transfusion sanguine", version="all")["results"]
             if r["system"] == R02]
    assert sorted(r["version"] for r in every) == ["0.1.0", "20201030120000"]
    assert every[0]["score"] == every[1]["score"]  # scores do not depend on the size of an index


def test_without_system_every_terminology_is_searched(client: TestClient) -> None:
    systems = {r["system"] for r in _search(client, q="diabete", count=100)["results"]}
    assert {CIM10, CISP2} <= systems


def test_fuzzy_pass_only_when_nothing_matches_exactly(client: TestClient) -> None:
    assert _search(client, q="zzzzqqq")["total"] == 0
    assert _search(client, q="myocrade", system=CIM10, count=1)["results"][0]["display"].count("myocard")


def test_short_words(client: TestClient) -> None:
    assert _codes(_search(client, q="diabete ty", system=CIM10, count=2)) == ["E10", "E11"]  # two letters: prefix
    assert _codes(_search(client, q="vitamine d", system=CIM10, count=1)) == ["E55"]  # one letter: whole word


def test_errors_are_operation_outcomes(client: TestClient) -> None:
    missing = client.get("/search")
    assert missing.status_code == 400 and missing.json()["resourceType"] == "OperationOutcome"
    unknown = client.get("/search", params={"q": "x", "system": "http://example.org/unknown"})
    assert unknown.status_code == 404 and unknown.json()["resourceType"] == "OperationOutcome"
    too_many = client.get("/search", params={"q": "x", "count": 10_000})
    assert too_many.status_code == 400


def test_search_concept_ids_for_expand(search_home: Path) -> None:
    registry = Registry(search_home)
    cim10 = registry.resolve(CIM10)
    codes = search_concept_ids(cim10, "diabete type 2", 5)
    assert codes[0] == "E11" and len(codes) == 5 and all(c.startswith("E11") for c in codes)
    assert search_concept_ids(cim10, "diabete", 3, index=registry.index(cim10)) == search_concept_ids(
        cim10, "diabete", 3)
    assert search_concept_ids(cim10, "zzzzqqq", 5) == []


def test_matching_concept_ids_is_the_unranked_strict_match(search_home: Path) -> None:
    registry = Registry(search_home)
    cisp2 = registry.resolve(CISP2)
    ids = matching_concept_ids(search_path(cisp2), "otalg")
    assert ids is not None and {registry.index(cisp2).concept_by_id(i).code for i in ids} == {"H01"}
    none = matching_concept_ids(search_path(cisp2), "otalgei")
    assert none is not None and not none  # no typo pass
    assert matching_concept_ids(search_home / "nowhere", "otalgie") is None


def test_a_release_loaded_again_is_searched_afresh(shared_data: Path, home: Path) -> None:
    store, registry = writable_store(home), Registry(home)
    (release,) = run_loader("cisp2", shared_data / "cisp2/chill-icpc2")
    info = store.load(release)
    assert search(registry, "otalgie").results[0].code == "H01"
    store.remove(info.id)
    (h01,) = [c for c in release.concepts if c.code == "H01"]
    h01.display, h01.designations = "Mal d'oreille lancinant", []
    store.load(release)
    assert [r.code for r in search(registry, "lancinant").results] == ["H01"]
    assert "H01" not in [r.code for r in search(registry, "otalgie").results]


def test_release_folders_are_relocatable(search_home: Path, tmp_path: Path) -> None:
    moved = tmp_path / "moved"
    shutil.copytree(search_home / "releases", moved / "releases")
    first = _search(TestClient(create_app(moved)), q="E11.9", system=CIM10)["results"][0]
    assert first["code"] == "E11.9"


def test_inactive_designations_are_not_searchable(home: Path) -> None:
    release = make_release()
    (alpha,) = [c for c in release.concepts if c.code == "A"]
    alpha.designations.append(Designation("Ancienne appellation erronée", "fr", active=False))
    writable_store(home).load(release)
    registry = Registry(home)
    assert search(registry, "alpha court").results[0].code == "A"
    assert search(registry, "appellation erronée").results == []


# -- abbreviations ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "family"), [
    ("hta", "I10"), ("HTA", "I10"), ("H.T.A.", "I10"), ("h.t.a", "I10"), ("avc", "I6"), ("AVC ischémique", "I63"),
    ("avc ischemique", "I63"), ("hta gravidique", "O1"), ("idm", "I21"), ("bpco", "J44"), ("dt2", "E11"),
    ("rgo", "K21"), ("sep", "G35"), ("ep", "I26"),
])
def test_abbreviations_find_what_they_stand_for(client: TestClient, query: str, family: str) -> None:
    codes = _codes(_search(client, q=query, system=CIM10, count=3))
    assert any(code.startswith(family) for code in codes), codes


def test_abbreviation_expansion_is_reported_and_highlighted(client: TestClient) -> None:
    body = _search(client, q="H.T.A.", count=3)
    assert body["expanded"] == {"hta": ["hypertension artérielle", "hypertension essentielle", "hypertension"]}
    assert body["results"][0]["code"] == "I10"
    assert "<b>HYPERTENSION</b>" in body["results"][0]["matched"]
    both = _search(client, q="avc ischémique", system=CIM10, count=1)
    assert both["expanded"] == {"avc ischemique": ["infarctus cérébral", "accident vasculaire cérébral ischémique"]}
    assert _codes(both) == ["I63"]


def test_an_abbreviation_still_matches_itself(client: TestClient) -> None:
    """"VIH" is also written in CIM-10 labels; "vih" still finds them (and the expansion's wording)."""
    results = _search(client, q="vih", system=CIM10, count=20)["results"]
    assert all(r["code"].startswith(("B2", "Z")) for r in results[:3])
    assert any("<b>VIH</b>" in r["matched"] for r in results)


def test_unknown_words_and_codes_are_not_expanded(client: TestClient) -> None:
    for query in ("otalgie", "E11.9", "G.X.Q."):
        assert "expanded" not in _search(client, q=query)
    assert _codes(_search(client, q="E11.9", system=CIM10))[0] == "E11.9"


@pytest.mark.parametrize(("query", "family"), [
    ("crise cardiaque", "I21"), ("attaque cérébrale", "I6"), ("tension", "I10"), ("sucre dans le sang", "R73"),
    ("cancer du sein", "C50"), ("calculs rénaux", "N20"), ("mal de dos", "M54"), ("brûlures d'estomac", "K21"),
    ("cholestérol", "E78.0"), ("rhume", "J00"),
])
def test_everyday_words_find_the_medical_terms(client: TestClient, query: str, family: str) -> None:
    codes = _codes(_search(client, q=query, system=CIM10, count=3))
    assert any(code.startswith(family) for code in codes), codes


def test_everyday_words_are_reported_and_a_literal_match_still_wins(client: TestClient) -> None:
    body = _search(client, q="Crise cardiaque", system=CIM10, count=3)
    assert body["expanded"] == {"crise cardiaque": ["infarctus du myocarde", "infarctus myocarde"]}
    assert _search(client, q="sucre dans le sang", count=1)["expanded"] == {"sucre sang": ["hyperglycémie"]}
    # "Angine de poitrine" is itself a CIM-10 label: the literal term comes before its expansion ("angor")
    assert _codes(_search(client, q="angine de poitrine", system=CIM10, count=1)) == ["I20"]
    # "mal de tête" is a CISP-2 label (N01): it comes before the expansion's "Céphalée"
    assert _codes(_search(client, q="mal de tête", count=2)) == ["N01", "R51"]


def test_a_text_filter_does_not_expand_abbreviations(search_home: Path) -> None:
    """``matching_concept_ids`` (the membership test of a value set filter) keeps the literal words."""
    cim10 = Registry(search_home).resolve(CIM10)
    none = matching_concept_ids(search_path(cim10), "avc")
    assert none is not None and not none
    assert search_concept_ids(cim10, "avc", 3)  # ranked search: expanded


def test_code_and_literal_term_come_before_the_expansion(home: Path) -> None:
    extra = [Concept("HTA", "Suivi tensionnel"), Concept("HT1", "Hypertension artérielle"), Concept("HT2", "HTA"),
             Concept("HT3", "Bilan d'HTA"), Concept("HT4", "Htaline")]
    writable_store(home).load(make_release(extra=extra))
    registry = Registry(home)
    assert [r.code for r in search(registry, "HTA").results] == ["HTA", "HT2", "HT1", "HT3", "HT4"]
    assert [r.code for r in search(registry, "hta").results] == ["HT2", "HT1", "HT3", "HT4"]


def test_a_hyphenated_word_is_found_as_one_word_without_accents_or_by_its_prefix(home: Path) -> None:
    release = make_release(extra=[Concept("D", "Diabète insulino-dépendant", parents=["ROOT"], origin="x:9")])
    writable_store(home).load(release)
    registry = Registry(home)
    for query in ("insulinodependant", "insulinodépendant", "insulinodep"):
        assert [r.code for r in search(registry, query).results] == ["D"], query
