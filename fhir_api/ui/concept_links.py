"""Addresses of concept pages: ``/terminologies/{key}/concepts/{code}`` (``?version=`` unless the default), and
the page a concept's linked-data IRI is answered with in HTML."""

from __future__ import annotations

from urllib.parse import quote, unquote

from fhir_api.ui.pages import query
from fhir_api.ui.resources import Resource, resources
from smt.releases.registry import Registry


def concept_path(resource: Resource, code: str, version: str | None = None) -> str:
    """The page of ``code`` in ``resource``, in ``version`` when it is not the default one."""
    shown = version if version and version != resource.default.version else None
    return f"{resource.path}/concepts/{quote(code, safe='')}{query(version=shown)}"


def _base(registry: Registry, resource: Resource) -> str:
    meta = registry.index(resource.default).meta
    return meta.get("concept_iri_base") or resource.url.rstrip("/") + "/"


def page_for_iri(registry: Registry, iri: str, version: str | None = None) -> str | None:
    """The page of the concept a linked-data IRI names (``http://data.esante.gouv.fr/atih/cim10/E11``), in
    ``version`` when given; None when no code system served here mints it."""
    for resource in resources(registry, "CodeSystem"):
        base = _base(registry, resource)
        if not iri.startswith(base) or len(iri) == len(base):
            continue
        code = unquote(iri[len(base):])
        release = resource.release(version) if version else resource.default
        if release is None:
            continue
        if registry.index(release).concept(code) is None:
            present = [r for r in reversed(resource.releases) if registry.index(r).concept(code) is not None]
            if version or not present:
                continue
            release = present[0]
        return concept_path(resource, code, release.version)
    return None
