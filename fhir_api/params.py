"""Operation parameters from HTTP: a query string, a form or a ``Parameters`` body become one ``OperationParams``.

What the parameters mean is read in one place, ``smt.terminology.parameters`` (``TxParameters``); this module
only turns the request into its input. A Coding may be given in a query string as ``system|code`` (or
``system|version|code``).
"""

from __future__ import annotations

from fastapi import Request

from fhir_api.bodies import decode_body
from smt.errors import InvalidParameter
from smt.terminology.parameters import CodingValue, OperationParams, Value, parameter_value

__all__ = ["CodingValue", "OperationParams", "from_parameters", "read_params"]


def from_parameters(body: object) -> OperationParams:
    """Parameters of a FHIR ``Parameters`` resource (JSON already decoded)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidParameter("The request body must be a FHIR Parameters resource")
    items = body.get("parameter", [])
    if not isinstance(items, list):
        raise InvalidParameter("Parameters.parameter must be an array")
    found: list[tuple[str, Value]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InvalidParameter("Every Parameters.parameter needs a name")
        found.append((item["name"], parameter_value(item, item["name"])))
    return OperationParams(found)


async def read_params(request: Request) -> OperationParams:
    """The call's parameters: the query string, plus the POST body (Parameters as FHIR JSON or XML, or a form)."""
    items: list[tuple[str, Value]] = list(request.query_params.multi_items())
    if request.method != "POST":
        return OperationParams(items)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        form = await request.form()
        return OperationParams(items + [(k, v) for k, v in form.multi_items() if isinstance(v, str)])
    raw = await request.body()
    if not raw.strip():
        return OperationParams(items)
    return OperationParams(items + from_parameters(decode_body(raw, media)).items)
