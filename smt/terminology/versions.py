"""Version rules of a terminology request: which code system and value set version a reference means.

FHIR parameters (``$expand``/``$validate-code``): ``system-version`` (default version when a reference has
none), ``force-system-version`` (overrides any version), ``check-system-version`` (the resolved version must
match), ``default-to-latest-version``, ``valueSetVersion`` and ``default-valueset-version``. Values of the
system parameters are canonicals ``url|version``; versions may use ``x`` / ``*`` wildcards per dot segment
("1.0.x").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from smt.errors import VersionNotAllowed
from smt.releases.registry import version_key


def split_canonical(value: str) -> tuple[str, str | None]:
    """``url|version`` → (url, version); a canonical without ``|`` has no version."""
    url, bar, version = value.partition("|")
    return url.strip().rstrip("/"), (version.strip() or None) if bar else None


def is_wildcard(pattern: str) -> bool:
    return any(part in ("x", "X", "*") for part in pattern.split("."))


def version_matches(version: str, pattern: str) -> bool:
    """``version`` equals ``pattern``, or matches it segment by segment with ``x``/``*`` wildcards."""
    if version == pattern:
        return True
    if not is_wildcard(pattern):
        return False
    regex = r"\.".join(".*" if part in ("x", "X", "*") else re.escape(part) for part in pattern.split("."))
    return re.fullmatch(regex, version) is not None


def select_version(available: Iterable[str], requested: str | None) -> str | None:
    """The version of ``available`` that ``requested`` means (latest when none or wildcard), or None.

    A non-wildcard request that matches no version exactly selects the latest version that extends it with a
    ``/`` segment (a SNOMED CT module URI without its ``/version/…`` date).
    """
    ordered = sorted(set(available), key=version_key)
    if not ordered:
        return None
    if requested is None:
        return ordered[-1]
    matching = [v for v in ordered if version_matches(v, requested)]
    if not matching and not is_wildcard(requested):
        matching = [v for v in ordered if v.startswith(requested.rstrip("/") + "/")]
    return matching[-1] if matching else None


@dataclass(slots=True)
class VersionRules:
    """The version parameters of one request."""

    system_version: dict[str, str] = field(default_factory=dict)
    force_system_version: dict[str, str] = field(default_factory=dict)
    check_system_version: dict[str, str] = field(default_factory=dict)
    default_to_latest: bool = True
    value_set_version: str | None = None
    default_value_set_version: dict[str, str] = field(default_factory=dict)
    used: list[tuple[str, str]] = field(default_factory=list)
    """(parameter name, canonical) of the system parameters that decided a version, in order of use."""

    @classmethod
    def from_params(cls, system_version: Iterable[str] = (), force_system_version: Iterable[str] = (),
                    check_system_version: Iterable[str] = (), default_to_latest: bool | None = None,
                    value_set_version: str | None = None,
                    default_value_set_version: Iterable[str] = ()) -> VersionRules:
        """Rules from the raw parameter values (lists of ``url|version`` canonicals)."""

        def table(values: Iterable[str]) -> dict[str, str]:
            pairs = (split_canonical(v) for v in values if v)
            return {url: version for url, version in pairs if version}

        return cls(table(system_version), table(force_system_version), table(check_system_version),
                   True if default_to_latest is None else default_to_latest, value_set_version,
                   table(default_value_set_version))

    def effective(self, system: str, version: str | None) -> str | None:
        """The version to look for: forced, else the one given, else the request's default."""
        system = system.rstrip("/")
        if system in self.force_system_version:
            return self._use("force-system-version", system, self.force_system_version)
        if version:
            return version
        if system in self.system_version:
            return self._use("system-version", system, self.system_version)
        if system in self.check_system_version:
            return self._use("check-system-version", system, self.check_system_version)
        return None

    def _use(self, name: str, system: str, table: dict[str, str]) -> str:
        used = (name, f"{system}|{table[system]}")
        if used not in self.used:
            self.used.append(used)
        return table[system]

    def check(self, system: str, version: str | None) -> None:
        """Raise ``VersionNotAllowed`` when a ``check-system-version`` rejects ``version`` (None: no version)."""
        required = self.check_system_version.get(system.rstrip("/"))
        if required and version is not None and not version_matches(version, required):
            raise VersionNotAllowed(system, version, required)

    def value_set(self, url: str, version: str | None) -> str | None:
        """The value set version to look for (explicit, else ``default-valueset-version``)."""
        return version or self.default_value_set_version.get(url.rstrip("/"))

    def echo(self) -> list[tuple[str, str]]:
        """(parameter name, canonical) pairs for the expansion's ``parameter`` list: those that were used."""
        return list(self.used)
