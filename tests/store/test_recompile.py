"""Artefact format versions: a release compiled in another format is refused with a message naming
``smt recompile <id>``, and ``smt recompile`` rebuilds it from the store of record (RDF graph + manifest)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fhir_api.app import create_app
from loaders import run_loader
from smt.cli import app
from smt.compile import writable_store
from smt.config import SAMPLES_DIR
from smt.errors import ArtefactOutdated
from smt.index import FORMAT_VERSION as INDEX_FORMAT
from smt.model import Designation
from smt.releases.registry import Registry
from smt.search import FORMAT_VERSION as SEARCH_FORMAT
from smt.store.releases import MANIFEST, ReleaseInfo
from tests.factories import make_release

CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
CISP = "https://smt.esante.gouv.fr/terminologie-cisp"


def smt(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def everything(registry: Registry, url: str) -> list[tuple]:
    """Every concept of the default release of ``url`` as the index serves it (order included)."""
    index = registry.code_system(url)
    return [(c.code, c.display, c.definition, c.status, c.abstract, c.leaf,
             sorted((d.value, d.language or "", d.use.code if d.use else "", d.use.display or "" if d.use else "")
                    for d in index.designations(c)),
             sorted((p.code, p.type, str(p.value)) for p in index.properties(c)),
             sorted(p.code for p in index.parents(c)))
            for c in index.concepts()]


def set_artefacts(info: ReleaseInfo, artefacts: dict | None, drop: str | None = None) -> None:
    """Rewrite a stored manifest as an older SMT would have written it."""
    manifest = orjson.loads((info.path / MANIFEST).read_bytes())
    if artefacts is None:
        manifest.pop("artefacts")
    else:
        manifest["artefacts"] = artefacts
    if drop:
        manifest.pop(drop)
    (info.path / MANIFEST).write_bytes(orjson.dumps(manifest))
    (info.path.parent.parent / "generation").write_text("999")


@pytest.fixture
def stored(home: Path) -> dict[str, ReleaseInfo]:
    store = writable_store(home)
    releases = [*run_loader("cim10", SAMPLES_DIR / "cim10"), *run_loader("cisp2", SAMPLES_DIR / "cisp2"),
                *run_loader("nos", SAMPLES_DIR / "nos")]
    return {info.url: info for info in store.load_many(releases)}


def test_outdated_index_is_refused_naming_smt_recompile(home: Path, stored: dict[str, ReleaseInfo]) -> None:
    info = stored[CIM10]
    assert info.artefacts == {"index": INDEX_FORMAT, "search": SEARCH_FORMAT}
    set_artefacts(info, {"index": 0, "search": SEARCH_FORMAT})
    with pytest.raises(ArtefactOutdated) as caught:
        Registry(home).code_system(CIM10)
    assert str(caught.value) == (f"release {info.id} ({CIM10} version 2021) has its index artefact in format 0; "
                                 f"this SMT reads format {INDEX_FORMAT}: run `smt recompile {info.id}`")
    with TestClient(create_app(home), raise_server_exceptions=False) as client:
        answer = client.get("/fhir/CodeSystem/$lookup", params={"system": CIM10, "code": "E11"})
        assert answer.status_code == 503
        assert f"smt recompile {info.id}" in answer.json()["issue"][0]["details"]["text"]
        assert client.get("/search", params={"q": "cholera", "system": CISP}).status_code == 200  # others serve


def test_manifest_without_versions_is_refused_for_search_too(home: Path, stored: dict[str, ReleaseInfo]) -> None:
    set_artefacts(stored[CISP], None)
    with TestClient(create_app(home), raise_server_exceptions=False) as client:
        answer = client.get("/search", params={"q": "otite", "system": CISP})
        assert answer.status_code == 503
        assert "no format version (an older SMT)" in answer.text and "smt recompile" in answer.text


@pytest.mark.parametrize("url", [CIM10, CISP])
def test_recompile_rebuilds_the_same_content_from_the_rdf_graph(home: Path, stored: dict[str, ReleaseInfo],
                                                               url: str) -> None:
    before = everything(Registry(home), url)
    info = stored[url]
    set_artefacts(info, {"index": 0, "search": 0})
    (info.path / "index.sqlite").unlink()  # nothing left of the old index: the graph is the only source
    code, out = smt("recompile", info.id)
    assert code == 0, out
    assert f"recompiled release {info.id}" in out and f"index {INDEX_FORMAT}, search {SEARCH_FORMAT}" in out
    registry = Registry(home)
    after = everything(registry, url)
    assert sorted(after) == sorted(before)  # the same concepts, designations, properties and parents
    assert registry.resolve(url).id == info.id
    assert registry.resolve(url).artefacts == {"index": INDEX_FORMAT, "search": SEARCH_FORMAT}


def test_recompile_keeps_the_load_order_when_the_old_index_can_be_read(home: Path,
                                                                       stored: dict[str, ReleaseInfo]) -> None:
    before = everything(Registry(home), CIM10)
    assert smt("recompile", stored[CIM10].id)[0] == 0
    assert everything(Registry(home), CIM10) == before


def test_recompile_all_rebuilds_value_sets_from_their_graph(home: Path, stored: dict[str, ReleaseInfo]) -> None:
    value_set = next(info for info in stored.values() if info.kind == "ValueSet")
    resource = value_set.resource()
    set_artefacts(value_set, {"resource": 0})
    (value_set.path / "resource.json").unlink()
    code, out = smt("recompile", "--all")
    assert code == 0, out
    assert out.count("recompiled release") == 1 and value_set.id in out
    assert writable_store(home).get(value_set.id).resource() == resource


def test_release_whose_graph_lacks_what_its_index_needs_is_refused(home: Path) -> None:
    release = make_release()
    release.concepts[1].designations.append(Designation("alpha", "en", id="1234567016"))
    info = writable_store(home).load(release)
    assert info.manifest["graph_omits"] == ["description ids, acceptability and inactive terms"]
    code, out = smt("recompile", info.id)
    assert code == 1
    assert out.replace("\n", "") == (
        f"error: release {info.id} (http://example.org/cs version 1) cannot be rebuilt from its RDF graph, which "
        "does not hold its description ids, acceptability and inactive terms: load it again from its source files "
        "with `smt load … --replace`")


def test_older_manifest_is_judged_by_its_previous_index(home: Path) -> None:
    release = make_release()
    release.concepts[1].designations.append(Designation("alpha", "en", id="1234567016"))
    info = writable_store(home).load(release)
    set_artefacts(info, {"index": 0}, drop="graph_omits")
    code, out = smt("recompile", info.id)
    assert code == 1 and "description ids, acceptability and inactive terms" in out
