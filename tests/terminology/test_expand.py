"""Expansion engine on small hand-written CodeSystem / ValueSet JSON (no HTTP)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smt.codesystems.memory import MemoryCodeSystem
from smt.codesystems.provider import CodeSystemProvider
from smt.compile import writable_store
from smt.errors import (
    CircularReference,
    CodeSystemNotFound,
    InvalidFilter,
    RegexTooCostly,
    TooCostly,
    UnknownValueSet,
    VersionNotAllowed,
)
from smt.formats.fhir_json import codesystem_release, resource_release
from smt.releases.registry import Registry
from smt.terminology.context import ResourceContext
from smt.terminology.expand import filters
from smt.terminology.expand.expand import Compose, ExpandOptions, expand, iter_entries, listed_codes
from smt.terminology.expand.filters import text_matches
from smt.terminology.versions import VersionRules, select_version

CS_URL = "http://example.org/cs/body"


def body_code_system(version: str = "1.0.0", extra: list[dict] | None = None) -> dict:
    """root > organe > (coeur > ventricule, poumon), root > ancien (retired), root > groupe (notSelectable)."""
    return {
        "resourceType": "CodeSystem", "url": CS_URL, "version": version, "language": "fr", "status": "active",
        "content": "complete", "caseSensitive": True,
        "property": [{"code": "kind", "type": "code", "uri": "http://example.org/kind"},
                     {"code": "rank", "type": "integer"},
                     {"code": "status", "type": "code"},
                     {"code": "notSelectable", "type": "boolean"}],
        "concept": [{
            "code": "root", "display": "Corps", "concept": [
                {"code": "organe", "display": "Organe", "property": [{"code": "kind", "valueCode": "group"}],
                 "concept": [
                     {"code": "coeur", "display": "Cœur", "definition": "Muscle qui pompe le sang",
                      "designation": [{"language": "en", "value": "Heart"},
                                      {"language": "fr", "value": "Myocarde et cavités"}],
                      "property": [{"code": "kind", "valueCode": "organ"}, {"code": "rank", "valueInteger": 1}],
                      "concept": [{"code": "ventricule", "display": "Ventricule gauche",
                                   "designation": [{"language": "en", "value": "Left ventricle"}],
                                   "property": [{"code": "kind", "valueCode": "part"}]}]},
                     {"code": "poumon", "display": "Poumon", "designation": [{"language": "en", "value": "Lung"}],
                      "property": [{"code": "kind", "valueCode": "organ"}, {"code": "rank", "valueInteger": 2}]},
                 ]},
                {"code": "ancien", "display": "Ancien code",
                 "property": [{"code": "status", "valueCode": "retired"}]},
                {"code": "groupe", "display": "Groupe abstrait",
                 "property": [{"code": "notSelectable", "valueBoolean": True}]},
                *(extra or []),
            ]}],
    }


def value_set(*includes: dict, url: str = "http://example.org/vs/test", excludes: list[dict] | None = None,
              **compose: object) -> dict:
    body: dict = {"include": list(includes), **compose}
    if excludes:
        body["exclude"] = excludes
    return {"resourceType": "ValueSet", "url": url, "version": "1", "status": "active", "compose": body}


def include(*filters_: tuple[str, str, str], concepts: list[str] | None = None, **extra: object) -> dict:
    item: dict = {"system": CS_URL, **extra}
    if filters_:
        item["filter"] = [{"property": p, "op": o, "value": v} for p, o, v in filters_]
    if concepts:
        item["concept"] = [{"code": c} for c in concepts]
    return item


@pytest.fixture
def ctx() -> ResourceContext:
    return ResourceContext(None, [body_code_system()])


def codes(vs: dict, ctx: ResourceContext, **options: object) -> list[str]:
    return [e.code for e in iter_entries(expand(vs, ctx, ExpandOptions(**options)).contains)]


# -- whole systems, concept lists, filters --------------------------------------------------------------------


def test_whole_system_in_load_order_with_flags(ctx: ResourceContext) -> None:
    nested = expand(value_set(include()), ctx)  # hierarchical by default, flat with excludeNested
    assert [e.code for e in nested.contains] == ["root"] and len(list(iter_entries(nested.contains))) == 7
    result = expand(value_set(include()), ctx, ExpandOptions(exclude_nested=True))
    assert [e.code for e in result.contains] == [
        "root", "organe", "coeur", "ventricule", "poumon", "ancien", "groupe"]
    by_code = {e.code: e for e in result.contains}
    assert by_code["ancien"].inactive and not by_code["coeur"].inactive
    assert by_code["groupe"].abstract and not by_code["root"].abstract
    assert result.total == 7
    assert result.used_code_systems == [f"{CS_URL}|1.0.0"]
    assert by_code["ancien"].properties[0].code == "status"


def test_concept_list_keeps_its_order_and_skips_unknown_codes(ctx: ResourceContext) -> None:
    vs = value_set(include(concepts=["poumon", "nope", "coeur"]))
    assert codes(vs, ctx) == ["poumon", "coeur"]


def test_listed_display_overrides_the_code_system_display(ctx: ResourceContext) -> None:
    vs = value_set({"system": CS_URL, "concept": [{"code": "coeur", "display": "Le cœur"}]})
    assert expand(vs, ctx).contains[0].display == "Le cœur"


FILTER_CASES = [
    (("concept", "is-a", "organe"), ["organe", "coeur", "ventricule", "poumon"]),
    (("concept", "descendent-of", "organe"), ["coeur", "ventricule", "poumon"]),
    (("concept", "is-not-a", "organe"), ["root", "ancien", "groupe"]),
    (("concept", "child-of", "organe"), ["coeur", "poumon"]),
    (("concept", "descendent-leaf", "organe"), ["ventricule", "poumon"]),
    (("concept", "generalizes", "ventricule"), ["root", "organe", "coeur", "ventricule"]),
    (("concept", "=", "poumon"), ["poumon"]),
    (("concept", "in", "poumon,coeur"), ["coeur", "poumon"]),
    (("concept", "not-in", "root,organe,coeur,ventricule"), ["poumon", "ancien", "groupe"]),
    (("code", "regex", "[a-z]{6}"), ["organe", "poumon", "ancien", "groupe"]),
    (("concept", "exists", "true"), ["root", "organe", "coeur", "ventricule", "poumon", "ancien", "groupe"]),
    (("display", "=", "Poumon"), ["poumon"]),
    (("display", "regex", "C.*"), ["root", "coeur"]),
    (("kind", "=", "organ"), ["coeur", "poumon"]),
    (("kind", "in", "organ,part"), ["coeur", "ventricule", "poumon"]),
    (("kind", "not-in", "organ,part"), ["root", "organe", "ancien", "groupe"]),
    (("kind", "regex", "gr.*"), ["organe"]),
    (("kind", "exists", "true"), ["organe", "coeur", "ventricule", "poumon"]),
    (("kind", "exists", "false"), ["root", "ancien", "groupe"]),
    (("rank", "=", "2"), ["poumon"]),
    (("parent", "=", "organe"), ["coeur", "poumon"]),
    (("parent", "exists", "false"), ["root"]),
    (("child", "=", "ventricule"), ["coeur"]),
    (("child", "exists", "false"), ["ventricule", "poumon", "ancien", "groupe"]),
    (("inactive", "=", "true"), ["ancien"]),
    (("status", "=", "retired"), ["ancien"]),
    (("notSelectable", "=", "true"), ["groupe"]),
    (("definition", "regex", ".*sang"), ["coeur"]),
]


@pytest.mark.parametrize(("flt", "expected"), FILTER_CASES)
def test_every_filter_operator(ctx: ResourceContext, flt: tuple[str, str, str], expected: list[str]) -> None:
    assert codes(value_set(include(flt)), ctx) == expected


def test_filters_of_one_include_are_intersected(ctx: ResourceContext) -> None:
    vs = value_set(include(("concept", "is-a", "organe"), ("kind", "=", "organ")))
    assert codes(vs, ctx) == ["coeur", "poumon"]


def test_filter_without_value_is_a_vs_invalid_error(ctx: ResourceContext) -> None:
    vs = value_set({"system": CS_URL, "filter": [{"property": "concept", "op": "is-a"}]})
    with pytest.raises(InvalidFilter) as caught:
        expand(vs, ctx)
    assert caught.value.location == "ValueSet.compose.include[0].filter[0]"
    assert "has no value" in str(caught.value)
    assert caught.value.tx_code == "vs-invalid"


def test_invalid_regex_is_reported(ctx: ResourceContext) -> None:
    with pytest.raises(InvalidFilter, match="not valid"):
        expand(value_set(include(("code", "regex", "(unclosed"))), ctx)


def test_pathological_regex_is_stopped_by_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    long_code = {"code": "a" * 40 + "!", "display": "Long"}
    ctx = ResourceContext(None, [body_code_system(extra=[long_code])])
    monkeypatch.setattr(filters, "REGEX_BUDGET_SECONDS", 0.05)
    with pytest.raises(RegexTooCostly, match="took too long"):
        expand(value_set(include(("code", "regex", "(a|a)+b"))), ctx)


# -- excludes, nested value sets, inactive, abstract ------------------------------------------------------------


def test_exclude_removes_codes(ctx: ResourceContext) -> None:
    vs = value_set(include(("concept", "is-a", "organe")), excludes=[include(("concept", "is-a", "coeur"))])
    assert codes(vs, ctx) == ["organe", "poumon"]


def test_nested_value_set_is_intersected_with_the_system_part(ctx: ResourceContext) -> None:
    organs = value_set(include(("kind", "=", "organ")), url="http://example.org/vs/organs")
    ctx.add_resource(organs)
    vs = value_set(include(("concept", "descendent-of", "root"), valueSet=["http://example.org/vs/organs"]))
    result = expand(vs, ctx)
    assert [e.code for e in result.contains] == ["coeur", "poumon"]
    assert result.used_value_sets == ["http://example.org/vs/organs|1"]


def test_two_nested_value_sets_without_system_intersect(ctx: ResourceContext) -> None:
    ctx.add_resource(value_set(include(("concept", "is-a", "organe")), url="http://example.org/vs/a"))
    ctx.add_resource(value_set(include(concepts=["coeur", "ancien", "poumon"]), url="http://example.org/vs/b"))
    vs = value_set({"valueSet": ["http://example.org/vs/a", "http://example.org/vs/b"]})
    assert codes(vs, ctx) == ["coeur", "poumon"]


def test_contained_value_set_reference(ctx: ResourceContext) -> None:
    vs = value_set({"valueSet": ["#inner"]})
    vs["contained"] = [value_set(include(concepts=["poumon"]), url="http://example.org/vs/inner")]
    vs["contained"][0]["id"] = "inner"
    assert codes(vs, ctx) == ["poumon"]


def test_unknown_nested_value_set_and_circular_reference(ctx: ResourceContext) -> None:
    with pytest.raises(UnknownValueSet, match="could not be found"):
        expand(value_set({"valueSet": ["http://example.org/vs/missing"]}), ctx)
    ctx.add_resource(value_set({"valueSet": ["http://example.org/vs/two"]}, url="http://example.org/vs/one"))
    ctx.add_resource(value_set({"valueSet": ["http://example.org/vs/one"]}, url="http://example.org/vs/two"))
    with pytest.raises(CircularReference, match="circularity"):
        expand(ctx.value_set("http://example.org/vs/one"), ctx)


def test_inactive_codes_active_only_and_compose_inactive(ctx: ResourceContext) -> None:
    assert "ancien" in codes(value_set(include()), ctx)
    assert "ancien" not in codes(value_set(include()), ctx, active_only=True)
    assert "ancien" not in codes(value_set(include(), inactive=False), ctx)
    assert "ancien" in codes(value_set(include(), inactive=True), ctx)


def test_abstract_codes_are_flagged_and_dropped_for_ui(ctx: ResourceContext) -> None:
    assert "groupe" in codes(value_set(include()), ctx)
    assert "groupe" not in codes(value_set(include()), ctx, exclude_not_for_ui=True)


# -- paging, limits, hierarchy -------------------------------------------------------------------------------


def test_pages_concatenated_equal_the_full_expansion(ctx: ResourceContext) -> None:
    vs = value_set(include())
    full = codes(vs, ctx)
    pages: list[str] = []
    for offset in range(0, 9, 3):
        result = expand(vs, ctx, ExpandOptions(count=3, offset=offset))
        assert result.total == len(full) and result.offset == offset
        pages += [e.code for e in result.contains]
    assert pages == full
    assert expand(vs, ctx, ExpandOptions(count=0)).contains == []


def test_too_big_without_paging_is_too_costly(ctx: ResourceContext) -> None:
    vs = value_set(include())
    with pytest.raises(TooCostly, match=r"too many codes to produce \(>5\)"):
        expand(vs, ctx, ExpandOptions(max_size=5))
    assert len(expand(vs, ctx, ExpandOptions(max_size=5, count=5)).contains) == 5


def test_hierarchy_only_when_asked_and_possible(ctx: ResourceContext) -> None:
    vs = value_set(include(("concept", "is-a", "organe")))
    nested = expand(vs, ctx, ExpandOptions(exclude_nested=False))
    assert [e.code for e in nested.contains] == ["organe"]
    assert [e.code for e in nested.contains[0].contains] == ["coeur", "poumon"]
    assert [e.code for e in nested.contains[0].contains[0].contains] == ["ventricule"]
    assert nested.total == 4
    flat = expand(vs, ctx, ExpandOptions(exclude_nested=True))
    assert [e.contains for e in flat.contains] == [[], [], [], []]
    listed = expand(value_set(include(concepts=["organe", "coeur"])), ctx, ExpandOptions(exclude_nested=False))
    assert [e.code for e in listed.contains] == ["organe", "coeur"]


# -- languages, designations, properties, text filter ----------------------------------------------------------


def test_display_language_and_designations(ctx: ResourceContext) -> None:
    vs = value_set(include(concepts=["coeur", "root"]))
    english = expand(vs, ctx, ExpandOptions(display_language="en", include_designations=True))
    heart, body = english.contains
    assert heart.display == "Heart"
    assert [(d.value, d.language) for d in heart.designations] == [
        ("Cœur", "fr"), ("Myocarde et cavités", "fr")]
    assert heart.designations[0].use.code == "preferredForLanguage"
    assert body.display == "Corps"  # no English designation: the default display
    french = expand(vs, ctx, ExpandOptions(display_language="fr-FR, en;q=0.5"))
    assert french.contains[0].display == "Cœur" and french.contains[0].designations == []
    only_en = expand(vs, ctx, ExpandOptions(designations=["en"]))
    assert [d.value for d in only_en.contains[0].designations] == ["Heart"]


def test_requested_properties_are_returned(ctx: ResourceContext) -> None:
    vs = value_set(include(concepts=["coeur"]))
    entry = expand(vs, ctx, ExpandOptions(properties=["kind", "parent", "definition", "rank"])).contains[0]
    assert [(p.code, p.value) for p in entry.properties] == [
        ("kind", "organ"), ("parent", "organe"), ("definition", "Muscle qui pompe le sang"), ("rank", 1)]


def test_text_filter_ignores_case_and_diacritics(ctx: ResourceContext) -> None:
    vs = value_set(include())
    assert codes(vs, ctx, filter="coeur") == ["coeur"]
    assert codes(vs, ctx, filter="VENTR gau") == ["ventricule"]
    assert codes(vs, ctx, filter="lung") == ["poumon"]
    assert codes(vs, ctx, filter="entricule") == []
    assert text_matches("ecole", ["École normale"]) and not text_matches("normales", ["École normale"])


# -- versions and providers ----------------------------------------------------------------------------------


def test_version_rules_pick_force_and_check(ctx: ResourceContext) -> None:
    assert select_version(["1.0.0", "1.2.0", "2.0.0"], "1.x.x") == "1.2.0"
    assert select_version(["1.0.0", "1.2.0"], "1") is None
    assert select_version(["http://snomed.info/sct/1/version/2024"], "http://snomed.info/sct/1") is not None
    two = ResourceContext(None, [body_code_system("1.0.0"), body_code_system("2.0.0")])
    vs = value_set(include(concepts=["coeur"]))
    assert expand(vs, two).used_code_systems == [f"{CS_URL}|2.0.0"]
    two.rules = VersionRules.from_params(force_system_version=[f"{CS_URL}|1.0.x"])
    assert expand(value_set(include(concepts=["coeur"], version="2.0.0")), two).used_code_systems == [
        f"{CS_URL}|1.0.0"]
    two.rules = VersionRules.from_params(system_version=[f"{CS_URL}|1.0.0"])
    assert expand(vs, two).used_code_systems == [f"{CS_URL}|1.0.0"]
    two.rules = VersionRules.from_params(check_system_version=[f"{CS_URL}|1.0.x"])
    assert expand(vs, two).used_code_systems == [f"{CS_URL}|1.0.0"]
    with pytest.raises(VersionNotAllowed, match=r"required to be '1\.0\.x'"):
        expand(value_set(include(concepts=["coeur"], version="2.0.0")), two)


def test_unknown_code_system_or_version(ctx: ResourceContext) -> None:
    with pytest.raises(CodeSystemNotFound, match="could not be found, so the value set cannot be expanded"):
        expand(value_set({"system": "http://example.org/none"}), ctx)
    with pytest.raises(CodeSystemNotFound, match=r"Valid versions: 1\.0\.0"):
        expand(value_set(include(version="9")), ctx)


def test_stored_index_and_memory_provider_expand_alike(tmp_path: Path, ctx: ResourceContext) -> None:
    writable_store(tmp_path).load(codesystem_release(body_code_system()))
    stored = ResourceContext(Registry(tmp_path))
    provider = stored.code_system(CS_URL)
    assert isinstance(provider, CodeSystemProvider)
    assert isinstance(ctx.code_system(CS_URL), MemoryCodeSystem)
    for vs in (value_set(include()), value_set(include(("concept", "is-a", "organe"))),
               value_set(include(("kind", "regex", "or.*")), excludes=[include(concepts=["poumon"])])):
        for options in ({}, {"exclude_nested": False}, {"display_language": "en", "include_designations": True}):
            mine = expand(vs, ctx, ExpandOptions(**options))
            theirs = expand(vs, stored, ExpandOptions(**options))
            assert [(e.code, e.display, e.designations) for e in iter_entries(mine.contains)] == [
                (e.code, e.display, e.designations) for e in iter_entries(theirs.contains)]


# -- membership without expansion, batched lookups, caches, indexed text filter -------------------------------


@pytest.fixture
def stored(tmp_path: Path) -> ResourceContext:
    writable_store(tmp_path).load(codesystem_release(body_code_system()))
    return ResourceContext(Registry(tmp_path))


def _membership_agrees(vs: dict, ctx: ResourceContext) -> None:
    """``Compose.membership`` says yes exactly for the keys ``Compose.members`` lists."""
    members = set(Compose(ctx).members(vs))
    test = Compose(ctx).membership(vs)
    provider = ctx.code_system(CS_URL)
    for concept in provider.concepts():
        assert test(provider, concept) == ((provider.url, provider.version, concept.id) in members), concept.code


@pytest.mark.parametrize("flt", [flt for flt, _ in FILTER_CASES])
def test_membership_of_one_concept_agrees_with_members(flt: tuple[str, str, str], ctx: ResourceContext,
                                                       stored: ResourceContext) -> None:
    for context in (ctx, stored):
        _membership_agrees(value_set(include(flt)), context)


def test_membership_with_lists_excludes_nesting_and_inactive(ctx: ResourceContext, stored: ResourceContext) -> None:
    nested = value_set(include(("concept", "is-a", "organe")), url="http://example.org/vs/organs")
    cases = [
        value_set(include(concepts=["poumon", "nope", "coeur"])),
        value_set(include(), excludes=[include(concepts=["poumon"]), include(("concept", "is-a", "coeur"))]),
        value_set(include(valueSet=["#organs"]), inactive=False) | {"contained": [nested | {"id": "organs"}]},
        value_set({"valueSet": ["#organs"]}, include(concepts=["ancien"]), inactive=False)
        | {"contained": [nested | {"id": "organs"}]},
        value_set(include(("kind", "is-a", "organ"))),
    ]
    for vs in cases:
        for context in (ctx, stored):
            _membership_agrees(vs, context)


def test_membership_of_listed_codes_in_a_case_insensitive_system() -> None:
    system = body_code_system() | {"caseSensitive": False}
    ctx = ResourceContext(None, [system])
    test = Compose(ctx).membership(value_set(include(concepts=["COEUR"])))
    provider = ctx.code_system(CS_URL)
    assert test(provider, provider.concept("coeur"))
    assert not test(provider, provider.concept("poumon"))


def test_listed_codes_are_indexed_once_per_list() -> None:
    concepts = [{"code": "a"}, {"code": "b"}]
    assert listed_codes(concepts) is listed_codes(concepts)
    assert listed_codes(concepts).codes == {"a", "b"}
    assert listed_codes([{"code": "a"}]) is not listed_codes(concepts)


def test_batched_id_lookups(stored: ResourceContext, ctx: ResourceContext) -> None:
    for provider in (stored.code_system(CS_URL), ctx.code_system(CS_URL)):
        assert provider.all_ids() == [c.id for c in provider.concepts()]
        found = provider.ids_for_codes(["poumon", "nope", "root", "poumon"])
        assert found == {"poumon": provider.concept("poumon").id, "root": provider.concept("root").id}


def test_stored_resources_are_parsed_once(tmp_path: Path) -> None:
    store = writable_store(tmp_path)
    store.load(resource_release(value_set(include())))
    (info,) = [r for r in store.list() if r.kind == "ValueSet"]
    assert info.resource() is info.resource()
    assert info.resource()["compose"]["include"] == [include()]


def test_text_filter_uses_the_search_index_of_a_stored_release(stored: ResourceContext,
                                                               ctx: ResourceContext) -> None:
    assert ctx.code_system(CS_URL).text_matches("coeur") is None
    assert stored.code_system(CS_URL).text_matches("coeur") is not None
    for query in ("coeur", "CŒUR", "heart", "poum", "ventricule gauche", "xyz", "organe", "  "):
        assert codes(value_set(include()), stored, filter=query) == codes(value_set(include()), ctx, filter=query)
    assert codes(value_set(include(concepts=["poumon", "coeur"])), stored, filter="co") == ["coeur"]
