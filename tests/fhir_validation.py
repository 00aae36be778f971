"""Validate FHIR JSON responses against the R4(B) models of ``fhir.resources``."""

from __future__ import annotations

import importlib

from pydantic import BaseModel


def model_class(resource_type: str) -> type[BaseModel]:
    """The ``fhir.resources.R4B`` model of ``resource_type``."""
    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    return getattr(module, resource_type)


def assert_valid_fhir(resource: dict) -> BaseModel:
    """Parse ``resource`` with the model its ``resourceType`` names; fails the test when it is not valid."""
    assert isinstance(resource, dict), f"not a JSON object: {resource!r}"
    resource_type = resource.get("resourceType")
    assert resource_type, f"no resourceType in {resource!r}"
    try:
        return model_class(resource_type).model_validate(resource)
    except Exception as exc:
        raise AssertionError(f"invalid FHIR {resource_type}: {exc}") from exc
