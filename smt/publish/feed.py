"""Atom feed of the publications (RFC 4287), following the HL7 FHIR terminology syndication conventions.

One entry per published release (active or retired; drafts are not published): ``ncts:contentItemIdentifier``
is the canonical URL and ``ncts:contentItemVersion`` ``url|version``; a ``category`` in the NCTS ASF scheme says
what the entry carries (``FHIR_CodeSystem``, ``FHIR_ValueSet``, ``FHIR_ConceptMap``); the ``alternate`` link
is the FHIR JSON resource, other formats are ``related`` links, each with ``length`` and ``ncts:sha256Hash``
once generated; a ``related`` link gives the diff from the previous version and, for a code system, another
the impact of the new version on the stored value sets and maps (``smt.publish.impact``), summed up in the
entry's ``summary``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lxml import etree

from smt.publish.changes import DIFFABLE
from smt.publish.exports import Download, ExportFormat
from smt.publish.fhir_export import FHIR_VERSION
from smt.publish.impact import ImpactReport
from smt.publish.impact_render import report_line
from smt.publish.links import diff_path, download_path, impact_path, release_path
from smt.store.releases import ReleaseInfo

ATOM = "http://www.w3.org/2005/Atom"
NCTS = "http://ns.electronichealth.net.au/ncts/syndication/asf/extensions/1.0.0"
NCTS_SCHEME = "http://ns.electronichealth.net.au/ncts/syndication/asf/scheme/1.0.0"
NCTS_PROFILE = "http://ns.electronichealth.net.au/ncts/syndication/asf/profile/1.0.0"
MEDIA_TYPE = "application/atom+xml"
PUBLISHED = ("active", "retired")
_CATEGORY = {"CodeSystem": ("FHIR_CodeSystem", "FHIR CodeSystem"), "ValueSet": ("FHIR_ValueSet", "FHIR ValueSet"),
             "ConceptMap": ("FHIR_ConceptMap", "FHIR ConceptMap")}


@dataclass(slots=True)
class Publication:
    """A release as the feed shows it: its downloads (generated or not) and the version before it."""

    info: ReleaseInfo
    downloads: list[tuple[ExportFormat, Download | None]]
    previous: ReleaseInfo | None
    impact: ImpactReport | None = None


def _el(parent: etree._Element, tag: str, text: str | None = None, ns: str = ATOM, **attrs: str | None
        ) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def _link(entry: etree._Element, rel: str, href: str, media_type: str, title: str | None = None,
          download: Download | None = None) -> None:
    link = _el(entry, "link", rel=rel, href=href, type=media_type, title=title)
    if download is not None:
        link.set("length", str(download.size))
        link.set(f"{{{NCTS}}}sha256Hash", download.sha256)


def _entry(feed: etree._Element, item: Publication, base: str) -> None:
    info = item.info
    entry = _el(feed, "entry")
    _el(entry, "id", f"urn:smt:release:{info.id}")
    _el(entry, "title", f"{info.title or info.name} {info.version}")
    _el(entry, "updated", info.loaded_at)
    summary = f"{info.kind} {info.url} version {info.version}: {info.count} concepts, status {info.status}"
    _el(entry, "summary", summary + (f"; {report_line(item.impact)}" if item.impact is not None else ""))
    term, label = _CATEGORY.get(info.kind, ("FHIR_" + info.kind, "FHIR " + info.kind))
    _el(entry, "category", term=term, label=label, scheme=NCTS_SCHEME)
    _el(entry, "contentItemIdentifier", info.url, ns=NCTS)
    _el(entry, "contentItemVersion", f"{info.url}|{info.version}", ns=NCTS)
    _el(entry, "fhirVersion", FHIR_VERSION, ns=NCTS)
    for fmt, download in item.downloads:
        rel = "alternate" if fmt.name == "fhir-json" else "related"
        _link(entry, rel, base + download_path(info.id, fmt.name), fmt.media_type, fmt.label, download)
    _link(entry, "describedby", base + release_path(info.id), "application/json", "Release manifest")
    if item.previous is not None and info.kind in DIFFABLE:
        _link(entry, "related", base + diff_path(info.url, item.previous.version, info.version),
              "application/json", f"Changes since version {item.previous.version}")
    if item.impact is not None:
        _link(entry, "related", base + impact_path(info.url, item.impact.old.version, info.version),
              "application/json", f"Impact on the stored value sets and maps since version {item.impact.old.version}")


def feed_id(feed_url: str) -> str:
    """A stable feed id for a deployment: a name-based UUID of the feed's URL."""
    return uuid.uuid5(uuid.NAMESPACE_URL, feed_url).urn


def feed_xml(items: list[Publication], base: str, feed_url: str, fallback_updated: str) -> bytes:
    """The Atom document; entries newest first; ``updated`` is the newest entry's (else ``fallback_updated``)."""
    items = sorted(items, key=lambda p: p.info.loaded_at, reverse=True)
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM, "ncts": NCTS})
    _el(feed, "id", feed_id(feed_url))
    _el(feed, "title", "SMT — publications des terminologies")
    _el(feed, "subtitle", "Versions publiées des systèmes de codes, jeux de valeurs et alignements du serveur SMT")
    _el(feed, "updated", items[0].info.loaded_at if items else fallback_updated)
    author = _el(feed, "author")
    _el(author, "name", "SMT")
    _el(feed, "link", rel="self", href=feed_url, type=MEDIA_TYPE)
    _el(feed, "generator", "SMT")
    _el(feed, "atomSyndicationFormatProfile", NCTS_PROFILE, ns=NCTS)
    for item in items:
        _entry(feed, item, base)
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)
