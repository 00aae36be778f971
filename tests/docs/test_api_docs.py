"""``docs/api.md`` lists every HTTP route and every ``SMT_*`` setting the code reads (a new one must be documented).

Routes are read from the real application (every router, schema or not); settings are the ``"SMT_…"`` string
literals of the packages. A documented path may abbreviate: ``[/{id}]`` is an optional segment and
``{CodeSystem,ValueSet}`` lists alternatives; any other ``{name}`` is a path parameter.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from starlette.routing import BaseRoute, Mount

from fhir_api.app import create_app

ROOT = Path(__file__).resolve().parents[2]
API_DOC = ROOT / "docs" / "api.md"
PACKAGES = ("smt", "fhir_api", "loaders")
SETTING = re.compile(r"""["'](SMT_[A-Z0-9_]+)["']""")
CODE_SPAN = re.compile(r"`([^`]+)`")
PARAMETER = re.compile(r"\{[^{},]*\}")


def _routes(routes: list[BaseRoute], prefix: str = "") -> set[str]:
    """Paths of every route, included routers and mounts followed."""
    found: set[str] = set()
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found |= _routes(included.routes, prefix)
        elif isinstance(route, Mount) or hasattr(route, "path"):
            found.add(prefix + route.path)
    return found


def _normal(path: str) -> str:
    return PARAMETER.sub("{}", path.rstrip("/") or "/")


def _expansions(path: str) -> list[str]:
    """Every concrete form of a documented path: optional ``[...]`` parts and ``{a,b}`` alternatives."""
    parts = re.split(r"(\[[^\]]*\]|\{[^{}]*,[^{}]*\})", path)
    choices = []
    for part in parts:
        if part.startswith("["):
            choices.append(["", part[1:-1]])
        elif part.startswith("{") and "," in part:
            choices.append(part[1:-1].split(","))
        else:
            choices.append([part])
    return ["".join(combo) for combo in itertools.product(*choices)]


def documented_paths(text: str) -> set[str]:
    paths: set[str] = set()
    for span in CODE_SPAN.findall(text):
        for token in span.split():
            if token.startswith("/"):
                for path in _expansions(token.split("?")[0]):
                    paths.add(_normal(path))
    return paths


@pytest.fixture(scope="module")
def api_doc() -> str:
    return API_DOC.read_text(encoding="utf-8")


def test_every_route_is_in_the_api_doc(tmp_path_factory: pytest.TempPathFactory, api_doc: str) -> None:
    app = create_app(tmp_path_factory.mktemp("docs-home"))
    routes = {_normal(path) for path in _routes(app.router.routes)}
    assert len(routes) > 40, "the app's routes were not found: has the router structure changed?"
    missing = sorted(routes - documented_paths(api_doc))
    assert not missing, f"routes missing from docs/api.md: {missing}"


def test_every_setting_is_in_the_api_doc(api_doc: str) -> None:
    settings = {name for package in PACKAGES for source in (ROOT / package).rglob("*.py")
                for name in SETTING.findall(source.read_text(encoding="utf-8"))}
    assert "SMT_HOME" in settings, "settings were not found: are the packages where the test looks?"
    missing = sorted(s for s in settings if s not in api_doc)
    assert not missing, f"settings missing from docs/api.md: {missing}"


def test_the_path_abbreviations_expand_as_documented() -> None:
    assert sorted(_expansions("/fhir/CodeSystem[/{id}]/$lookup")) == [
        "/fhir/CodeSystem/$lookup", "/fhir/CodeSystem/{id}/$lookup"]
    assert _expansions("/fhir/{CodeSystem,ValueSet}/{id}") == ["/fhir/CodeSystem/{id}", "/fhir/ValueSet/{id}"]
    assert documented_paths("| `GET /search?q=&system=` |") == {"/search"}
