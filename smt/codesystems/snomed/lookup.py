"""SNOMED CT ``$lookup``: a concept, or a post-coordinated expression, with SNOMED CT's own properties.

Without ``property`` (the server's choice, as tx.fhir.org answers): ``parent`` and ``child`` (the related
concept's term in ``description``), ``inactive``, ``effectiveTime`` and one property per inferred attribute
relationship or concrete value (code = attribute SCTID, ``code-display`` = its term, ``description`` = the
value's term). Asked for by code, or all with ``*``: also ``sufficientlyDefined``, ``moduleId``,
``normalForm`` / ``normalFormTerse`` (``sct_normal_form``) and the other stored properties
(``owlExpression``). Designations: every active description (``designation`` / ``lang.X`` filter them).
``name`` is ``system|version``: an edition is named by its version URI.

An expression (``sct_expression``) is looked up through its focus concept, as tx.fhir.org does: with one focus
concept, that concept's hierarchy, status, date and attributes, then the expression's own attributes; its
display (and only designation, in the dialect of the terms used) is the expression with terms.
"""

from __future__ import annotations

from collections.abc import Iterable

from smt.codesystems.languages import PREFERRED_FOR_LANGUAGE, requested_languages_first
from smt.codesystems.lookup import LookupProperty, LookupResult, designations_asked, hierarchy_properties
from smt.codesystems.snomed.expression import Expression, parse_expression, render
from smt.codesystems.snomed.normal_form import normal_form, render_normal_form, sufficiently_defined
from smt.codesystems.snomed.terms import preferred_dialect
from smt.codesystems.snomed.validate_expr import expression_problem
from smt.codesystems.stored import StoredCodeSystem
from smt.index.reader import ConceptRecord, DesignationRecord, PropertyRecord

DEFAULT_PROPERTIES = frozenset({"parent", "child", "inactive", "effectiveTime"})
"""Returned when no ``property`` is asked for, with every attribute (codes that are SCTIDs)."""
NORMAL_FORMS = ("normalForm", "normalFormTerse")


class _Asked:
    """Which property codes to return: the defaults when none asked, everything with ``*``."""

    def __init__(self, properties: Iterable[str] | None) -> None:
        self.codes = {p for p in (properties or ()) if p}

    def __call__(self, code: str) -> bool:
        if not self.codes:
            return code in DEFAULT_PROPERTIES or code.isdigit()
        return "*" in self.codes or code in self.codes


def _term(provider: StoredCodeSystem, code: str) -> str | None:
    concept = provider.concept(code)
    return concept.display if concept is not None else None


def _concept_properties(provider: StoredCodeSystem, concept: ConceptRecord, asked: _Asked) -> list[LookupProperty]:
    found = hierarchy_properties(provider, concept, asked)
    stored = provider.properties(concept)
    shown: list[PropertyRecord] = []
    seen: set[tuple[str, str]] = set()
    for prop in stored:
        if asked(prop.code) and (prop.code, str(prop.value)) not in seen:
            seen.add((prop.code, str(prop.value)))
            shown.append(prop)
    # the terms of the attributes and of their concept values, in one query
    terms = provider.index.displays([p.code for p in shown if p.code.isdigit()]
                                    + [str(p.value) for p in shown if p.type == "code" or p.code == "moduleId"])
    for prop in shown:
        if prop.code.isdigit():
            described = terms.get(str(prop.value)) if prop.type == "code" else None
            found.append(LookupProperty(prop.code, str(prop.value) if prop.type == "code" else prop.value, prop.type,
                                        described, terms.get(prop.code)))
        elif prop.code == "moduleId":
            found.append(LookupProperty(prop.code, prop.value, prop.type, terms.get(str(prop.value))))
        else:
            found.append(LookupProperty(prop.code, prop.value, prop.type))
    if any(asked(name) for name in NORMAL_FORMS):
        form = normal_form(provider.index, concept, sufficiently_defined(stored))
        if asked("normalForm"):
            found.append(LookupProperty("normalForm", render_normal_form(form, lambda c: _term(provider, c)), "string"))
        if asked("normalFormTerse"):
            found.append(LookupProperty("normalFormTerse", render_normal_form(form), "string"))
    return found


def _result(provider: StoredCodeSystem, code: str, display: str | None, concept: ConceptRecord | None,
            designations: list[DesignationRecord], properties: list[LookupProperty]) -> LookupResult:
    version = provider.version
    return LookupResult(
        system=provider.url, name=f"{provider.url}|{version}" if version else provider.url, version=version, code=code,
        display=display, definition=concept.definition if concept is not None else None, abstract=False,
        inactive=bool(concept is not None and not concept.active), designations=designations,
        properties=properties)


def _expression_lookup(provider: StoredCodeSystem, code: str, expr: Expression, asked: _Asked,
                       properties: Iterable[str] | None) -> LookupResult:
    focus = provider.concept(expr.focus[0]) if len(expr.focus) == 1 else None
    found = _concept_properties(provider, focus, asked) if focus is not None else []
    if asked("inactive") and focus is None:
        found.append(LookupProperty("inactive", False, "boolean"))
    listed = {(p.code, str(p.value)) for p in found}
    for name, value in [*expr.attributes, *(a for group in expr.groups for a in group)]:
        shown = render(value, lambda c: None)
        if asked(name) and (name, shown) not in listed:
            listed.add((name, shown))
            described = render(value, lambda c: _term(provider, c)) if value.refined else _term(provider, shown)
            found.append(LookupProperty(name, shown, "code", described, _term(provider, name)))
    display = render(expr, lambda c: _term(provider, c))
    language = (preferred_dialect(provider.designations(focus), focus.display) if focus is not None else None
                or provider.meta.get("language"))
    designations = designations_asked([DesignationRecord(display, language, PREFERRED_FOR_LANGUAGE)], properties)
    return _result(provider, code, display, focus, designations, found)


def sct_lookup(provider: StoredCodeSystem, code: str, properties: Iterable[str] | None = None,
               display_language: str | None = None) -> LookupResult | None:
    """``$lookup`` of a SNOMED CT concept or expression in a stored release; None when ``code`` is neither."""
    asked = _Asked(properties)
    concept = provider.concept(code)
    if concept is None:
        expr = parse_expression(code)
        if expr is None or expression_problem(provider, expr) is not None:
            return None
        return _expression_lookup(provider, code, expr, asked, properties)
    designations = provider.designations(concept)
    display = provider.preferred_display(concept, designations, display_language)[0]
    shown = requested_languages_first(designations_asked(designations, properties), display_language)
    return _result(provider, concept.code, display, concept, shown, _concept_properties(provider, concept, asked))
