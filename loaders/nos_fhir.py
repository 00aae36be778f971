"""NOS tables as the ANS publishes them in FHIR R4 JSON: the generic FHIR loader plus NOS specifics.

Specifics: the designations ``LibelleCourt``/``LibelleAdapte``/``DescriptionMetier`` are kept (in French when
they name no language); the ``dateValid``/``dateMaj``/``dateFin`` properties are declared as dateTime when the
file does not declare them; a concept whose ``dateFin`` is past, or that carries a ``status`` of
retired/deprecated/inactive or a true ``deprecated``/``inactive``/``retired`` property, is retired (with its
``dateFin`` as retirement date, ``loaders.nos_retirement``). Files may be CRLF and start with a UTF-8 byte
order mark.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from loaders.nos_names import ended
from loaders.nos_retirement import add_retirement, retirement_declarations
from loaders.svs import DATE_PROPERTIES, PUBLISHER
from smt.errors import LoadError
from smt.formats.fhir_json import release_from_resource, resources_in
from smt.model import CodeSystemRelease, Concept, Designation, PropertyDef, Release

RETIRED_STATUSES = {"retired", "deprecated", "inactive"}
RETIRING_FLAGS = {"deprecated", "inactive", "retired"}
ANS_DOMAINS = ("https://mos.esante.gouv.fr/", "https://smt.esante.gouv.fr/")


def parse_json(data: bytes, where: str) -> dict:
    """A JSON object from bytes (a UTF-8 BOM is allowed); a syntax error names the line."""
    try:
        document = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as exc:
        raise LoadError(f"invalid JSON: {exc.msg}", file=where, line=exc.lineno) from exc
    if not isinstance(document, dict):
        raise LoadError("expected a JSON object (a FHIR resource)", file=where, line=1)
    return document


def is_retired(concept: Concept) -> bool:
    """The NOS retirement rule (see the module doc)."""
    for prop in concept.properties:
        if prop.code == "dateFin" and ended(str(prop.value)):
            return True
        if prop.code == "status" and str(prop.value).lower() in RETIRED_STATUSES:
            return True
        if prop.code in RETIRING_FLAGS and prop.value is True:
            return True
    return False


def apply_nos_rules(release: CodeSystemRelease) -> None:
    """Adjust a CodeSystem release read by the generic FHIR loader to the NOS conventions."""
    release.language = release.language or "fr"
    if release.publisher is None and release.url.startswith(ANS_DOMAINS):
        release.publisher = PUBLISHER
    declared = {p.code for p in release.properties}
    used = {p.code for c in release.concepts for p in c.properties}
    release.properties.extend(PropertyDef(code, "dateTime", description=text)
                              for code, text in DATE_PROPERTIES.items() if code in used - declared)
    for concept in release.concepts:
        if is_retired(concept):
            concept.status = "retired"
            add_retirement(concept)
        concept.designations = [d if d.language else Designation(d.value, "fr", d.use) for d in concept.designations]
    release.properties.extend(retirement_declarations(release.properties, release.concepts))


def fhir_releases(data: bytes, file: Path, version: str | None) -> list[Release]:
    """The CodeSystem, ValueSet and ConceptMap releases of a NOS FHIR JSON file (or Bundle)."""
    where = str(file)
    releases: list[Release] = []
    for resource in resources_in(parse_json(data, where)):
        release = release_from_resource(resource, where, version)
        if isinstance(release, CodeSystemRelease):
            apply_nos_rules(release)
        releases.append(release)
    return releases
