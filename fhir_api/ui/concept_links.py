"""Addresses of concept pages: ``/terminologies/{key}/concepts/{code}`` (``?version=`` unless the default)."""

from __future__ import annotations

from urllib.parse import quote

from fhir_api.ui.pages import query
from fhir_api.ui.resources import Resource


def concept_path(resource: Resource, code: str, version: str | None = None) -> str:
    """The page of ``code`` in ``resource``, in ``version`` when it is not the default one."""
    shown = version if version and version != resource.default.version else None
    return f"{resource.path}/concepts/{quote(code, safe='')}{query(version=shown)}"
