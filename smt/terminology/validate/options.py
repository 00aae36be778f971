"""The ``$validate-code`` options the engine acts on, read from the request once (by ``fhir_api``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class ValidateOptions:
    """``$validate-code`` parameters the engine acts on."""

    display_language: str | None = None
    active_only: bool = False
    abstract_allowed: bool = True
    lenient_display: bool = False
    infer_system: bool = False
    code_system: bool = False
    """CodeSystem ``$validate-code``: the value set is the whole code system, so no ``not-in-vs`` issues."""
    membership_only: bool = False
    """``valueset-membership-only``: only whether the code is in the value set (no code or display checks)."""
    versions_match: bool | None = None
    """``versionsMatch`` (see ``Compose.versions_match``); None: not given."""
