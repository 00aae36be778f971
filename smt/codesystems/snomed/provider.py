"""The SNOMED CT providers: what SNOMED CT does its own way, for a stored release and for a code system given in
a request.

Any SNOMED CT version has a grammar (post-coordinated expressions: listed in value sets, validated, members of
filtered includes), implicit value sets (``?fhir_vs``) and concept maps (``?fhir_cm``), fully specified names
that are never a dialect's display and come first in expansions. A stored release adds what needs its
relationships and reference sets: ECL filters, its own ``$lookup`` (attributes, normal forms), expression
subsumption, and the historical associations and inactivation indicator of its inactive concepts (``history``;
tx.fhir.org's answers for them stay unchanged: ``reports_retirement`` is off).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from smt.codesystems.lookup import LookupResult
from smt.codesystems.memory import MemoryCodeSystem
from smt.codesystems.provider import CodeSystemProvider, ConceptMapView, ExpressionCheck, Replacement
from smt.codesystems.snomed import history, implicit_vs, maps
from smt.codesystems.snomed.expr_membership import expression_member, listed_expression
from smt.codesystems.snomed.expression import parse_expression
from smt.codesystems.snomed.lookup import sct_lookup
from smt.codesystems.snomed.subsumption import expression_subsumes
from smt.codesystems.snomed.terms import expansion_designations, is_fsn
from smt.codesystems.snomed.validate_expr import check_expression
from smt.codesystems.stored import StoredCodeSystem
from smt.ecl import EclError, evaluate
from smt.ecl.index_backend import IndexBackend, backend_for
from smt.errors import SmtError
from smt.index.reader import ConceptRecord, DesignationRecord, SubsumptionOutcome
from smt.index.sets import FrozenBitMap
from smt.releases.registry import Registry


class SnomedRules(CodeSystemProvider):
    """What any SNOMED CT version does its own way."""

    reports_retirement: ClassVar[bool] = False

    @classmethod
    def is_display_designation(cls, designation: DesignationRecord) -> bool:
        """Every SNOMED CT description (fully specified name, synonyms) is a display form of its concept."""
        return True

    @classmethod
    def implicit_value_set(cls, url: str) -> dict | None:
        return implicit_vs.implicit_value_set(url)

    @classmethod
    def is_implicit_value_set(cls, url: str) -> bool:
        return implicit_vs.is_implicit(url)

    @classmethod
    def implicit_membership_is_cheap(cls, url: str) -> bool:
        return implicit_vs.cheap_membership(url)

    @classmethod
    def implicit_concept_map(cls, registry: Registry, url: str) -> ConceptMapView | None:
        return maps.implicit_map_view(registry, url)

    @classmethod
    def implicit_map_urls(cls, registry: Registry) -> list[str]:
        return maps.map_refset_urls(registry)

    def ecl_backend(self) -> IndexBackend | None:
        """The ECL backend over the release's relationships and reference sets (None: not a stored release)."""
        return None

    def is_closed(self, filters: list[dict]) -> bool:
        """SNOMED CT has a grammar: a selection is closed only when a filter ``expressions = false`` excludes
        post-coordinated expressions."""
        return any(f.get("property") == "expressions" and str(f.get("value")).lower() == "false" for f in filters)

    def listed_expression(self, code: str, number: int) -> ConceptRecord | None:
        return listed_expression(self, code, number)

    def check_expression(self, code: str, display_language: str | None) -> ExpressionCheck | None:
        return check_expression(self, code, display_language)

    def expression_member(self, includes: list[dict], code: str) -> bool:
        expr = parse_expression(code)
        if expr is None:
            return False
        try:
            return expression_member(self, includes, expr, self.ecl_backend())
        except (SmtError, ValueError):
            return False

    def holds_implicit_value_set(self, vs: dict) -> bool:
        """An ``isa/`` or ``refset/`` implicit value set needs its concept, a ``refset/`` one members too."""
        focus = implicit_vs.implicit_focus(vs)
        if focus is None:
            return True
        if self.concept(focus) is None:
            return False
        include = vs["compose"]["include"][0]
        if include.get("filter", [{}])[0].get("property") != "constraint":
            return True
        try:
            return bool(self.ecl_ids(f"^ {focus}"))
        except EclError:
            return False

    def dialect_preferred(self, designations: list[DesignationRecord], tag: str) -> DesignationRecord | None:
        """The dialect's preferred synonym (a fully specified name is preferred in its reference set too, but
        is not a display)."""
        return next((d for d in designations if d.active and not is_fsn(d)
                     and any(t.lower() == tag and a == "preferred" for t, a in d.acceptability)), None)

    def expansion_designations(self, records: list[DesignationRecord]) -> list[DesignationRecord]:
        return expansion_designations(records)


class StoredSnomed(SnomedRules, StoredCodeSystem):
    """A stored SNOMED CT release (an edition at a release date)."""

    def replacements(self, concept: ConceptRecord) -> list[Replacement]:
        return history.replacements(self.index, concept.code)

    def inactivation_reason(self, concept: ConceptRecord) -> str | None:
        return history.inactivation_reason(self.index, concept.code)

    def all_replacements(self) -> dict[str, list[Replacement]]:
        return history.all_replacements(self.index)

    def ecl_backend(self) -> IndexBackend | None:
        return backend_for(self.index)

    def ecl_ids(self, expression: str) -> FrozenBitMap | None:
        """The ids an ECL expression selects (kept per expression while the release's set cache holds them)."""
        return self.sets.get(("ecl", expression), lambda: evaluate(expression, backend_for(self.index)))

    def lookup(self, code: str, properties: Iterable[str] | None = None,
               display_language: str | None = None) -> LookupResult | None:
        """SNOMED CT's own ``$lookup`` (attributes, normal forms, expressions) when the release was compiled with
        its relationships."""
        if not self.index.has_relationships:
            return super().lookup(code, properties, display_language)
        return sct_lookup(self, code, properties, display_language)

    def expression_subsumes(self, code_a: str, code_b: str, concept_a: ConceptRecord | None,
                            concept_b: ConceptRecord | None) -> SubsumptionOutcome | None:
        if not self.index.has_relationships:
            return None
        return expression_subsumes(self, code_a, code_b, concept_a, concept_b)


class MemorySnomed(SnomedRules, MemoryCodeSystem):
    """A SNOMED CT code system given in a request (a fragment): its grammar, without ECL or relationships."""
