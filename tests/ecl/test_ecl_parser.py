"""ECL parser: the specification's kinds of expressions parse to the expected AST; malformed ones fail with
the 0-based position of the problem and what was expected there."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smt.ecl import EclSyntaxError, parse
from smt.ecl import ast as a


def ref(concept_id: str, term: str | None = None) -> a.ConceptRef:
    return a.ConceptRef(concept_id, term)


def sub(focus: a.Focus | str, operator: a.ConstraintOperator | None = None, **kwargs: object) -> a.SubExpression:
    return a.SubExpression(ref(focus) if isinstance(focus, str) else focus, operator, **kwargs)  # type: ignore[arg-type]


def attr(name: str, value: a.SubExpression | a.ConcreteValue, comparison: a.Comparison = "=",
         cardinality: a.Cardinality | None = None, reverse: bool = False) -> a.Attribute:
    return a.Attribute(sub(name), comparison, value, cardinality, reverse)


# Expressions of every kind the specification describes (brief syntax), each of which must parse.
VALID = [
    "404684003 |Clinical finding|",
    "< 404684003 |Clinical finding|",
    "<< 73211009 |Diabetes mellitus|",
    "> 40541001 |Acute pulmonary edema|",
    ">> 40541001 |Acute pulmonary edema|",
    "<! 404684003 |Clinical finding|",
    "<<! 404684003",
    ">! 40541001 |Acute pulmonary edema|",
    ">>! 40541001",
    "^ 700043003 |Example problem list concepts reference set|",
    "*",
    "!!> (<< 404684003 |Clinical finding|)",
    "!!< (<< 404684003 |Clinical finding|)",
    "LOINC#54486-6",
    '"LOINC#54486-6" |Vitamin|',
    "< ^ 700043003",
    "< 19829001 |Disorder of lung| : 116676008 |Associated morphology| = 79654002 |Edema|",
    "< 19829001 : 116676008 = << 79654002",
    "< 404684003 : 363698007 = << 39057004, 116676008 = << 415582006",
    "< 404684003 : { 363698007 = << 39057004, 116676008 = << 415582006 }",
    "< 404684003 : { 363698007 = << 39057004, 116676008 = << 415582006 }, "
    "{ 363698007 = << 53085002, 116676008 = << 56208002 }",
    "< 404684003 : 47429007 |Associated with| = (< 404684003 : 116676008 = << 55641003)",
    "< 404684003 : << 47429007 = << 267038008",
    "< 373873005 : [1..3] 127489000 = < 105590001",
    "< 373873005 : [0..0] 127489000 = < 105590001",
    "< 373873005 : [1..1] { 127489000 = < 105590001 }",
    "< 373873005 : [1..*] { [0..1] 127489000 = < 105590001 }",
    "< 91723000 |Anatomical structure| : R 363698007 |Finding site| = < 125605004 |Fracture of bone|",
    "< 125605004 . 363698007",
    "< 125605004 |Fracture of bone| . 363698007 |Finding site| . 272741003 |Laterality|",
    "<< 19829001 AND << 301867009",
    "<< 19829001 and << 301867009",
    "<< 19829001 OR << 301867009 OR ^ 700043003",
    "<< 19829001 MINUS << 301867009",
    "(<< 19829001 AND << 301867009) OR ^ 700043003",
    "<< 19829001 , << 301867009",
    "< 404684003 : (363698007 = << 39057004 OR 116676008 = << 415582006)",
    "< 404684003 : 363698007 = << 39057004 OR 116676008 = << 415582006",
    "< 404684003 : 116676008 != << 26036001",
    "< 27658006 : 1142135004 = #250",
    "< 27658006 : 1142135004 >= #0.5, 1142135004 < #+10",
    '< 27658006 : 1142136003 = "mg"',
    '< 27658006 : 1142136003 = wild:"m*"',
    "< 27658006 : 1142139005 = true",
    "/* diabetes */ << 73211009 /* and its subtypes */",
    '< 404684003 {{ term = "heart" }}',
    '< 404684003 {{ term = match:"heart att" }}',
    '< 404684003 {{ term = wild:"*itis" }}',
    '< 404684003 {{ term = ("heart" wild:"card*") }}',
    '< 404684003 {{ term = "heart", language = en, type = syn }}',
    "< 404684003 {{ D typeId = 900000000000013009, dialect = en-gb (prefer) }}",
    "< 404684003 {{ dialectId = 900000000000509007 (prefer) }}",
    "< 404684003 {{ dialect = (en-gb en-us) (accept) }}",
    "< 404684003 {{ C definitionStatus = primitive }}",
    "< 404684003 {{ C definitionStatusId = 900000000000073002 }}",
    "< 404684003 {{ C moduleId = 900000000000207008, active = true }}",
    '< 404684003 {{ C effectiveTime >= "20190731" }}',
    '< 404684003 {{ C effectiveTime = ("20190731" "20200131") }}',
    '^ 447562003 |ICD-10 complex map reference set| {{ M mapGroup = #2, mapPriority = #1, mapTarget = "J45.9" }}',
    "^ [targetComponentId] 900000000000527005 {{ M referencedComponentId = << 404684003 }}",
    "<< 195967001 {{ +HISTORY-MIN }}",
    "<< 195967001 {{ +HISTORY }}",
    "<< 195967001 {{ + HISTORY (900000000000527005 OR 900000000000526001) }}",
    "< 404684003 {{ D active = 0 }} {{ C active = 1 }}",
    "< 404684003 {{ id = (1234567019 1234568010) }}",
    "((((<< 10200004))))",
    "< 64572001 : [1..1] { [1..1] 363698007 = << 10200004 }",
    "< 404684003 {{ typeId = (900000000000013009 900000000000003001) }}",
    "< 404684003 {{ moduleId = << 900000000000445007 }}",
    "< 404684003 : 363698007 = (<< 39057004 OR << 53085002)",
    "< 404684003 : * = 79654002",
    "< 404684003 : [0..0] * != 79654002",
    "\t<< 73211009\n  AND\n  << 404684003\r\n",
]


@pytest.mark.parametrize("text", VALID)
def test_spec_expressions_parse(text: str) -> None:
    assert parse(text) is not None


def test_at_least_forty_valid_expressions() -> None:
    assert len(VALID) >= 40


def test_simple_operators() -> None:
    for operator in ("<", "<<", "<!", "<<!", ">", ">>", ">!", ">>!", "!!>", "!!<"):
        assert parse(f"{operator} 404684003") == sub("404684003", operator)  # type: ignore[arg-type]
    assert parse("*") == sub(a.Wildcard())
    assert parse("^ 700043003") == sub(a.MemberOf(ref("700043003")))
    assert parse("< ^ 700043003") == sub(a.MemberOf(ref("700043003")), "<")


def test_terms_are_labels_and_comments_are_ignored() -> None:
    plain = parse("<< 73211009")
    assert parse("<< 73211009 |Diabetes mellitus|") == plain  # the term is not compared
    assert parse("<< 73211009 |Diabetes mellitus|").focus.term == "Diabetes mellitus"  # type: ignore[union-attr]
    assert parse("/* a */<</* b */73211009/* c */") == plain
    assert parse("10200004 |Lever structure|") == sub("10200004")


def test_position_of_concept_reference() -> None:
    assert parse("<<   10200004").focus.position == 5  # type: ignore[union-attr]


def test_compound_expressions() -> None:
    both = a.Compound("AND", (sub("19829001", "<<"), sub("301867009", "<<")))
    assert parse("<< 19829001 AND << 301867009") == both
    assert parse("<< 19829001, << 301867009") == both
    assert parse("<< 19829001 OR << 301867009 OR 1234567") == a.Compound(
        "OR", (sub("19829001", "<<"), sub("301867009", "<<"), sub("1234567")))
    assert parse("(<< 10200004 OR << 128045006) AND << 64572001") == a.Compound("AND", (
        sub(a.Compound("OR", (sub("10200004", "<<"), sub("128045006", "<<")))), sub("64572001", "<<")))
    assert parse("((((<< 10200004))))") == sub(sub(sub(sub(sub("10200004", "<<")))))


def test_refinement_with_attribute_set_and_groups() -> None:
    tree = parse("< 404684003 : { 363698007 = << 39057004, 116676008 = << 415582006 }, 246075003 = *")
    assert tree == a.Refined(sub("404684003", "<"), a.RefinementSet("AND", (
        a.AttributeGroup(a.RefinementSet("AND", (
            attr("363698007", sub("39057004", "<<")), attr("116676008", sub("415582006", "<<"))))),
        attr("246075003", sub(a.Wildcard())),
    )))


def test_cardinality_reverse_and_not_equals() -> None:
    tree = parse("< 64572001 : [1..1] { [0..*] 363698007 = << 10200004 }")
    assert tree.refinement == a.AttributeGroup(  # type: ignore[union-attr]
        attr("363698007", sub("10200004", "<<"), cardinality=a.Cardinality(0, None)), a.Cardinality(1, 1))
    tree = parse("< 91723000 : R 363698007 != < 125605004")
    assert tree.refinement == attr("363698007", sub("125605004", "<"), "!=", reverse=True)  # type: ignore[union-attr]


def test_nested_attribute_name_and_value() -> None:
    tree = parse("< 404684003 : (<< 47429007) = (< 404684003 : 116676008 = 55641003)")
    inner = a.Refined(sub("404684003", "<"), attr("116676008", sub("55641003")))
    assert tree.refinement == a.Attribute(sub(sub("47429007", "<<")), "=", sub(inner))  # type: ignore[union-attr]


def test_bracketed_refinement_disjunction() -> None:
    tree = parse("< 404684003 : (363698007 = 39057004 OR 116676008 = 415582006), 246075003 = *")
    assert tree.refinement == a.RefinementSet("AND", (  # type: ignore[union-attr]
        a.RefinementSet("OR", (attr("363698007", sub("39057004")), attr("116676008", sub("415582006")))),
        attr("246075003", sub(a.Wildcard()))))


def test_dotted_attributes() -> None:
    assert parse("< 125605004 . 363698007 . << 272741003") == a.Dotted(
        sub("125605004", "<"), (sub("363698007"), sub("272741003", "<<")))


def test_concrete_values() -> None:
    refinement = parse('< 27658006 : 1142135004 >= #0.5, 1142135004 < #-10, 1142136003 = "mg", '
                       "1142139005 != false").refinement  # type: ignore[union-attr]
    assert refinement == a.RefinementSet("AND", (
        attr("1142135004", a.NumberValue(Decimal("0.5")), ">="),
        attr("1142135004", a.NumberValue(Decimal("-10")), "<"),
        attr("1142136003", a.StringValue((a.SearchTerm("match", "mg"),))),
        attr("1142139005", a.BooleanValue(False), "!="),
    ))


def test_description_filters() -> None:
    tree = parse('< 404684003 {{ term = ("heart" wild:"card*"), language = EN, type = (syn fsn), '
                 "dialect = en-gb (prefer), dialectId = 900000000000509007 (accept) }}")
    (block,) = tree.filters  # type: ignore[union-attr]
    assert block == a.FilterBlock("description", (
        a.TermFilter("=", (a.SearchTerm("match", "heart"), a.SearchTerm("wild", "card*"))),
        a.LanguageFilter("=", ("en",)),
        a.TypeFilter("=", tokens=("syn", "fsn")),
        a.DialectFilter("=", (a.Dialect(alias="en-gb", acceptability=("prefer",)),)),
        a.DialectFilter("=", (a.Dialect(refset=sub("900000000000509007"), acceptability=("accept",)),)),
    ))


def test_concept_filters_and_history() -> None:
    tree = parse('< 404684003 {{ C definitionStatus = defined, moduleId = (900000000000207008 1234567), '
                 'effectiveTime < "20200131", active = false }} {{ +HISTORY-MOD }}')
    assert tree == sub("404684003", "<", filters=(a.FilterBlock("concept", (
        a.DefinitionStatusFilter("=", tokens=("defined",)),
        a.ModuleFilter("=", a.ConceptSet((ref("900000000000207008"), ref("1234567")))),
        a.EffectiveTimeFilter("<", ("20200131",)),
        a.ActiveFilter("=", False),
    )),), history=a.HistorySupplement("MOD"))
    assert parse("<< 195967001 {{ +HISTORY (900000000000527005) }}").history == a.HistorySupplement(  # type: ignore[union-attr]
        None, sub("900000000000527005"))


def test_member_filters_and_fields() -> None:
    tree = parse('^ [targetComponentId, mapTarget] 447562003 {{ M mapGroup = #2, mapTarget = "J45.9", '
                 "referencedComponentId = << 404684003 }}")
    assert tree.focus == a.MemberOf(ref("447562003"), ("targetComponentId", "mapTarget"), (  # type: ignore[union-attr]
        a.FilterBlock("member", (
            a.MemberFieldFilter("mapGroup", "=", a.NumberValue(Decimal(2))),
            a.MemberFieldFilter("mapTarget", "=", a.StringValue((a.SearchTerm("match", "J45.9"),))),
            a.MemberFieldFilter("referencedComponentId", "=", sub("404684003", "<<")),
        )),))


def test_search_term_escapes() -> None:
    tree = parse(r'< 404684003 {{ term = "say \"ah\"", term = wild:"a\*b*" }}')
    assert tree.filters[0].filters == (  # type: ignore[union-attr]
        a.TermFilter("=", (a.SearchTerm("match", 'say "ah"'),)),
        a.TermFilter("=", (a.SearchTerm("wild", r"a\*b*"),)),
    )


# (expression, 0-based position of the error, a word the message must contain)
INVALID = [
    ("", 0, "expression"),
    ("   ", 3, "expression"),
    ("<<", 2, "concept id"),
    ("<< 128045006 OR << 10200004 AND << 64572001", 28, "brackets"),
    ("<< 19829001 MINUS << 301867009 MINUS << 301867009", 31, "brackets"),
    ("<< 1234", 3, "6 to 18 digits"),
    ("< 0123456", 2, "concept id"),
    ("<<< 10200004", 2, "concept id"),
    ("< 404684003 :", 13, "attribute"),
    ("(<< 10200004", 12, "')'"),
    ("<< 10200004)", 11, "unbalanced"),
    ("<< 10200004 10200004", 12, "end of expression"),
    ("<< 10200004 ANDx << 10200004", 12, "'AND'"),
    ("<< 10200004 AND", 15, "concept id"),
    ("< 404684003 : 363698007 << 39057004", 24, "'='"),
    ("< 404684003 : 363698007 = ", 26, "concept id"),
    ("< 404684003 : [3..1] 363698007 = *", 15, "greater than maximum"),
    ("< 404684003 : [1..] 363698007 = *", 18, "maximum cardinality"),
    ("< 404684003 : { 363698007 = * ", 30, "'}'"),
    ("< 404684003 : { 363698007 = * , { 116676008 = * } }", 32, "nested"),
    ("< 404684003 : 363698007 = << 39057004 , 116676008 = << 415582006 OR 1234567 = 1234567", 65, "brackets"),
    ("< 404684003 : 1142135004 >= 5", 28, "'#'"),
    ("< 404684003 . ", 14, "concept id"),
    ('< 404684003 {{ term = heart }}', 22, "quoted search term"),
    ('< 404684003 {{ term = "heart" ', 30, "'}}'"),
    ('< 404684003 {{ term = "" }}', 22, "non-empty"),
    ("< 404684003 {{ foo = 1 }}", 15, "description filter"),
    ("< 404684003 {{ language = english }}", 26, "language code"),
    ("< 404684003 {{ C definitionStatus = maybe }}", 36, "primitive"),
    ('< 404684003 {{ C effectiveTime >= "2019-07-31" }}', 34, "YYYYMMDD"),
    ("< 404684003 {{ M active = 1 }}", 15, "member filters"),
    ("< 404684003 {{ +HISTORY-FOO }}", 24, "MIN"),
    ("^ [] 700043003", 3, "field name"),
    ("<< 10200004 |Liver structure", 12, "'|'"),
    ("/* comment << 10200004", 0, "comment"),
    ('< 404684003 {{ term = "heart }}', 22, "unterminated string"),
]


@pytest.mark.parametrize(("text", "position", "expected"), INVALID)
def test_syntax_errors_name_position_and_expectation(text: str, position: int, expected: str) -> None:
    with pytest.raises(EclSyntaxError) as caught:
        parse(text)
    error = caught.value
    assert error.position == position, error
    assert expected in str(error)
    assert f"position {position}" in str(error)


def test_syntax_error_lists_what_was_expected() -> None:
    with pytest.raises(EclSyntaxError) as caught:
        parse("<<")
    assert caught.value.expected == ("a concept id", "'*'", "'^'", "'('")
    assert "end of input" in caught.value.message
