"""Naming conventions of the ANS for NOS tables, shared by the SVS and FHIR sides of the NOS loader.

* Canonical URL of a NOS table (TRE_, JDV_, ASS_) published with an ``urlFichier``: the ANS FHIR canonical,
  ``{urlFichier}/FHIR/{name with "_" replaced by "-"}``, e.g. ``https://mos.esante.gouv.fr/NOS/TRE_R02-
  SecteurActivite`` → ``…/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite``, so that the SVS and the FHIR
  publications of one table give one code system. A NOS table without ``urlFichier`` gets the same URL built
  from its name under ``https://mos.esante.gouv.fr/NOS/``.
* Value sets outside the NOS (the CI-SIS ``JDV_*_CISIS`` files, which have no ``urlFichier``) follow the ANS
  terminology server convention ``https://smt.esante.gouv.fr/fhir/ValueSet/{kebab-case name}``
  (``JDV_AbordVeineuxPeripherique_CISIS`` → ``jdv-abord-veineux-peripherique-cisis``). A few hand-made ANS
  ids differ from this rule; the value set OID (``identifier``) remains the reliable key.
* Version: the ANS ``dateMaj`` stamp as is (``YYYYMMDDhhmmss``, e.g. ``20201030120000``), which is also the
  version format of the ANS terminology server; without ``dateMaj``, the ``revisionDate`` in that format, else
  the SVS ``version`` attribute. Versions sort in time order and ``20201030`` selects that day's release.
* Dates become FHIR dateTimes with the ``+01:00`` offset every ANS FHIR export uses.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

NOS_BASE = "https://mos.esante.gouv.fr/NOS/"
SMT_VALUE_SET_BASE = "https://smt.esante.gouv.fr/fhir/ValueSet/"
ANS_OFFSET = "+01:00"
_STAMP = re.compile(r"\d{14}")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2}))?")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])|(?<=[A-Z])(?=[A-Z][a-z])")


def table_name(url_fichier: str | None, display_name: str, file: Path) -> str:
    """The NOS name of a table (``TRE_R02-SecteurActivite``): from ``urlFichier``, else ``displayName``."""
    if url_fichier:
        return url_fichier.rstrip("/").rsplit("/", 1)[-1]
    name = display_name.strip().removesuffix(".tabs")
    return name or file.stem


def nos_fhir_url(url_fichier: str) -> str:
    """The ANS FHIR canonical of a NOS table published at ``url_fichier``."""
    base = url_fichier.strip().rstrip("/")
    if "/FHIR/" in base:
        return base
    return f"{base}/FHIR/{base.rsplit('/', 1)[-1].replace('_', '-')}"


def kebab(name: str) -> str:
    """``JDV_AbordVeineuxPeripherique_CISIS`` → ``jdv-abord-veineux-peripherique-cisis``."""
    parts = re.split(r"[_\-\s.]+", _CAMEL.sub("-", name))
    return "-".join(p.lower() for p in parts if p)


def pascal(name: str) -> str:
    """``jdv-age-cisis`` → ``JdvAgeCisis`` (a FHIR ``name``)."""
    return "".join(p[:1].upper() + p[1:] for p in kebab(name).split("-"))


def stamp_date(stamp: str | None) -> datetime | None:
    """A ``YYYYMMDDhhmmss`` stamp as a datetime; ``None`` when empty or malformed."""
    if not stamp or not _STAMP.fullmatch(stamp.strip()):
        return None
    try:
        return datetime.strptime(stamp.strip(), "%Y%m%d%H%M%S")
    except ValueError:
        return None


def iso_stamp(value: str | None) -> str | None:
    """``2024-08-06T00:00:00+01:00`` → ``20240806000000`` (local time as written)."""
    match = _ISO.match(value.strip()) if value else None
    if not match:
        return None
    parts = [p or "00" for p in match.groups()]
    return "".join(parts)


def fhir_datetime(stamp: str | None) -> str | None:
    """``20201030120000`` → ``2020-10-30T12:00:00+01:00``."""
    moment = stamp_date(stamp)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + ANS_OFFSET if moment else None


def svs_version(attrs: dict[str, str]) -> str | None:
    """The release version of an SVS value set (see the module doc)."""
    if stamp_date(attrs.get("dateMaj")):
        return attrs["dateMaj"].strip()
    revision = iso_stamp(attrs.get("revisionDate"))
    if stamp_date(revision):
        return revision
    version = (attrs.get("version") or "").strip()
    return version or None


def ended(value: str | None, today: date | None = None) -> bool:
    """Whether an end date (``dateFin`` stamp or FHIR dateTime) is set and not in the future."""
    if not value or not value.strip():
        return False
    moment = stamp_date(value) or stamp_date(iso_stamp(value))
    if moment is None:
        return False
    return moment.date() <= (today or date.today())
