"""CodeSystem engine ($lookup, $validate-code, $subsumes) over a real store built from a hand-made release."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from smt.catalogue.terminologies import CatalogueEntry, load_catalogue
from smt.codesystems import factory
from smt.codesystems.languages import language_preferences
from smt.codesystems.memory import MemoryCodeSystem
from smt.codesystems.provider import CodeSystemProvider
from smt.codesystems.stored import StoredCodeSystem
from smt.compile import writable_store
from smt.errors import UnknownCode, UnknownCodeSystem
from smt.formats.cim10_codes import dotted_code
from smt.model import CodeSystemRelease, Coding, Concept, ConceptProperty, Designation, PropertyDef
from smt.releases.registry import Registry
from smt.terminology import codesystem as engine
from smt.terminology.codesystem import CodingInput, ValidationResult
from smt.terminology.context import ResourceContext
from smt.terminology.validate.valueset import ValidateOptions, code_system_validator, validate_in_code_systems

DEMO = "http://smt.example.org/CodeSystem/demo"
CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
SHORT = Coding("http://smt.example.org/designation-use", "short", "Libellé court")


def demo_release(version: str, status: str = "active", *, polyhierarchy: bool = False) -> CodeSystemRelease:
    """A small French code system: ROOT > A > (A1, A2 inactive), ROOT > B; ``AB`` under A and B if asked."""
    concepts = [
        Concept("ROOT", "Racine", abstract=True, properties=[ConceptProperty("notSelectable", True, "boolean")]),
        Concept("A", "Alpha", parents=["ROOT"], designations=[
            Designation("Alpha (en)", "en"), Designation("Alpha court", "fr", SHORT), Designation("Alfa", "de")]),
        Concept("A1", "Alpha un", parents=["A"], definition="Premier enfant d'alpha",
                properties=[ConceptProperty("rank", 1, "integer"),
                            ConceptProperty("seeAlso", Coding("http://loinc.org", "1234-5", "Test"), "Coding")]),
        Concept("A2", "Alpha deux", parents=["A"], status="inactive"),
        Concept("B", "Bêta", parents=["ROOT"], properties=[ConceptProperty("rank", 2, "integer")]),
    ]
    if polyhierarchy:
        concepts.append(Concept("AB", "Alpha-bêta", parents=["A", "B"]))
    return CodeSystemRelease(
        url=DEMO, version=version, name="Demo", title="Démo SMT", concepts=concepts, status=status,
        publisher="SMT tests", copyright="CC0", oids=["1.2.250.1.999.1"], date="2024-05-01",
        description="Système de codes de test",
        properties=[PropertyDef("notSelectable", "boolean", "http://hl7.org/fhir/concept-properties#notSelectable"),
                    PropertyDef("rank", "integer", description="Rang"),
                    PropertyDef("seeAlso", "Coding", description="Voir aussi")],
    )


def demo_releases() -> list[CodeSystemRelease]:
    """1.0.0 (tree), 2.0.0 (latest active, with a two-parent concept) and 3.0.0 (draft)."""
    return [demo_release("1.0.0"), demo_release("2.0.0", polyhierarchy=True), demo_release("3.0.0", "draft")]


def build_store(home: Path) -> Path:
    store = writable_store(home)
    for release in demo_releases():
        store.load(release)
    return home


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return Registry(build_store(tmp_path_factory.mktemp("engine-home")))


class UpperCaseRules(CodeSystemProvider):
    """A terminology whose codes are upper case and looked up in any case."""

    @classmethod
    def normalise_code(cls, code: str) -> str:
        return code.upper()


class StoredUpperCase(UpperCaseRules, StoredCodeSystem):
    pass


class MemoryUpperCase(UpperCaseRules, MemoryCodeSystem):
    pass


def with_uppercase_provider(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """The demo code system served by ``UpperCaseRules`` (named in the catalogue as a terminology's provider
    is), over a registry of the same store (its providers built afresh)."""
    monkeypatch.setitem(factory.PROVIDERS, "uppercase", factory.ProviderClasses(UpperCaseRules, StoredUpperCase,
                                                                               MemoryUpperCase))
    monkeypatch.setitem(load_catalogue(), "demo", CatalogueEntry("demo", DEMO, "Demo", "Démo", provider="uppercase"))
    factory.provider_classes.cache_clear()  # and a cache of its own while patched
    monkeypatch.setattr(factory, "provider_classes", lru_cache(factory.provider_classes.__wrapped__))
    return Registry(registry.store.home)


# -- helpers ------------------------------------------------------------------------------------------------


def test_language_preferences_sorts_by_quality_and_drops_q0() -> None:
    assert language_preferences("fr-CA;q=0.5, en, de;q=0") == ["en", "fr-ca"]
    assert language_preferences(None) == []
    assert language_preferences("*") == ["*"]


@pytest.mark.parametrize(("given", "expected"), [
    ("E119", "E11.9"), ("e119", "E11.9"), ("E11.9", "E11.9"), ("E11", "E11"), ("A00-B99", "A00-B99")])
def test_dotted_cim10(given: str, expected: str) -> None:
    assert dotted_code(given) == expected
    assert factory.provider_class(CIM10).normalise_code(given) == dotted_code(given)


# -- $lookup ------------------------------------------------------------------------------------------------


def test_lookup_defaults_to_latest_active_version(registry: Registry) -> None:
    result = engine.lookup(registry, DEMO, "A1")
    assert (result.version, result.name, result.display) == ("2.0.0", "Demo", "Alpha un")
    assert result.definition == "Premier enfant d'alpha"
    assert not result.abstract and not result.inactive


def test_lookup_properties_include_hierarchy_and_stored_values(registry: Registry) -> None:
    result = engine.lookup(registry, DEMO, "A", "1.0.0")
    props = [(p.code, p.value, p.type) for p in result.properties]
    assert ("parent", "ROOT", "code") in props
    assert [p[1] for p in props if p[0] == "child"] == ["A1", "A2"]
    assert ("inactive", False, "boolean") in props
    child = next(p for p in result.properties if p.code == "child")
    assert child.description == "Alpha un"
    a1 = engine.lookup(registry, DEMO, "A1", "1.0.0")
    assert ("rank", 1, "integer") in [(p.code, p.value, p.type) for p in a1.properties]
    assert Coding("http://loinc.org", "1234-5", "Test") in [p.value for p in a1.properties]


def test_lookup_property_filter(registry: Registry) -> None:
    result = engine.lookup(registry, DEMO, "A", properties=["parent"])
    assert [p.code for p in result.properties] == ["parent"]
    assert result.designations == []
    with_lang = engine.lookup(registry, DEMO, "A", properties=["lang.en"])
    assert [d.value for d in with_lang.designations] == ["Alpha (en)"]
    everything = engine.lookup(registry, DEMO, "A", properties=["*"])
    assert len(everything.designations) == 4
    own = everything.designations[-1]
    assert (own.value, own.language, own.use.code) == ("Alpha", "fr", "preferredForLanguage")


def test_lookup_abstract_and_inactive(registry: Registry) -> None:
    assert engine.lookup(registry, DEMO, "ROOT").abstract is True
    inactive = engine.lookup(registry, DEMO, "A2")
    assert inactive.inactive is True
    assert ("status", "inactive") in [(p.code, p.value) for p in inactive.properties]


@pytest.mark.parametrize(("language", "display"), [
    ("en", "Alpha (en)"), ("de-AT", "Alfa"), ("fr", "Alpha"), ("fr-CA", "Alpha"), ("es, en;q=0.5", "Alpha (en)"),
    ("es", "Alpha"), ("en;q=0.2, de;q=0.9", "Alfa"), (None, "Alpha")])
def test_lookup_display_language(registry: Registry, language: str | None, display: str) -> None:
    assert engine.lookup(registry, DEMO, "A", display_language=language).display == display


def test_lookup_accepts_trailing_slash(registry: Registry) -> None:
    assert engine.lookup(registry, DEMO + "/", "B").display == "Bêta"


def test_lookup_uses_the_providers_code_spelling(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UnknownCode):
        engine.lookup(registry, DEMO, "a1")
    registry = with_uppercase_provider(registry, monkeypatch)
    assert engine.lookup(registry, DEMO, "a1").code == "A1"


def test_lookup_unknown_code_system_and_version(registry: Registry) -> None:
    with pytest.raises(UnknownCode, match=r"^Unknown code 'ZZ' in the CodeSystem "
                                          r"'http://smt.example.org/CodeSystem/demo' version '2.0.0'$"):
        engine.lookup(registry, DEMO, "ZZ")
    with pytest.raises(UnknownCodeSystem, match=r"A definition for CodeSystem 'http://nope\.example' could not"):
        engine.lookup(registry, "http://nope.example", "A")
    with pytest.raises(UnknownCodeSystem, match=r"version '9' could not be found\. "
                                                r"Valid versions: 1\.0\.0 or 2\.0\.0 or 3\.0\.0"):
        engine.lookup(registry, DEMO, "A", "9")


def test_explicit_draft_version_is_served(registry: Registry) -> None:
    assert engine.lookup(registry, DEMO, "A", "3.0.0").version == "3.0.0"


# -- $validate-code -----------------------------------------------------------------------------------------


def validate(registry: Registry, system: str, code: str, version: str | None = None, display: str | None = None,
             display_language: str | None = None) -> ValidationResult:
    """CodeSystem ``$validate-code`` as the API runs it: over a request context on the registry."""
    options = ValidateOptions(display_language=display_language)
    validator = code_system_validator(ResourceContext(registry), system, version, options)
    return validator.validate(CodingInput(system, code, version, display))


def validate_codings(registry: Registry, codings: list[CodingInput]) -> ValidationResult:
    return validate_in_code_systems(ResourceContext(registry), codings, ValidateOptions())



def test_validate_code_valid(registry: Registry) -> None:
    result = validate(registry, DEMO, "A", display="Alpha")
    assert result.result and result.message is None and result.issues == []
    assert (result.code, result.system, result.version, result.display) == ("A", DEMO, "2.0.0", "Alpha")


def test_validate_code_accepts_any_designation_as_display(registry: Registry) -> None:
    assert validate(registry, DEMO, "A", display="Alpha court").result
    assert validate(registry, DEMO, "A", display="Alfa").result


def test_validate_code_unknown_code_is_a_result_not_an_error(registry: Registry) -> None:
    result = validate(registry, DEMO, "ZZ", "1.0.0")
    assert result.result is False
    assert result.message == f"Unknown code 'ZZ' in the CodeSystem '{DEMO}' version '1.0.0'"
    assert [(i.code, i.tx_code, i.expression) for i in result.issues] == [("code-invalid", "invalid-code", "code")]


def test_validate_code_is_strict_but_hints_normalised_code(registry: Registry,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    result = validate(with_uppercase_provider(registry, monkeypatch), DEMO, "a1")
    assert result.result is False
    assert result.message.endswith("(did you mean 'A1'?)")


def test_validate_code_wrong_display(registry: Registry) -> None:
    result = validate(registry, DEMO, "B", display="Beta")
    assert result.result is False
    assert result.display == "Bêta"
    assert result.message == (f"Wrong Display Name 'Beta' for {DEMO}#B. Valid display is 'Bêta' (fr) "
                              "(for the language(s) '--')")
    assert result.issues[0].expression == "display"
    spaced = validate(registry, DEMO, "B", display="Bêta ", display_language="fr")
    assert spaced.message.startswith("Wrong whitespace in Display Name 'Bêta '")
    assert spaced.message.endswith("(for the language(s) 'fr')")
    several = validate(registry, DEMO, "A", display="Alph")
    # a designation with another use ('Alpha court', short label) is accepted but not listed as a display
    assert "Valid display is one of 3 choices: 'Alpha' (fr) or 'Alpha (en)' (en) or 'Alfa' (de)" in several.message


def test_validate_code_inactive_is_valid_with_warning(registry: Registry) -> None:
    result = validate(registry, DEMO, "A2")
    assert result.result is True and result.inactive is True
    assert result.issues[0].severity == "warning"
    assert "status of inactive" in result.message


def test_validate_code_unknown_system_and_version(registry: Registry) -> None:
    result = validate(registry, "http://nope.example", "A")
    assert result.result is False and result.unknown_system == "http://nope.example"
    assert result.message == ("A definition for CodeSystem 'http://nope.example' could not be found, "
                              "so the code cannot be validated")
    bad_version = validate(registry, DEMO, "A", "9")
    assert bad_version.unknown_system == f"{DEMO}|9"
    assert "Valid versions: 1.0.0 or 2.0.0 or 3.0.0" in bad_version.message


def test_validate_codings_valid_when_one_coding_is(registry: Registry) -> None:
    codings = [CodingInput("http://nope.example", "X"), CodingInput(DEMO, "B", "1.0.0")]
    result = validate_codings(registry, codings)
    assert result.result is True and (result.code, result.version) == ("B", "1.0.0")
    assert [(i.severity, i.message_id, i.expression) for i in result.issues] == [
        ("warning", "UNKNOWN_CODESYSTEM_CODING_NOT_CHECKED", "CodeableConcept.coding[0].system")]
    assert result.unknown_system is None  # the unknown system caused nothing: the concept is valid
    bad = validate_codings(registry, [CodingInput(DEMO, "ZZ"), CodingInput(None, "B")])
    assert bad.result is False
    assert [i.expression for i in bad.issues] == ["CodeableConcept.coding[0].code", "CodeableConcept.coding[1]"]


# -- $subsumes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b", "outcome"), [
    ("A", "A1", "subsumes"), ("A1", "A", "subsumed-by"), ("ROOT", "A2", "subsumes"), ("A", "A", "equivalent"),
    ("A1", "B", "not-subsumed")])
def test_subsumes(registry: Registry, a: str, b: str, outcome: str) -> None:
    assert engine.subsumes(registry, DEMO, a, b) == outcome


def test_subsumes_polyhierarchy_and_unknown_code(registry: Registry) -> None:
    assert engine.subsumes(registry, DEMO, "B", "AB", "2.0.0") == "subsumes"
    with pytest.raises(UnknownCode, match=r"version '1\.0\.0'"):
        engine.subsumes(registry, DEMO, "B", "AB", "1.0.0")
