"""FHIR search over stored terminology resources (CodeSystem, ValueSet, ConceptMap), as FHIR R4 search.html
says, and the searchset ``Bundle``.

* Parameters (``SEARCH_PARAMETERS`` plus each type's own): ``string`` ones (``name``, ``title``, ``publisher``,
  ``description``) match when the value starts with the searched text, ``:contains`` anywhere, both ignoring
  case and accents, ``:exact`` the whole value as written (§3.1.1.4.8); ``token`` ones match exactly (``:not``
  inverts, §3.1.1.4.10), ``identifier`` compares OIDs with or without ``urn:oid:``; ``uri`` ones (``url``)
  compare canonicals (trailing slash, catalogue OIDs and aliases resolved; a resource's own OIDs count as its
  canonicals) and ``:below``/``:above`` compare path prefixes (§3.1.1.4.13); ``date`` takes the prefixes
  eq, ne, gt, lt, ge, le, sa, eb over the implicit range of each date (§3.1.1.4.2, §3.1.1.4.3); ``_text`` and
  ``_content`` need every word in the name, title or description. A comma separates alternatives; a repeated
  parameter must match each time (§3.1.1.4.1).
* Result parameters: ``_count`` / ``_offset`` (paging with a ``next`` link, within ``MAX_SEARCH_COUNT`` and
  ``MAX_OFFSET``), ``_sort`` (``-`` descending),
  ``_summary``, ``_elements`` (``smt.fhir_r4.elements``).
* Unknown parameters and unsupported modifiers are ignored (§3.1.1.2 "Handling errors"): the ``self`` link
  shows only the parameters used and an OperationOutcome entry (``search.mode`` = outcome) lists those
  ignored; with ``Prefer: handling=strict`` they are refused with a 400 OperationOutcome instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Generic, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from fhir_api.openapi_fhir import route_docs
from fhir_api.responses import fhir_base, fhir_json
from smt.errors import InvalidParameter, NotSupported
from smt.fhir_r4.elements import SUMMARY_MODES, only_elements, summary
from smt.releases.registry import normalise_system
from smt.terminology.expand.filters import fold
from smt.terminology.parameters import MAX_OFFSET, MAX_SEARCH_COUNT, OperationParams

Item = TypeVar("Item")
DEFAULT_COUNT = 100
SP = "http://hl7.org/fhir/SearchParameter/"


@dataclass(frozen=True, slots=True)
class SearchParameter:
    """A search parameter this server acts on: its FHIR type and the definition it follows."""

    name: str
    type: str
    """string, token, uri, date, text or special (a test the resource type gives)."""
    definition: str


SEARCH_PARAMETERS = [
    SearchParameter("_id", "token", SP + "Resource-id"),
    SearchParameter("url", "uri", SP + "conformance-url"),
    SearchParameter("version", "token", SP + "conformance-version"),
    SearchParameter("name", "string", SP + "conformance-name"),
    SearchParameter("title", "string", SP + "conformance-title"),
    SearchParameter("status", "token", SP + "conformance-status"),
    SearchParameter("publisher", "string", SP + "conformance-publisher"),
    SearchParameter("description", "string", SP + "conformance-description"),
    SearchParameter("date", "date", SP + "conformance-date"),
    SearchParameter("identifier", "token", SP + "conformance-identifier"),
    SearchParameter("_text", "text", SP + "DomainResource-text"),
    SearchParameter("_content", "text", SP + "Resource-content"),
]
"""The parameters every terminology resource type answers (R4 "conformance" search parameters)."""

RESULT_PARAMETERS = frozenset({"_count", "_offset", "_sort", "_summary", "_elements", "_format", "_pretty"})
_MODIFIERS: dict[str, set[str | None]] = {
    "string": {None, "contains", "exact"}, "token": {None, "not"}, "uri": {None, "below", "above"},
    "date": {None}, "text": {None}, "special": {None},
}
_TEXT_FIELDS = ("name", "title", "description")
_SORTABLE = frozenset({"_id", "url", "version", "name", "title", "status", "publisher", "date"})


@dataclass(frozen=True, slots=True)
class Candidate(Generic[Item]):
    """One resource a search may return: its id, its searchable values by parameter name, and what the
    router builds the resource from."""

    id: str
    fields: dict[str, list[str]]
    item: Item


def searchable_fields(resource: dict, resource_id: str) -> dict[str, list[str]]:
    """The values the common parameters search in a resource (``url`` also lists the resource's OIDs)."""
    identifiers = [str(i.get("value", "")) for i in _items(resource.get("identifier")) if i.get("value")]
    oids = [f"urn:oid:{v.removeprefix('urn:oid:')}" for v in identifiers
            if v.startswith("urn:oid:") or re.fullmatch(r"[0-2](\.\d+)+", v)]
    fields = {name: [str(resource[name])] for name in ("url", "version", "name", "title", "status", "publisher",
                                                       "description", "date") if resource.get(name)}
    fields["_id"] = [resource_id]
    fields["identifier"] = identifiers
    fields["url"] = [*fields.get("url", []), *oids]
    return fields


def _items(value: object) -> list[dict]:
    items = value if isinstance(value, list) else [value] if value else []
    return [i for i in items if isinstance(i, dict)]


SpecialTest = Callable[[Candidate, str], bool]
"""A resource type's own test for a ``special`` parameter: (candidate, one searched value) → match."""


# -- criteria ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Criterion:
    """One ``name[:modifier]=a,b`` of the request: any of ``values`` matches."""

    parameter: SearchParameter
    modifier: str | None
    values: list[str]


def _criteria(params: OperationParams, supported: dict[str, SearchParameter]
              ) -> tuple[list[Criterion], list[tuple[str, str]], list[str]]:
    """The criteria, the ``(name, value)`` pairs used (for the self link) and the names ignored."""
    criteria: list[Criterion] = []
    used: list[tuple[str, str]] = []
    ignored: list[str] = []
    for key, raw in params.items:
        if not isinstance(raw, str):
            continue
        name, _, modifier = key.partition(":")
        if name in RESULT_PARAMETERS and not modifier:
            used.append((key, raw))
            continue
        parameter = supported.get(name)
        if parameter is None or (modifier or None) not in _MODIFIERS[parameter.type]:
            ignored.append(key)
            continue
        values = [v.strip() for v in raw.split(",") if v.strip()] if parameter.type != "text" else [raw.strip()]
        if values:
            criteria.append(Criterion(parameter, modifier or None, values))
            used.append((key, raw))
    return criteria, used, ignored


def _string_match(field: str, wanted: str, modifier: str | None) -> bool:
    if modifier == "exact":
        return field == wanted
    folded, target = fold(field), fold(wanted)
    return target in folded if modifier == "contains" else folded.startswith(target)


def _uri_match(field: str, wanted: str, modifier: str | None) -> bool:
    field, wanted = field.rstrip("/"), normalise_system(wanted)
    if modifier == "below":
        return field == wanted or field.startswith(wanted + "/")
    if modifier == "above":
        return field == wanted or wanted.startswith(field + "/")
    return field == wanted


def _token_match(name: str, field: str, wanted: str) -> bool:
    if name == "identifier":
        _, bar, value = wanted.rpartition("|")
        return field.removeprefix("urn:oid:") == (value if bar else wanted).removeprefix("urn:oid:")
    return field == wanted


def _matches(candidate: Candidate, criterion: Criterion, special: dict[str, SpecialTest]) -> bool:
    parameter, modifier = criterion.parameter, criterion.modifier
    name = parameter.name
    if parameter.type == "special":
        return any(special[name](candidate, value) for value in criterion.values)
    if parameter.type == "text":
        text = fold(" ".join(v for f in _TEXT_FIELDS for v in candidate.fields.get(f, [])))
        return all(word in text for value in criterion.values for word in fold(value).split())
    fields = candidate.fields.get(name, [])
    if parameter.type == "string":
        return any(_string_match(f, v, modifier) for f in fields for v in criterion.values)
    if parameter.type == "uri":
        return any(_uri_match(f, v, modifier) for f in fields for v in criterion.values)
    if parameter.type == "date":
        return any(date_match(f, v) for f in fields for v in criterion.values)
    found = any(_token_match(name, f, v) for f in fields for v in criterion.values)
    return not found if modifier == "not" else found


# -- dates ----------------------------------------------------------------------------------------------------

_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
                   r"(Z|[+-]\d{2}:\d{2})?)?)?)?")
_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")


def date_range(text: str) -> tuple[datetime, datetime] | None:
    """The implicit range ``[start, end)`` of a FHIR date or dateTime (a year, a month, a day, a time)."""
    match = _DATE.fullmatch(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    tz = UTC
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        start = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                         int(second or 0), tzinfo=tz)
    except ValueError:
        return None
    if second is not None:
        end = start + timedelta(seconds=1)
    elif minute is not None:
        end = start + timedelta(minutes=1)
    elif day is not None:
        end = start + timedelta(days=1)
    elif month is not None:
        end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    else:
        end = start.replace(year=start.year + 1)
    return start.astimezone(UTC), end.astimezone(UTC)


def date_match(field: str, wanted: str) -> bool:
    """Whether a resource date matches a ``date`` search value (with its prefix)."""
    prefix, text = (wanted[:2], wanted[2:]) if wanted[:2] in _PREFIXES else ("eq", wanted)
    target, searched = date_range(field), date_range(text)
    if searched is None:
        raise InvalidParameter(f"'{wanted}' is not a FHIR date search value", "date")
    if target is None:
        return False
    (low, high), (start, end) = target, searched
    if prefix == "eq":
        return start <= low and high <= end
    if prefix == "ne":
        return not (start <= low and high <= end)
    if prefix in ("gt", "sa"):
        return high > end if prefix == "gt" else low >= end
    if prefix in ("lt", "eb"):
        return low < start if prefix == "lt" else high <= start
    if prefix == "ge":
        return high > start
    return low < end  # le


# -- sorting and shaping ----------------------------------------------------------------------------------------


def sort_keys(params: OperationParams) -> tuple[list[str], list[str]]:
    """The ``_sort`` keys this server can sort on (``-`` for descending), and the others (ignored)."""
    keys = [k.strip() for value in params.strings("_sort") for k in value.split(",") if k.strip()]
    known = [k for k in keys if k.lstrip("-") in _SORTABLE]
    return known, [f"_sort={k}" for k in keys if k.lstrip("-") not in _SORTABLE]


def _sort_key(name: str, candidate: Candidate) -> str:
    return fold(candidate.fields[name][0])


def _sorted(found: list[Candidate], keys: list[str]) -> list[Candidate]:
    for key in reversed(keys):
        name = key.lstrip("-")
        present = [c for c in found if c.fields.get(name)]
        absent = [c for c in found if not c.fields.get(name)]
        present.sort(key=partial(_sort_key, name), reverse=key.startswith("-"))
        found = present + absent  # missing values last, whatever the direction
    return found


@dataclass(frozen=True, slots=True)
class Shape:
    """What each entry shows: ``_summary`` and ``_elements``."""

    summary: str
    elements: list[str] = field(default_factory=list)

    def wants(self, element: str) -> bool:
        """Whether an element (e.g. CodeSystem ``concept``) is shown: costly ones are built only then."""
        return element in self.elements if self.elements else self.summary in ("false", "data")

    def apply(self, resource: dict) -> dict:
        if self.elements:
            return only_elements(resource, self.elements)
        return summary(resource, self.summary)


def shape_of(params: OperationParams, default_summary: str = "false") -> Shape:
    """The ``_summary`` / ``_elements`` of a request (400 for an unknown ``_summary`` value)."""
    mode = params.string("_summary") or default_summary
    if mode not in SUMMARY_MODES:
        raise InvalidParameter(f"Unknown _summary value '{mode}'", "_summary")
    elements = [e.strip() for value in params.strings("_elements") for e in value.split(",") if e.strip()]
    return Shape(mode, elements)


def search_docs(own: Sequence[SearchParameter] = ()) -> dict:
    """OpenAPI keyword arguments of a search route: its search and result parameters, a searchset Bundle."""
    kinds = {"uri": "uri", "date": "dateTime"}
    types = {p.name: kinds.get(p.type, "string") for p in (*SEARCH_PARAMETERS, *own)}
    types |= {"_count": "integer", "_offset": "integer", "_summary": "code", "_sort": "string", "_elements": "string"}
    return route_docs("Bundle", types, types=types)


# -- the search ---------------------------------------------------------------------------------------------------


def strict_handling(request: Request) -> bool:
    """``Prefer: handling=strict`` (RFC 7240 preference, FHIR R4 http.html §3.1.0.1.7 / search.html §3.1.1.2)."""
    prefer = request.headers.get("prefer", "")
    return any(token.strip().lower().replace(" ", "") == "handling=strict" for token in prefer.split(","))


def _link(request: Request, used: Iterable[tuple[str, str]]) -> str:
    query = urlencode(list(used))
    path = str(request.url.replace(query="")).split("?")[0].removesuffix("/_search")
    return f"{path}?{query}" if query else path


def search_bundle(request: Request, params: OperationParams, resource_type: str,
                  candidates: Iterable[Candidate[Item]], build: Callable[[Item, Shape], dict], *,
                  own: Sequence[SearchParameter] = (), special: dict[str, SpecialTest] | None = None,
                  default_summary: str = "false") -> Response:
    """The searchset Bundle of the candidates that match the request; ``build`` makes a match's resource
    (only for the page shown), ``own`` and ``special`` add the resource type's own parameters."""
    supported = {p.name: p for p in (*SEARCH_PARAMETERS, *own)}
    criteria, used, ignored = _criteria(params, supported)
    keys, unsortable = sort_keys(params)
    ignored += unsortable
    if ignored and strict_handling(request):
        raise NotSupported(f"Unknown or unsupported search parameters: {', '.join(ignored)} (Prefer: "
                           "handling=strict)", ignored[0])
    shape = shape_of(params, default_summary)
    count = params.integer("_count", DEFAULT_COUNT, MAX_SEARCH_COUNT)
    offset = params.integer("_offset", 0, MAX_OFFSET)
    special = special or {}
    found = _sorted([c for c in candidates if all(_matches(c, crit, special) for crit in criteria)], keys)
    bundle: dict = {"resourceType": "Bundle", "type": "searchset", "total": len(found),
                    "link": [{"relation": "self", "url": _link(request, used)}]}
    if shape.summary == "count":
        return fhir_json(request, bundle)
    if offset + count < len(found):
        following = [(k, v) for k, v in used if k != "_offset"] + [("_offset", str(offset + count))]
        bundle["link"].append({"relation": "next", "url": _link(request, following)})
    base = fhir_base(request)
    entries: list[dict] = [{"fullUrl": f"{base}/{resource_type}/{c.id}", "resource": shape.apply(build(c.item, shape)),
                            "search": {"mode": "match"}} for c in found[offset:offset + count]]
    if ignored:
        text = f"Parameters ignored (unknown or not supported here): {', '.join(ignored)}"
        entries.append({"resource": {"resourceType": "OperationOutcome", "issue": [
            {"severity": "warning", "code": "not-supported", "details": {"text": text}, "expression": ignored}]},
            "search": {"mode": "outcome"}})
    bundle["entry"] = entries
    return fhir_json(request, bundle)
