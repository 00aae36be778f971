"""Write API: bearer tokens (static and OIDC JWT), roles, curator publisher scope, audit trail."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm

from fhir_api.app import create_app
from smt.config import SAMPLES_DIR
from tests.fhir_validation import assert_valid_fhir

ISSUER = "https://auth.example.test/realms/smt"
ADMIN = {"Authorization": "Bearer admin-secret"}
ATIH_CURATOR = {"Authorization": "Bearer atih-secret"}

CODE_SYSTEM = {
    "resourceType": "CodeSystem", "url": "http://example.org/fhir/CodeSystem/demo", "version": "1.0.0",
    "name": "Demo", "status": "active", "content": "complete", "publisher": "ATIH",
    "concept": [{"code": "a", "display": "A"}, {"code": "b", "display": "B"}],
}


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def client(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signing_key: rsa.RSAPrivateKey,
           ) -> TestClient:
    jwk = orjson.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_bytes(orjson.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    monkeypatch.setenv("SMT_STATIC_TOKENS", "admin-secret:admin,atih-secret:curator:ATIH")
    monkeypatch.setenv("SMT_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("SMT_OIDC_JWKS_FILE", str(jwks))
    monkeypatch.setenv("SMT_OIDC_ROLES_CLAIM", "realm_access.roles")
    return TestClient(create_app(home))


def token(key: rsa.RSAPrivateKey, roles: list[str], publisher: str | None, issuer: str = ISSUER,
          expires_in: int = 300) -> dict[str, str]:
    claims = {"iss": issuer, "sub": "user-42", "exp": int(time.time()) + expires_in,
              "realm_access": {"roles": roles}}
    if publisher:
        claims["publisher"] = publisher
    signed = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    return {"Authorization": f"Bearer {signed}"}


def test_writes_need_a_token(client: TestClient) -> None:
    response = client.post("/fhir/CodeSystem", json=CODE_SYSTEM)
    assert response.status_code == 401
    assert response.json()["issue"][0]["code"] == "login"
    assert client.post("/fhir/CodeSystem", json=CODE_SYSTEM, headers={"Authorization": "Bearer wrong"}
                       ).status_code == 401


def test_create_publish_retire_delete_with_audit(client: TestClient) -> None:
    created = client.post("/fhir/CodeSystem", json=CODE_SYSTEM, headers=ATIH_CURATOR)
    assert created.status_code == 201, created.text
    release_id = created.headers["Location"].rsplit("/", 1)[-1]
    assert client.get(f"/fhir/CodeSystem/{release_id}").status_code == 404  # drafts: curators only
    read = client.get(f"/fhir/CodeSystem/{release_id}", headers=ATIH_CURATOR).json()
    assert read["status"] == "draft"
    published = client.put(f"/fhir/CodeSystem/{release_id}", json={**CODE_SYSTEM, "status": "active"},
                           headers=ATIH_CURATOR)
    assert published.status_code == 200, published.text
    assert client.get(f"/fhir/CodeSystem/{release_id}").json()["status"] == "active"
    changed = client.put(f"/fhir/CodeSystem/{release_id}", json={**CODE_SYSTEM, "version": "2"},
                         headers=ATIH_CURATOR)
    assert changed.status_code == 422
    assert client.delete(f"/fhir/CodeSystem/{release_id}", headers=ADMIN).status_code == 200
    assert client.get(f"/fhir/CodeSystem/{release_id}").status_code == 404

    assert client.get("/fhir/AuditEvent").status_code == 401  # the trail names drafts and their authors
    events = client.get("/fhir/AuditEvent", params={"entity": release_id}, headers=ADMIN).json()
    assert_valid_fhir(events)
    actions = [e["resource"]["subtype"][0]["code"] for e in events["entry"]]
    assert actions == ["delete", "update", "create"]
    update = events["entry"][1]["resource"]
    assert update["agent"][0]["who"]["display"] == "static:curator"
    details = {d["type"]: orjson.loads(d["valueString"]) for d in update["entity"][0]["detail"]}
    assert (details["before"]["status"], details["after"]["status"]) == ("draft", "active")
    one = client.get(f"/fhir/AuditEvent/{update['id']}", headers=ADMIN)
    assert one.status_code == 200 and one.json()["action"] == "U"
    assert client.get(f"/fhir/AuditEvent/{update['id']}").status_code == 401


def test_curator_of_another_publisher_is_refused(client: TestClient, signing_key: rsa.RSAPrivateKey) -> None:
    other = token(signing_key, ["curator"], "WONCA")
    response = client.post("/fhir/CodeSystem", json=CODE_SYSTEM, headers=other)
    assert response.status_code == 403
    assert response.json()["issue"][0]["code"] == "forbidden"
    assert client.post("/fhir/CodeSystem", json=CODE_SYSTEM, headers=token(signing_key, ["curator"], "ATIH")
                       ).status_code == 201


def test_oidc_tokens_are_validated(client: TestClient, signing_key: rsa.RSAPrivateKey) -> None:
    expired = token(signing_key, ["admin"], None, expires_in=-10)
    assert client.post("/fhir/CodeSystem", json=CODE_SYSTEM, headers=expired).status_code == 401
    foreign = token(signing_key, ["admin"], None, issuer="https://evil.example")
    assert client.post("/fhir/CodeSystem", json=CODE_SYSTEM, headers=foreign).status_code == 401
    intruder = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert client.post("/fhir/CodeSystem", json=CODE_SYSTEM, headers=token(intruder, ["admin"], None)
                       ).status_code == 401
    no_role = token(signing_key, [], "ATIH")
    assert client.post("/fhir/CodeSystem", json=CODE_SYSTEM, headers=no_role).status_code == 403


def zipped_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{folder.name}/{path.name}")
    return buffer.getvalue()


def test_upload_source_file_creates_draft_with_report(client: TestClient) -> None:
    files = {"file": ("cisp2.zip", zipped_folder(SAMPLES_DIR / "cisp2"), "application/zip")}
    refused = client.post("/releases", files=files, data={"loader": "cisp2"}, headers=ATIH_CURATOR)
    assert refused.status_code == 403  # CISP-2 belongs to WONCA
    created = client.post("/releases", files=files, data={"loader": "cisp2", "version": "up-1"}, headers=ADMIN)
    assert created.status_code == 201, created.text
    report = created.json()["releases"][0]
    assert (report["version"], report["status"]) == ("up-1", "draft")
    again = client.post("/releases", files=files, data={"loader": "cisp2", "version": "up-1"}, headers=ADMIN)
    assert again.status_code == 409


def test_security_headers_and_size_limit(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    response = client.get("/fhir/metadata")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in response.headers
    missing = client.get("/fhir/CodeSystem/no-such-release")
    assert missing.status_code == 404
    assert (missing.headers["x-frame-options"], missing.headers["referrer-policy"]) == ("DENY", "no-referrer")
    assert missing.headers.get_list("x-content-type-options") == ["nosniff"]
    https = client.get("/fhir/metadata", headers={"X-Forwarded-Proto": "https"})
    assert https.headers["strict-transport-security"].startswith("max-age=")
    monkeypatch.setenv("SMT_MAX_REQUEST_BYTES", "100")
    big = client.post("/fhir/CodeSystem", json=CODE_SYSTEM, headers=ADMIN)
    assert big.status_code == 413
    assert big.json()["resourceType"] == "OperationOutcome"


def test_upload_single_file_and_bad_input(client: TestClient) -> None:
    source = SAMPLES_DIR / "cim10" / "LIBCIM10MULTI_2021_extrait.TXT"
    files = {"file": ("LIBCIM10MULTI_2019.TXT", source.read_bytes(), "text/plain")}
    created = client.post("/releases", files=files, data={"loader": "cim10"}, headers=ADMIN)
    assert created.status_code == 201, created.text
    assert created.json()["releases"][0]["version"] == "2019"
    broken = {"file": ("LIBCIM10MULTI_2018.TXT", b"A00|3|NNNN\n", "text/plain")}
    response = client.post("/releases", files=broken, data={"loader": "cim10"}, headers=ADMIN)
    assert response.status_code == 422
    assert "LIBCIM10MULTI_2018.TXT:1" in response.json()["issue"][0]["details"]["text"]
    assert client.post("/releases", files=files, data={"loader": "nope"}, headers=ADMIN).status_code == 400


def test_audit_trail_needs_a_token_and_shows_curators_their_publisher_only(
        client: TestClient, signing_key: rsa.RSAPrivateKey) -> None:
    created = client.post("/fhir/CodeSystem", json=CODE_SYSTEM, headers=ATIH_CURATOR)
    assert created.status_code == 201, created.text
    release_id = created.headers["Location"].rsplit("/", 1)[-1]
    anonymous = client.get("/fhir/AuditEvent")
    assert anonymous.status_code == 401 and anonymous.json()["resourceType"] == "OperationOutcome"
    assert release_id not in anonymous.text and "static:curator" not in anonymous.text
    assert client.get("/fhir/AuditEvent", headers={"Authorization": "Bearer wrong"}).status_code == 401

    def events(headers: dict[str, str]) -> list[dict]:
        response = client.get("/fhir/AuditEvent", headers=headers)
        assert response.status_code == 200, response.text
        return [entry["resource"] for entry in response.json()["entry"]]

    own = events(ATIH_CURATOR)
    assert [e["entity"][0]["what"]["reference"] for e in own] == [f"CodeSystem/{release_id}"]
    assert events(ADMIN) == own
    other = token(signing_key, ["curator"], "WONCA")
    assert events(other) == []
    assert client.get(f"/fhir/AuditEvent/{own[0]['id']}", headers=other).status_code == 404
    assert client.get(f"/fhir/AuditEvent/{own[0]['id']}", headers=ATIH_CURATOR).status_code == 200
