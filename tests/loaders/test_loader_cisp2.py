"""CISP-2 loader: real Chill-project extract, bundled sample, malformed inputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loaders.cisp2 import CHAPTERS_FILE, CODES_FILE, COMPONENTS_FILE, load
from smt.catalogue.terminologies import entry
from smt.config import SAMPLES_DIR, data_dir
from smt.errors import LoadError
from smt.model import CodeSystemRelease, Concept
from smt.quality import enforce

REAL_DIR = data_dir() / "cisp2" / "chill-icpc2"
SAMPLE_DIR = SAMPLES_DIR / "cisp2"


def _by_code(release: CodeSystemRelease) -> dict[str, Concept]:
    return {concept.code: concept for concept in release.concepts}


def _prop(concept: Concept, code: str) -> object:
    return next(p.value for p in concept.properties if p.code == code)


def _labels(concept: Concept) -> dict[str | None, str]:
    return {d.language: d.value for d in concept.designations}


def _ancestors(concepts: dict[str, Concept], code: str) -> list[str]:
    chain = []
    while concepts[code].parents:
        (code,) = concepts[code].parents
        chain.append(code)
    return chain


@pytest.fixture(scope="module")
def real() -> CodeSystemRelease:
    if not (REAL_DIR / CODES_FILE).exists():
        pytest.skip(f"real CISP-2 files not found under {REAL_DIR}")
    (release,) = load(REAL_DIR)
    return release


@pytest.fixture(scope="module")
def sample() -> CodeSystemRelease:
    (release,) = load(SAMPLE_DIR)
    return release


@pytest.fixture
def copy_dir(tmp_path: Path) -> Path:
    """A writable copy of the bundled sample, to be broken by a test."""
    for name in (CODES_FILE, CHAPTERS_FILE, COMPONENTS_FILE):
        shutil.copy(SAMPLE_DIR / name, tmp_path / name)
    return tmp_path


# --- real data ------------------------------------------------------------------------------------

@pytest.mark.shared_data
def test_real_counts(real: CodeSystemRelease) -> None:
    rubrics = [c for c in real.concepts if not c.abstract]
    assert len(rubrics) == 726
    assert real.stats["source_codes"] == 726
    assert real.stats["groupings"] == len(real.concepts) - 726
    assert sum(_prop(c, "kind") == "chapter" for c in real.concepts) == 18
    assert len([c for c in rubrics if c.code.startswith("-")]) == 40


@pytest.mark.shared_data
def test_real_t90(real: CodeSystemRelease) -> None:
    concepts = _by_code(real)
    t90 = concepts["T90"]
    assert t90.display == "Diabète non insulino-dépendant"
    assert _labels(t90) == {"fr": "Diabète non insulino-dépendant",
                            "nl": "Niet insuline afhankelijke diabetes"}
    assert _ancestors(concepts, "T90") == ["T-oth", "T"]
    assert _prop(t90, "chapter") == "T"
    assert _prop(t90, "component") == "oth"
    assert _prop(t90, "icpcComponent") == 7
    assert concepts["T-oth"].abstract and _prop(concepts["T-oth"], "notSelectable") is True
    assert _labels(concepts["T"])["en"] == "Endocrine/Metabolic and Nutritional"


@pytest.mark.shared_data
def test_real_k74_and_stripped_labels(real: CodeSystemRelease) -> None:
    concepts = _by_code(real)
    assert concepts["K74"].display == "Cardiopathie ischémique avec angor"
    assert _labels(concepts["K99"])["nl"] == "Andere ziekte cardiovasculair stelsel"


@pytest.mark.shared_data
def test_real_process_codes(real: CodeSystemRelease) -> None:
    concepts = _by_code(real)
    process = [c for c in real.concepts if c.code.startswith("-")]
    assert all(c.parents == ["PROC-pro"] for c in process)
    assert [c.code for c in real.concepts if "PROC-pro" in c.parents] == [c.code for c in process]
    assert concepts["PROC-pro"].parents == ["PROC"]
    assert _prop(concepts["-30"], "icpcComponent") == 2
    assert _prop(concepts["-50"], "icpcComponent") == 3
    assert _prop(concepts["-62"], "icpcComponent") == 5
    assert _prop(concepts["-69"], "icpcComponent") == 6


@pytest.mark.shared_data
def test_real_metadata_and_quality(real: CodeSystemRelease) -> None:
    meta = entry("cisp2")
    assert (real.url, real.name, real.version, real.language) == (meta.url, meta.name, "2015-12", "fr")
    assert real.oids == list(meta.oids) and real.concept_iri_base == meta.concept_iri_base
    assert [s.name for s in real.sources] == [CODES_FILE, CHAPTERS_FILE, COMPONENTS_FILE]
    assert all(c.origin and ":" in c.origin for c in real.concepts)
    assert enforce(real) == []


# --- bundled sample -------------------------------------------------------------------------------

def test_sample_loads(sample: CodeSystemRelease) -> None:
    concepts = _by_code(sample)
    for code in ("T90", "K74", "K77", "R74", "A04", "L03", "P76", "-30"):
        assert not concepts[code].abstract
    assert concepts["T90"].display == "Diabète non insulino-dépendant"
    assert _ancestors(concepts, "T90") == ["T-oth", "T"]
    assert _ancestors(concepts, "-45") == ["PROC-pro", "PROC"]
    assert concepts["T90"].origin == f"{CODES_FILE}:42"
    assert enforce(sample) == []


def test_sample_via_codes_file_and_version() -> None:
    (release,) = load(SAMPLE_DIR / CODES_FILE, version="2015-12-test")
    assert release.version == "2015-12-test"
    assert release.stats["source_codes"] == 45


# --- malformed inputs -----------------------------------------------------------------------------

def _append(path: Path, line: str) -> int:
    """Append a line; return its line number."""
    with path.open("ab") as handle:
        handle.write(line.encode("utf-8") + b"\n")
    return len(path.read_bytes().splitlines())


def _raises(directory: Path, file: str, line: int | None, field: str | None = None) -> LoadError:
    with pytest.raises(LoadError) as caught:
        load(directory)
    error = caught.value
    assert error.file is not None and Path(error.file).name == file
    assert error.line == line
    assert file in str(error)
    if field is not None:
        assert error.field == field
    return error


def test_wrong_column_count(copy_dir: Path) -> None:
    line = _append(copy_dir / CODES_FILE, "T91\tT\toth\tLabel sans néerlandais")
    error = _raises(copy_dir, CODES_FILE, line)
    assert "4 columns, expected 5" in str(error)


def test_duplicate_code(copy_dir: Path) -> None:
    first = next(i for i, text in enumerate((copy_dir / CODES_FILE).read_text().splitlines(), 1)
                 if text.startswith("K74\t"))
    line = _append(copy_dir / CODES_FILE, "K74\tK\toth\tDoublon\tDubbel")
    error = _raises(copy_dir, CODES_FILE, line, "code")
    assert f"first at line {first}" in str(error)


def test_latin1_bytes(copy_dir: Path) -> None:
    path = copy_dir / CODES_FILE
    with path.open("ab") as handle:
        handle.write("T91\tT\toth\tDiabète\tDiabetes\n".encode("latin-1"))
    line = len(path.read_bytes().splitlines())
    error = _raises(copy_dir, CODES_FILE, line)
    assert "0xe8" in str(error)


def test_unknown_chapter(copy_dir: Path) -> None:
    line = _append(copy_dir / CODES_FILE, "B80\tB\toth\tAnémie ferriprive\tIJzergebreksanemie")
    _raises(copy_dir, CODES_FILE, line, "chapter")


def test_unknown_component(copy_dir: Path) -> None:
    line = _append(copy_dir / CODES_FILE, "T91\tT\txyz\tLibellé\tLabel")
    _raises(copy_dir, CODES_FILE, line, "component")


def test_code_not_in_its_chapter(copy_dir: Path) -> None:
    line = _append(copy_dir / CODES_FILE, "K91\tT\toth\tLibellé\tLabel")
    _raises(copy_dir, CODES_FILE, line, "code")


def test_empty_label(copy_dir: Path) -> None:
    line = _append(copy_dir / CODES_FILE, "T91\tT\toth\t \tLabel")
    _raises(copy_dir, CODES_FILE, line, "label_fr")


def test_duplicate_chapter(copy_dir: Path) -> None:
    line = _append(copy_dir / CHAPTERS_FILE, "T\tDup\tDoublon\tDubbel")
    _raises(copy_dir, CHAPTERS_FILE, line, "chapter")


def test_bad_header(copy_dir: Path) -> None:
    path = copy_dir / COMPONENTS_FILE
    path.write_text(path.read_text().replace("label_en", "english", 1))
    _raises(copy_dir, COMPONENTS_FILE, 1)


def test_missing_sibling(copy_dir: Path) -> None:
    (copy_dir / CHAPTERS_FILE).unlink()
    error = _raises(copy_dir, CHAPTERS_FILE, None)
    assert "not found" in str(error)
