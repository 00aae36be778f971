"""Operation parameters: GET query strings and POST ``Parameters`` bodies unified into one multi-dict.

Values are ``str`` (valueCode, valueUri, valueString, …), ``bool``, numbers, ``CodingValue``,
``CodeableConceptValue`` or, for ``resource``/``part`` parameters, the raw JSON. A Coding may be given in a
query string as ``system|code`` (or ``system|version|code``). POST bodies may also be form-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from fastapi import Request

from fhir_api.errors import FhirError


@dataclass(frozen=True, slots=True)
class CodingValue:
    system: str | None
    code: str | None
    version: str | None = None
    display: str | None = None


@dataclass(frozen=True, slots=True)
class CodeableConceptValue:
    codings: list[CodingValue] = field(default_factory=list)
    text: str | None = None


Value = str | bool | int | float | CodingValue | CodeableConceptValue | dict


def _invalid(text: str, name: str | None = None) -> FhirError:
    return FhirError(400, "invalid", text, expression=[name] if name else None)


def _coding(data: object, name: str) -> CodingValue:
    if not isinstance(data, dict):
        raise _invalid(f"Parameter '{name}' must be a Coding", name)
    fields = {key: data.get(key) for key in ("system", "code", "version", "display")}
    if any(v is not None and not isinstance(v, str) for v in fields.values()):
        raise _invalid(f"Parameter '{name}' is not a valid Coding", name)
    return CodingValue(**fields)


def _codeable_concept(data: object, name: str) -> CodeableConceptValue:
    if not isinstance(data, dict) or not isinstance(data.get("coding", []), list):
        raise _invalid(f"Parameter '{name}' must be a CodeableConcept", name)
    return CodeableConceptValue([_coding(c, name) for c in data.get("coding", [])], data.get("text"))


def _parameter_value(item: dict, name: str) -> Value:
    values = [key for key in item if key.startswith("value")]
    if len(values) > 1:
        raise _invalid(f"Parameter '{name}' has more than one value[x]", name)
    if not values:
        return {key: item[key] for key in ("resource", "part") if key in item}
    key = values[0]
    value = item[key]
    if key == "valueCoding":
        return _coding(value, name)
    if key == "valueCodeableConcept":
        return _codeable_concept(value, name)
    if isinstance(value, str | bool | int | float):
        return value
    return {key: value}


class OperationParams:
    """The parameters of one operation call, in order, by name."""

    def __init__(self, items: list[tuple[str, Value]] | None = None) -> None:
        self.items = items or []

    def all(self, name: str) -> list[Value]:
        return [value for key, value in self.items if key == name]

    def __contains__(self, name: str) -> bool:
        return any(key == name for key, _ in self.items)

    def string(self, name: str) -> str | None:
        """The first value of ``name`` as text (None when absent or empty)."""
        values = self.strings(name)
        return values[0] if values else None

    def strings(self, name: str) -> list[str]:
        found = []
        for value in self.all(name):
            if isinstance(value, bool | dict | CodingValue | CodeableConceptValue):
                raise _invalid(f"Parameter '{name}' must be a simple value", name)
            if str(value).strip():
                found.append(str(value).strip())
        return found

    def boolean(self, name: str) -> bool | None:
        value = next(iter(self.all(name)), None)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _invalid(f"Parameter '{name}' must be a boolean", name)

    def coding(self, name: str) -> CodingValue | None:
        """A Coding given as valueCoding, or as ``system|code`` / ``system|version|code`` text."""
        value = next(iter(self.all(name)), None)
        if value is None or isinstance(value, CodingValue):
            return value
        if isinstance(value, str) and "|" in value:
            system, _, code = value.rpartition("|")
            system, _, version = system.partition("|")
            return CodingValue(system or None, code or None, version or None)
        raise _invalid(f"Parameter '{name}' must be a Coding (or system|code)", name)

    def codeable_concept(self, name: str) -> CodeableConceptValue | None:
        value = next(iter(self.all(name)), None)
        if value is None or isinstance(value, CodeableConceptValue):
            return value
        if isinstance(value, CodingValue):
            return CodeableConceptValue([value])
        raise _invalid(f"Parameter '{name}' must be a CodeableConcept", name)


def from_parameters(body: object) -> OperationParams:
    """Parameters of a FHIR ``Parameters`` resource (JSON already decoded)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise _invalid("The request body must be a FHIR Parameters resource")
    items = body.get("parameter", [])
    if not isinstance(items, list):
        raise _invalid("Parameters.parameter must be an array")
    found: list[tuple[str, Value]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise _invalid("Every Parameters.parameter needs a name")
        found.append((item["name"], _parameter_value(item, item["name"])))
    return OperationParams(found)


async def read_params(request: Request) -> OperationParams:
    """The call's parameters: the query string, plus the POST body (Parameters JSON or a form)."""
    items: list[tuple[str, Value]] = list(request.query_params.multi_items())
    if request.method != "POST":
        return OperationParams(items)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        form = await request.form()
        return OperationParams(items + [(k, v) for k, v in form.multi_items() if isinstance(v, str)])
    if media and "json" not in media:
        raise FhirError(415, "not-supported", f"Unsupported content type '{media}': send FHIR JSON")
    raw = await request.body()
    if not raw.strip():
        return OperationParams(items)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _invalid(f"The request body is not valid JSON: {exc}") from None
    return OperationParams(items + from_parameters(body).items)


def non_negative_int(params: OperationParams, name: str, default: int) -> int:
    """An integer search parameter such as ``_count`` or ``_offset`` (400 when not a non-negative integer)."""
    value = params.string(name)
    if value is None:
        return default
    if not value.isdigit():
        raise FhirError(400, "invalid", f"{name} must be a non-negative integer", expression=[name])
    return int(value)
