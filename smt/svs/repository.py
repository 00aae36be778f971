"""IHE SVS Value Set Repository over the store: find value sets by OID (ITI-48) or metadata (ITI-60).

A value set is found by its OID identifier (``urn:oid:<id>``). Without a version the latest active release
is served (latest release when none is active); a version selects that release, or the latest one starting
with it (``20230127`` selects ``20230127120000``). Concepts are the value set's enumerated compose concepts
(minus enumerated excludes); an intensional value set is expanded with ``smt.terminology.expand.expand``. Code systems
are written with their OID (``smt.releases.oids``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from smt.errors import SvsCannotExpand, SvsError, SvsUnknownValueSet, SvsUnknownVersion, ValueSetError
from smt.releases.oids import oid_index, plain_oid, system_name, system_oid
from smt.releases.registry import Registry, version_key
from smt.store.releases import ReleaseInfo
from smt.svs.xml import DescribedValueSet, OutConcept, is_oid
from smt.terminology.context import ResourceContext
from smt.terminology.expand.expand import ExpandOptions, expand, iter_entries

LANGUAGE_TAG = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*")
STATUS_NAMES = {"active": "Active", "retired": "Inactive", "draft": "Draft"}
EFFECTIVE_PERIOD = "http://hl7.org/fhir/StructureDefinition/resource-effectivePeriod"

CONTAINS_CRITERIA = {"displaynamecontains": ("title", "name"), "sourcecontains": ("publisher",),
                     "purposecontains": ("purpose",), "definitioncontains": ("description",),
                     "groupcontains": ()}
DATE_CRITERIA = {"effectivedate": "effective", "expirationdate": "expiration", "creationdate": "creation",
                 "revisiondate": "revision"}
CRITERIA = ("ID", "DisplayNameContains", "SourceContains", "PurposeContains", "DefinitionContains",
            "GroupContains", "GroupOID", "EffectiveDateBefore", "EffectiveDateAfter", "ExpirationDateBefore",
            "ExpirationDateAfter", "CreationDateBefore", "CreationDateAfter", "RevisionDateBefore",
            "RevisionDateAfter")


@dataclass(frozen=True, slots=True)
class Found:
    """A value set release with the OID it was found by and its resource."""

    info: ReleaseInfo
    oid: str
    resource: dict


def value_set_oids(resource: dict) -> list[str]:
    return [plain_oid(i["value"]) for i in resource.get("identifier", [])
            if isinstance(i, dict) and str(i.get("value", "")).startswith("urn:oid:")]


def _pick(candidates: list[ReleaseInfo], version: str | None) -> ReleaseInfo | None:
    ordered = sorted(candidates, key=lambda r: version_key(r.version))
    if version:
        exact = [r for r in ordered if r.version == version]
        matching = exact or [r for r in ordered if r.version.startswith(version)]
        return matching[-1] if matching else None
    active = [r for r in ordered if r.status == "active"]
    usable = active or [r for r in ordered if r.status != "retired"] or ordered
    return usable[-1]


def find_value_set(registry: Registry, oid: str, version: str | None = None) -> Found:
    """The value set release ITI-48 means; ``SvsError`` NAV (unknown OID) or VERUNK (unknown version)."""
    oid = plain_oid(oid)
    if not is_oid(oid):
        raise SvsError("Invalid value set id", detail=f"{oid!r} is not an OID")
    candidates = oid_index(registry).releases(oid, "ValueSet")
    if not candidates:
        raise SvsUnknownValueSet("Unknown value set", detail=f"no value set has the OID {oid}")
    info = _pick(candidates, version)
    if info is None:
        known = ", ".join(sorted({r.version for r in candidates}, key=version_key))
        raise SvsUnknownVersion("Version unknown",
                                detail=f"value set {oid} has no version {version} (known versions: {known})")
    return Found(info, oid, info.resource())


def _enumerated(resource: dict) -> bool:
    compose = resource.get("compose")
    if not compose or not compose.get("include"):
        return False
    parts = [*compose.get("include", []), *compose.get("exclude", [])]
    return all(p.get("system") and p.get("concept") and not p.get("filter") and not p.get("valueSet")
               for p in parts)


def _display(item: dict, lang: str | None) -> str | None:
    if lang:
        wanted = lang.lower()
        for designation in item.get("designation", []):
            tag = str(designation.get("language") or "").lower()
            if tag and (tag == wanted or tag.split("-")[0] == wanted.split("-")[0]):
                return designation.get("value")
    return item.get("display")


def _members(registry: Registry, resource: dict, lang: str | None) -> list[tuple[str, str, str | None]]:
    """(system URL, code, display) of every member, in compose order."""
    if _enumerated(resource):
        compose = resource["compose"]
        excluded = {(e["system"], c.get("code")) for e in compose.get("exclude", []) for c in e["concept"]}
        members: dict[tuple[str, str], str | None] = {}
        for include in compose["include"]:
            for item in include["concept"]:
                key = (include["system"], item.get("code", ""))
                if key not in excluded and key not in members:
                    members[key] = _display(item, lang)
        return [(system, code, display) for (system, code), display in members.items()]
    try:
        expansion = expand(resource, ResourceContext(registry), ExpandOptions(display_language=lang))
    except ValueSetError as exc:
        raise SvsCannotExpand("Value set cannot be expanded", detail=str(exc)) from exc
    return [(e.system, e.code, e.display) for e in iter_entries(expansion.contains)]


def concepts(registry: Registry, resource: dict, lang: str | None = None) -> list[OutConcept]:
    """The SVS concepts of a value set: each code with its code system OID and name."""
    oids: dict[str, str | None] = {}
    names: dict[str, str | None] = {}
    out = []
    for system, code, display in _members(registry, resource, lang):
        if system not in oids:
            oids[system] = system_oid(system, registry)
            names[system] = system_name(system, registry)
        out.append(OutConcept(code, oids[system], display, names[system]))
    return out


def _period(resource: dict) -> Mapping[str, str]:
    for ext in resource.get("extension", []):
        if ext.get("url") == EFFECTIVE_PERIOD:
            return ext.get("valuePeriod", {})
    return {}


def _day(value: str | None) -> str | None:
    return value[:10] if value and len(value) >= 10 else None


def dates(resource: dict) -> dict[str, str | None]:
    """The ITI-60 dates of a value set (``YYYY-MM-DD``; creation is unknown)."""
    period = _period(resource)
    return {"effective": _day(period.get("start")), "expiration": _day(period.get("end")), "creation": None,
            "revision": _day(resource.get("date"))}


def described(registry: Registry, found: Found, lang: str | None = None) -> DescribedValueSet:
    """Everything an ITI-48 or ITI-60 answer says about one value set release."""
    resource, info = found.resource, found.info
    listed = concepts(registry, resource, lang)
    found_lang = lang if lang and LANGUAGE_TAG.fullmatch(lang) and _has_language(resource, lang) else None
    found_lang = found_lang or resource.get("language")
    when = dates(resource)
    return DescribedValueSet(
        id=found.oid,
        display_name=resource.get("title") or resource.get("name") or info.title or info.name or found.oid,
        version=info.version,
        concepts=listed,
        lang=found_lang,
        source=resource.get("publisher"),
        source_uri=resource.get("url"),
        purpose=resource.get("purpose"),
        definition=resource.get("description"),
        status=STATUS_NAMES.get(info.status, info.status.capitalize()),
        effective_date=when["effective"],
        expiration_date=when["expiration"],
        revision_date=when["revision"],
    )


def _has_language(resource: dict, lang: str) -> bool:
    """Whether some enumerated concept has a designation in ``lang`` (primary language tag)."""
    wanted = lang.lower().split("-")[0]
    return any(str(d.get("language") or "").lower().split("-")[0] == wanted
               for include in resource.get("compose", {}).get("include", [])
               for item in include.get("concept", []) for d in item.get("designation", []))


# -- ITI-60 selection ---------------------------------------------------------------------------------------


def normalise_criteria(params: Mapping[str, str]) -> dict[str, str]:
    """ITI-60 parameters by lower-case name; an unknown parameter or no criterion is an ``SvsError``."""
    known = {name.lower(): name for name in CRITERIA}
    criteria: dict[str, str] = {}
    for name, value in params.items():
        if name.lower() not in known:
            raise SvsError("Unknown parameter", detail=f"{name} is not an ITI-60 parameter; "
                                                       f"known: {', '.join(CRITERIA)}")
        key, text = name.lower(), value.strip()
        if text:
            criteria[key] = _as_day(text) if key.endswith(("before", "after")) else text
    if not criteria:
        raise SvsError("No selection criterion", detail=f"give at least one of {', '.join(CRITERIA)}")
    return criteria


def _as_day(value: str) -> str:
    text = value.strip()
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return text[:10]
    raise SvsError("Invalid date", detail=f"{value!r} is not a date (YYYY-MM-DD or YYYYMMDD)")


def _matches(found: Found, criteria: Mapping[str, str]) -> bool:
    resource, info = found.resource, found.info
    fields = {"title": resource.get("title") or info.title, "name": resource.get("name") or info.name,
              "publisher": resource.get("publisher"), "purpose": resource.get("purpose"),
              "description": resource.get("description")}
    for key, wanted in criteria.items():
        if key == "id":
            if plain_oid(wanted) != found.oid:
                return False
        elif key == "groupoid":
            return False
        elif key in CONTAINS_CRITERIA:
            texts = [str(fields[f] or "") for f in CONTAINS_CRITERIA[key]]
            if not any(wanted.lower() in t.lower() for t in texts):
                return False
        else:
            before = key.endswith("before")
            day = dates(resource)[DATE_CRITERIA[key.removesuffix("before").removesuffix("after")]]
            if day is None or (day >= wanted if before else day <= wanted):
                return False
    return True


def search(registry: Registry, criteria: Mapping[str, str]) -> list[Found]:
    """The latest release of every value set OID whose metadata matches all ``criteria`` (ITI-60)."""
    index = oid_index(registry)
    wanted_oid = plain_oid(criteria["id"]) if "id" in criteria else None
    oids = [wanted_oid] if wanted_oid else sorted(index.by_oid)
    results = []
    for oid in oids:
        candidates = index.releases(oid, "ValueSet")
        info = _pick(candidates, None) if candidates else None
        if info is None:
            continue
        found = Found(info, oid, info.resource())
        if _matches(found, criteria):
            results.append(found)
    return results
