"""Designations and properties of a large code system release as columns, not as one object per row.

A SNOMED CT-scale release has about 2 M designations and 3 M property values: as ``Designation`` and
``ConceptProperty`` objects they cost a gigabyte and tens of seconds of Python in every writer that walks them
(compiled index, search index, RDF graph). A loader may give them instead as two polars tables on
``CodeSystemRelease.columns``; the concepts' own ``designations`` and ``properties`` lists are then empty, and
the writers read the tables with vectorised code (ADR 0022).

Both tables are in concept order (``concept`` = position of the concept in ``release.concepts``), then in the
order the lists would have had: the writers keep that order where it shows (``$lookup``).

* ``designations`` (``DESIGNATION_SCHEMA``): ``value``, ``language``, the use as ``use_system`` / ``use_code``
  / ``use_display`` (all null without a use), the term's ``id`` in the source, ``active``, and
  ``acceptability`` encoded as the compiled index stores it (``"en-US:preferred|en-GB:acceptable"``, null
  without). Columnar designations have no FHIR extensions and no supplement source.
* ``properties`` (``PROPERTY_SCHEMA``): ``code``, ``type`` (the FHIR property type, authoritative) and
  ``value`` as text, encoded as the compiled index stores it (``smt.concept_columns.encode_value``): booleans
  ``true``/``false``, numbers as Python writes them, dateTimes as given, Codings as the JSON array
  ``[system, code, display]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson
import polars as pl

from smt.model import Coding, Concept, PropertyValue

DESIGNATION_SCHEMA: dict[str, pl.DataType] = {
    "concept": pl.UInt32(), "value": pl.String(), "language": pl.String(), "use_system": pl.String(),
    "use_code": pl.String(), "use_display": pl.String(), "id": pl.String(), "active": pl.Boolean(),
    "acceptability": pl.String(),
}
PROPERTY_SCHEMA: dict[str, pl.DataType] = {
    "concept": pl.UInt32(), "code": pl.String(), "type": pl.String(), "value": pl.String(),
}


@dataclass(slots=True)
class ConceptColumns:
    """The designations and properties of a release's concepts as two polars tables (see the module)."""

    designations: pl.DataFrame
    properties: pl.DataFrame

    def __post_init__(self) -> None:
        for name, frame, schema in (("designations", self.designations, DESIGNATION_SCHEMA),
                                    ("properties", self.properties, PROPERTY_SCHEMA)):
            if dict(frame.schema) != schema:
                raise ValueError(f"{name} columns must be {schema}, not {dict(frame.schema)}")


def encode_value(value: PropertyValue) -> str:
    """A property value as text: Codings as ``[system, code, display]`` JSON, booleans ``true``/``false``."""
    if isinstance(value, Coding):
        return orjson.dumps([value.system, value.code, value.display]).decode()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def encode_acceptability(pairs: Sequence[tuple[str, str]]) -> str | None:
    """``(("en-US", "preferred"), ("en-GB", "acceptable"))`` → ``"en-US:preferred|en-GB:acceptable"``."""
    return "|".join(f"{tag}:{value}" for tag, value in pairs) or None


def columns_from_concepts(concepts: Sequence[Concept]) -> ConceptColumns:
    """The columns of concepts given as objects (their designations must carry no extensions or source)."""
    designations = [
        (i, d.value, d.language, d.use.system if d.use else None, d.use.code if d.use else None,
         d.use.display if d.use else None, d.id, d.active, encode_acceptability(d.acceptability))
        for i, concept in enumerate(concepts) for d in concept.designations
    ]
    properties = [(i, p.code, p.type, encode_value(p.value))
                  for i, concept in enumerate(concepts) for p in concept.properties]
    return ConceptColumns(
        pl.DataFrame(designations, schema=DESIGNATION_SCHEMA, orient="row"),
        pl.DataFrame(properties, schema=PROPERTY_SCHEMA, orient="row"),
    )
