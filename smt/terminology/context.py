"""The resolution context of one request: which code system and value set a reference means.

``ResourceContext`` resolves ``system`` + ``version`` and value set canonicals for one request: request
resources first, then the registry, following the version rules.
"""

from __future__ import annotations

from collections.abc import Iterable

from smt.codesystems.factory import implicit_value_set, memory_provider, stored_provider
from smt.codesystems.provider import CodeSystemProvider
from smt.errors import SupplementNotFound, UnknownCodeSystem, UnknownValueSet
from smt.releases.registry import Registry, normalise_system
from smt.terminology.supplements import apply as apply_supplements
from smt.terminology.supplements import is_supplement
from smt.terminology.versions import VersionRules, select_version, split_canonical


class ResourceContext:
    """Resolution of code systems and value sets for one request."""

    def __init__(self, registry: Registry | None, tx_resources: Iterable[dict] = (),
                 rules: VersionRules | None = None) -> None:
        self.registry = registry
        self.rules = rules or VersionRules()
        self._code_systems: dict[str, dict[str, CodeSystemProvider]] = {}
        self._value_sets: dict[str, dict[str, dict]] = {}
        self._sources: dict[str, dict[str, dict]] = {}
        self._supplements: dict[str, dict[str, dict]] = {}
        self.used_supplements: list[str] = []
        """``url|version`` of the supplements applied (``useSupplement``, ``valueset-supplement``)."""
        for resource in tx_resources:
            self.add_resource(resource)

    def add_resource(self, resource: dict) -> None:
        """Make a request CodeSystem or ValueSet resolvable (it takes precedence over the store)."""
        kind = resource.get("resourceType")
        url = str(resource.get("url") or "").rstrip("/")
        if not url:
            return
        version = resource.get("version") or ""
        if kind == "CodeSystem" and is_supplement(resource):
            self._supplements.setdefault(url, {})[version] = resource
        elif kind == "CodeSystem":
            self._code_systems.setdefault(url, {})[version] = memory_provider(resource)
            self._sources.setdefault(url, {})[version] = resource
        elif kind == "ValueSet":
            self._value_sets.setdefault(url, {})[version] = resource

    # -- supplements -----------------------------------------------------------------------------------------

    def supplement(self, system: str) -> dict | None:
        """The supplement whose URL is ``system`` (a supplement is not a code system to code with)."""
        found = self._supplements.get(system.rstrip("/"), {})
        chosen = select_version(found, None) if found else None
        return found[chosen] if chosen is not None else None

    def use_supplements(self, canonicals: Iterable[str]) -> None:
        """Apply supplements to the request's code systems; ``SupplementNotFound`` for an unknown one."""
        for canonical in canonicals:
            url, version = split_canonical(canonical)
            found = self._supplements.get(url.rstrip("/"), {})
            chosen = select_version(found, version) if found else None
            if chosen is None:
                raise SupplementNotFound(canonical)
            resource = found[chosen]
            used = f"{resource['url']}|{chosen}" if chosen else resource["url"]
            if used in self.used_supplements:
                continue
            self.used_supplements.append(used)
            base = split_canonical(str(resource.get("supplements") or ""))[0].rstrip("/")
            for base_version, source in self._sources.get(base, {}).items():
                merged = apply_supplements(source, [resource])
                self._sources[base][base_version] = merged
                self._code_systems[base][base_version] = memory_provider(merged)

    # -- code systems ---------------------------------------------------------------------------------------

    def code_system_versions(self, system: str) -> list[str]:
        """Every known version of ``system`` (request resources and store)."""
        local = [v for v in self._code_systems.get(system.rstrip("/"), {}) if v]
        stored = [r.version for r in self.registry.versions_of(system)] if self.registry else []
        return list(dict.fromkeys(local + stored))

    def code_system(self, system: str, version: str | None = None, check: bool = True) -> CodeSystemProvider:
        """The provider ``system`` + ``version`` means under the request's version rules.

        Raises ``UnknownCodeSystem`` (no such system or version) or, when ``check``, ``VersionNotAllowed``.
        """
        return self.code_system_at(system, self.rules.effective(system, version), check)

    def code_system_at(self, system: str, effective: str | None, check: bool = True) -> CodeSystemProvider:
        """The provider of ``system`` at the version the request's rules already chose for it (its
        ``VersionRules.effective`` version or pattern); raises as ``code_system``."""
        provider = self._find_code_system(system, effective)
        if check:
            self.rules.check(system, provider.version)
        return provider

    def exact_code_system(self, system: str, version: str | None) -> CodeSystemProvider:
        """The provider of exactly ``system`` + ``version``, whatever the request's version rules say."""
        return self._find_code_system(system, version)

    def _find_code_system(self, system: str, version: str | None) -> CodeSystemProvider:
        key = system.rstrip("/")
        local = self._code_systems.get(key, {})
        chosen = select_version(local, version) if local else None
        if chosen is not None:
            return local[chosen]
        if self.registry is not None:
            stored = self.registry.versions_of(system)
            if stored:
                if version is None:
                    return stored_provider(self.registry, self.registry.resolve(normalise_system(system)))
                picked = select_version([r.version for r in stored], version)
                if picked is not None:
                    info = next(r for r in reversed(stored) if r.version == picked)
                    return stored_provider(self.registry, info)
        known = self.code_system_versions(system)
        if not known or version is None:
            raise UnknownCodeSystem(system)
        raise UnknownCodeSystem(system, version, known)

    # -- value sets -----------------------------------------------------------------------------------------

    def _check_implicit(self, vs: dict) -> None:
        """``UnknownValueSet`` when the release of an implicit value set's code system does not hold what the
        value set is built on (a SNOMED CT concept or reference set)."""
        try:
            provider = self.code_system(vs["compose"]["include"][0]["system"], None, check=False)
        except UnknownCodeSystem:
            return
        if not provider.holds_implicit_value_set(vs):
            raise UnknownValueSet(vs["url"])

    def value_set(self, canonical: str, version: str | None = None) -> dict:
        """The ValueSet resource of a canonical (``url`` or ``url|version``); ``UnknownValueSet`` if none."""
        implicit = implicit_value_set(canonical)
        if implicit is not None:
            self._check_implicit(implicit)
            return implicit
        url, pinned = split_canonical(canonical)
        wanted = self.rules.value_set(url, version or pinned)
        local = self._value_sets.get(url, {})
        chosen = select_version(local, wanted) if local else None
        if chosen is not None:
            return local[chosen]
        if self.registry is not None:
            stored = self.registry.versions_of(url, "ValueSet")
            picked = select_version([r.version for r in stored], wanted) if stored else None
            if picked is not None:
                info = next(r for r in reversed(stored) if r.version == picked)
                return info.resource()
        raise UnknownValueSet(url, wanted)
