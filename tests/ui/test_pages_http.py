"""The web interface over HTTP (no browser): addresses, languages, content negotiation of concept IRIs, the
console's sign-in, roles and CSRF checks, the composer's ValueSet — on a small store of demo releases."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from fhir_api.app import create_app
from fhir_api.ui.composition import Composition, Rule, parse, value_set
from fhir_api.ui.i18n import catalogue
from fhir_api.ui.pages import TEMPLATES_DIR
from fhir_api.ui.resources import resources
from smt.compile import writable_store
from smt.model import ResourceRelease
from smt.releases.registry import Registry
from tests.terminology.test_engine_codesystem import DEMO, demo_releases

ADMIN = "http-admin-token"
OTHER_CURATOR = "http-other-curator-token"
VS_URL = "http://smt.example.org/ValueSet/demo-alpha"


def alpha_value_set() -> ResourceRelease:
    resource = {"resourceType": "ValueSet", "url": VS_URL, "version": "1", "name": "DemoAlpha",
                "title": "Alpha et descendants", "status": "active",
                "identifier": [{"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.250.1.999.2"}],
                "compose": {"include": [{"system": DEMO, "filter": [
                    {"property": "concept", "op": "is-a", "value": "A"}]}]}}
    return ResourceRelease(kind="ValueSet", url=VS_URL, version="1", name="DemoAlpha",
                           title="Alpha et descendants", resource=resource, publisher="SMT tests")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ui-http")
    store = writable_store(path)
    store.load_many([*demo_releases(), alpha_value_set()])
    return path


@pytest.fixture(scope="module")
def client(home: Path) -> Iterator[TestClient]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMT_STATIC_TOKENS", f"{ADMIN}:admin,{OTHER_CURATOR}:curator:Another publisher")
        app = create_app(home)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def registry_of(client: TestClient) -> Registry:
    return client.app.state.registry  # type: ignore[attr-defined]  # the TestClient's app is our FastAPI app


def signed_in(client: TestClient, token: str) -> TestClient:
    fresh = TestClient(client.app, raise_server_exceptions=False)
    answer = fresh.post("/console/signin", data={"token": token}, follow_redirects=False)
    assert answer.status_code == 303
    return fresh


def csrf(client: TestClient) -> str:
    return client.cookies["smt_csrf"]


# -- catalogue and templates --------------------------------------------------------------------------------


def test_catalogues_have_the_same_keys() -> None:
    assert set(catalogue("fr")) == set(catalogue("en"))


def test_every_message_a_template_names_exists() -> None:
    used = set()
    for template in TEMPLATES_DIR.rglob("*.html"):
        literal = r"""\bt\(\s*["']([a-z_]+\.[A-Za-z_.=-]+)["']\s*[,)]"""  # t("key") or t("key", …)
        used |= set(re.findall(literal, template.read_text()))
    assert used, "templates call t('…')"
    assert sorted(used - set(catalogue("fr"))) == []


# -- pages --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/", "/find?q=alpha", "/terminologies/Demo", "/terminologies/Demo/concepts/A",
    "/terminologies/Demo/concepts/A?version=1.0.0", "/terminologies/Demo/concepts/A/children",
    "/terminologies/Demo/compare?from=1.0.0&to=2.0.0", "/valuesets", "/valuesets/DemoAlpha", "/composer",
    "/console", "/docs"])
def test_pages_answer_html_in_french_with_a_content_security_policy(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    if not path.endswith("/children"):
        assert '<html lang="fr"' in page.text


def test_pages_name_no_other_host(client: TestClient) -> None:
    for path in ("/", "/docs", "/terminologies/Demo/concepts/A"):
        sources = re.findall(r'(?:src|href)="([^"]+)"', client.get(path).text)
        assert [s for s in sources if s.startswith(("http:", "https:", "//"))] == [], path


def test_code_system_comparison_links_to_the_impact_report(client: TestClient) -> None:
    page = client.get("/terminologies/Demo/compare", params={"from": "1.0.0", "to": "2.0.0"})
    section = re.search(r'<p id="impact">.*?</p>', page.text)
    assert section is not None, page.text
    links = re.findall(r'href="(/releases/impact\?[^"]+)"', section.group(0))
    assert len(links) == 2  # HTML and JSON
    report = client.get(html.unescape(links[1])).json()
    assert (report["from"]["version"], report["to"]["version"]) == ("1.0.0", "2.0.0")
    assert VS_URL in {v["url"] for v in report["value_sets"]}  # is-a A changes between the versions
    assert client.get(html.unescape(links[0])).headers["content-type"].startswith("text/html")


def test_english_is_chosen_with_lang_and_remembered(client: TestClient) -> None:
    fresh = TestClient(client.app)
    english = fresh.get("/", params={"lang": "en"})
    assert '<html lang="en"' in english.text and "Catalogue of terminologies" in english.text
    assert '<html lang="en"' in fresh.get("/valuesets").text  # the cookie remembers the choice
    assert '<html lang="fr"' in fresh.get("/", params={"lang": "fr"}).text


def test_accept_language_does_not_override_french(client: TestClient) -> None:
    page = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="fr"' in page.text


def test_unknown_pages_answer_404_pages(client: TestClient) -> None:
    for path in ("/terminologies/nothing", "/terminologies/Demo/concepts/ZZZ", "/valuesets/nothing",
                 "/terminologies/Demo/concepts/A?version=9"):
        page = client.get(path)
        assert page.status_code == 404 and '<html lang="fr"' in page.text, path


def test_drafts_are_listed_for_curators_only(client: TestClient) -> None:
    assert "3.0.0" not in client.get("/terminologies/Demo").text
    admin = signed_in(client, ADMIN)
    assert "3.0.0" in admin.get("/terminologies/Demo").text


def test_concept_iri_answers_a_browser_with_the_concept_page(client: TestClient) -> None:
    iri = "http://smt.example.org/CodeSystem/demo/A1"
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    page = client.get("/concept", params={"iri": iri}, headers=browser, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/terminologies/Demo/concepts/A1"
    older = client.get("/concept", params={"iri": iri, "version": "1.0.0"}, headers=browser,
                       follow_redirects=False)
    assert older.headers["location"] == "/terminologies/Demo/concepts/A1?version=1.0.0"
    turtle = client.get("/concept", params={"iri": iri}, headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")


def test_resource_keys_are_unique_and_stable(client: TestClient) -> None:
    registry = registry_of(client)
    keys = [r.key for r in resources(registry, "CodeSystem")] + [r.key for r in resources(registry, "ValueSet")]
    assert keys == ["Demo", "DemoAlpha"]


# -- console: sign-in, roles, CSRF --------------------------------------------------------------------------


def test_sign_in_refuses_a_bad_token(client: TestClient) -> None:
    page = client.post("/console/signin", data={"token": "nope"})
    assert page.status_code == 401 and "smt_session" not in page.cookies


def test_session_cookie_is_http_only_and_strict(client: TestClient) -> None:
    answer = TestClient(client.app).post("/console/signin", data={"token": ADMIN}, follow_redirects=False)
    cookies = answer.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("smt_session="))
    assert "HttpOnly" in session and "SameSite=strict" in session


def test_console_actions_need_a_session_and_a_csrf_token(client: TestClient) -> None:
    draft = next(r for r in registry_of(client).releases() if r.version == "3.0.0")
    anonymous = client.post(f"/console/releases/{draft.id}/status", data={"status": "active", "reason": "x"})
    assert anonymous.status_code == 401
    admin = signed_in(client, ADMIN)
    no_token = admin.post(f"/console/releases/{draft.id}/status", data={"status": "active", "reason": "x"})
    assert no_token.status_code == 403
    no_reason = admin.post(f"/console/releases/{draft.id}/status",
                           data={"status": "active", "reason": " ", "csrf": csrf(admin)})
    assert no_reason.status_code == 400
    assert registry_of(client).store.get(draft.id).status == "draft"


def test_a_curator_of_another_publisher_sees_no_button_and_is_refused(client: TestClient) -> None:
    draft = next(r for r in registry_of(client).releases() if r.version == "3.0.0")
    other = signed_in(client, OTHER_CURATOR)
    page = other.get(f"/console/releases/{draft.id}")
    assert page.status_code == 200
    assert 'id="pas-autorise"' in page.text and "/status" not in page.text
    refused = other.post(f"/console/releases/{draft.id}/status",
                         data={"status": "active", "reason": "forged", "csrf": csrf(other)})
    assert refused.status_code == 403
    assert registry_of(client).store.get(draft.id).status == "draft"


def test_retiring_keeps_the_reason_in_the_audit_trail(client: TestClient) -> None:
    old = next(r for r in registry_of(client).releases() if r.version == "1.0.0" and r.url == DEMO)
    admin = signed_in(client, ADMIN)
    done = admin.post(f"/console/releases/{old.id}/status",
                      data={"status": "retired", "reason": "remplacée par la 2.0.0", "csrf": csrf(admin)},
                      follow_redirects=False)
    assert done.status_code == 303
    assert registry_of(client).store.get(old.id).status == "retired"
    assert "remplacée par la 2.0.0" in admin.get("/console/audit").text
    events = admin.get("/fhir/AuditEvent", params={"entity": old.id},
                       headers={"Authorization": f"Bearer {ADMIN}"}).json()
    assert events["entry"][0]["resource"]["purposeOfEvent"] == [{"text": "remplacée par la 2.0.0"}]


# -- composer -----------------------------------------------------------------------------------------------


def test_composition_round_trips_through_its_address() -> None:
    state = Composition("Demo", "2.0.0", [Rule("include", "is-a", "A"), Rule("exclude", "codes", "A1 A2")],
                        title="Mon jeu")
    from starlette.datastructures import QueryParams

    assert parse(QueryParams(state.params())) == state


def test_composer_value_set_and_expansion_are_those_of_expand(client: TestClient) -> None:
    params: list[tuple[str, str | int | float | bool | None]] = [
        ("system", "Demo"), ("version", "2.0.0"), ("op", "include"), ("kind", "is-a"), ("prop", ""),
        ("value", "ROOT"), ("op", "exclude"), ("kind", "codes"), ("prop", ""), ("value", "A2 B")]
    definition = client.get("/composer/valueset.json", params=params).json()
    assert definition["compose"] == {
        "include": [{"system": DEMO, "version": "2.0.0", "filter": [
            {"property": "concept", "op": "is-a", "value": "ROOT"}]}],
        "exclude": [{"system": DEMO, "version": "2.0.0", "concept": [{"code": "A2"}, {"code": "B"}]}]}
    expected = client.post("/fhir/ValueSet/$expand", content=orjson.dumps(
        {"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": definition}]}),
        headers={"Content-Type": "application/fhir+json"}).json()
    downloaded = client.get("/composer/expansion.json", params=params).json()
    for body in (expected, downloaded):
        body["expansion"].pop("identifier")
        body["expansion"].pop("timestamp")
    assert downloaded == expected
    page = client.get("/composer", params=params).text
    shown = re.findall(r'<td class="smt-code">([^<]+)</td>', page)
    assert shown == [c["code"] for c in expected["expansion"]["contains"]] == ["ROOT", "A", "A1", "AB"]


def test_composer_edits_redirect_to_the_new_address(client: TestClient) -> None:
    answer = client.get("/composer", params=[("system", "Demo"), ("add", "B")], follow_redirects=False)
    assert answer.status_code == 303
    assert "kind=codes" in answer.headers["location"] and "value=B" in answer.headers["location"]


def test_composer_value_set_rule_includes_another_value_set(client: TestClient) -> None:
    registry = registry_of(client)
    vs = value_set(registry, Composition("Demo", "2.0.0", [Rule("include", "valueset", "DemoAlpha")]), None)
    assert vs["compose"] == {"include": [{"valueSet": [VS_URL]}]}


def test_composer_save_needs_a_curator(client: TestClient) -> None:
    form = {"system": "Demo", "version": "2.0.0", "op": "include", "kind": "codes", "prop": "", "value": "A B",
            "url": "http://smt.example.org/ValueSet/composed", "vs_version": "1", "title": "Composé"}
    assert client.post("/composer/save", data=form).status_code == 401
    admin = signed_in(client, ADMIN)
    saved = admin.post("/composer/save", data={**form, "csrf": csrf(admin)}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].startswith("/valuesets/")
    stored = [r for r in registry_of(client).releases() if r.url == form["url"]]
    assert [(r.status, r.count) for r in stored] == [("draft", 2)]


def test_value_sets_are_found_by_name_oid_and_terminology(client: TestClient) -> None:
    for words in ("DemoAlpha", "1.2.250.1.999.2", "Démo SMT", "smt.example.org CodeSystem demo"):
        page = client.get("/valuesets", params={"q": words}).text
        assert 'href="/valuesets/DemoAlpha"' in page, words
    assert 'href="/valuesets/DemoAlpha"' not in client.get("/valuesets", params={"q": "cisp"}).text


def test_a_curator_saves_a_composition_for_its_publisher(client: TestClient) -> None:
    form = {"system": "Demo", "version": "2.0.0", "op": "include", "kind": "codes", "prop": "", "value": "A1",
            "url": "http://smt.example.org/ValueSet/composed-by-curator", "vs_version": "1"}
    curator = signed_in(client, OTHER_CURATOR)
    saved = curator.post("/composer/save", data={**form, "csrf": csrf(curator)}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].startswith("/valuesets/")
    (stored,) = [r for r in registry_of(client).releases() if r.url == form["url"]]
    assert (stored.status, stored.publisher) == ("draft", "Another publisher")


def test_saving_a_composition_twice_tells_why_it_failed(client: TestClient) -> None:
    form = {"system": "Demo", "version": "2.0.0", "op": "include", "kind": "codes", "prop": "", "value": "B",
            "url": "http://smt.example.org/ValueSet/twice", "vs_version": "1"}
    admin = signed_in(client, ADMIN)
    assert admin.post("/composer/save", data={**form, "csrf": csrf(admin)}, follow_redirects=False).status_code == 303
    again = admin.post("/composer/save", data={**form, "csrf": csrf(admin)})
    assert again.status_code == 200 and "Enregistrement impossible" in again.text and "already loaded" in again.text


def test_a_failed_upload_reports_the_loader_error(client: TestClient, tmp_path: Path) -> None:
    admin = signed_in(client, ADMIN)
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(b"not gzip at all")
    started = admin.post("/console/upload", data={"loader": "cim10", "csrf": csrf(admin)},
                         files={"file": ("broken.json.gz", broken.read_bytes())}, follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"].startswith("/console/jobs/")
    for _ in range(100):
        page = admin.get(started.headers["location"] + "/progress").text
        if 'id="echec"' in page:
            break
        time.sleep(0.1)
    assert 'id="echec"' in page and "broken.json.gz" in page and "unexpected error" not in page
