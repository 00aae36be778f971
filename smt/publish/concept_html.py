"""A small HTML page for a linked-data view: labels, code, hierarchy links, versions and other formats."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

import pyoxigraph as ox

from smt.publish.linked_data import ALL_VERSIONS, View
from smt.store.rdf import OWL, SKOS

FORMATS = (("turtle", "Turtle"), ("jsonld", "JSON-LD"), ("ntriples", "N-Triples"), ("rdfxml", "RDF/XML"))


def concept_href(iri: str, **params: str) -> str:
    return "/concept?" + urlencode({"iri": iri, **params})


def _text(term: object) -> str:
    return term.value if isinstance(term, ox.NamedNode | ox.Literal | ox.BlankNode) else str(term)


def _row(label: str, cells: list[str]) -> str:
    return f"<tr><th>{escape(label)}</th><td>{'<br>'.join(cells)}</td></tr>" if cells else ""


def render(view: View, version: str | None) -> str:
    labels = [escape(_text(t)) for t in view.values(SKOS + "prefLabel")]
    notation = [escape(_text(t)) for t in view.values(SKOS + "notation")]
    title = f"{notation[0] if notation else ''} {labels[0] if labels else escape(view.iri)}".strip()
    broader = [f'<a href="{escape(concept_href(t.value))}">{escape(t.value)}</a>'
               for t in view.values(SKOS + "broader") if isinstance(t, ox.NamedNode)]
    narrower = [f'<a href="{escape(concept_href(iri))}">{escape(iri)}</a> {escape(label or "")}'
                for iri, label in view.narrower]
    shown = {r.id for r in view.chosen}
    versions = [
        f'<a href="{escape(concept_href(view.iri, version=r.version))}">{escape(r.version)}</a>'
        + (" (affichée)" if r.id in shown else "") + f" — {escape(r.status)}"
        for r in view.releases
    ]
    versions.append(f'<a href="{escape(concept_href(view.iri, version=ALL_VERSIONS))}">toutes les versions</a>')
    extra = {"version": version} if version else {}
    formats = [f'<a href="{escape(concept_href(view.iri, format=name, **extra))}">{label}</a>'
               for name, label in FORMATS]
    deprecated = any(_text(t) == "true" for t in view.values(OWL + "deprecated"))
    rows = "".join((
        _row("IRI", [escape(view.iri)]),
        _row("Code", notation),
        _row("Libellé", labels),
        _row("Autres libellés", [escape(_text(t)) for t in view.values(SKOS + "altLabel")]),
        _row("Définition", [escape(_text(t)) for t in view.values(SKOS + "definition")]),
        _row("Statut", ["désactivé" if deprecated else "actif"]),
        _row("Système de codes", sorted({escape(r.url) for r in view.chosen})),
        _row("Parents", broader),
        _row("Enfants", narrower),
        _row("Versions", versions),
        _row("Formats", formats),
    ))
    return (
        "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
        f"<title>{title}</title><style>body{{font-family:sans-serif}}th{{text-align:left;vertical-align:top;"
        "padding-right:1em}</style></head>"
        f"<body><h1>{title}</h1><table>{rows}</table></body></html>\n"
    )
