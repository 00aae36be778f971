"""The SERVICE finder: the keyword as SPARQL lexes it, whatever case, escapes, strings, IRIs or comments around it."""

from __future__ import annotations

import pytest

from smt.errors import FederationRefused
from smt.sparql.federation import check_federation, is_allowed, service_endpoints


@pytest.mark.parametrize(("query", "endpoints"), [
    ("SELECT * WHERE { SERVICE <http://a/s> { ?s ?p ?o } }", ["http://a/s"]),
    ("select * where { service silent <http://a/s> { ?s ?p ?o } }", ["http://a/s"]),
    ("SELECT * WHERE { \\u0053ERVICE <http://a/s> { ?s ?p ?o } }", ["http://a/s"]),
    ("SELECT * WHERE { SERVICE <http://a/\\u0073> { ?s ?p ?o } }", ["http://a/s"]),
    ("PREFIX e: <http://a/> SELECT * WHERE { SERVICE e:s { ?s ?p ?o } }", ["http://a/s"]),
    ("SELECT * WHERE { SERVICE undeclared:s { ?s ?p ?o } }", [None]),
    ("SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }", [None]),
    ("BASE <http://a/> SELECT * WHERE { SERVICE <s> { ?s ?p ?o } }", [None]),
    ("SELECT * WHERE { FILTER(?a<?b)SERVICE<http://evil/>{?s ?p ?o} }", ["http://evil/"]),
    ("SELECT * WHERE { ?s ?p ?o .SERVICE<http://evil/>{?s ?p ?o} }", ["http://evil/"]),
    ("SELECT * WHERE { ?s ?p 'it\\'s' SERVICE <http://b/> { } }", ["http://b/"]),
    ("SELECT * WHERE { ?s ?p 'SERVICE <http://a/>' }", []),
    ('SELECT * WHERE { ?s ?p """x " SERVICE <http://a/> "" """ }', []),
    ("SELECT * WHERE { ?s ?p \"Service d'urgence\"@fr }", []),
    ("SELECT * WHERE { ?s <http://x/SERVICE> ?o } # SERVICE <http://a/> { }\n", []),
    ("SELECT * WHERE { ?service ?p ?o . ?s ex:service ?o . ?s ex:a.SERVICE ?o . ?s service:x ?o }", []),
])
def test_service_endpoints(query: str, endpoints: list[str | None]) -> None:
    assert service_endpoints(query) == endpoints


def test_federation_is_refused_unless_allowed() -> None:
    query = "SELECT * WHERE { SERVICE <http://a.example/sparql> { ?s ?p ?o } }"
    with pytest.raises(FederationRefused, match="SMT_SPARQL_SERVICE_ALLOW"):
        check_federation(query, ())
    check_federation(query, ("http://a.example/sparql",))
    check_federation(query, ("http://a.example/*",))
    with pytest.raises(FederationRefused, match="not allowed"):
        check_federation(query, ("http://b.example/*",))
    with pytest.raises(FederationRefused, match="absolute endpoint IRI"):
        check_federation("SELECT * WHERE { SERVICE ?x { } }", ("http://a.example/*",))
    check_federation("SELECT * WHERE { ?s ?p ?o }", ())
    assert not is_allowed("http://a.example.evil/sparql", ("http://a.example/*",))
