"""Publication API over real stores: diffs, vendor sync, downloads with checksums, NPM package, Atom feed,
HTTP caching and linked data.

Two stores: CIM-10 2019 then 2020 loaded from the nomensland multi-year file (diffs are checked against the
source file), and a small one with the real CISP-2, two versions of a value set and demo code systems.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
import rdflib
from fastapi.testclient import TestClient
from lxml import etree

from loaders.cim10 import load as load_cim10
from loaders.cisp2 import load as load_cisp2
from smt.compile import writable_store
from smt.config import data_dir
from smt.model import ResourceRelease
from smt.publish.diff import CHANGE_TYPES
from smt.store.rdf import RdfStore
from tests.clients import curator_client
from tests.publish.test_diff import MULTI_YEAR, NOMENSLAND, Source
from tests.terminology.test_engine_codesystem import DEMO, demo_release

CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
CISP2 = "https://smt.esante.gouv.fr/terminologie-cisp"
VALUE_SET = "http://smt.example.org/ValueSet/cisp2-diabete"
ATOM = "{http://www.w3.org/2005/Atom}"
NCTS = "{http://ns.electronichealth.net.au/ncts/syndication/asf/extensions/1.0.0}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
CISP2_DIR = data_dir() / "cisp2" / "chill-icpc2"

real_cim10 = pytest.mark.skipif(not NOMENSLAND.is_dir(), reason="real CIM-10 files not under SMT_DATA_DIR")
real_cisp2 = pytest.mark.skipif(not CISP2_DIR.is_dir(), reason="real CISP-2 files not under SMT_DATA_DIR")


@pytest.fixture(scope="module")
def cim10(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A store with CIM-10 2019 then 2020 (both active), served by the real app."""
    if not NOMENSLAND.is_dir():
        pytest.skip("real CIM-10 files not under SMT_DATA_DIR")
    home = tmp_path_factory.mktemp("cim10-home")
    store = writable_store(home)
    for release in load_cim10(MULTI_YEAR):
        if release.version in ("2019", "2020"):
            store.load(release)
    with curator_client(home) as client:
        yield client


@pytest.fixture(scope="module")
def source() -> Source:
    return Source()


def value_set(version: str, codes: list[tuple[str, str]]) -> ResourceRelease:
    resource = {"resourceType": "ValueSet", "url": VALUE_SET, "version": version, "name": "Diabete",
                "status": "active",
                "compose": {"include": [{"system": CISP2, "concept": [{"code": c, "display": d} for c, d in codes]}]}}
    return ResourceRelease(kind="ValueSet", url=VALUE_SET, version=version, name="Diabete", title="Diabète",
                           resource=resource)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The real CISP-2, two value set versions, demo code system 1.0.0 (active) and 3.0.0 (draft)."""
    if not CISP2_DIR.is_dir():
        pytest.skip("real CISP-2 files not under SMT_DATA_DIR")
    home = tmp_path_factory.mktemp("small-home")
    store = writable_store(home)
    for release in load_cisp2(CISP2_DIR):
        store.load(release)
    store.load(value_set("1", [("T89", "Diabète insulino-dépendant"), ("T90", "Diabète non insulino-dépendant")]))
    store.load(value_set("2", [("T90", "Diabète de type 2"), ("T91", "Carence vitaminique/nutritionnelle")]))
    store.load(demo_release("1.0.0"))
    store.load(demo_release("3.0.0", "draft"))
    with curator_client(home) as client:
        yield client


def ok_json(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def release_of(client: TestClient, url: str, version: str) -> dict:
    listing = ok_json(client.get("/releases", params={"url": url}))
    return next(r for r in listing["releases"] if r["version"] == version)


def manifest_entry(client: TestClient, release_id: str, fmt: str) -> dict:
    manifest = ok_json(client.get(f"/releases/{release_id}"))
    return next(d for d in manifest["downloads"] if d["format"] == fmt)


def download(client: TestClient, release_id: str, fmt: str) -> httpx.Response:
    """A download, checked against its manifest entry (SHA-256 and size) and its checksum headers."""
    response = client.get(f"/releases/{release_id}/download/{fmt}")
    assert response.status_code == 200, response.text
    digest = hashlib.sha256(response.content).hexdigest()
    entry = manifest_entry(client, release_id, fmt)
    assert entry["generated"] is True
    assert (entry["sha256"], entry["size"]) == (digest, len(response.content))
    assert response.headers["x-checksum-sha256"] == digest
    assert response.headers["etag"] and response.headers["last-modified"]
    return response


def graph_size(client: TestClient, release_id: str) -> int:
    """Number of statements in the release's named graph, read from the store itself."""
    return RdfStore(client.app.state.registry.store.rdf_dir, read_only=True).graph_size(release_id)


def flat_changes(diff: dict) -> list[dict]:
    """The diff's per-type lists as one list of changes with their type, in report order."""
    return [{"type": kind, **change} for kind in CHANGE_TYPES for change in diff["changes"][kind]]


# -- diff and vendor sync (CIM-10 2019 → 2020) --------------------------------------------------------------


@real_cim10
@pytest.mark.shared_data
def test_diff_2019_2020_lists_exactly_the_source_changes(cim10: TestClient, source: Source) -> None:
    diff = ok_json(cim10.get("/releases/diff", params={"url": CIM10, "from": "2019", "to": "2020"}))
    expected = source.expected("2019", "2020")
    assert {kind: {c["code"] for c in items} for kind, items in diff["changes"].items()} == expected
    assert diff["summary"]["added"] == len(expected["added"]) == 6
    assert diff["summary"]["removed"] == 0
    assert (diff["from"]["version"], diff["to"]["version"], diff["kind"]) == ("2019", "2020", "CodeSystem")
    labels = {c["code"]: (c["old"], c["new"]) for c in diff["changes"]["display"]}
    rows_2019, rows_2020 = source.rows["2019"], source.rows["2020"]
    assert labels == {code: (rows_2019[code]["lib_long"].strip(), rows_2020[code]["lib_long"].strip())
                      for code in expected["display"]}


@real_cim10
@pytest.mark.shared_data
def test_diff_as_csv_and_html(cim10: TestClient) -> None:
    params = {"url": CIM10, "from": "2019", "to": "2020"}
    diff = ok_json(cim10.get("/releases/diff", params=params))
    response = cim10.get("/releases/diff", params={**params, "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == sum(diff["summary"].values())
    assert [(r["change"], r["code"]) for r in rows] == [(c["type"], c["code"]) for c in flat_changes(diff)]
    page = cim10.get("/releases/diff", params={**params, "format": "html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<table>" in page.text and "U07.10" in page.text
    assert cim10.get("/releases/diff", params={**params, "to": "2099"}).status_code == 404
    assert cim10.get("/releases/diff", params={**params, "format": "pdf"}).status_code == 400


@real_cim10
@pytest.mark.shared_data
def test_changes_since_2019_pages_through_the_same_diff(cim10: TestClient) -> None:
    diff = ok_json(cim10.get("/releases/diff", params={"url": CIM10, "from": "2019", "to": "2020"}))
    collected: list[dict] = []
    url = "/changes?" + str(httpx.QueryParams({"url": CIM10, "since": "2019", "count": 3}))
    while url:
        page = ok_json(cim10.get(url))
        assert (page["since"]["version"], page["current"]["version"]) == ("2019", "2020")
        assert page["summary"] == diff["summary"] and page["count"] <= 3
        collected += page["changes"]
        url = page["links"].get("next", "").removeprefix("http://testserver")
    assert collected == flat_changes(diff)
    current = ok_json(cim10.get("/changes", params={"url": CIM10, "since": "2020"}))
    assert (current["total"], current["changes"]) == (0, [])
    assert cim10.get("/changes", params={"url": CIM10, "since": "1999"}).status_code == 404


# -- releases, caching and downloads (CIM-10) ---------------------------------------------------------------


@real_cim10
@pytest.mark.shared_data
def test_release_listing_and_manifest_with_source_checksums(cim10: TestClient) -> None:
    listing = ok_json(cim10.get("/releases"))
    assert [(r["url"], r["version"]) for r in listing["releases"]] == [(CIM10, "2019"), (CIM10, "2020")]
    release = release_of(cim10, CIM10, "2020")
    manifest = ok_json(cim10.get(f"/releases/{release['id']}"))
    assert (manifest["version"], manifest["status"], manifest["count"]) == ("2020", "active", release["count"])
    sources = {s["name"]: s["sha256"] for s in manifest["sources"]}
    assert sources[MULTI_YEAR.name] == hashlib.sha256(MULTI_YEAR.read_bytes()).hexdigest()
    assert {d["format"] for d in manifest["downloads"]} == {
        "fhir-json", "ndjson", "csv", "turtle", "ntriples", "rdfxml", "jsonld", "npm", "owl", "parquet-concepts",
        "parquet-designations", "parquet-properties", "parquet-closure", "parquet-diff"}
    first = ok_json(cim10.get(f"/releases/{release_of(cim10, CIM10, '2019')['id']}"))
    assert "parquet-diff" not in {d["format"] for d in first["downloads"]}  # no version before 2019 here
    assert manifest["links"]["diff_from_previous"].endswith("from=2019&to=2020")
    assert cim10.get("/releases/no-such-release").status_code == 404


@real_cim10
@pytest.mark.shared_data
def test_conditional_requests_answer_304(cim10: TestClient) -> None:
    release = release_of(cim10, CIM10, "2019")
    path = f"/releases/{release['id']}"
    first = cim10.get(path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert release["id"] in etag and "active" in etag
    assert cim10.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert cim10.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    assert cim10.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    assert cim10.get(path, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 200
    params = {"url": CIM10, "from": "2019", "to": "2020"}
    diff_etag = cim10.get("/releases/diff", params=params).headers["etag"]
    assert cim10.get("/releases/diff", params=params, headers={"If-None-Match": diff_etag}).status_code == 304


@real_cim10
@pytest.mark.shared_data
def test_cim10_csv_and_fhir_downloads_hold_every_concept(cim10: TestClient) -> None:
    release = release_of(cim10, CIM10, "2019")
    rows = list(csv.DictReader(io.StringIO(download(cim10, release["id"], "csv").text)))
    assert len(rows) == release["count"]
    by_code = {row["code"]: row for row in rows}
    assert (by_code["E11.9"]["parents"], by_code["E11.9"]["status"]) == ("E11", "active")
    response = download(cim10, release["id"], "fhir-json")
    assert response.headers["content-type"].startswith("application/fhir+json")
    resource = orjson.loads(response.content)
    assert (resource["resourceType"], resource["content"], resource["version"]) == ("CodeSystem", "complete", "2019")
    assert len(resource["concept"]) == resource["count"] == release["count"]
    e119 = next(c for c in resource["concept"] if c["code"] == "E11.9")
    assert {d["use"]["code"] for d in e119["designation"]} == {"long", "short"}
    assert {"code": "parent", "valueCode": "E11"} in e119["property"]
    assert {"code": "atihCode", "valueCode": "E119"} in e119["property"]
    again = cim10.get(f"/releases/{release['id']}/download/csv",
                      headers={"If-None-Match": response.headers["etag"].replace("fhir-json", "csv")})
    assert again.status_code == 304


@real_cim10
@pytest.mark.shared_data
def test_concept_iri_dereferences_across_versions(cim10: TestClient) -> None:
    iri = "http://data.esante.gouv.fr/atih/cim10/E11.9"
    redirect = cim10.get("/id/atih/cim10/E11.9", follow_redirects=False)
    assert redirect.status_code == 303
    assert parse_qs(urlsplit(redirect.headers["location"]).query)["iri"] == [iri]
    default = rdflib.Graph().parse(data=cim10.get("/concept", params={"iri": iri},
                                                  headers={"Accept": "text/turtle"}).text, format="turtle")
    everything = rdflib.Graph().parse(data=cim10.get("/concept", params={"iri": iri, "version": "all"},
                                                     headers={"Accept": "text/turtle"}).text, format="turtle")
    in_scheme = rdflib.URIRef("http://www.w3.org/2004/02/skos/core#inScheme")
    schemes = {str(o) for o in default.objects(rdflib.URIRef(iri), in_scheme)}
    assert schemes == {"urn:smt:release:" + release_of(cim10, CIM10, "2020")["id"]}
    assert len(set(everything.objects(rdflib.URIRef(iri), in_scheme))) == 2
    assert cim10.get("/concept", params={"iri": iri + "9"}).status_code == 404
    assert cim10.get("/id/atih/cim10/NOPE", follow_redirects=False).status_code == 404


# -- Atom feed ----------------------------------------------------------------------------------------------


def assert_valid_atom(document: bytes) -> etree._Element:
    """The RFC 4287 constraints on a feed document (cardinalities, required attributes, dates, ids)."""
    feed = etree.fromstring(document)
    assert feed.tag == f"{ATOM}feed"

    def one(parent: etree._Element, name: str) -> etree._Element:
        found = parent.findall(f"{ATOM}{name}")
        assert len(found) == 1, f"{parent.tag} must have exactly one {name}"
        return found[0]

    def check_common(parent: etree._Element) -> None:
        assert re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", one(parent, "id").text)
        assert one(parent, "title").text
        assert RFC3339.match(one(parent, "updated").text)
        for name in ("rights", "subtitle", "summary", "generator"):
            assert len(parent.findall(f"{ATOM}{name}")) <= 1
        alternates = [(link.get("type"), link.get("hreflang")) for link in parent.findall(f"{ATOM}link")
                      if link.get("rel", "alternate") == "alternate"]
        assert len(alternates) == len(set(alternates))
        for link in parent.findall(f"{ATOM}link"):
            assert link.get("href")
            assert link.get("length") is None or link.get("length").isdigit()
        for category in parent.findall(f"{ATOM}category"):
            assert category.get("term")
        for author in parent.findall(f"{ATOM}author"):
            assert one(author, "name").text

    check_common(feed)
    entries = feed.findall(f"{ATOM}entry")
    children = [child.tag for child in feed if isinstance(child.tag, str)]
    assert children[len(children) - len(entries):] == [f"{ATOM}entry"] * len(entries)  # entries come last
    assert feed.findall(f"{ATOM}author") or all(e.findall(f"{ATOM}author") for e in entries)
    assert any(link.get("rel") == "self" for link in feed.findall(f"{ATOM}link"))
    for entry in entries:
        check_common(entry)
        if entry.find(f"{ATOM}content") is None:
            assert any(link.get("rel") == "alternate" for link in entry.findall(f"{ATOM}link"))
    ids = [entry.findtext(f"{ATOM}id") for entry in entries]
    assert len(ids) == len(set(ids))
    return feed


def entries_by_version(feed: etree._Element) -> dict[str, etree._Element]:
    return {entry.findtext(f"{NCTS}contentItemVersion"): entry for entry in feed.findall(f"{ATOM}entry")}


@real_cim10
@pytest.mark.shared_data
def test_atom_feed_lists_the_publications(cim10: TestClient) -> None:
    release_2020 = release_of(cim10, CIM10, "2020")
    fhir_json = download(cim10, release_2020["id"], "fhir-json")
    response = cim10.get("/feed.xml")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    entries = entries_by_version(assert_valid_atom(response.content))
    assert set(entries) == {f"{CIM10}|2019", f"{CIM10}|2020"}
    entry = entries[f"{CIM10}|2020"]
    assert entry.findtext(f"{ATOM}updated") == release_2020["loaded_at"]
    assert entry.findtext(f"{NCTS}contentItemIdentifier") == CIM10
    assert entry.find(f"{ATOM}category").get("term") == "FHIR_CodeSystem"
    links = {link.get("href").removeprefix("http://testserver"): link for link in entry.findall(f"{ATOM}link")}
    alternate = links[f"/releases/{release_2020['id']}/download/fhir-json"]
    assert alternate.get("rel") == "alternate"
    assert alternate.get(f"{NCTS}sha256Hash") == hashlib.sha256(fhir_json.content).hexdigest()
    assert alternate.get("length") == str(len(fhir_json.content))
    diff_link = next(href for href in links if href.startswith("/releases/diff"))
    assert parse_qs(urlsplit(diff_link).query) == {"url": [CIM10], "from": ["2019"], "to": ["2020"]}
    assert cim10.get(diff_link).status_code == 200
    manifest = ok_json(cim10.get(f"/releases/{release_2020['id']}"))
    assert {href for href in links if "/download/" in href} == {
        d["href"].removeprefix("http://testserver") for d in manifest["downloads"]}
    etag = response.headers["etag"]
    assert cim10.get("/feed.xml", headers={"If-None-Match": etag}).status_code == 304


# -- downloads in every format (small store) ----------------------------------------------------------------


@real_cisp2
@pytest.mark.shared_data
def test_every_download_matches_its_manifest_checksum(small: TestClient) -> None:
    for url, version in ((CISP2, "2015-12"), (VALUE_SET, "2")):
        release = release_of(small, url, version)
        formats = [d["format"] for d in ok_json(small.get(f"/releases/{release['id']}"))["downloads"]]
        for fmt in formats:
            download(small, release["id"], fmt)
        sums = small.get(f"/releases/{release['id']}/SHA256SUMS").text.splitlines()
        assert len(sums) == len(formats)
    assert small.get(f"/releases/{release['id']}/download/pdf").status_code == 404


@real_cisp2
@pytest.mark.shared_data
def test_npm_package_layout(small: TestClient) -> None:
    release = release_of(small, CISP2, "2015-12")
    response = download(small, release["id"], "npm")
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as archive:
        names = archive.getnames()
        package = orjson.loads(archive.extractfile("package/package.json").read())
        index = orjson.loads(archive.extractfile("package/.index.json").read())
        resource = orjson.loads(archive.extractfile(f"package/{index['files'][0]['filename']}").read())
    assert names[0] == "package/package.json" and all(n.startswith("package/") for n in names)
    assert re.fullmatch(r"[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+", package["name"])
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", package["version"])
    assert package["fhirVersions"] == ["4.0.1"] and package["canonical"] == CISP2
    assert package["dependencies"] == {"hl7.fhir.r4.core": "4.0.1"}
    assert index["index-version"] == 1
    assert index["files"][0] == {"filename": f"CodeSystem-{release['id']}.json", "resourceType": "CodeSystem",
                                      "id": release["id"], "url": CISP2, "version": "2015-12", "content": "complete"}
    assert (resource["resourceType"], resource["url"], len(resource["concept"])) == ("CodeSystem", CISP2,
                                                                                    release["count"])
    assert response.content == small.get(f"/releases/{release['id']}/download/npm").content  # served from cache


@real_cisp2
@pytest.mark.shared_data
@pytest.mark.parametrize(("fmt", "syntax"), [("turtle", "turtle"), ("jsonld", "json-ld"), ("ntriples", "nt"),
                                             ("rdfxml", "xml")])
def test_rdf_downloads_parse_and_hold_the_whole_graph(small: TestClient, fmt: str, syntax: str) -> None:
    release = release_of(small, CISP2, "2015-12")
    body = download(small, release["id"], fmt).content
    graph = rdflib.Graph().parse(data=body, format=syntax)
    assert len(graph) == graph_size(small, release["id"]) > 5_000
    t90 = rdflib.URIRef("http://data.esante.gouv.fr/wonca/cisp2/T90")
    labels = {(str(o), o.language) for o in graph.objects(t90, rdflib.URIRef(
        "http://www.w3.org/2004/02/skos/core#prefLabel"))}
    assert labels and all(language == "fr" for _, language in labels)


@real_cisp2
@pytest.mark.shared_data
def test_value_set_diff_and_member_downloads(small: TestClient) -> None:
    diff = ok_json(small.get("/releases/diff", params={"url": VALUE_SET, "from": "1", "to": "2"}))
    assert diff["kind"] == "ValueSet"
    assert {k: [c["code"] for c in v] for k, v in diff["changes"].items() if v} == {
        "added": ["T91"], "removed": ["T89"], "display": ["T90"]}
    release = release_of(small, VALUE_SET, "2")
    rows = list(csv.DictReader(io.StringIO(download(small, release["id"], "csv").text)))
    assert [(r["system"], r["code"]) for r in rows] == [(CISP2, "T90"), (CISP2, "T91")]
    lines = download(small, release["id"], "ndjson").content.splitlines()
    assert [orjson.loads(line)["code"] for line in lines] == ["T90", "T91"]


@real_cisp2
@pytest.mark.shared_data
def test_drafts_are_not_in_the_feed_until_published(small: TestClient) -> None:
    first = small.get("/feed.xml")
    versions = set(entries_by_version(assert_valid_atom(first.content)))
    assert f"{DEMO}|1.0.0" in versions and f"{DEMO}|3.0.0" not in versions
    draft = release_of(small, DEMO, "3.0.0")
    etag = small.get(f"/releases/{draft['id']}").headers["etag"]
    writable_store(Path(small.app.state.registry.store.home)).set_status(draft["id"], "active")
    assert small.get(f"/releases/{draft['id']}", headers={"If-None-Match": etag}).status_code == 200
    assert "active" in small.get(f"/releases/{draft['id']}").headers["etag"]
    again = small.get("/feed.xml", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200
    assert f"{DEMO}|3.0.0" in entries_by_version(assert_valid_atom(again.content))


# -- linked data (small store) ------------------------------------------------------------------------------


@real_cisp2
@pytest.mark.shared_data
def test_concept_content_negotiation(small: TestClient) -> None:
    iri = "http://data.esante.gouv.fr/wonca/cisp2/T90"
    subject = rdflib.URIRef(iri)
    notation = rdflib.URIRef("http://www.w3.org/2004/02/skos/core#notation")
    for accept, syntax in (("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
                           ("application/n-triples", "nt"), ("application/rdf+xml", "xml")):
        response = small.get("/concept", params={"iri": iri}, headers={"Accept": accept})
        assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
        assert "Accept" in [v.strip() for v in response.headers["vary"].split(",")]
        graph = rdflib.Graph().parse(data=response.content, format=syntax)
        assert str(graph.value(subject, notation)) == "T90"
    page = small.get("/concept", params={"iri": iri},
                     headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "T90" in page.text and "/concept?iri=" in page.text
    assert small.get("/concept", params={"iri": iri, "format": "jsonld"}).headers["content-type"].startswith(
        "application/ld+json")
    assert small.get("/concept", params={"iri": iri}, headers={"Accept": "image/png"}).status_code == 406
    assert small.get("/concept", params={"iri": "not an iri"}).status_code == 400
    redirect = small.get("/id/wonca/cisp2/T90", headers={"Accept": "text/turtle"}, follow_redirects=False)
    assert redirect.status_code == 303
    followed = small.get("/id/wonca/cisp2/T90", headers={"Accept": "text/turtle"})
    assert followed.status_code == 200 and followed.headers["content-type"].startswith("text/turtle")
    etag = followed.headers["etag"]
    cached = small.get("/concept", params={"iri": iri}, headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert cached.status_code == 304
