"""Parquet downloads read in place over real HTTP: DuckDB's ``httpfs`` (installed offline from the
``duckdb-extension-httpfs`` package) against a real ``smt serve`` process on 127.0.0.1, with byte ranges.

* For every CIM-10 version and 20 random roots each, the closure file returns exactly the codes of ``$expand``
  with ``is-a`` of that root (the same server, over HTTP), and so does the nested set of the concepts file;
* the diff file of 2019 → 2020 equals the server's diff (``/releases/diff``);
* footer metadata, byte ranges (206, several ranges, 416, ``If-Range``), the manifest and the feed.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import httpx
import orjson
import pytest
from lxml import etree

from smt.catalogue.terminologies import entry
from tests.server_process import running_server
from tests.stores import CIM10, CIM10_YEARS, MULTI_YEAR, analytics_home

duckdb = pytest.importorskip("duckdb")
httpfs_package = pytest.importorskip("duckdb_extension_httpfs")

ROOTS_PER_VERSION = 20
PARQUET = "application/vnd.apache.parquet"
TABLES = ("concepts", "designations", "properties", "closure")

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(analytics_home(tmp_path_factory), {"SMT_EXPAND_MAX": "100000"}) as url:
        yield url


@pytest.fixture(scope="module")
def http(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def duck() -> Iterator[object]:
    """DuckDB with ``httpfs`` loaded from the PyPI package (nothing downloaded, autoload off)."""
    extension = (Path(str(resources.files(httpfs_package))) / "extensions" / f"v{duckdb.__version__}"
                 / "httpfs.duckdb_extension")
    connection = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    connection.execute(f"LOAD '{extension}'")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def releases(http: httpx.Client) -> dict[str, str]:
    """CIM-10 version → release id."""
    listing = http.get("/releases", params={"url": CIM10}).json()["releases"]
    found = {r["version"]: r["id"] for r in listing}
    assert sorted(found) == list(CIM10_YEARS)
    return found


def url_of(base: str, release: str, table: str) -> str:
    return f"{base}/releases/{release}/download/parquet-{table}"


def expand_is_a(http: httpx.Client, version: str, root: str) -> set[str]:
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "valueSet", "resource": {"resourceType": "ValueSet", "status": "active", "compose": {"include": [
            {"system": CIM10, "version": version, "filter": [{"property": "concept", "op": "is-a", "value": root}]}]}}},
        {"name": "excludeNested", "valueBoolean": True}, {"name": "count", "valueInteger": 100_000}]}
    answer = http.post("/fhir/ValueSet/$expand", json=body)
    assert answer.status_code == 200, answer.text
    expansion = answer.json()["expansion"]
    codes = {item["code"] for item in expansion.get("contains", [])}
    assert len(codes) == expansion["total"]
    return codes


@pytest.mark.parametrize("version", CIM10_YEARS)
def test_closure_over_http_returns_the_codes_of_expand_is_a(base: str, http: httpx.Client, duck: object,
                                                            releases: dict[str, str], version: str) -> None:
    concepts = url_of(base, releases[version], "concepts")
    closure = url_of(base, releases[version], "closure")
    rows = duck.execute(f"SELECT code, leaf FROM read_parquet('{concepts}') ORDER BY code").fetchall()
    chooser = random.Random(f"cim10-{version}")
    inner = [code for code, leaf in rows if not leaf]
    roots = chooser.sample(inner, ROOTS_PER_VERSION // 2) + chooser.sample([c for c, _ in rows], ROOTS_PER_VERSION // 2)
    assert len(set(roots)) > ROOTS_PER_VERSION // 2
    for root in roots:
        expected = expand_is_a(http, version, root)
        found = {r[0] for r in duck.execute(
            f"SELECT descendant FROM read_parquet('{closure}') WHERE ancestor = ?", [root]).fetchall()}
        assert found == expected, root
        nested = {r[0] for r in duck.execute(
            f"SELECT c.code FROM read_parquet('{concepts}') c, read_parquet('{concepts}') r "
            "WHERE r.code = ? AND c.lft BETWEEN r.lft AND r.rgt", [root]).fetchall()}
        assert nested == expected, root  # CIM-10 is a tree: the nested set is exact


def test_diff_file_of_2019_to_2020_equals_the_server_diff(base: str, http: httpx.Client, duck: object,
                                                          releases: dict[str, str]) -> None:
    answer = http.get("/releases/diff", params={"url": CIM10, "from": "2019", "to": "2020"})
    assert answer.status_code == 200
    expected = set()
    for kind, changes in answer.json()["changes"].items():
        for change in changes:
            old, new = change.get("old"), change.get("new")
            expected.add((kind, change["code"], change.get("display"), change.get("property"), change.get("language"),
                          change.get("use"), tuple(old) if isinstance(old, list) else (old,) if old else None,
                          tuple(new) if isinstance(new, list) else (new,) if new else None))
    diff = url_of(base, releases["2020"], "diff")
    rows = duck.execute(f"SELECT change, code, display, property, language, use, old, new FROM read_parquet('{diff}')"
                        ).fetchall()
    found = {(*row[:6], tuple(row[6]) if row[6] is not None else None, tuple(row[7]) if row[7] is not None else None)
             for row in rows}
    assert len(rows) == len(found) == sum(answer.json()["summary"].values()) > 0
    assert found == expected
    metadata = dict(duck.execute(f"SELECT key::VARCHAR, decode(value) FROM parquet_kv_metadata('{diff}')").fetchall())
    assert (metadata["from_version"], metadata["to_version"], metadata["table"]) == ("2019", "2020", "diff")


def test_footer_names_terminology_version_licence_and_source_checksums(base: str, duck: object,
                                                                       releases: dict[str, str]) -> None:
    for table in TABLES:
        found = dict(duck.execute("SELECT key::VARCHAR, decode(value) FROM parquet_kv_metadata(?)",
                                  [url_of(base, releases["2019"], table)]).fetchall())
        assert (found["terminology"], found["version"], found["table"]) == (CIM10, "2019", table)
        assert found["licence"] == entry("cim10").licence
        sources = {s["name"]: s["sha256"] for s in orjson.loads(found["sources"])}
        assert sources[MULTI_YEAR.name] == hashlib.sha256(MULTI_YEAR.read_bytes()).hexdigest()


def test_concepts_hold_labels_depth_path_and_parents(base: str, duck: object, releases: dict[str, str]) -> None:
    concepts = url_of(base, releases["2021"], "concepts")
    row = duck.execute(f"SELECT display, label_fr, parents, depth, path, status, leaf FROM read_parquet('{concepts}') "
                       "WHERE code = 'I50.0'").fetchone()
    assert row == ("Insuffisance cardiaque congestive", "Insuffisance cardiaque congestive", ["I50"], 3,
                   ["I00-I99", "I30-I52", "I50", "I50.0"], "active", False)
    depth_ok = duck.execute(f"SELECT count(*) FROM read_parquet('{concepts}') WHERE len(path) <> depth + 1"
                            ).fetchone()
    assert depth_ok == (0,)


def test_byte_ranges(http: httpx.Client, releases: dict[str, str]) -> None:
    path = f"/releases/{releases['2021']}/download/parquet-closure"
    head = http.head(path)
    assert head.status_code == 200 and head.headers["accept-ranges"] == "bytes"
    assert head.headers["content-type"] == PARQUET
    size = int(head.headers["content-length"])
    whole = http.get(path).content
    assert len(whole) == size and whole[:4] == whole[-4:] == b"PAR1"
    first = http.get(path, headers={"Range": "bytes=0-3"})
    assert (first.status_code, first.content, first.headers["content-range"]) == (206, b"PAR1", f"bytes 0-3/{size}")
    tail = http.get(path, headers={"Range": "bytes=-8"})
    assert tail.status_code == 206 and tail.content == whole[-8:]
    several = http.get(path, headers={"Range": "bytes=0-3,100-109"})
    assert several.status_code == 206 and several.headers["content-type"].startswith("multipart/byteranges")
    assert b"PAR1" in several.content and whole[100:110] in several.content
    for bad in (f"bytes={size}-", "bytes=9-2", "bytes=x"):
        refused = http.get(path, headers={"Range": bad})
        assert refused.status_code == 416, bad
        assert refused.headers["content-range"] == f"bytes */{size}"
    assert http.get(path, headers={"Range": "items=0-3"}).content == whole  # another unit: ignored
    etag = head.headers["etag"]
    assert http.get(path, headers={"Range": "bytes=0-3", "If-Range": etag}).status_code == 206
    assert http.get(path, headers={"Range": "bytes=0-3", "If-Range": '"other"'}).content == whole
    assert http.get(path, headers={"If-None-Match": etag}).status_code == 304


def test_manifest_and_feed_list_the_parquet_files(http: httpx.Client, releases: dict[str, str]) -> None:
    manifest = http.get(f"/releases/{releases['2021']}").json()
    offered = {d["format"]: d for d in manifest["downloads"]}
    assert {f"parquet-{t}" for t in (*TABLES, "diff")} <= offered.keys()
    assert all(offered[f"parquet-{t}"]["media_type"] == PARQUET for t in TABLES)
    feed = etree.fromstring(http.get("/feed.xml").content)
    atom = "{http://www.w3.org/2005/Atom}"
    entry_2021 = next(e for e in feed.iter(f"{atom}entry")
                      if e.findtext(f"{atom}id") == f"urn:smt:release:{releases['2021']}")
    links = {link.get("href").rsplit("/", 1)[-1] for link in entry_2021.iter(f"{atom}link")
             if link.get("type") == PARQUET}
    assert {f"parquet-{t}" for t in (*TABLES, "diff")} <= links


def test_value_set_members_and_concept_map_mappings(base: str, http: httpx.Client, duck: object) -> None:
    maps = http.get("/releases", params={"kind": "ConceptMap"}).json()["releases"]
    demo = next(r for r in maps if r["url"].endswith("demo-sssom"))
    resource = http.get(f"/fhir/ConceptMap/{demo['id']}").json()
    targets = [(e["code"], t.get("code"), t["equivalence"]) for g in resource["group"] for e in g["element"]
               for t in e["target"]]
    rows = duck.execute("SELECT source_code, target_code, equivalence FROM read_parquet(?)",
                        [url_of(base, demo["id"], "mappings")]).fetchall()
    assert sorted(rows, key=str) == sorted(targets, key=str)
    jdv = next(r for r in http.get("/releases", params={"kind": "ValueSet"}).json()["releases"]
               if r["url"].endswith("jdv-anomalie-croissance-cisis"))
    listed = {(inc["system"], c["code"]) for inc in http.get(f"/fhir/ValueSet/{jdv['id']}").json()["compose"]["include"]
              for c in inc["concept"]}
    members = set(duck.execute("SELECT system, code FROM read_parquet(?)",
                               [url_of(base, jdv["id"], "concepts")]).fetchall())
    assert members == listed
