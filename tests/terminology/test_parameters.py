"""Terminology parameters read once (no HTTP): precedence of the request over a value set's own expansion
parameters, repeating parameters, bounds, echo."""

from __future__ import annotations

import pytest

from smt.errors import InvalidDisplayLanguage, InvalidParameter, NotSupported
from smt.terminology.parameters import (
    EXPANSION_PARAMETER,
    EXPANSION_PARAMETER_TOOLS,
    Bounds,
    CodingValue,
    OperationParams,
    TxParameters,
    integer,
)
from tests.terminology.test_expand import CS_URL, include, value_set


def read(*items: tuple[str, object], bounds: Bounds | None = None) -> TxParameters:
    return TxParameters.read(OperationParams(list(items)), bounds)  # type: ignore[arg-type]  # test values


def with_defaults(*pairs: tuple[str, dict], url: str = EXPANSION_PARAMETER) -> dict:
    """A value set whose compose declares expansion parameters (name, value part)."""
    vs = value_set(include())
    vs["compose"]["extension"] = [{"url": url, "extension": [{"url": "name", "valueCode": name},
                                                             {"url": "value", **value}]} for name, value in pairs]
    return vs


def test_the_request_wins_over_the_value_set_and_the_value_set_fills_the_gaps() -> None:
    tx = read(("activeOnly", "false"), ("displayLanguage", "fr"))
    tx.see_value_set(with_defaults(("activeOnly", {"valueBoolean": True}), ("excludeNested", {"valueBoolean": True}),
                                   ("displayLanguage", {"valueCode": "en"}), ("count", {"valueInteger": 2})))
    assert (tx.active_only, tx.exclude_nested, tx.display_language, tx.count) == (False, True, "fr", 2)
    options = tx.expand_options(value_set(include()), max_size=10)
    assert (options.active_only, options.exclude_nested, options.count, options.display_language) == (
        False, True, 2, "fr")


def test_repeating_parameters_add_up_once_each() -> None:
    tx = read(("property", "kind,rank"), ("designation", "en"))
    tx.see_value_set(with_defaults(("property", {"valueCode": "rank"}), ("property", {"valueCode": "status"}),
                                   ("designation", {"valueString": "de"}),
                                   ("system-version", {"valueCanonical": f"{CS_URL}|1.0.0"}),
                                   url=EXPANSION_PARAMETER_TOOLS))
    assert tx.properties == ["kind", "rank", "status"]
    assert tx.designations == ["en", "de"]
    assert tx.version_rules().system_version == {CS_URL: "1.0.0"}


def test_first_request_value_wins_and_blank_values_are_absent() -> None:
    tx = read(("url", ""), ("url", "http://a"), ("url", "http://b"), ("filter", "  "))
    assert (tx.url, tx.filter) == ("http://a", None)
    assert read(("coding", "http://s|1|c")).coding == CodingValue("http://s", "c", "1")


@pytest.mark.parametrize(("text", "expected"), [("0", 0), ("0007", 7), ("-0", 0), ("10", 10)])
def test_integers_within_bounds(text: str, expected: int) -> None:
    assert integer("count", text, 10) == expected


@pytest.mark.parametrize(("value", "message"), [
    ("11", "count must be at most 10"), (str(10**9), "count must be at most 10"),
    (str(2**64), "count must be at most 10"), ("9" * 5000, "count must be at most 10"),
    ("-1", "count must be a non-negative integer"), ("1.0", "count must be a non-negative integer"),
    ("٣", "count must be a non-negative integer"), (True, "count must be a non-negative integer"),
    (2.0, "count must be a non-negative integer"), ("", "count must be a non-negative integer"),
])
def test_integers_out_of_bounds_or_not_integers(value: object, message: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        integer("count", value, 10)  # type: ignore[arg-type]  # wrong types on purpose
    assert (str(caught.value), caught.value.location) == (message, "count")


def test_bounds_apply_to_every_numeric_parameter() -> None:
    bounds = Bounds(count=5, offset=6, limit=7)
    assert read(("count", 5), ("offset", "6"), ("limit", 7), bounds=bounds).count == 5
    for name, value in (("count", 6), ("offset", 7), ("limit", 8)):
        with pytest.raises(InvalidParameter, match=f"{name} must be at most"):
            read((name, value), bounds=bounds)
    assert OperationParams([("_count", "1001")]).integer("_offset", 0, 10) == 0
    with pytest.raises(InvalidParameter, match="_count must be at most 1000"):
        OperationParams([("_count", "1001")]).integer("_count", 100, 1000)


def test_echoed_parameters_keep_request_order_and_fhir_types() -> None:
    tx = read(("filter", "co"), ("url", "http://x"), ("activeOnly", "TRUE"), ("count", "5"),
              ("tx-resource", {"resource": {"resourceType": "CodeSystem"}}))
    assert tx.echoed == [("filter", "valueString", "co"), ("activeOnly", "valueBoolean", True),
                         ("count", "valueInteger", 5)]


def test_bad_values_are_refused_where_they_are_read() -> None:
    with pytest.raises(InvalidDisplayLanguage):
        read(("displayLanguage", "fr;;q"))
    with pytest.raises(InvalidParameter, match="must be a boolean"):
        read(("activeOnly", "yes"))
    with pytest.raises(InvalidParameter, match="must carry a resource"):
        read(("tx-resource", "x"))
    with pytest.raises(NotSupported):
        read(("context", "Patient.gender")).refuse_unsupported("expand")
    read(("context", "Patient.gender")).refuse_unsupported("validate-code")


def test_display_language_order() -> None:
    vs = {"language": "de"}
    assert read(("displayLanguage", "fr")).language("en", vs) == "fr"
    assert read().language("en", vs) == "en"
    assert read().language(None, vs) == "de"
    assert read().language(None) is None
