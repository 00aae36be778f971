"""Which provider serves a code system, and the providers of stored releases (one per release, shared).

The catalogue names the provider of a terminology (``provider = "snomed"`` in ``terminologies/*.toml``, next to
its ``loader``), so a canonical URL, its aliases and OIDs are written once, in the catalogue; ``PROVIDERS``
maps those names to classes. A system the catalogue does not name a provider for is a plain FHIR code system.
Each terminology has three classes: its rules (what it does its own way, whatever holds the version), the
provider of a stored release and that of a code system given in a request.

Stored providers live as long as their release: ``Registry.attached`` keeps one per release id and drops it
when the release goes. Request code systems are built for their request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from smt.catalogue.terminologies import load_catalogue
from smt.codesystems.cim10 import Cim10Rules, MemoryCim10, StoredCim10
from smt.codesystems.memory import MemoryCodeSystem
from smt.codesystems.provider import CodeSystemProvider, ConceptMapView
from smt.codesystems.snomed.provider import MemorySnomed, SnomedRules, StoredSnomed
from smt.codesystems.stored import StoredCodeSystem
from smt.formats.fhir_json import codesystem_release, standing
from smt.releases.registry import Registry, normalise_system
from smt.search.service import search_path
from smt.store.releases import ReleaseInfo


@dataclass(frozen=True, slots=True)
class ProviderClasses:
    """The provider classes of one terminology."""

    rules: type[CodeSystemProvider]
    """Its class-level capabilities (``normalise_code``, implicit value sets…), shared by the two others."""
    stored: type[StoredCodeSystem]
    memory: type[MemoryCodeSystem]


# rules classes are abstract: only their class-level capabilities are used, they are never instantiated
FHIR = ProviderClasses(CodeSystemProvider, StoredCodeSystem, MemoryCodeSystem)  # type: ignore[type-abstract]
"""A plain FHIR code system."""

PROVIDERS: dict[str, ProviderClasses] = {
    "snomed": ProviderClasses(SnomedRules, StoredSnomed, MemorySnomed),  # type: ignore[type-abstract]
    "cim10": ProviderClasses(Cim10Rules, StoredCim10, MemoryCim10),  # type: ignore[type-abstract]
}
"""Provider classes by the name the catalogue gives them."""


@lru_cache(maxsize=1024)
def provider_classes(system: str) -> ProviderClasses:
    """The provider classes of ``system`` (any URL form the catalogue knows: alias, OID, trailing ``/``)."""
    canonical = normalise_system(system)
    for item in load_catalogue().values():
        if item.url == canonical and item.provider:
            if item.provider not in PROVIDERS:
                raise ValueError(f"catalogue entry '{item.key}' names an unknown provider '{item.provider}' "
                                 f"(known: {', '.join(sorted(PROVIDERS))})")
            return PROVIDERS[item.provider]
    return FHIR


def provider_class(system: str) -> type[CodeSystemProvider]:
    """The class whose class-level capabilities apply to ``system``, loaded or not."""
    return provider_classes(system).rules


def stored_provider(registry: Registry, info: ReleaseInfo) -> StoredCodeSystem:
    """The provider of a stored code system release (built once per release, shared)."""
    return registry.attached(info, "provider", lambda: provider_classes(info.url).stored(
        registry.index(info), search_path(info)))


def memory_provider(resource: dict) -> MemoryCodeSystem:
    """The provider of a FHIR CodeSystem resource given in a request (its standing recorded in ``meta``)."""
    release = codesystem_release(resource, where=f"CodeSystem {resource.get('url')}")
    provider = provider_classes(release.url).memory(release)
    provider.meta["standing"] = standing(resource)
    return provider


# -- what a terminology defines by URL patterns: implicit value sets and concept maps ---------------------------


def implicit_value_set(url: str) -> dict | None:
    """The ValueSet an implicit value set URL stands for (SNOMED CT ``?fhir_vs``…), None for any other URL."""
    return next((vs for classes in PROVIDERS.values() if (vs := classes.rules.implicit_value_set(url))), None)


def is_implicit_value_set(url: str) -> bool:
    """Whether ``url`` is written as an implicit value set URL of some terminology (even a malformed one)."""
    return any(classes.rules.is_implicit_value_set(url) for classes in PROVIDERS.values())


def implicit_membership_is_cheap(url: str) -> bool:
    """Whether one code's membership in the implicit value set ``url`` is cheap for the terminology that defines
    it (a concept read, a closure probe): such a call may run on the event loop."""
    return any(classes.rules.implicit_membership_is_cheap(url) for classes in PROVIDERS.values())


def implicit_concept_map(registry: Registry, url: str) -> ConceptMapView | None:
    """The ConceptMap an implicit concept map URL stands for (SNOMED CT ``?fhir_cm=``), None for any other."""
    return next((cm for classes in PROVIDERS.values()
                 if (cm := classes.rules.implicit_concept_map(registry, url)) is not None), None)


def implicit_map_urls(registry: Registry, systems: Iterable[str | None]) -> list[str]:
    """URLs of the implicit concept maps a ``$translate`` of codes of ``systems`` consults."""
    families = dict.fromkeys(provider_class(s) for s in systems if s)
    return [url for family in families for url in family.implicit_map_urls(registry)]
