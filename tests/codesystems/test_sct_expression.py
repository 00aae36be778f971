"""SNOMED CT compositional grammar expressions used as codes."""

from __future__ import annotations

from smt.codesystems.snomed.expression import parse_expression, render


def test_plain_codes_are_not_expressions() -> None:
    assert parse_expression("128241005") is None
    assert parse_expression("not an expression") is None
    assert parse_expression("128241005:{363698007=}") is None


def test_terms_are_ignored_and_groups_kept() -> None:
    expr = parse_expression("64572001 |Disease| : { 363698007 |Finding site| = 85562004 |Hand structure| }")
    assert expr is not None
    assert expr.focus == ["64572001"] and not expr.attributes and len(expr.groups) == 1
    assert expr.concepts() == ["64572001", "363698007", "85562004"]
    assert expr.attribute_names() == ["363698007"]


def test_render_with_terms() -> None:
    expr = parse_expression("10200004:272741003=24028007,{363698007=(64572001:116676008=20946005)}")
    assert expr is not None
    shown = render(expr, lambda code: f"t{code[:2]}")
    assert shown == ("10200004|t10|:272741003|t27|=24028007|t24|,"
                     "{363698007|t36|=(64572001|t64|:116676008|t11|=20946005|t20|)}")
    assert render(expr, lambda code: None).startswith("10200004:272741003=24028007")
