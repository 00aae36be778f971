"""``docs/reliability.md`` lists every bounded parameter of the non-FHIR routes with the bound the app declares.

The bounds are read from the real application's OpenAPI document (``maximum``, ``maxLength``, ``maxItems`` of each
parameter), so a bound added, removed or changed without the documentation fails here; every test file the page
names exists.
"""

from __future__ import annotations

import re
from pathlib import Path

from fhir_api.app import create_app

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"
BOUND_KEYS = ("maximum", "maxLength", "maxItems")


def declared_bounds() -> dict[tuple[str, str, str], int]:
    """(method, path, parameter) → the bound the OpenAPI document declares, for routes outside ``/fhir``."""
    found: dict[tuple[str, str, str], int] = {}
    for path, operations in create_app().openapi()["paths"].items():
        if path.startswith("/fhir"):
            continue
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schemas = [parameter.get("schema", {}), *parameter.get("schema", {}).get("anyOf", [])]
                bounds = [schema[key] for schema in schemas for key in BOUND_KEYS if key in schema]
                if bounds:
                    found[(method.upper(), path, parameter["name"])] = bounds[0]
    return found


def bound_rows() -> list[list[str]]:
    section = DOC.read_text(encoding="utf-8").split("## Input bounds", 1)[1].split("\n## ", 1)[0]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| `")]


def test_every_declared_bound_is_documented_with_its_value() -> None:
    rows = bound_rows()
    declared = declared_bounds()
    assert len(declared) > 15
    missing = []
    for (method, path, name), bound in declared.items():
        matching = [row for row in rows if f"`{method} {path}`" in row[0]
                    and (f"`{name}`" in row[1] or row[1] == "every parameter")]
        numbers = {int(n.replace(",", "")) for row in matching for n in re.findall(r"\d[\d,]*", row[2])}
        if bound not in numbers:
            missing.append(f"{method} {path} {name} ≤ {bound}")
    assert not missing, "bounds not in docs/reliability.md: " + "; ".join(missing)


def test_the_tests_named_exist() -> None:
    named = set(re.findall(r"`(tests/[\w/]+\.py)`", DOC.read_text(encoding="utf-8")))
    assert len(named) > 5
    assert [name for name in sorted(named) if not (ROOT / name).is_file()] == []


def test_reads_outside_fhir_declare_the_errors_they_answer() -> None:
    """400 (OperationOutcome or the route's format) and the request limits' 413/414/431, never FastAPI's 422."""
    paths = create_app().openapi()["paths"]
    for path, operations in paths.items():
        get = operations.get("get")
        if path.startswith("/fhir") or get is None or not get.get("parameters"):
            continue
        assert {"400", "413", "414", "431"} <= set(get["responses"]), path
        assert "422" not in get["responses"], path
    assert {"403", "406", "503"} <= set(paths["/sparql"]["post"]["responses"])
    assert "text/xml" in paths["/svs/RetrieveValueSet"]["get"]["responses"]["400"]["content"]
