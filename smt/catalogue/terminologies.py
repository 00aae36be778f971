"""The declarative catalogue of terminologies (``terminologies/*.toml``).

Each entry names a terminology's canonical URL, OIDs, publisher, licence, concept IRI base, loader and, for a
terminology with rules of its own, its code system provider. Loaders take their metadata from here, and the
provider factory (``smt.codesystems.factory``) its provider, so that a terminology is described in one place
only.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from smt.config import CATALOGUE_DIR


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    key: str
    url: str
    name: str
    title: str
    loader: str | None = None
    provider: str | None = None
    """The code system provider that serves it (``smt.codesystems.factory.PROVIDERS``); None: plain FHIR."""
    publisher: str | None = None
    copyright: str | None = None
    licence: str | None = None
    description: str | None = None
    language: str | None = None
    oids: tuple[str, ...] = ()
    concept_iri_base: str | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)
    version_pattern: str | None = None
    """A regular expression with named groups that the terminology's versions match (SNOMED CT edition URIs)."""
    version_order: str | None = None
    """How a version matching ``version_pattern`` is ordered: a template of its groups ("{date} {module}")."""
    version_aliases: tuple[tuple[str, str], ...] = ()
    """(alias, canonical) version prefixes that name the same versions."""


def _entry(key: str, data: dict) -> CatalogueEntry:
    return CatalogueEntry(
        key=key,
        url=data["url"],
        name=data["name"],
        title=data.get("title", data["name"]),
        loader=data.get("loader"),
        provider=data.get("provider"),
        publisher=data.get("publisher"),
        copyright=data.get("copyright"),
        licence=data.get("licence"),
        description=data.get("description"),
        language=data.get("language"),
        oids=tuple(data.get("oids", ())),
        concept_iri_base=data.get("concept_iri_base"),
        aliases=tuple(data.get("aliases", ())),
        version_pattern=data.get("version_pattern"),
        version_order=data.get("version_order"),
        version_aliases=tuple((str(a), str(c)) for a, c in data.get("version_aliases", ())),
    )


@cache
def load_catalogue(directory: Path = CATALOGUE_DIR) -> dict[str, CatalogueEntry]:
    """All catalogue entries by key (the file name without ``.toml``)."""
    entries: dict[str, CatalogueEntry] = {}
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        for key, section in data.items():
            entries[key] = _entry(key, section)
    return entries


@cache
def catalogue_section(key: str, directory: Path = CATALOGUE_DIR) -> dict:
    """The raw TOML section of entry ``key``, for loader-specific settings (e.g. SNOMED CT dialects)."""
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        if key in data:
            return data[key]
    raise KeyError(f"no catalogue entry '{key}' in {directory}")


def entry(key: str) -> CatalogueEntry:
    """The catalogue entry named ``key`` (e.g. ``cim10``)."""
    return load_catalogue()[key]


def plain_oid(value: str) -> str:
    """An OID without its ``urn:oid:`` prefix."""
    return value.strip().removeprefix("urn:oid:")


def url_for_oid(oid: str) -> str | None:
    """The canonical URL of the terminology an OID identifies, if the catalogue knows it."""
    oid = oid.removeprefix("urn:oid:")
    for item in load_catalogue().values():
        if oid in item.oids:
            return item.url
    return None


def oid_for_url(url: str) -> str | None:
    """The first OID of the terminology with canonical URL ``url``."""
    for item in load_catalogue().values():
        if item.url == url or url in item.aliases:
            return item.oids[0] if item.oids else None
    return None
