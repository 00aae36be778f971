"""NOS tables in IHE SVS XML → releases: ``TRE_`` → CodeSystem, ``JDV_`` → ValueSet (see ``loaders.nos_names``).

A TRE concept keeps the ANS labels: ``longDesignation`` (the libellé long) is the display, as in the ANS FHIR
CodeSystems; ``shortDesignation`` and ``displayName`` become the ``LibelleCourt`` and ``LibelleAdapte``
designations; ``dateValid``/``dateMaj``/``dateFin`` become dateTime properties, and a ``dateFin`` that is
past retires the concept. A JDV becomes a ValueSet whose ``compose.include`` lists its concepts per code
system; systems are written ``urn:oid:<oid>`` here and replaced by canonical URLs by ``loaders.nos`` once
every table of the load is known. Concepts that cannot be codes (empty placeholder codes, codes with spaces,
non-OID code systems) are left out with a warning; ``ASS_`` correspondence files are skipped (the SVS form
carries no source/target structure to build a ConceptMap from).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from loaders.nos_names import (
    NOS_BASE,
    SMT_VALUE_SET_BASE,
    ended,
    fhir_datetime,
    kebab,
    nos_fhir_url,
    pascal,
    svs_version,
    table_name,
)
from loaders.nos_retirement import add_retirement, retirement_declarations
from smt.errors import LoadError
from smt.model import (
    CodeSystemRelease,
    Coding,
    Concept,
    ConceptProperty,
    Designation,
    PropertyDef,
    ReleaseStatus,
    ResourceRelease,
)
from smt.svs.xml import SvsConcept, SvsValueSet, is_oid

PUBLISHER = "ANS"
DATE_PROPERTIES = {
    "dateValid": "date de validité d'un code concept",
    "dateMaj": "date de mise à jour d'un code concept",
    "dateFin": "date de fin d'un code concept",
}
EFFECTIVE_PERIOD = "http://hl7.org/fhir/StructureDefinition/resource-effectivePeriod"
KINDS = ("TRE", "JDV", "ASS")


@dataclass(slots=True)
class SvsResult:
    """The release built from one SVS value set, or why it was skipped (with the warnings met on the way)."""

    release: CodeSystemRelease | ResourceRelease | None
    skipped: str | None = None
    warnings: list[str] = field(default_factory=list)


def table_kind(vs: SvsValueSet, file: Path) -> str:
    """``TRE``, ``JDV`` or ``ASS``: ``typeFichier``, else the name prefix; other value sets count as JDV."""
    declared = vs.attrs.get("typeFichier", "").strip().upper()
    if declared in KINDS:
        return declared
    for name in (vs.display_name, file.name):
        prefix = name.strip().split("_", 1)[0].upper()
        if prefix in KINDS:
            return prefix
    return "JDV"


def _usable_code(concept: SvsConcept, where: str, warnings: list[str]) -> str | None:
    code = concept.code.strip()
    place = f"{where}:{concept.line}"
    if not code:
        warnings.append(f"{place}: concept without code ({concept.display!r}) left out")
        return None
    if any(ch.isspace() for ch in code):
        warnings.append(f"{place}: code {code!r} contains spaces, not a valid code: left out")
        return None
    if code != concept.code:
        warnings.append(f"{place}: code {concept.code!r} had surrounding spaces, loaded as {code!r}")
    return code


def _version(vs: SvsValueSet, where: str, version: str | None) -> str:
    found = version or svs_version(vs.attrs)
    if not found:
        raise LoadError("no dateMaj, revisionDate or version: pass --version", file=where, line=vs.line,
                        field="dateMaj")
    return found


def _tre_concept(concept: SvsConcept, code: str, where: str) -> Concept:
    short, adapted = concept.attrs.get("shortDesignation"), concept.display
    designations = [Designation(v, "fr", Coding(None, use)) for v, use in
                    ((short, "LibelleCourt"), (adapted, "LibelleAdapte")) if v and v.strip()]
    properties = [ConceptProperty(name, value, "dateTime") for name in DATE_PROPERTIES
                  if (value := fhir_datetime(concept.attrs.get(name)))]
    result = Concept(
        code=code,
        display=(concept.attrs.get("longDesignation") or concept.display or code).strip(),
        designations=designations,
        properties=properties,
        status="retired" if ended(concept.attrs.get("dateFin")) else "active",
        origin=f"{where}:{concept.line}",
    )
    add_retirement(result)
    return result


def code_system_release(vs: SvsValueSet, file: Path, version: str | None) -> SvsResult:
    """A TRE as a CodeSystem release (URL and version per ``loaders.nos_names``)."""
    where = str(file)
    warnings: list[str] = []
    url_fichier = vs.attrs.get("urlFichier", "").strip()
    name = table_name(url_fichier, vs.display_name, file)
    if not url_fichier:
        warnings.append(f"{where}: no urlFichier, canonical URL built from the table name {name}")
    concepts: list[Concept] = []
    for concept in vs.concepts:
        code = _usable_code(concept, where, warnings)
        if code is None:
            continue
        if concept.code_system and concept.code_system != vs.id:
            warnings.append(f"{where}:{concept.line}: code {code} has codeSystem {concept.code_system}, "
                            f"not the table's OID {vs.id}")
        concepts.append(_tre_concept(concept, code, where))
    if not concepts:
        return SvsResult(None, f"{where}: no usable concept", warnings)
    used = {p.code for c in concepts for p in c.properties}
    declared = [PropertyDef(p, "dateTime", description=d) for p, d in DATE_PROPERTIES.items() if p in used]
    description = vs.attrs.get("description", "").strip() or None
    release = CodeSystemRelease(
        url=nos_fhir_url(url_fichier or NOS_BASE + name),
        version=_version(vs, where, version),
        name=name,
        title=description or name,
        concepts=concepts,
        publisher=PUBLISHER,
        oids=[vs.id],
        language="fr",
        status="retired" if ended(vs.attrs.get("dateFin")) else "active",
        date=fhir_datetime(vs.attrs.get("dateMaj")),
        description=description,
        properties=[*declared, *retirement_declarations(declared, concepts)],
        hierarchy_meaning=None,
        warnings=warnings,
        stats={"source_codes": len(vs.concepts)},
    )
    return SvsResult(release)


def _value_set_identity(vs: SvsValueSet, file: Path, warnings: list[str]) -> tuple[str, str, str]:
    """(url, resource id, name) of a JDV."""
    url_fichier = vs.attrs.get("urlFichier", "").strip()
    name = table_name(url_fichier, vs.display_name, file)
    if url_fichier:
        url = nos_fhir_url(url_fichier)
        return url, url.rsplit("/", 1)[-1][:64], name
    if name.upper().startswith("JDV_"):
        slug = kebab(name)
        return SMT_VALUE_SET_BASE + slug, slug[:64], pascal(name)
    warnings.append(f"{file}: not an ANS value set name ({name!r}): canonical URL urn:oid:{vs.id}")
    return f"urn:oid:{vs.id}", kebab(name)[:64] or "svs-value-set", pascal(name) or "SvsValueSet"


def _includes(vs: SvsValueSet, where: str, warnings: list[str]) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    seen: set[tuple[str, str]] = set()
    for concept in vs.concepts:
        code = _usable_code(concept, where, warnings)
        if code is None:
            continue
        system = concept.code_system.strip()
        if not system:
            raise LoadError(f"Concept {code} has no codeSystem", file=where, line=concept.line, field="codeSystem")
        if not is_oid(system):
            warnings.append(f"{where}:{concept.line}: codeSystem {system!r} of code {code} is not an OID: left out")
            continue
        if (system, code) in seen:
            warnings.append(f"{where}:{concept.line}: code {code} of {system} listed twice: kept once")
            continue
        seen.add((system, code))
        item = {"code": code}
        if concept.display.strip():
            item["display"] = concept.display.strip()
        groups.setdefault(system, []).append(item)
    return [{"system": f"urn:oid:{system}", "concept": items} for system, items in groups.items()]


def _effective_period(vs: SvsValueSet) -> list[dict]:
    start = fhir_datetime(vs.attrs.get("dateValid")) or vs.attrs.get("effectiveDate", "").strip() or None
    end = fhir_datetime(vs.attrs.get("dateFin"))
    period = {k: v for k, v in (("start", start), ("end", end)) if v}
    return [{"url": EFFECTIVE_PERIOD, "valuePeriod": period}] if period else []


def value_set_release(vs: SvsValueSet, file: Path, version: str | None) -> SvsResult:
    """A JDV as a ValueSet release whose includes name their systems ``urn:oid:<oid>`` (resolved later)."""
    where = str(file)
    warnings: list[str] = []
    url, resource_id, name = _value_set_identity(vs, file, warnings)
    includes = _includes(vs, where, warnings)
    if not includes:
        return SvsResult(None, f"{where}: no usable concept", warnings)
    release_version = _version(vs, where, version)
    description = vs.attrs.get("description", "").strip() or None
    title = description or vs.display_name.strip().removesuffix(".tabs") or name
    status: ReleaseStatus = "retired" if ended(vs.attrs.get("dateFin")) else "active"
    date = fhir_datetime(vs.attrs.get("dateMaj")) or vs.attrs.get("revisionDate", "").strip() or None
    resource: dict = {"resourceType": "ValueSet", "id": resource_id, "language": "fr-FR"}
    if extension := _effective_period(vs):
        resource["extension"] = extension
    resource.update({
        "url": url,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:oid:{vs.id}"}],
        "version": release_version,
        "name": name,
        "title": title,
        "status": status,
    })
    if date:
        resource["date"] = date
    resource["publisher"] = PUBLISHER
    if description:
        resource["description"] = description
    resource["compose"] = {"include": includes}
    release = ResourceRelease(
        kind="ValueSet", url=url, version=release_version, name=name, title=title, resource=resource,
        publisher=PUBLISHER, oids=[vs.id], language="fr", status=status, date=date, description=description,
        warnings=warnings, stats={"source_codes": len(vs.concepts)},
    )
    return SvsResult(release)


def svs_release(vs: SvsValueSet, file: Path, version: str | None) -> SvsResult:
    """The release one SVS value set gives (``ASS_`` tables are skipped, see the module doc)."""
    kind = table_kind(vs, file)
    if kind == "ASS":
        return SvsResult(None, f"{file}: ASS_ correspondence table: the SVS form has no source/target "
                               "structure to build a ConceptMap from")
    if kind == "TRE":
        return code_system_release(vs, file, version)
    return value_set_release(vs, file, version)
