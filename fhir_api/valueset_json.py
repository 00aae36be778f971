"""Value set engine results shaped as FHIR R4 JSON: expansions, validation Parameters, OperationOutcomes.

R5 elements that R4 lacks (``expansion.property``, ``contains.property``) are written as the standard
cross-version extensions, so the JSON stays valid R4 and R5 clients read them back.
"""

from __future__ import annotations

from typing import Any

from fhir_api.answers import MESSAGE_ID_EXTENSION
from fhir_api.results import coding_json, typed_value
from smt.errors import TX_ISSUE_TYPE
from smt.terminology.codesystem import Issue, ValidationResult
from smt.terminology.expand.concept_extensions import designation_extensions
from smt.terminology.expand.expand import Expansion, ExpansionEntry
from smt.terminology.parameters import TxParameters

EXT_EXPANSION_PROPERTY = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.property"
EXT_CONTAINS_PROPERTY = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.contains.property")

EXT_UNCLOSED = "http://hl7.org/fhir/StructureDefinition/valueset-unclosed"


def echo_parameters(tx: TxParameters) -> list[dict]:
    """The request's expansion parameters, as ``expansion.parameter`` entries."""
    return [{"name": name, kind: value} for name, kind, value in tx.echoed]


def _contains(entry: ExpansionEntry) -> dict:
    item: dict = {"system": entry.system}
    if entry.version:
        item["version"] = entry.version
    if entry.abstract:
        item["abstract"] = True
    if entry.inactive:
        item["inactive"] = True
    item["code"] = entry.code
    if entry.display:
        item["display"] = entry.display
    if entry.designations:
        item["designation"] = [
            {k: v for k, v in (("extension", list(designation_extensions(d.extensions)) or None),
                               ("language", d.language), ("use", coding_json(d.use) if d.use else None),
                               ("value", d.value)) if v is not None}
            for d in entry.designations
        ]
    extensions = list(entry.extensions)
    for prop in entry.properties:
        extensions.append({"url": EXT_CONTAINS_PROPERTY, "extension": [
            {"url": "code", "valueCode": prop.code},
            {"url": "value", **typed_value(prop.type, prop.value)},
        ]})
    if extensions:
        item["extension"] = extensions
    if entry.contains:
        item["contains"] = [_contains(child) for child in entry.contains]
    return item


OMITTED = ("expansion", "text", "contained", "meta", "compose", "publisher", "description", "extension")
"""Source value set elements an expansion leaves out (as tx.fhir.org: the definition and its extensions,
narrative, descriptions)."""

DEFINITION = ("compose", "publisher", "description", "extension")
"""The value set definition an expansion keeps when the request sets ``includeDefinition``."""


def expansion_value_set(expansion: Expansion, tx: TxParameters, resource_id: str | None = None) -> dict:
    """The expanded ValueSet resource: the source's metadata (minus ``OMITTED``) plus ``expansion``.

    The display language in effect is echoed even when it came from the value set or ``Accept-Language``;
    ``offset`` is given when not 0 or when the request asked for one (a page); ``includeDefinition`` keeps the
    value set's definition (``DEFINITION``).
    """
    source = expansion.value_set
    kept = DEFINITION if tx.include_definition else ()
    vs = {k: v for k, v in source.items() if k not in OMITTED or k in kept}
    vs["resourceType"] = "ValueSet"
    if resource_id:
        vs["id"] = resource_id
    if "status" not in vs:
        vs["status"] = "unknown"  # required in R4; the source did not say
    parameter = echo_parameters(tx)
    if expansion.display_language and "displayLanguage" not in tx.given:
        parameter.append({"name": "displayLanguage", "valueCode": expansion.display_language})
    if expansion.versions_match:
        parameter.append({"name": "versionsMatch", "valueBoolean": True})
    parameter += [{"name": name, "valueUri": canonical} for name, canonical in expansion.version_parameters]
    parameter += [{"name": "used-codesystem", "valueUri": u} for u in expansion.used_code_systems]
    parameter += [{"name": "used-valueset", "valueUri": u} for u in expansion.used_value_sets]
    parameter += [{"name": "used-supplement", "valueUri": u} for u in expansion.used_supplements]
    parameter += [{"name": "used-fragment", "valueUri": u} for u in expansion.used_fragments]
    parameter += [{"name": f"warning-{value}", "valueUri": canonical} for _, canonical, value in expansion.standings]
    body: dict = {"identifier": expansion.identifier, "timestamp": expansion.timestamp,
                  "total": expansion.total}
    if expansion.offset or "offset" in tx.given:
        body["offset"] = expansion.offset
    if parameter:
        body["parameter"] = parameter
    extensions: list[dict[str, Any]] = [{"url": EXT_EXPANSION_PROPERTY, "extension": [
        {"url": "code", "valueCode": code}, *([{"url": "uri", "valueUri": uri}] if uri else [])]}
        for code, uri in expansion.properties]
    if expansion.used_fragments:
        systems = ", ".join(u.split("|")[0] for u in expansion.used_fragments)
        extensions += [{"url": EXT_UNCLOSED, "valueBoolean": True}, {"url": EXT_UNCLOSED + "-reason", "valueString":
                       f"This extension is based on a fragment of the code system {systems}"}]
    elif expansion.unclosed is not None:
        extensions.append({"url": EXT_UNCLOSED, "valueBoolean": True})
        if expansion.unclosed:
            extensions.append({"url": EXT_UNCLOSED + "-reason", "valueString": expansion.unclosed})
    if extensions:
        body["extension"] = extensions
    if expansion.contains:
        body["contains"] = [_contains(entry) for entry in expansion.contains]
    vs["expansion"] = body
    return vs


# -- issues and validation results ------------------------------------------------------------------------------


def issue_json(issue: Issue) -> dict:
    item: dict = {"severity": issue.severity, "code": issue.code, "details": {"text": issue.text}}
    if issue.message_id:
        item["extension"] = [{"url": MESSAGE_ID_EXTENSION, "valueString": issue.message_id}]
    if issue.tx_code:
        item["details"]["coding"] = [{"system": TX_ISSUE_TYPE, "code": issue.tx_code}]
    if issue.expression:
        item["expression"] = [issue.expression]  # not the deprecated location: R4 OperationOutcome.issue.location
    return item


def outcome(issues: list[Issue]) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [issue_json(i) for i in issues]}


def validation_parameters(result: ValidationResult, codeable_concept: dict | None = None) -> dict:
    """A ValueSet ``$validate-code`` answer (parameters in the order tx.fhir.org gives them)."""
    items: list[dict] = []

    def add(name: str, key: str, value: object) -> None:
        if value is not None and value != "":
            items.append({"name": name, key: value})

    if codeable_concept is not None:
        add("codeableConcept", "valueCodeableConcept", codeable_concept)
    add("code", "valueCode", result.code)
    add("display", "valueString", result.display)
    if result.inactive:
        add("inactive", "valueBoolean", True)
    if result.issues:
        items.append({"name": "issues", "resource": outcome(result.issues)})
    add("message", "valueString", result.message)
    add("normalized-code", "valueCode", result.normalized_code)
    add("result", "valueBoolean", result.result)
    add("status", "valueCode", result.status)
    add("system", "valueUri", result.system)
    add("version", "valueString", result.version)
    if result.unknown_system:
        add("x-caused-by-unknown-system", "valueCanonical", result.unknown_system)
    if result.missing_system:
        add("x-unknown-system", "valueCanonical", result.missing_system)
    return {"resourceType": "Parameters", "parameter": items}
