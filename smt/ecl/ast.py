"""Abstract syntax tree of ECL 2.2 expression constraints (brief syntax).

Nodes are frozen dataclasses, so two parses of the same text compare equal; positions (0-based character
offsets, for error messages) are excluded from comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

ConstraintOperator = Literal["<", "<<", "<!", "<<!", ">", ">>", ">!", ">>!", "!!>", "!!<"]
Comparison = Literal["=", "!=", "<", "<=", ">", ">="]
LogicalOperator = Literal["AND", "OR", "MINUS"]
HistoryProfile = Literal["MIN", "MOD", "MAX"]


# -- focus concepts ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ConceptRef:
    """A concept id with its optional ``|term|`` (a label only: never checked, nor compared)."""

    id: str
    term: str | None = field(default=None, compare=False)
    position: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Wildcard:
    """``*``: any concept."""


@dataclass(frozen=True, slots=True)
class AltIdentifier:
    """``SCHEME#code``: a concept named by an alternate identifier."""

    scheme: str
    code: str
    term: str | None = field(default=None, compare=False)
    position: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class ConceptSet:
    """``(id id …)``: a set of concept references, used by some filters."""

    concepts: tuple[ConceptRef, ...]


@dataclass(frozen=True, slots=True)
class MemberOf:
    """``^ refsets``: the members of the reference sets; ``fields`` selects refset fields instead."""

    refset: Focus
    fields: tuple[str, ...] | None = None
    filters: tuple[FilterBlock, ...] = ()


# -- expression constraints ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SubExpression:
    """``[operator] focus {{ filters }} {{ +HISTORY }}``."""

    focus: Focus
    operator: ConstraintOperator | None = None
    filters: tuple[FilterBlock, ...] = ()
    history: HistorySupplement | None = None


@dataclass(frozen=True, slots=True)
class Compound:
    """Conjunction (``AND`` or ``,``), disjunction (``OR``) or exclusion (``MINUS``, two operands)."""

    operator: LogicalOperator
    operands: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class Refined:
    """``subject : refinement``."""

    subject: SubExpression
    refinement: Refinement


@dataclass(frozen=True, slots=True)
class Dotted:
    """``subject . attribute . attribute``: the values of the attributes."""

    subject: SubExpression
    attributes: tuple[SubExpression, ...]


# -- refinements --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Cardinality:
    """``[min..max]``; ``max`` is None for ``*``."""

    min: int
    max: int | None


@dataclass(frozen=True, slots=True)
class SearchTerm:
    """A term to look for: ``match`` (word prefixes, the default) or ``wild`` (``*`` wildcards, raw text)."""

    kind: Literal["match", "wild"]
    text: str


@dataclass(frozen=True, slots=True)
class NumberValue:
    value: Decimal


@dataclass(frozen=True, slots=True)
class StringValue:
    terms: tuple[SearchTerm, ...]


@dataclass(frozen=True, slots=True)
class BooleanValue:
    value: bool


ConcreteValue = NumberValue | StringValue | BooleanValue


@dataclass(frozen=True, slots=True)
class Attribute:
    """``[card] [R] name op value``."""

    name: SubExpression
    comparison: Comparison
    value: SubExpression | ConcreteValue
    cardinality: Cardinality | None = None
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class AttributeGroup:
    """``[card] { attribute set }``."""

    body: Refinement
    cardinality: Cardinality | None = None


@dataclass(frozen=True, slots=True)
class RefinementSet:
    """Conjunction or disjunction of attributes, groups or bracketed refinements."""

    operator: Literal["AND", "OR"]
    operands: tuple[Refinement, ...]


# -- filters --------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TermFilter:
    op: Comparison
    terms: tuple[SearchTerm, ...]


@dataclass(frozen=True, slots=True)
class LanguageFilter:
    op: Comparison
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TypeFilter:
    """``typeId = …`` (``value`` an expression or concept set) or ``type = syn`` (``tokens``)."""

    op: Comparison
    value: SubExpression | ConceptSet | None = None
    tokens: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Dialect:
    """One dialect of a dialect filter: a language refset (expression or alias) and acceptabilities."""

    refset: SubExpression | ConceptRef | None = None
    alias: str | None = None
    acceptability: tuple[str | ConceptRef, ...] = ()


@dataclass(frozen=True, slots=True)
class DialectFilter:
    op: Comparison
    dialects: tuple[Dialect, ...]


@dataclass(frozen=True, slots=True)
class ModuleFilter:
    op: Comparison
    value: SubExpression | ConceptSet


@dataclass(frozen=True, slots=True)
class EffectiveTimeFilter:
    """Times are ``YYYYMMDD`` strings (an empty string for ``""``)."""

    op: Comparison
    times: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ActiveFilter:
    """``value`` None means ``*`` (active or not)."""

    op: Comparison
    value: bool | None


@dataclass(frozen=True, slots=True)
class DescriptionIdFilter:
    op: Comparison
    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DefinitionStatusFilter:
    """``definitionStatusId = …`` (``value``) or ``definitionStatus = primitive`` (``tokens``)."""

    op: Comparison
    value: SubExpression | ConceptSet | None = None
    tokens: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MemberFieldFilter:
    """A refset member field compared with an expression, a concrete value or times."""

    name: str
    op: Comparison
    value: SubExpression | ConcreteValue | tuple[str, ...]


Filter = (
    TermFilter | LanguageFilter | TypeFilter | DialectFilter | ModuleFilter | EffectiveTimeFilter | ActiveFilter
    | DescriptionIdFilter | DefinitionStatusFilter | MemberFieldFilter
)


@dataclass(frozen=True, slots=True)
class FilterBlock:
    """One ``{{ … }}``: every filter in it applies to the same description (or concept, or member)."""

    kind: Literal["description", "concept", "member"]
    filters: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class HistorySupplement:
    """``{{ +HISTORY[-MIN|-MOD|-MAX] }}`` or ``{{ +HISTORY (association refsets) }}``."""

    profile: HistoryProfile | None = None
    subset: Expression | None = None


Focus = ConceptRef | Wildcard | AltIdentifier | MemberOf | SubExpression | Compound | Refined | Dotted
Expression = SubExpression | Compound | Refined | Dotted
Refinement = Attribute | AttributeGroup | RefinementSet
