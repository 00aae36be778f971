"""CIM-10 FR loader: formats, dotted codes, hierarchy, errors; real ATIH tables from SMT_DATA_DIR when present."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import orjson
import pytest

from loaders.cim10 import PROPERTIES, load
from loaders.cim10_hierarchy import SHIPPED, read_hierarchy
from smt.config import SAMPLES_DIR, data_dir
from smt.errors import LoadError
from smt.formats.cim10_codes import dotted_code
from smt.model import CodeSystemRelease, Concept
from smt.quality import check_release

NOMENSLAND = data_dir() / "cim10" / "nomensland"
EDSNLP = data_dir() / "cim10" / "edsnlp" / "cim10.csv.gz"
SAMPLE = SAMPLES_DIR / "cim10"
SAMPLE_TABLE = SAMPLE / "LIBCIM10MULTI_2021_extrait.TXT"
SAMPLE_HIERARCHY = SAMPLE / "cim10_hierarchie_extrait.json"



def real_data(test):
    """Mark a test as needing the real files (``shared_data``) and skip it when they are missing."""
    missing = pytest.mark.skipif(not NOMENSLAND.is_dir(), reason="real CIM-10 files not under SMT_DATA_DIR")
    return pytest.mark.shared_data(missing(test))


COUNTS = {"2015": 39_929, "2016": 40_221, "2017": 40_519, "2018": 40_519, "2019": 42_848, "2020": 42_854}
ENDOCRINE = "Maladies endocriniennes, nutritionnelles et métaboliques"


def by_code(release: CodeSystemRelease) -> dict[str, Concept]:
    return {concept.code: concept for concept in release.concepts}


def prop(concept: Concept, code: str) -> object:
    return next((p.value for p in concept.properties if p.code == code), None)


# --- real data: each file is loaded once per module --------------------------------------------------------


@pytest.fixture(scope="module")
def release_2021() -> CodeSystemRelease:
    (release,) = load(NOMENSLAND / "cim10_fr_pmsi_2021.json.gz")
    return release


@pytest.fixture(scope="module")
def codes_2021(release_2021: CodeSystemRelease) -> dict[str, Concept]:
    return by_code(release_2021)


@pytest.fixture(scope="module")
def multi_year() -> dict[str, CodeSystemRelease]:
    return {release.version: release for release in load(NOMENSLAND / "cim10_fr_pmsi_2015-2020.json.gz")}


@real_data
def test_multi_year_file_gives_one_release_per_year_with_source_counts(multi_year) -> None:
    assert {year: r.stats["source_codes"] for year, r in multi_year.items()} == COUNTS
    assert all(r.date == f"{year}-01-01" for year, r in multi_year.items())
    assert all(not check_release(r).errors for r in multi_year.values())


@real_data
def test_2021_json_counts_metadata_and_quality(release_2021) -> None:
    assert release_2021.version == "2021"
    assert release_2021.stats["source_codes"] == 42_880
    assert release_2021.stats["groupings"] == 22 + 236
    assert release_2021.url == "https://smt.esante.gouv.fr/terminologie-cim-10"
    assert release_2021.oids == ["2.16.840.1.113883.6.3"]
    assert release_2021.language == "fr" and release_2021.date == "2021-01-01"
    assert [s.name for s in release_2021.sources] == ["cim10_fr_pmsi_2021.json.gz",
                                                      "cim10_fr_pmsi_hierarchie_2015-2019.json.gz"]
    assert release_2021.properties == PROPERTIES
    assert not check_release(release_2021).errors


@real_data
def test_covid_codes_in_2021_but_not_in_2019(codes_2021, multi_year) -> None:
    assert codes_2021["U07.1"].display == "Maladie à coronavirus 2019 [COVID-19]"
    assert codes_2021["U07.10"].parents == ["U07.1"]
    codes_2019 = by_code(multi_year["2019"])
    assert codes_2019["U07.1"].display == "Usage urgent de U07.1"  # WHO placeholder until 2020
    assert "U07.10" not in codes_2019
    assert by_code(multi_year["2020"])["U07.1"].display == "Maladie à coronavirus 2019 [COVID-19]"


@real_data
def test_chapter_block_category_subcategory_chain(codes_2021) -> None:
    assert codes_2021["E11.9"].parents == ["E11"]
    assert codes_2021["E11"].parents == ["E10-E14"]
    block, chapter = codes_2021["E10-E14"], codes_2021["E00-E90"]
    assert block.parents == ["E00-E90"] and chapter.parents == []
    assert chapter.display == ENDOCRINE
    assert block.abstract and chapter.abstract
    assert prop(block, "notSelectable") is True and prop(chapter, "kind") == "chapter"
    assert prop(codes_2021["E11.9"], "kind") == "subcategory"


@real_data
def test_every_category_of_2020_and_2021_is_in_a_block(codes_2021, multi_year) -> None:
    for codes in (codes_2021, by_code(multi_year["2020"])):
        categories = [c for c in codes.values() if prop(c, "kind") == "category"]
        assert categories
        assert all(len(c.parents) == 1 and prop(codes[c.parents[0]], "kind") == "block" for c in categories)
    assert codes_2021["U08"].parents == ["U00-U49"]  # new in 2021, placed by range


@real_data
def test_dotted_codes_extensions_and_labels(codes_2021) -> None:
    assert codes_2021["B24.+0"].parents == ["B24"]
    assert codes_2021["C16.9+0"].parents == ["C16.9"]
    assert codes_2021["F03.+00"].parents == ["F03.+0"]
    assert codes_2021["Z86.002"].parents == ["Z86.0"]  # no Z86.00: longest existing prefix
    e119 = codes_2021["E11.9"]
    assert prop(e119, "atihCode") == "E119"
    assert e119.display == "Diabète sucré de type 2, sans complication"
    assert [(d.use.code, d.language) for d in e119.designations] == [("long", "fr"), ("short", "fr")]
    assert (prop(e119, "typeMcoHad"), prop(e119, "ssr"), prop(e119, "typePsy")) == (3, "NNNN", 3)
    assert e119.origin == "cim10_fr_pmsi_2021.json.gz:record 2148"


@real_data
def test_tsv_and_json_2021_agree(codes_2021) -> None:
    (tsv,) = load(NOMENSLAND / "cim10_fr_pmsi_2021.tsv.gz")
    codes = by_code(tsv)
    assert tsv.stats["source_codes"] == 42_880
    assert {c: x.display for c, x in codes.items()} == {c: x.display for c, x in codes_2021.items()}
    assert codes["M65.3"].display == 'Doigt "à ressort"'
    assert codes["A00.0"].origin == "cim10_fr_pmsi_2021.tsv.gz:3"


@real_data
def test_edsnlp_csv_needs_a_version() -> None:
    with pytest.raises(LoadError, match="--version"):
        load(EDSNLP)
    (release,) = load(EDSNLP, version="2023")
    assert release.stats["source_codes"] == 42_886
    assert "Z31.80" in by_code(release)


# --- dotted codes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "expected"), [
    ("A000", "A00.0"), ("E119", "E11.9"), ("e11.9", "E11.9"), (" U0710 ", "U07.10"), ("B24+0", "B24.+0"),
    ("B24.+0", "B24.+0"), ("C169+0", "C16.9+0"), ("F03+00", "F03.+00"), ("E11", "E11"), ("E10-E14", "E10-E14"),
])
def test_dotted_code(given: str, expected: str) -> None:
    assert dotted_code(given) == expected


# --- bundled sample ----------------------------------------------------------------------------------------


def test_sample_loads_from_its_directory() -> None:
    (release,) = load(SAMPLE)
    codes = by_code(release)
    assert release.version == "2021"
    assert release.stats == {"source_codes": 86, "groupings": 23, "concepts": 109}
    assert [s.name for s in release.sources] == [SAMPLE_TABLE.name, SAMPLE_HIERARCHY.name]
    assert not check_release(release).errors
    assert all(c.origin for c in release.concepts)
    assert codes["E11.90"].parents == ["E11.9"]
    assert codes["E11"].parents == ["E10-E14"]
    assert codes["E00-E90"].display == ENDOCRINE
    assert codes["U08"].parents == ["U00-U49"]
    assert codes["B24.+0"].origin == f"{SAMPLE_TABLE.name}:5"
    assert codes["A00.0"].display == "Choléra à Vibrio cholerae 01, biovar cholerae"
    assert release.warnings == [f"chapters and blocks taken from the 2019 hierarchy of {SAMPLE_HIERARCHY.name}"]


# --- layouts and errors on small files ---------------------------------------------------------------------

ROWS = [
    "E11   |3|NNNN|3|DIABETE SUCRE DE TYPE 2|Diabète sucré de type 2",
    "E119  |3|NNNN|3|DIAB. TYPE 2 SANS COMPLICATION|Diabète sucré de type 2, sans complication",
    "E1190 |0|NOOO|0|DIAB. TYPE 2 SANS COMPL., INSULINOTRAITE|Diabète sucré de type 2 insulinotraité",
]


def atih_file(directory: Path, lines: list[str], name: str = "LIBCIM10MULTI_2021.TXT",
              encoding: str = "latin-1") -> Path:
    path = directory / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def load_error(path: Path, version: str | None = None) -> str:
    with pytest.raises(LoadError) as caught:
        load(path, version)
    return str(caught.value)


def test_without_hierarchy_file_the_shipped_chapters_and_blocks_are_used(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMT_DATA_DIR", str(tmp_path / "no-data"))  # never read by a loader
    (release,) = load(atih_file(tmp_path, [*ROWS[:2], ROWS[2] + "||"]))
    codes = by_code(release)
    assert [c for c in codes if "-" not in c] == ["E11", "E11.9", "E11.90"]
    assert codes["E11"].parents == ["E10-E14"] and codes["E11.90"].parents == ["E11.9"]
    assert codes["E10-E14"].display == "Diabète sucré" and codes["E10-E14"].parents == ["E00-E90"]
    assert codes["E00-E90"].display == ENDOCRINE
    assert release.stats["groupings"] == 22 + 236
    assert [s.name for s in release.sources][1] == SHIPPED.name
    assert release.warnings == [f"chapters and blocks taken from the 2019 hierarchy of {SHIPPED.name}"]


def test_hierarchy_option_wins_and_a_missing_one_is_an_error(tmp_path: Path) -> None:
    source = atih_file(tmp_path, ROWS)
    (release,) = load(source, hierarchy=SAMPLE_HIERARCHY)
    assert [s.name for s in release.sources] == [source.name, SAMPLE_HIERARCHY.name]
    missing = tmp_path / "nowhere" / "hierarchie.json"
    with pytest.raises(LoadError) as caught:
        load(source, hierarchy=missing)
    assert str(caught.value) == f"{missing}: CIM-10 hierarchy file not found (--hierarchy)"


def test_version_argument_overrides_year_in_file_name(tmp_path: Path) -> None:
    (release,) = load(atih_file(tmp_path, ROWS), version="2022")
    assert release.version == "2022" and release.date == "2022-01-01"


@pytest.mark.parametrize(("lines", "expected"), [
    ([ROWS[0], "E119|3|NNNN|DIAB|Diabète sucré"], ":2: expected 6 pipe-separated fields, found 5"),
    ([ROWS[0], ROWS[1], ROWS[0]], ":3: duplicate code E11 (first at line 1) (field 'code')"),
    ([ROWS[0], "     |0|NOOO|0|X|Y"], ":2: empty code (field 'code')"),
    ([ROWS[0], "E119|0|NOOO|0|X|"], ":2: code E119: empty label (field 'libellé long')"),
    (["E11|x|NNNN|3|X|Y"], ":1: type MCO/HAD 'x' is not an integer (field 'type MCO/HAD')"),
    (["E11.9/|0|NOOO|0|X|Y"], ":1: invalid CIM-10 code 'E11.9/'"),
])
def test_atih_errors_name_file_line_and_field(tmp_path: Path, lines: list[str], expected: str) -> None:
    path = atih_file(tmp_path, lines)
    assert load_error(path).startswith(f"{path}{expected}")


def test_utf8_file_given_as_atih_latin1_is_refused(tmp_path: Path) -> None:
    path = atih_file(tmp_path, ROWS, encoding="utf-8")
    assert load_error(path) == f"{path}:1: looks UTF-8 encoded, expected latin-1 (ATIH LIBCIM10MULTI)"


def test_invalid_utf8_in_tsv(tmp_path: Path) -> None:
    path = tmp_path / "cim10_2021.tsv"
    path.write_bytes(b"code\ttr\ttssr\ttpsy\tlib_court\tlib_long\tcategorie\n"
                     + "E11\t3\tNNNN\t3\tDIABETE\tDiabète\tE11\n".encode("latin-1"))
    assert load_error(path).startswith(f"{path}:2: byte 0xe8 at column")


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress(("\n".join(ROWS * 200)).encode("latin-1"))
    path = tmp_path / "LIBCIM10MULTI_2021.TXT.gz"
    path.write_bytes(data[: len(data) // 2])
    assert load_error(path).startswith(f"{path}: corrupt or truncated gzip data")


def test_invalid_json_names_line(tmp_path: Path) -> None:
    path = tmp_path / "cim10_2021.json"
    path.write_text('[{"code": "E11", "tr": "3", "lib_court": "D", "lib_long": "Diabète"},\n{"code": }]')
    assert load_error(path).startswith(f"{path}:2: invalid JSON")


def test_json_record_errors_name_the_record(tmp_path: Path) -> None:
    path = tmp_path / "cim10_2021.json"
    path.write_bytes(orjson.dumps([{"code": "E11", "tr": "3", "lib_court": "D", "lib_long": "Diabète"},
                                   {"code": "E119", "tr": "3", "tpsy": "z", "lib_long": "D2"}]))
    assert load_error(path) == f"{path}: record 2: tpsy 'z' is not an integer (field 'tpsy')"


def test_multi_year_json_and_version_filter(tmp_path: Path) -> None:
    path = tmp_path / "cim10_2019-2020.json.gz"
    records = [{"code": "U07", "tr": "3", "lib_court": "U", "lib_long": "Usage urgent", "anseqta": year}
               for year in ("2020", "2019")]
    path.write_bytes(gzip.compress(orjson.dumps(records)))
    assert [r.version for r in load(path)] == ["2019", "2020"]
    (release,) = load(path, version="2020")
    assert release.version == "2020" and by_code(release)["U07"].origin == f"{path.name}:record 1"
    assert "year 2021 is not in this file (years: 2019, 2020)" in load_error(path, version="2021")


def test_unknown_layout_and_missing_year(tmp_path: Path) -> None:
    odd = tmp_path / "cim10_2021.txt"
    odd.write_text("hello\n")
    assert "unrecognised CIM-10 layout" in load_error(odd)
    assert "pass it with --version" in load_error(atih_file(tmp_path, ROWS, name="LIBCIM10MULTI.TXT"))
    assert "version must be a year" in load_error(atih_file(tmp_path, ROWS), version="v1")


def test_directory_with_several_tables_is_ambiguous(tmp_path: Path) -> None:
    atih_file(tmp_path, ROWS, name="a_2021.txt")
    atih_file(tmp_path, ROWS, name="b_2021.txt")
    assert "expected exactly one CIM-10 code table" in load_error(tmp_path)


# --- hierarchy file ----------------------------------------------------------------------------------------


def hierarchy_record(chapter: str, block: str, year: str = "2019") -> dict[str, str]:
    return {"anseqta": year, "lib_bloc": f"Bloc {block}", "bloc": block, "lib_chapitre": f"Chapitre {chapter}",
            "chapitre": chapter}


def test_hierarchy_in_another_layout_block_equal_to_chapter_and_closest_year(tmp_path: Path) -> None:
    path = tmp_path / "hierarchie.json"
    path.write_bytes(orjson.dumps([hierarchy_record("[E00-E90]", "[E10-E14]", "2016"),
                                   hierarchy_record("[E00-E90]", "[E10-E14]", "2018"),
                                   hierarchy_record("[U00-U99]", "[U00-U99]", "2018")],
                                  option=orjson.OPT_INDENT_2))
    hierarchy = read_hierarchy(path)
    assert hierarchy.for_year(2017).year == 2016
    assert hierarchy.for_year(2021).year == 2018
    assert hierarchy.for_year(2010).year == 2016
    groupings = hierarchy.for_year(2018)
    assert [g.code for g in groupings.all()] == ["E00-E90", "U00-U99", "E10-E14"]
    assert (groupings.parent_of("E11"), groupings.parent_of("U07"), groupings.parent_of("A00")) == (
        "E10-E14", "U00-U99", None)


def test_hierarchy_next_to_the_source_is_used(tmp_path: Path) -> None:
    shutil.copy(SAMPLE_HIERARCHY, tmp_path)
    (release,) = load(atih_file(tmp_path, ROWS))
    codes = by_code(release)
    assert codes["E11"].parents == ["E10-E14"]
    assert codes["E10-E14"].origin == f"{SAMPLE_HIERARCHY.name}:record 5"


def test_hierarchy_errors_name_the_record(tmp_path: Path) -> None:
    path = tmp_path / "hierarchie.json"
    path.write_bytes(orjson.dumps([hierarchy_record("[E00-E90]", "E10 to E14")]))
    with pytest.raises(LoadError, match="record 1: invalid code range 'E10 to E14'"):
        read_hierarchy(path)
