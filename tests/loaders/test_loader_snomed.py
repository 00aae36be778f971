"""SNOMED CT loader on the real RF2 samples: the HL7 International subset and the hermes fragments.

The subset is loaded once (module fixture) as ``http://snomed.info/xsct/31000003106/version/20250909``, the
version the HL7 terminology tests expect; malformed RF2 is made from copies in a temporary folder.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from loaders import run_loader
from loaders.snomed import load
from loaders.snomed_sctid import invalid_sctids, verhoeff_ok, with_check_digits
from smt.cli import app
from smt.compile import writable_store
from smt.errors import LoadError, NotFound
from smt.index.reader import CodeSystemIndex
from smt.model import CodeSystemRelease
from smt.releases.registry import Registry, equivalent_version
from tests.factories import write_rf2
from tests.store.test_store import snapshot

SCT = "http://snomed.info/sct"
XSCT_VERSION = "http://snomed.info/xsct/31000003106/version/20250909"
SUBSET = "snomed-sample/hl7-tx-ecosystem-subset-INT-20250909"
HERMES = "snomed-sample/hermes-example-snapshot"
TERMINOLOGY = "Terminology"


@pytest.fixture(scope="module")
def subset(shared_data: Path) -> Path:
    return shared_data / SUBSET


@pytest.fixture(scope="module")
def loaded(subset: Path, tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """A store holding the subset as the xsct edition, loaded through ``smt load``'s loader."""
    home = tmp_path_factory.mktemp("snomed-home")
    (release,) = run_loader("snomed", subset, version=XSCT_VERSION)
    writable_store(home).load(release)
    return Registry(home)


@pytest.fixture(scope="module")
def index(loaded: Registry) -> CodeSystemIndex:
    return loaded.code_system(SCT)


def concept_id(index: CodeSystemIndex, code: str) -> int:
    record = index.concept(code)
    assert record is not None, code
    return record.id


# -- the International subset -------------------------------------------------------------------------------


def test_subset_loads_with_provenance_counts(loaded: Registry, index: CodeSystemIndex) -> None:
    (info,) = loaded.code_systems()
    assert (info.url, info.version, info.count) == (SCT, XSCT_VERSION, 2258)
    assert info.stats["active_concepts"] == 2254  # 4 inactive concepts
    assert info.stats["descriptions"] == 7882 + 363  # descriptions + text definitions
    assert info.stats["relationships"] == 6945 and info.stats["concrete_values"] == 8
    assert index.concept("155728006").status == "inactive"
    assert index.meta["oids"] == ["2.16.840.1.113883.6.96"]
    assert index.meta["concept_iri_base"] == "http://snomed.info/id/"


def test_default_version_is_the_edition_module_and_release_date(subset: Path) -> None:
    (release,) = load(subset)
    assert release.version == "http://snomed.info/sct/31000003106/version/20250909"
    assert release.date == "2025-09-09" and release.language == "en"


def test_display_fsn_and_synonyms_with_dialect_acceptability(index: CodeSystemIndex) -> None:
    concept = index.concept("367430006")
    assert concept.display == "Repair of tendon of hand"
    terms = [(d.value, d.use.code, d.language, d.acceptability) for d in index.designations(concept)]
    preferred = (("en-US", "preferred"), ("en-GB", "preferred"))
    assert terms == [
        ("Repair of tendon of hand", "900000000000013009", "en", preferred),
        ("Repair of tendon of hand (procedure)", "900000000000003001", "en", preferred),
        ("Tenoplasty of hand", "900000000000013009", "en", (("en-US", "acceptable"), ("en-GB", "acceptable"))),
    ]
    assert index.designations(concept)[1].use.display == "Fully specified name"


def test_inactive_descriptions_are_kept_but_not_served_by_default(index: CodeSystemIndex) -> None:
    concept = index.concept("42463004")
    assert concept.display == "Opisthorchis"
    active = {d.value for d in index.designations(concept)}
    assert active == {"Opisthorchis", "Genus Opisthorchis (organism)", "Genus Opisthorchis", "Opisthorchis species"}
    retired = {d.value: d.id for d in index.designations(concept, include_inactive=True) if not d.active}
    assert retired == {"Opisthorchis (organism)": "779365010", "Opisthorchis, NOS": "70854014",
                       "Genus: Opisthorchis": "1788015016"}


def test_text_definition_is_the_concept_definition(index: CodeSystemIndex) -> None:
    assert index.concept("125671007").definition.startswith("Disruption of continuity of tissue")


def test_parents_from_inferred_is_a_and_subsumption(index: CodeSystemIndex) -> None:
    concept = index.concept("367430006")
    assert {p.code for p in index.parents(concept)} == {"119657005", "274059009", "281760001"}
    assert len(index.children(concept)) == 12
    root, hand_repair = index.concept("138875005"), index.concept("119657005")
    assert index.subsumes(root, concept) == "subsumes"
    assert index.subsumes(concept, hand_repair) == "subsumed-by"
    assert index.subsumes(concept, concept) == "equivalent"
    assert index.subsumes(concept, index.concept("42463004")) == "not-subsumed"
    assert index.count_descendants(root) == len(index.descendant_ids(root)) > 2000
    assert index.concept("155728006").id not in set(index.descendant_ids(root))  # inactive: no parents


def test_lookup_properties_follow_the_fhir_snomed_shapes(index: CodeSystemIndex) -> None:
    props = [(p.code, p.type, p.value) for p in index.properties(index.concept("367430006"))]
    assert ("260686004", "code", "257903006") in props  # Method = Repair - action
    assert ("405813007", "code", "118632007") in props  # Procedure site - Direct
    assert ("sufficientlyDefined", "boolean", True) in props
    assert ("moduleId", "code", "900000000000207008") in props
    assert ("effectiveTime", "dateTime", "2005-01-31") in props
    assert any(code == "owlExpression" and value.startswith("EquivalentClasses(:367430006") for code, _, value in props)
    concrete = [(p.code, p.type, p.value) for p in index.properties(index.concept("1204474000"))]
    assert ("1142139005", "integer", 1) in concrete
    declared = {p["code"]: p for p in index.meta["properties"]}
    assert declared["260686004"]["description"] == "Method"
    assert declared["260686004"]["uri"] == "http://snomed.info/id/260686004"


def test_relationship_concrete_and_refset_tables(index: CodeSystemIndex) -> None:
    concept = concept_id(index, "367430006")
    method, repair = concept_id(index, "260686004"), concept_id(index, "257903006")
    is_a = concept_id(index, "116680003")
    rows = index.relationships_of(concept)
    assert (method, repair, 1) in {(r.type, r.destination, r.group) for r in rows}
    assert {r.destination for r in rows if r.type == is_a} == {
        concept_id(index, c) for c in ("119657005", "274059009", "281760001")}
    assert concept in index.sources_with(method, repair)
    assert repair in index.destinations_of(method, [concept])
    product = concept_id(index, "1204474000")
    assert {(v.type, v.value, v.group) for v in index.concrete_of(product)} >= {
        (concept_id(index, "1142139005"), 1, 0), (concept_id(index, "1142138002"), 600, 1)}
    assert product in index.sources_with_value(concept_id(index, "1142138002"), ">=", 500)
    kinds = {r.id: (r.kind, r.members) for r in index.refsets()}
    assert kinds["723561005"][0] == "MRCMAttributeDomain" and kinds["900000000000534007"][0] == "ModuleDependency"
    replaced = index.refset_members("900000000000526001")
    assert [(m.referenced, m.fields["targetComponentId"]) for m in replaced] == [("307530000", "74400008")]
    assert concept_id(index, "307530000") in index.refset_concept_ids("900000000000526001")


def test_version_resolution_handles_sct_and_xsct(loaded: Registry) -> None:
    for version in (None, XSCT_VERSION, "http://snomed.info/sct/31000003106/version/20250909",
                    "http://snomed.info/sct/31000003106", "http://snomed.info/xsct/31000003106"):
        assert loaded.resolve(SCT, version).version == XSCT_VERSION
    with pytest.raises(NotFound):
        loaded.resolve(SCT, "http://snomed.info/sct/900000000000207008/version/20250909")
    assert equivalent_version("http://snomed.info/xsct/1/version/2") == "http://snomed.info/sct/1/version/2"
    assert loaded.resolve("urn:oid:2.16.840.1.113883.6.96").version == XSCT_VERSION


# -- hermes fragments: concrete values and map refsets ------------------------------------------------------


def test_hermes_fragments_load_in_fragment_mode(shared_data: Path, tmp_path: Path) -> None:
    with pytest.raises(LoadError) as caught:
        load(shared_data / HERMES)
    assert caught.value.line == 2 and caught.value.field == "conceptId"
    (release,) = load(shared_data / HERMES, strict=False)
    assert any("placeholders" in w for w in release.warnings)
    info = writable_store(tmp_path).load(release)
    assert info.version == "http://snomed.info/sct/900000000000207008/version/20230131"
    index = CodeSystemIndex(info.index_path)
    assert index.concept("100005").status == "inactive"
    assert index.concept("126813005").display == "Neoplasm of anterior aspect of epiglottis"
    source = concept_id(index, "830108003")
    assert [(v.value, v.group) for v in index.concrete_of(source)] == [(1, 0)]
    extended = index.refset_members("447562003")
    assert [(m.referenced, m.fields["mapTarget"]) for m in extended] == [
        ("211339002", "S80.8"), ("37535007", "Q99.9"), ("299741008", ""), ("1208339007", "G11.1")]
    assert extended[0].fields["mapAdvice"].startswith("ALWAYS S80.8")
    simple = index.refset_members("22671000001102")
    assert [m.fields["mapTarget"] for m in simple] == ["ABC01256Q", "ABC08795Q"]
    assert {r.kind for r in index.refsets()} == {"ExtendedMap", "SimpleMapWithDescription"}


def test_zip_archive_loads_like_the_folder(shared_data: Path, tmp_path: Path) -> None:
    archive = tmp_path / "hermes.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in (shared_data / HERMES).rglob("*.txt"):
            out.write(file, f"SnomedCT_Hermes/{file.relative_to(shared_data / HERMES)}")
    (from_zip,) = load(archive, strict=False)
    (from_folder,) = load(shared_data / HERMES, strict=False)
    assert [c.code for c in from_zip.concepts] == [c.code for c in from_folder.concepts]
    assert from_zip.tables.refset_member.height == 6 and len(from_zip.sources) == 1


# -- malformed RF2: LoadError with file, line and field; nothing stored -------------------------------------


def _edit(root: Path, name: str, change) -> Path:
    path = next((root / TERMINOLOGY).glob(f"{name}*"))
    path.write_bytes(change(path.read_bytes()))
    return path


@pytest.mark.parametrize(
    ("file", "change", "line", "field"),
    [
        ("sct2_Description_Snapshot", lambda b: b.replace(b"\ttypeId\t", b"\ttypeID\t", 1), 1, "typeId"),
        ("sct2_Concept_Snapshot", lambda b: b.replace(b"\r\n192008\t", b"\r\n192009\t", 1), 3, "id"),
        ("sct2_Relationship_Snapshot", lambda b: b[:-60], 6946, None),
        ("sct2_Relationship_Snapshot", lambda b: b[:-5], 6946, None),  # cut inside the last field of a row
        ("sct2_Concept_Snapshot", lambda b: b.replace(b"\r\n192008\t", b"\r\n192008 ", 1), 3, None),
        ("sct2_Relationship_Snapshot", lambda b: b.replace(b"\t253333008\t0\t116680003", b"\t22298006\t0\t116680003",
                                                           1), 2, "destinationId"),
    ],
    ids=["missing-column", "bad-check-digit", "truncated-file", "cut-inside-a-field", "short-row", "unknown-concept"],
)
def test_malformed_rf2_is_refused_and_changes_nothing(subset: Path, shared_data: Path, tmp_path: Path,
                                                     home: Path, file: str, change, line: int,
                                                     field: str | None) -> None:
    copy = tmp_path / "rf2"
    shutil.copytree(subset, copy)
    bad = _edit(copy, file, change)
    with pytest.raises(LoadError) as caught:
        load(copy)
    assert (Path(caught.value.file).name, caught.value.line, caught.value.field) == (bad.name, line, field)
    writable_store(home).load(load(shared_data / HERMES, strict=False)[0])
    before = snapshot(home)
    result = CliRunner().invoke(app, ["load", "snomed", str(copy)])
    assert result.exit_code == 1
    assert f"{bad.name}:{line}" in result.output.replace("\n", "")
    assert snapshot(home) == before


# -- overlays: a Delta, a translation extension -------------------------------------------------------------

DESCRIPTION_HEADER = "id\teffectiveTime\tactive\tmoduleId\tconceptId\tlanguageCode\ttypeId\tterm\tcaseSignificanceId"
LANGUAGE_HEADER = "id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId\tacceptabilityId"
FR_MODULE, FR_REFSET = "11000315107", "10031000315102"


def test_delta_without_base_is_refused(tmp_path: Path) -> None:
    write_rf2(tmp_path / "delta", "sct2_Concept_Delta_INT_20260101.txt",
         "id\teffectiveTime\tactive\tmoduleId\tdefinitionStatusId",
         "138875005\t20260101\t1\t900000000000207008\t900000000000074008")
    with pytest.raises(LoadError, match="Delta files are not supported yet without the snapshot"):
        load(tmp_path / "delta")


def test_delta_applies_on_its_base_snapshot(subset: Path, tmp_path: Path) -> None:
    delta = tmp_path / "delta"
    write_rf2(delta, "sct2_Concept_Delta_INT_20260101.txt", "id\teffectiveTime\tactive\tmoduleId\tdefinitionStatusId",
         "90650008\t20260101\t0\t900000000000207008\t900000000000074008")
    write_rf2(delta, "sct2_Description_Delta-en_INT_20260101.txt", DESCRIPTION_HEADER,
         "492024016\t20260101\t1\t900000000000207008\t367430006\ten\t900000000000013009\tHand tendon repair"
         "\t900000000000448009")
    (release,) = load(delta, base=subset)
    assert release.version == "http://snomed.info/sct/900000000000207008/version/20260101"
    concepts = {c.code: c for c in release.concepts}
    assert len(concepts) == 2258 and concepts["90650008"].status == "inactive"
    assert concepts["367430006"].display == "Hand tendon repair"
    assert "Repair of tendon of hand" not in {d.value for d in concepts["367430006"].designations}


def test_french_translation_loads_on_top_of_the_international_edition(subset: Path, tmp_path: Path) -> None:
    french = tmp_path / "fr"
    write_rf2(french / TERMINOLOGY, "sct2_Description_Snapshot-fr_FR_20251001.txt", DESCRIPTION_HEADER,
         f"99991000315111\t20251001\t1\t{FR_MODULE}\t367430006\tfr\t900000000000013009\t"
         "réparation de tendon de la main\t900000000000448009",
         f"99992000315114\t20251001\t1\t{FR_MODULE}\t367430006\tfr\t900000000000013009\t"
         "ténoplastie de la main\t900000000000448009")
    write_rf2(french / "Refset", "der2_cRefset_LanguageSnapshot-fr_FR_20251001.txt", LANGUAGE_HEADER,
         f"0f1e1c2a-0000-4000-8000-000000000001\t20251001\t1\t{FR_MODULE}\t{FR_REFSET}\t99991000315111"
         "\t900000000000548007",
         f"0f1e1c2a-0000-4000-8000-000000000002\t20251001\t1\t{FR_MODULE}\t{FR_REFSET}\t99992000315114"
         "\t900000000000549004")
    (release,) = load(french, base=subset)
    assert release.version == f"http://snomed.info/sct/{FR_MODULE}/version/20251001"
    concept = next(c for c in release.concepts if c.code == "367430006")
    assert concept.display == "Repair of tendon of hand" and len(release.concepts) == 2258
    french_terms = [(d.value, d.acceptability) for d in concept.designations if d.language == "fr"]
    tag = f"fr-x-{FR_REFSET}"
    assert french_terms == [("réparation de tendon de la main", ((tag, "preferred"),)),
                            ("ténoplastie de la main", ((tag, "acceptable"),))]


# -- identifiers --------------------------------------------------------------------------------------------


def test_sctid_check_digits() -> None:
    ids = ["138875005", "116680003", "900000000000207008", "31000003106", "138875004", "0123456", "12a456"]
    assert [verhoeff_ok(i) for i in ids[:5]] == [True, True, True, True, False]
    assert invalid_sctids(pl.Series(ids)).to_list() == [False, False, False, False, True, True, True]
    assert with_check_digits(pl.Series(["13887500", "11668000"])).to_list() == ["138875005", "116680003"]


def test_rows_read_slice_by_slice_build_the_same_concepts(subset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames become Python values a slice at a time (memory): slices of 7 rows give the same concepts."""
    import loaders.snomed_concepts as concepts

    (whole,) = load(subset, XSCT_VERSION)
    monkeypatch.setattr(concepts, "COLUMN_ROWS", 7)
    (sliced,) = load(subset, XSCT_VERSION)
    assert isinstance(whole, CodeSystemRelease) and isinstance(sliced, CodeSystemRelease)
    assert len(whole.concepts) > 7 * 10
    assert sliced.concepts == whole.concepts
