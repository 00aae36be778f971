"""CodeSystem operations: $lookup and $subsumes, and what $validate-code shares, with no HTTP or FHIR JSON.

``$validate-code`` itself (CodeSystem and ValueSet) lives in ``smt.terminology.validate`` over a request's
``ResourceContext``; this module gives it ``Issue``, ``CodingInput``, ``ValidationResult`` and the errors.

* No version = the latest active release (``Registry.resolve``); system URLs are normalised (trailing slash,
  ``urn:oid:``, catalogue aliases).
* Unknown system, version or code raise ``NotFound`` subclasses whose messages follow tx.fhir.org wording.
* Code look-ups (``$lookup``, ``$subsumes``) try the code as given, then the code system's spelling of it
  (``CodeSystemProvider.normalise_code``: CIM-10 "E119" → "E11.9"). ``$validate-code`` is strict: a code that
  only matches after normalisation is invalid, and the message names the canonical code.
* What a terminology answers its own way (SNOMED CT expressions, attributes, normal forms) is a capability of
  its provider (``smt.codesystems``): ``lookup``, ``expression_subsumes``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from smt.codesystems.factory import stored_provider
from smt.codesystems.lookup import LookupResult
from smt.codesystems.provider import CodeSystemProvider
from smt.errors import NotFound, UnknownCode, UnknownCodeSystem
from smt.index.reader import CodeSystemIndex, ConceptRecord, SubsumptionOutcome
from smt.releases.registry import Registry, normalise_system
from smt.store.releases import ReleaseInfo

# -- resolution ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeSystemVersion:
    """One resolved release: its registry entry and its index."""

    info: ReleaseInfo
    index: CodeSystemIndex

    @property
    def url(self) -> str:
        return self.info.url

    @property
    def version(self) -> str:
        return self.info.version

    @property
    def name(self) -> str:
        return self.index.meta.get("name") or self.info.name

    @property
    def language(self) -> str | None:
        return self.index.meta.get("language")


def resolve(registry: Registry, system: str, version: str | None = None) -> CodeSystemVersion:
    """The release ``system`` (+ ``version``) means; ``UnknownCodeSystem`` when there is none."""
    releases = registry.versions_of(system)
    if not releases:
        raise UnknownCodeSystem(system)
    try:
        info = registry.resolve(normalise_system(system), version)
    except NotFound:
        raise UnknownCodeSystem(system, version, [r.version for r in releases]) from None
    return CodeSystemVersion(info, registry.index(info))


def by_id(registry: Registry, release_id: str) -> CodeSystemVersion:
    """The code system release with this id (the CodeSystem resource id)."""
    for info in registry.code_systems():
        if info.id == release_id:
            return CodeSystemVersion(info, registry.index(info))
    raise NotFound(f"CodeSystem/{release_id} is not known to this server")


def stored(registry: Registry, system: str, version: str | None = None) -> CodeSystemProvider:
    """The provider of the stored release ``system`` (+ ``version``) means; ``UnknownCodeSystem`` if none."""
    return stored_provider(registry, resolve(registry, system, version).info)


def require_concept(provider: CodeSystemProvider, code: str) -> ConceptRecord:
    """The concept with ``code`` (or the code system's spelling of it); ``UnknownCode`` when there is none."""
    concept = provider.find(code)
    if concept is None:
        raise UnknownCode(code, provider.url, provider.version or "")
    return concept


# -- $lookup ------------------------------------------------------------------------------------------------


def lookup(registry: Registry, system: str, code: str, version: str | None = None,
           properties: Iterable[str] | None = None, display_language: str | None = None) -> LookupResult:
    """``$lookup`` in a stored release (see ``lookup_in``)."""
    return lookup_in(stored(registry, system, version), code, properties, display_language)


def lookup_in(provider: CodeSystemProvider, code: str, properties: Iterable[str] | None = None,
              display_language: str | None = None) -> LookupResult:
    """``$lookup`` in one code system version (stored or request resource): the provider's answer
    (``CodeSystemProvider.lookup``). Raises ``UnknownCode``."""
    result = provider.lookup(code, properties, display_language)
    if result is None:
        raise UnknownCode(code, provider.url, provider.version or "")
    return result


# -- $validate-code -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding of a validation: FHIR issue severity and type, tx-issue-type code, text and ``expression``
    (the FHIRPath of the request element at fault; "" when none)."""

    severity: str
    code: str
    tx_code: str
    text: str
    expression: str
    in_message: bool | None = None
    """Whether the text goes in the ``message``: None = errors and warnings do; False/True force it (tx.fhir.org
    leaves out e.g. a value set's own deprecation flag, but shows some information notes)."""
    message_id: str | None = None
    """The tx.fhir.org message id (``operationoutcome-message-id`` extension), when known."""


@dataclass(frozen=True, slots=True)
class CodingInput:
    """A code to validate, as a code + system or a Coding gives it."""

    system: str | None
    code: str | None
    version: str | None = None
    display: str | None = None


@dataclass(slots=True)
class ValidationResult:
    result: bool
    message: str | None = None
    display: str | None = None
    code: str | None = None
    system: str | None = None
    version: str | None = None
    inactive: bool = False
    normalized_code: str | None = None
    """The code as the code system writes it, when the given one matched only by case (case-insensitive)."""
    status: str | None = None
    """The concept's status when it is not plain active (e.g. ``deprecated``, still valid)."""
    issues: list[Issue] = field(default_factory=list)
    unknown_system: str | None = None
    """``url|version`` of a code system version that could not be found (``x-caused-by-unknown-system``)."""
    missing_system: str | None = None
    """URL of the coding's code system when the server does not know it at all (``x-unknown-system``)."""
    member: bool | None = None
    """Whether the concept was found to be a member of the value set (None: not decided)."""


# -- $subsumes ----------------------------------------------------------------------------------------------


def subsumes(registry: Registry, system: str, code_a: str, code_b: str,
             version: str | None = None) -> SubsumptionOutcome:
    """``$subsumes``: equivalent, subsumes (A is an ancestor of B), subsumed-by or not-subsumed.

    Two concepts: the closure table. A code that is no concept may be an expression of a code system with a
    grammar (SNOMED CT): its provider compares them (``expression_subsumes``)."""
    provider = stored(registry, system, version)
    concept_a, concept_b = provider.find(code_a), provider.find(code_b)
    if concept_a is not None and concept_b is not None:
        return provider.subsumption(concept_a, concept_b)
    outcome = provider.expression_subsumes(code_a, code_b, concept_a, concept_b)
    if outcome is not None:
        return outcome
    return provider.subsumption(require_concept(provider, code_a), require_concept(provider, code_b))
