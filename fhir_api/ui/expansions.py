"""Expansions and code checks shown by the pages: the very answers of ``$expand`` and ``$validate-code``
(``fhir_api.valueset``), called in-process, never over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from starlette.requests import Request

from fhir_api.errors import FhirError
from fhir_api.valueset import expansion_answer, validation_answer
from smt.errors import SmtError
from smt.releases.registry import Registry
from smt.terminology.parameters import OperationParams, Value


@dataclass(frozen=True, slots=True)
class Member:
    system: str | None
    code: str
    display: str | None
    version: str | None
    inactive: bool
    depth: int


@dataclass(slots=True)
class ExpansionPage:
    """One page of an expansion, or why there is none."""

    total: int = 0
    offset: int = 0
    members: list[Member] = field(default_factory=list)
    body: dict | None = None
    """The expanded ValueSet exactly as ``$expand`` answers it."""
    error: str | None = None


def _members(contains: list[dict], depth: int = 0) -> Iterator[Member]:
    for item in contains:
        if item.get("code"):
            yield Member(item.get("system"), item["code"], item.get("display"), item.get("version"),
                         bool(item.get("inactive")), depth)
        yield from _members(item.get("contains", []), depth + 1)


def error_text(exc: Exception) -> str:
    """What an API error or an SMT error says, for a page."""
    return exc.text if isinstance(exc, FhirError) else str(exc)


def expansion_page(request: Request, registry: Registry, *, resource_id: str | None = None,
                   value_set: dict | None = None, count: int | None = None, offset: int = 0,
                   text: str | None = None) -> ExpansionPage:
    """``$expand`` of a stored value set release (``resource_id``) or of a ValueSet resource, paged."""
    items: list[tuple[str, Value]] = []
    if value_set is not None:
        items.append(("valueSet", {"resource": value_set}))
    if count is not None:
        items += [("count", str(count)), ("offset", str(offset))]
    if text:
        items.append(("filter", text))
    try:
        body = expansion_answer(request, OperationParams(items), registry, resource_id)
    except (SmtError, FhirError) as exc:
        return ExpansionPage(error=error_text(exc))
    expansion = body.get("expansion", {})
    return ExpansionPage(expansion.get("total", 0), expansion.get("offset", offset),
                         list(_members(expansion.get("contains", []))), body)


@dataclass(frozen=True, slots=True)
class CodeCheck:
    code: str
    result: bool | None
    message: str | None
    display: str | None


def check_code(request: Request, registry: Registry, value_set: dict, system: str, code: str) -> CodeCheck:
    """``$validate-code`` of one code against a ValueSet resource."""
    params = OperationParams([("valueSet", {"resource": value_set}), ("system", system), ("code", code)])
    try:
        answer = validation_answer(request, params, registry)
    except (SmtError, FhirError) as exc:
        return CodeCheck(code, None, error_text(exc), None)
    values = {p["name"]: next((v for k, v in p.items() if k.startswith("value")), None)
              for p in answer.get("parameter", [])}
    return CodeCheck(code, bool(values.get("result")), values.get("message"), values.get("display"))
