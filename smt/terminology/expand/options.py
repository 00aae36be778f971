"""The ``$expand`` options the engine acts on, read from the request once (by ``fhir_api``) and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_MAX_EXPANSION = 10_000
"""Largest expansion returned without paging (``count``); above it the answer is ``too-costly``."""


@dataclass(slots=True)
class ExpandOptions:
    """``$expand`` parameters the engine acts on (the API echoes the request's parameters itself)."""

    count: int | None = None
    offset: int = 0
    active_only: bool = False
    exclude_nested: bool | None = None
    exclude_not_for_ui: bool = False
    include_designations: bool = False
    designations: list[str] = field(default_factory=list)
    display_language: str | None = None
    include_definition: bool = False
    properties: list[str] = field(default_factory=list)
    filter: str | None = None
    max_size: int = DEFAULT_MAX_EXPANSION
    inline: bool = False
    """The value set came in the request (``valueSet``): messages name it by its URL alone, as tx.fhir.org."""
    versions_match: bool | None = None
    """``versionsMatch``: a code is the same member whatever the code system version it comes from (see
    ``Compose.versions_match``); None: not given."""
