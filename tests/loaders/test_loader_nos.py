"""NOS loader: the ANS FHIR JSON and IHE SVS XML publications of the NOS, OID resolution, failures.

Real files from ``nos-ror/`` of the shared data folder (see PROVENANCE.md §3), a real store and the real CLI;
small hand-written SVS tables under ``tests/fixtures/nos`` for OIDs no catalogue knows.
"""

from __future__ import annotations

import logging
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loaders import loader_names
from loaders.nos import load, scan
from smt.catalogue.terminologies import load_catalogue, url_for_oid
from smt.cli import app
from smt.compile import writable_store
from smt.errors import LoadError, ReleaseExists
from smt.model import CodeSystemRelease, Concept, ResourceRelease
from smt.quality import enforce
from smt.releases.loader_context import loader_context
from smt.releases.registry import Registry
from tests.fhir_validation import assert_valid_fhir
from tests.store.test_store import snapshot

FIXTURES = Path(__file__).parents[1] / "fixtures" / "nos"
R02_URL = "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
EMPTY_SVS_FILES = {"ActPharmacySupplyType.xml", "CoverageRoleType.xml", "MediaType.xml"}
PLACEHOLDER_SVS_FILES = {"JDV_Evaluation_AGGIR_PA_CISIS.xml", "JDV_Evaluation_AGGIR_PH_CISIS.xml"}


@pytest.fixture(scope="module")
def nos_dir(shared_data: Path) -> Path:
    path = shared_data / "nos-ror"
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="module")
def fhir_dir(nos_dir: Path) -> Path:
    return nos_dir / "fhir-json" / "IG-NOS"


@pytest.fixture(scope="module")
def svs_tre_dir(nos_dir: Path) -> Path:
    return nos_dir / "svs" / "TestContenuCDA-2-41" / "jeuxDeValeurs"


@pytest.fixture(scope="module")
def svs_jdv_dir(nos_dir: Path) -> Path:
    return nos_dir / "svs" / "TestContenuCDA-3-0" / "jeuxDeValeurs"


@pytest.fixture(scope="module")
def fhir_releases(fhir_dir: Path) -> dict[str, CodeSystemRelease | ResourceRelease]:
    result = scan(fhir_dir)
    assert result.skipped == []
    return {r.url: r for r in result.releases}


@pytest.fixture(scope="module")
def jdv_load(svs_jdv_dir: Path):
    return scan(svs_jdv_dir)


def by_code(release: CodeSystemRelease) -> dict[str, Concept]:
    return {c.code: c for c in release.concepts}


def uses(concept: Concept) -> dict[str, str]:
    return {d.use.code: d.value for d in concept.designations if d.use}


def prop(concept: Concept, code: str) -> object:
    return next((p.value for p in concept.properties if p.code == code), None)


def test_nos_loader_is_registered() -> None:
    assert "nos" in loader_names()


# -- FHIR JSON ------------------------------------------------------------------------------------------------


def test_all_48_fhir_files_load(fhir_dir: Path, fhir_releases: dict) -> None:
    files = sorted(fhir_dir.rglob("*.json"))
    assert len(files) == 48
    assert {s.name for r in fhir_releases.values() for s in r.sources} == {f.name for f in files}
    code_systems = {u for u, r in fhir_releases.items() if r.kind == "CodeSystem"}
    tables = ["R02-SecteurActivite", "R212-Equipement", "R213-ModePriseEnCharge", "R239-PublicPrisEnCharge",
              "R240-TemporaliteAccueil", "R244-CategorieOrganisation", "R245-SpecialisationDePriseEnCharge"]
    expected = {f"https://mos.esante.gouv.fr/NOS/TRE_{t}/FHIR/TRE-{t.replace('_', '-')}" for t in tables}
    assert code_systems == expected | {"https://mos.esante.gouv.fr/NOS/TRE_R313-CISP2"}
    value_sets = [r for r in fhir_releases.values() if r.kind == "ValueSet"]
    assert len(value_sets) == 40 and all(r.url.startswith("https://mos.esante.gouv.fr/NOS/JDV_J") for r in value_sets)
    for release in fhir_releases.values():
        enforce(release)


def test_fhir_j19_has_37_french_concepts(fhir_releases: dict) -> None:
    j19 = fhir_releases["https://mos.esante.gouv.fr/NOS/JDV_J19-ModePriseEnCharge-ROR/FHIR/JDV-J19-ModePriseEnCharge-ROR"]
    (include,) = j19.resource["compose"]["include"]
    assert include["system"] == "https://mos.esante.gouv.fr/NOS/TRE_R213-ModePriseEnCharge/FHIR/TRE-R213-ModePriseEnCharge"
    displays = {c["code"]: c["display"] for c in include["concept"]}
    assert len(displays) == 37
    assert displays["02"] == "Accueil spécialisé"
    assert displays["13"] == "Hospitalisation courte durée (UHCD)"
    assert j19.oids == ["1.2.250.1.213.3.4.1"]


def test_fhir_r02_keeps_nos_designations_properties_and_retires_ended_codes(fhir_releases: dict) -> None:
    r02 = fhir_releases[R02_URL]
    assert r02.oids == ["1.2.250.1.71.4.2.4"] and r02.language == "fr"
    concepts = by_code(r02)
    assert len(concepts) == 63
    assert concepts["SA11"].status == "retired" and concepts["SA62"].status == "retired"
    assert sum(c.status == "retired" for c in concepts.values()) == sum(
        1 for c in concepts.values() if prop(c, "dateFin") is not None)
    assert concepts["SA01"].status == "active"
    assert uses(concepts["SA46"]) == {
        "LibelleCourt": "Fab,Expl,Imp,Rép,Dis méd et DM",
        "LibelleAdapte": "Fabrication, Exploitation, Importation, Répartition, Distribution médicaments et "
                         "dispositifs médicaux"}
    assert all(d.language == "fr" for d in concepts["SA46"].designations)
    assert prop(concepts["SA11"], "dateFin") == "2020-06-26T12:00:00+01:00"
    declared = {p.code: p.type for p in r02.properties}
    assert declared == {"dateValid": "dateTime", "dateMaj": "dateTime", "dateFin": "dateTime",
                        "retirementDate": "dateTime", "statusReason": "string"}


def test_nos_end_dates_become_retirement_date_and_reason(fhir_releases: dict) -> None:
    """The source says when (``dateFin``) but not why: the loader states both as the retirement properties."""
    concepts = by_code(fhir_releases[R02_URL])
    assert prop(concepts["SA11"], "retirementDate") == prop(concepts["SA11"], "dateFin") == "2020-06-26T12:00:00+01:00"
    assert "dateFin" in prop(concepts["SA11"], "statusReason")
    retired = [c for c in concepts.values() if c.status == "retired"]
    assert all(prop(c, "retirementDate") == prop(c, "dateFin") for c in retired)
    assert prop(concepts["SA01"], "retirementDate") is None and prop(concepts["SA01"], "statusReason") is None


def test_retired_codes_are_retired_in_the_stored_index(home: Path, fhir_releases: dict) -> None:
    info = writable_store(home).load(fhir_releases[R02_URL])
    index = Registry(home).index(info)
    assert index.concept("SA11").status == "retired"
    assert index.concept("SA62").status == "retired"
    assert index.concept("SA01").status == "active"


def test_fhir_file_with_bom_and_a_status_property(tmp_path: Path) -> None:
    resource = (b'{"resourceType": "CodeSystem", "url": "https://mos.esante.gouv.fr/NOS/TRE_X98-Essai/FHIR/TRE-X98-'
                b'Essai", "version": "1", "content": "complete", "concept": [{"code": "A", "display": "a", "property"'
                b': [{"code": "status", "valueCode": "deprecated"}]}, {"code": "B", "display": "b", "property": '
                b'[{"code": "dateFin", "valueDateTime": "2999-01-01T00:00:00+01:00"}]}]}')
    path = tmp_path / "TRE_X98.json"
    path.write_bytes(b"\xef\xbb\xbf" + resource.replace(b", ", b",\r\n"))
    (release,) = scan(path).releases
    concepts = by_code(release)
    assert concepts["A"].status == "retired"
    assert concepts["B"].status == "active"  # an end date in the future does not retire yet


# -- SVS: code systems (TRE) ---------------------------------------------------------------------------------


def test_svs_tre_folder_gives_code_systems_and_skips_the_ass_file(svs_tre_dir: Path) -> None:
    result = scan(svs_tre_dir)
    files = sorted(p.name for p in svs_tre_dir.glob("*.xml"))
    assert len(files) == 25
    assert len(result.releases) == 24 and all(r.kind == "CodeSystem" for r in result.releases)
    assert {r.sources[0].name for r in result.releases} == {f for f in files if f.startswith("TRE_")}
    (skipped,) = result.skipped
    assert "ASS_CorrespondanceLocalisationAnatomique" in skipped and "ConceptMap" in skipped
    for release in result.releases:
        enforce(release)
    a00 = next(r for r in result.releases if r.name == "TRE_A00-ProducteurDocNonPS")
    assert a00.url == "https://mos.esante.gouv.fr/NOS/TRE_A00-ProducteurDocNonPS/FHIR/TRE-A00-ProducteurDocNonPS"
    assert a00.version == "test" and any("no urlFichier" in w for w in a00.warnings)
    assert by_code(a00)["SECRETARIAT_MEDICAL"].display == "Secrétariat médical"  # ISO-8859-1 file


def test_svs_and_fhir_r02_are_one_code_system(svs_tre_dir: Path, fhir_releases: dict) -> None:
    (svs,) = scan(svs_tre_dir / "TRE_R02-SecteurActivite.xml").releases
    fhir = fhir_releases[R02_URL]
    assert svs.url == fhir.url == R02_URL
    assert svs.version == "20201030120000" and svs.oids == fhir.oids
    assert svs.date == "2020-10-30T12:00:00+01:00"
    svs_concepts, fhir_concepts = by_code(svs), by_code(fhir)
    assert set(svs_concepts) == set(fhir_concepts)
    assert svs_concepts["SA46"].display == fhir_concepts["SA46"].display
    assert uses(svs_concepts["SA46"]) == uses(fhir_concepts["SA46"])
    assert prop(svs_concepts["SA01"], "dateValid") == prop(fhir_concepts["SA01"], "dateValid")
    # ended in 2020: retired in both; SA62 only ended in 2023, after this SVS edition
    assert svs_concepts["SA11"].status == "retired" and svs_concepts["SA62"].status == "active"


# -- SVS: value sets (JDV) -----------------------------------------------------------------------------------


def test_every_non_empty_svs_jdv_file_loads(svs_jdv_dir: Path, jdv_load) -> None:
    files = {p.name for p in svs_jdv_dir.glob("*.xml")}
    assert len(files) == 523
    loaded = {r.sources[0].name for r in jdv_load.releases}
    assert loaded == files - EMPTY_SVS_FILES - PLACEHOLDER_SVS_FILES
    assert len(jdv_load.releases) == 518 and all(r.kind == "ValueSet" for r in jdv_load.releases)
    skipped = {Path(s.split(":")[0]).name: s for s in jdv_load.skipped}
    assert set(skipped) == EMPTY_SVS_FILES | PLACEHOLDER_SVS_FILES | {"SVS.xsd"}
    assert all("empty file" in skipped[name] for name in EMPTY_SVS_FILES)
    assert all("no usable concept" in skipped[name] for name in PLACEHOLDER_SVS_FILES)
    for release in jdv_load.releases:
        enforce(release)


def test_svs_value_sets_are_valid_fhir(jdv_load) -> None:
    for release in jdv_load.releases[::25]:
        assert_valid_fhir(release.resource)


def test_cisis_jdv_resolves_oids_to_urls(jdv_load) -> None:
    age = next(r for r in jdv_load.releases if r.oids == ["1.2.250.1.213.1.1.5.43"])
    assert age.url == "https://smt.esante.gouv.fr/fhir/ValueSet/jdv-age-cisis"
    assert age.version == "20240806000000"
    assert age.resource["identifier"] == [{"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.250.1.213.1.1.5.43"}]
    systems = {i["system"]: len(i["concept"]) for i in age.resource["compose"]["include"]}
    assert systems == {"https://smt.esante.gouv.fr/fhir/CodeSystem/terminologie-cisis": 1, "http://snomed.info/sct": 5}
    cim10 = next(r for r in jdv_load.releases if r.sources[0].name == "JDV_AnomalieCroissance_CISIS.xml")
    assert url_for_oid("2.16.840.1.113883.6.3") in {i["system"] for i in cim10.resource["compose"]["include"]}
    assert not any("urn:oid" in w for w in age.warnings + cim10.warnings)


def test_nos_jdv_from_svs_has_the_fhir_url_and_resolves_its_tre(jdv_load) -> None:
    j19 = next(r for r in jdv_load.releases if r.sources[0].name == "JDV_J19_ModePriseEnCharge_ROR.xml")
    assert j19.url == "https://mos.esante.gouv.fr/NOS/JDV_J19-ModePriseEnCharge-ROR/FHIR/JDV-J19-ModePriseEnCharge-ROR"
    assert j19.version == "20230127120000" and j19.status == "active"
    (include,) = j19.resource["compose"]["include"]
    assert include["system"].endswith("/TRE_R213-ModePriseEnCharge/FHIR/TRE-R213-ModePriseEnCharge")
    assert len(include["concept"]) == 37


def test_unusable_svs_concepts_are_left_out_with_warnings(jdv_load) -> None:
    def release(name: str) -> ResourceRelease:
        return next(r for r in jdv_load.releases if r.sources[0].name == name)

    xds = release("JDV_J07_XdsTypeCode_CISIS.xml")
    codes = {c["code"] for i in xds.resource["compose"]["include"] for c in i["concept"]}
    assert "E1762" not in codes and any("'ASTM'" in w for w in xds.warnings)
    kits = release("JDV_TrousseCCU_CISIS.xml")
    assert sum(len(i["concept"]) for i in kits.resource["compose"]["include"]) == 16  # 18 listed, 2 placeholders
    assert sum("contains spaces" in w for w in kits.warnings) == 2
    padded = release("JDV_CompletudeDispensation_CISIS.xml")
    assert "FFC" in {c["code"] for i in padded.resource["compose"]["include"] for c in i["concept"]}


# -- OID registry ---------------------------------------------------------------------------------------------


def test_catalogue_maps_each_oid_to_one_url() -> None:
    urls: dict[str, set[str]] = defaultdict(set)
    for item in load_catalogue().values():
        for oid in item.oids:
            urls[oid].add(item.url)
    assert {oid: u for oid, u in urls.items() if len(u) > 1} == {}
    assert url_for_oid("2.16.840.1.113883.6.96") == "http://snomed.info/sct"
    assert url_for_oid("2.16.840.1.113883.6.1") == "http://loinc.org"
    assert url_for_oid("2.16.840.1.113883.6.8") == "http://unitsofmeasure.org"
    assert url_for_oid("2.16.840.1.113883.6.73") == "http://www.whocc.no/atc"
    assert url_for_oid("2.16.840.1.113883.5.1") == "http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender"
    assert url_for_oid("1.2.250.1.213.2.5") == url_for_oid("1.2.250.1.215.300.1")
    assert url_for_oid("1.2.250.1.213.3.3.13").endswith("/TRE-R213-ModePriseEnCharge")


def test_jdv_oid_resolves_through_a_tre_of_the_same_load(tmp_path: Path) -> None:
    for name in ("JDV_X99-Exemple.xml", "TRE_X99-Exemple.xml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    releases = {r.kind: r for r in scan(tmp_path).releases}
    systems = [i["system"] for i in releases["ValueSet"].resource["compose"]["include"]]
    assert systems == [releases["CodeSystem"].url, "http://snomed.info/sct"]
    tre = by_code(releases["CodeSystem"])
    assert tre["A1"].display == "Premier libellé long" and tre["A2"].status == "retired"


def test_jdv_oid_resolves_through_a_stored_tre_only_once_it_is_stored(home: Path) -> None:
    stored = loader_context(Registry(home))["stored_system_for_oid"]  # what the CLI gives the loader
    alone = scan(FIXTURES / "JDV_X99-Exemple.xml", stored_system_for_oid=stored).releases[0]
    assert alone.resource["compose"]["include"][0]["system"] == "urn:oid:1.2.250.1.213.99.99.1"
    assert any("1.2.250.1.213.99.99.1" in w for w in alone.warnings)
    (tre,) = scan(FIXTURES / "TRE_X99-Exemple.xml").releases
    writable_store(home).load(tre)
    later = scan(FIXTURES / "JDV_X99-Exemple.xml", stored_system_for_oid=stored).releases[0]
    assert later.resource["compose"]["include"][0]["system"] == tre.url == (
        "https://mos.esante.gouv.fr/NOS/TRE_X99-Exemple/FHIR/TRE-X99-Exemple")
    assert not any("urn:oid" in w for w in later.warnings)


# -- failures ------------------------------------------------------------------------------------------------

runner = CliRunner()


def smt(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _folder(tmp_path: Path, svs_jdv_dir: Path) -> Path:
    folder = tmp_path / "jdv"
    folder.mkdir()
    for name in ("JDV_J19_ModePriseEnCharge_ROR.xml", "JDV_Age_CISIS.xml", "MediaType.xml"):
        shutil.copy(svs_jdv_dir / name, folder / name)
    return folder


def test_cli_loads_a_folder_and_reports_empty_files(home: Path, tmp_path: Path, svs_jdv_dir: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="loaders.nos"):
        code, out = smt("load", "nos", str(_folder(tmp_path, svs_jdv_dir)))
    assert code == 0, out
    assert "jdv-age-cisis version 20240806000000" in out and "JDV-J19-ModePriseEnCharge-ROR" in out
    assert any("MediaType.xml: empty file" in m for m in caplog.messages)
    assert len(writable_store(home).list()) == 2


@pytest.mark.parametrize(
    ("broken", "line", "message"),
    [
        (lambda text: text.replace('displayName="Chirurgie ambulatoire"/>', 'displayName="Chirurgie ambulatoire">'),
         None, "invalid XML"),
        # libxml2 numbers an element by the line its start tag ends on: this Concept spans lines 21-23
        (lambda text: text.replace('<Concept code="09"', '<Concept'), 23, "no code attribute"),
    ],
)
def test_malformed_file_names_file_and_line_and_loads_nothing(home: Path, tmp_path: Path, svs_jdv_dir: Path,
                                                              broken, line: int | None, message: str) -> None:
    assert smt("load", "nos", str(FIXTURES / "TRE_X99-Exemple.xml"))[0] == 0
    before = snapshot(home)
    folder = _folder(tmp_path, svs_jdv_dir)
    bad = folder / "JDV_J19_ModePriseEnCharge_ROR.xml"
    bad.write_text(broken(bad.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(LoadError) as caught:
        scan(folder)
    assert caught.value.file == str(bad) and message in str(caught.value)
    assert caught.value.line == (line or caught.value.line) and caught.value.line is not None
    code, out = smt("load", "nos", str(folder))
    assert code == 1
    assert f"JDV_J19_ModePriseEnCharge_ROR.xml:{caught.value.line}" in out.replace("\n", "")
    assert snapshot(home) == before


def test_a_single_empty_file_is_a_warning_not_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "MediaType.xml"
    empty.write_bytes(b"")
    result = scan(empty)
    assert result.releases == [] and result.skipped == [f"{empty}: empty file"]


def test_a_single_file_of_another_type_is_an_error(svs_jdv_dir: Path) -> None:
    with pytest.raises(LoadError, match="not a NOS file"):
        scan(svs_jdv_dir / "SVS.xsd")


def test_same_table_twice_in_one_load_is_refused(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "TRE_X99-Exemple.xml", tmp_path / "a.xml")
    shutil.copy(FIXTURES / "TRE_X99-Exemple.xml", tmp_path / "b.xml")
    with pytest.raises(LoadError, match="defined twice"):
        scan(tmp_path)


def test_reloading_a_stored_release_is_refused_before_anything_is_written(home: Path) -> None:
    (tre,) = load(FIXTURES / "TRE_X99-Exemple.xml")
    store = writable_store(home)
    store.load(tre)
    before = [(r.id, r.loaded_at) for r in store.list()]
    (again,) = load(FIXTURES / "TRE_X99-Exemple.xml")
    with pytest.raises(ReleaseExists, match="already loaded"):
        store.load_many([again])
    assert [(r.id, r.loaded_at) for r in store.list()] == before
    (other,) = load(FIXTURES / "TRE_X99-Exemple.xml", version="2025-essai")
    assert other.version == "2025-essai"
