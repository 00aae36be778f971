"""Evaluation of ValueSet ``compose.include.filter`` entries and of the ``$expand`` text ``filter``.

A compose filter selects concept ids of one code system provider. Supported operators: ``=``, ``is-a``,
``descendent-of``, ``is-not-a``, ``child-of``, ``descendent-leaf``, ``generalizes``, ``regex``, ``in``,
``not-in`` and ``exists``, on ``concept``/``code``, ``display``, ``parent``, ``child``, ``inactive``,
``status``, ``notSelectable``, ``definition`` and any code system property; ``constraint``/``expression`` ``=``
<ECL> where the provider evaluates ECL (``CodeSystemProvider.ecl_ids``: a stored SNOMED CT release). Regexes run
on the ``regex`` engine with a time budget, so a pathological pattern answers ``RegexTooCostly`` instead of
hanging.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Iterable

import regex

from smt.codesystems.provider import CodeSystemProvider
from smt.errors import EclError, EclSyntaxError, InvalidEcl, InvalidFilter, RegexTooCostly
from smt.index.reader import ConceptRecord, DesignationRecord, property_text
from smt.index.sets import BitMap, FrozenBitMap
from smt.terminology.expand.regex_size import compiled_size

REGEX_BUDGET_SECONDS = 2.0
"""Time a request may spend evaluating one regex filter."""
REGEX_MAX_SIZE = 10_000
"""Nodes a regex filter may compile to (``regex_size.compiled_size``): a few MB at most."""

HIERARCHY_OPS = {"is-a", "descendent-of", "is-not-a", "child-of", "descendent-leaf", "generalizes"}
CONCEPT_PROPERTIES = {"concept", "code"}
EXPRESSIONS = "expressions"
"""Filter on post-coordinated expressions (SNOMED CT): every stored concept is pre-coordinated, so it keeps all."""
ECL_PROPERTIES = {"constraint", "expression"}
"""Filter properties whose value is an ECL (Expression Constraint Language) expression."""


value_text = property_text

IdSet = BitMap | FrozenBitMap
"""Concept ids of one provider, as a roaring bitmap (``smt.index.sets``): iterated in load order."""


class RegexMatcher:
    """A compiled regex that full-matches values within a shared time budget."""

    def __init__(self, pattern: str, budget: float | None = None) -> None:
        self.source = pattern
        if compiled_size(pattern, REGEX_MAX_SIZE + 1) > REGEX_MAX_SIZE:
            raise RegexTooCostly(f"The regex '{pattern[:200]}' is too large: its counted repeats would compile to "
                                 f"more than {REGEX_MAX_SIZE:,} nodes")
        try:
            self.pattern = regex.compile(pattern)
        except regex.error as exc:
            raise InvalidFilter(f"The regex '{pattern}' is not valid: {exc}") from exc
        self.deadline = time.monotonic() + (REGEX_BUDGET_SECONDS if budget is None else budget)

    def __call__(self, value: str) -> bool:
        remaining = self.deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError
            return self.pattern.fullmatch(value, timeout=remaining) is not None
        except TimeoutError:
            raise RegexTooCostly(f"The regex filter '{self.source}' took too long to evaluate against code "
                                 f"'{value}'") from None


def _split_values(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _value_test(op: str, value: str) -> Callable[[str], bool]:
    """The test a non-hierarchical operator applies to one text value."""
    if op == "=":
        return value.__eq__
    if op in ("in", "not-in"):
        return set(_split_values(value)).__contains__
    if op == "regex":
        return RegexMatcher(value)
    raise InvalidFilter(f"The filter operator '{op}' is not supported for this property")


def _by_values(provider: CodeSystemProvider, op: str, value: str,
               values_of: Callable[[ConceptRecord], list[str]]) -> IdSet:
    """Ids whose values satisfy ``op`` (``not-in``: none of their values is listed), reading every concept."""
    if op == "exists":
        wanted = value.strip().lower() != "false"
        return BitMap(c.id for c in provider.concepts() if bool(values_of(c)) == wanted)
    test = _value_test(op, value)
    negate = op == "not-in"
    return BitMap(concept.id for concept in provider.concepts()
                  if any(test(v) for v in values_of(concept)) != negate)


def _by_stored_values(provider: CodeSystemProvider, prop: str, op: str, value: str) -> IdSet:
    """``_by_values`` for a property the code system stores: ``=`` and ``in`` are looked up by value
    (``property_ids``), the other operators read the property's values only (``property_values``)."""
    if op in ("=", "in"):
        return provider.property_ids(prop, frozenset([value] if op == "=" else _split_values(value)))
    if op == "exists":
        having = BitMap(number for number, _ in provider.property_values(prop))
        return having if value.strip().lower() != "false" else provider.all_set() - having
    if op == "not-in":
        return provider.all_set() - provider.property_ids(prop, frozenset(_split_values(value)))
    test = _value_test(op, value)
    return BitMap(number for number, found in provider.property_values(prop) if test(value_text(found)))


def _hierarchy(provider: CodeSystemProvider, op: str, value: str) -> IdSet:
    """Ids selected by a hierarchical operator on ``concept``."""
    codes = _split_values(value) if op in ("is-a", "descendent-of", "is-not-a") else [value.strip()]
    roots = [c for code in codes if (c := provider.concept(code)) is not None]
    selected = BitMap()
    for root in roots:
        if op in ("is-a", "is-not-a"):
            selected |= provider.descendant_set(root)
            selected.add(root.id)
        elif op == "descendent-of":
            selected |= provider.descendant_set(root)
        elif op == "child-of":
            selected |= BitMap(c.id for c in provider.children(root))
        elif op == "descendent-leaf":
            selected |= provider.descendant_set(root) & provider.concept_set("leaf")
        elif op == "generalizes":
            selected |= BitMap(provider.ancestor_ids(root))
            selected.add(root.id)
    if op == "is-not-a":
        return provider.all_set() - selected
    return selected


def _codes_ids(provider: CodeSystemProvider, value: str) -> BitMap:
    return BitMap(c.id for code in _split_values(value) if (c := provider.concept(code)) is not None)


def _concept_filter(provider: CodeSystemProvider, op: str, value: str) -> IdSet:
    if op in HIERARCHY_OPS:
        return _hierarchy(provider, op, value)
    if op in ("=", "in"):
        return _codes_ids(provider, value)
    if op == "not-in":
        return provider.all_set() - _codes_ids(provider, value)
    if op == "exists":
        return provider.all_set() if value.strip().lower() != "false" else BitMap()
    return _by_values(provider, op, value, lambda c: [c.code])


def _related_filter(provider: CodeSystemProvider, prop: str, op: str, value: str) -> IdSet:
    """``parent``/``child`` as properties: ``parent = X`` selects the children of X, and so on."""
    if op in ("=", "in", "not-in"):
        related = BitMap()
        for code in _split_values(value):
            concept = provider.concept(code)
            if concept is not None:
                near = provider.children(concept) if prop == "parent" else provider.parents(concept)
                related |= BitMap(c.id for c in near)
        if op == "not-in":
            return provider.all_set() - related
        return related
    if op == "exists" and prop == "child":
        leaves = provider.concept_set("leaf")
        return provider.all_set() - leaves if value.strip().lower() != "false" else leaves
    near_codes: Callable[[ConceptRecord], list[str]] = (
        (lambda c: [p.code for p in provider.parents(c)]) if prop == "parent"
        else (lambda c: [k.code for k in provider.children(c)]))
    return _by_values(provider, op, value, near_codes)


BUILT_IN_PROPERTIES = {"display", "definition", "inactive", "status", "notSelectable"}
"""Filter properties read from the concept itself (``status`` and ``notSelectable``: unless the code system
stores them)."""


def _property_values(provider: CodeSystemProvider, prop: str) -> Callable[[ConceptRecord], list[str]]:
    """How to read the values of ``prop`` from a concept (built-in concept fields, then stored properties)."""
    if prop == "display":
        return lambda c: [c.display] if c.display else []
    if prop == "definition":
        return lambda c: [c.definition] if c.definition else []
    if prop == "inactive":
        return lambda c: ["false" if c.active else "true"]
    if prop == "status":
        def status(c: ConceptRecord) -> list[str]:
            stored = [value_text(p.value) for p in provider.properties(c) if p.code == "status"]
            return stored or [c.status]
        return status
    if prop == "notSelectable":
        def selectable(c: ConceptRecord) -> list[str]:
            # a concept whose code system says nothing about it is neither selectable nor not (HL7 tx-ecosystem
            # requirements, "Inactive, Deprecated and Not-Selectable Codes"): no value unless known abstract
            stored = [value_text(p.value) for p in provider.properties(c) if p.code == "notSelectable"]
            return stored or (["true"] if c.abstract else [])
        return selectable
    return lambda c: [value_text(p.value) for p in provider.properties(c) if p.code == prop]


def _property_filter(provider: CodeSystemProvider, prop: str, op: str, value: str) -> IdSet:
    if op in ("is-a", "descendent-of", "generalizes", "is-not-a"):
        # A code-valued property compared through the hierarchy of its own code system.
        codes = _hierarchy(provider, "is-a" if op == "is-not-a" else op, value)
        wanted = frozenset(c.code for c in provider.concepts(list(codes)))
        if prop in BUILT_IN_PROPERTIES:
            values_of = _property_values(provider, prop)
            hits = BitMap(c.id for c in provider.concepts() if any(v in wanted for v in values_of(c)))
        else:
            hits = BitMap(provider.property_ids(prop, wanted))
        return provider.all_set() - hits if op == "is-not-a" else hits
    if prop in BUILT_IN_PROPERTIES:
        return _by_values(provider, op, value, _property_values(provider, prop))
    return _by_stored_values(provider, prop, op, value)


R5_FILTER_OP = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.compose.include.filter.op"
"""Cross-version extension on ``filter._op``: an R5-only operator (``child-of``, ``descendent-leaf``) that an R4
client could only send as the nearest R4 one."""


def r5_operator(flt: dict) -> str | None:
    """The R5 operator a filter carries in the ``filter.op`` cross-version extension, if any."""
    holder = flt.get("_op")
    for ext in holder.get("extension", []) if isinstance(holder, dict) else []:
        if isinstance(ext, dict) and ext.get("url") == R5_FILTER_OP and ext.get("valueCode"):
            return str(ext["valueCode"])
    return None


def _checked(provider: CodeSystemProvider, flt: dict, where: str) -> tuple[str, str, str]:
    """(property, op, value) of a compose filter; ``InvalidFilter`` when one is missing."""
    prop = flt.get("property")
    op = r5_operator(flt) or flt.get("op")
    value = flt.get("value")
    if not prop or not op:
        raise InvalidFilter(f"The system {provider.url} filter has no property or no op", where)
    if value is None or value == "":
        raise InvalidFilter(f"The system {provider.url} filter with property = {prop}, op = {op} has no value",
                            where)
    return str(prop), str(op), str(value)


def ecl_filter_ids(provider: CodeSystemProvider, op: str, value: str, where: str = "") -> IdSet:
    """Concept ids selected by an ECL filter; ``InvalidFilter`` when it cannot be evaluated (its text names the
    expression and the problem, as tx.fhir.org, without an issue location)."""
    if op != "=":
        raise InvalidFilter(f"The filter operator '{op}' is not supported with an ECL expression (use '=')", where)
    try:
        found = provider.ecl_ids(value)
    except EclSyntaxError as exc:
        raise InvalidEcl(f"Invalid ECL expression: '{value}': (syntax error at character {exc.position + 1}: "
                         f"{exc.message})") from exc
    except EclError as exc:
        raise InvalidEcl(f"Invalid ECL expression: '{value}': ({exc})") from exc
    if found is None:
        raise InvalidFilter(f"ECL filters are only supported on a stored SNOMED CT release, not {provider.url}",
                            where)
    return found


def filter_ids(provider: CodeSystemProvider, flt: dict, where: str = "") -> IdSet:
    """Ids of the concepts of ``provider`` that one compose filter selects (a set, iterated in load order)."""
    prop, op, value = _checked(provider, flt, where)
    if prop in ECL_PROPERTIES:
        return ecl_filter_ids(provider, op, value, where)
    if prop == EXPRESSIONS:
        return provider.all_set()
    if prop in CONCEPT_PROPERTIES:
        return _concept_filter(provider, op, value)
    if prop in ("parent", "child"):
        return _related_filter(provider, prop, op, value)
    if op in ("child-of", "descendent-leaf"):
        raise InvalidFilter(f"The filter operator '{op}' is only supported on the concept property", where)
    return _property_filter(provider, prop, op, value)


# -- one concept at a time (membership tests of $validate-code) -----------------------------------------------

ConceptTest = Callable[[ConceptRecord], bool]


def _hierarchy_test(provider: CodeSystemProvider, op: str, value: str) -> ConceptTest:
    """Whether a concept is selected by a hierarchical operator on ``concept`` (closure lookups, no expansion)."""
    codes = _split_values(value) if op in ("is-a", "descendent-of", "is-not-a") else [value.strip()]
    roots = [c for code in codes if (c := provider.concept(code)) is not None]

    def under(concept: ConceptRecord, root: ConceptRecord) -> bool:
        if op in ("is-a", "is-not-a"):
            return concept.id == root.id or provider.is_descendant(concept, root)
        if op == "descendent-of":
            return provider.is_descendant(concept, root)
        if op == "child-of":
            return any(p.id == root.id for p in provider.parents(concept))
        if op == "descendent-leaf":
            return concept.leaf and provider.is_descendant(concept, root)
        return concept.id == root.id or provider.is_descendant(root, concept)  # generalizes

    if op == "is-not-a":
        return lambda concept: not any(under(concept, root) for root in roots)
    return lambda concept: any(under(concept, root) for root in roots)


def _values_test(op: str, value: str, values_of: Callable[[ConceptRecord], list[str]]) -> ConceptTest:
    """The per-concept form of ``_by_values``."""
    if op == "exists":
        wanted = value.strip().lower() != "false"
        return lambda concept: bool(values_of(concept)) == wanted
    test = _value_test(op, value)
    negate = op == "not-in"
    return lambda concept: any(test(v) for v in values_of(concept)) != negate


def filter_test(provider: CodeSystemProvider, flt: dict, where: str = "") -> ConceptTest:
    """A predicate equivalent to ``concept.id in filter_ids(...)``, evaluated for one concept at a time.

    Hierarchy, code and property filters test the concept alone; ``parent``/``child`` filters and hierarchical
    operators on other properties are evaluated once, on creation. Invalid filters raise on creation.
    """
    prop, op, value = _checked(provider, flt, where)
    if prop == EXPRESSIONS:
        return lambda c: True
    if prop in ECL_PROPERTIES:
        selected_ecl = ecl_filter_ids(provider, op, value, where)
        return lambda c: c.id >= 0 and c.id in selected_ecl
    if prop in CONCEPT_PROPERTIES:
        if op in HIERARCHY_OPS:
            return _hierarchy_test(provider, op, value)
        if op in ("=", "in", "not-in"):
            ids = {c.id for code in _split_values(value) if (c := provider.concept(code)) is not None}
            return (lambda c: c.id not in ids) if op == "not-in" else (lambda c: c.id in ids)
        if op == "exists":
            wanted = value.strip().lower() != "false"
            return lambda c: wanted
        return _values_test(op, value, lambda c: [c.code])
    if prop not in ("parent", "child") and op not in HIERARCHY_OPS:
        return _values_test(op, value, _property_values(provider, prop))
    selected = filter_ids(provider, flt, where)
    return lambda c: c.id >= 0 and c.id in selected


# -- text filter (the $expand `filter` parameter) -------------------------------------------------------------


def fold(text: str) -> str:
    """Case- and diacritic-insensitive form of a text."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _words(text: str) -> list[str]:
    return [w for w in regex.split(r"[^\p{L}\p{N}]+", fold(text)) if w]


def has_words(query: str) -> bool:
    """Whether a text filter has a word to match (a filter without one keeps every concept)."""
    return bool(_words(query))


def text_matches(query: str, texts: Iterable[str]) -> bool:
    """Every word of ``query`` starts a word of one of ``texts`` (case and diacritics ignored)."""
    wanted = _words(query)
    if not wanted:
        return True
    words = [w for text in texts if text for w in _words(text)]
    return all(any(w.startswith(q) for w in words) for q in wanted)


def text_filter(provider: CodeSystemProvider, ids: list[int], query: str) -> list[int]:
    """The ids (order kept) whose code, display or designations match the ``$expand`` text ``filter``.

    The single entry point a search engine can replace: same arguments, same ordered result.
    """
    found: list[int] = []
    for concept in provider.concepts(ids):
        designations: list[DesignationRecord] = provider.designations(concept)
        texts = [concept.code, concept.display or "", *(d.value for d in designations)]
        if text_matches(query, texts):
            found.append(concept.id)
    return found
