"""An impact report (``smt.publish.impact``) as JSON, as a FHIR ``Parameters`` resource, as an HTML section (the
diff page of a release) and as one line (the feed entry of the new release)."""

from __future__ import annotations

from html import escape

from smt.publish.diff_render import release_ref
from smt.publish.impact import ImpactReport, RetiredCode
from smt.store.releases import ReleaseInfo


def _resource_ref(info: ReleaseInfo) -> dict:
    return {"kind": info.kind, "url": info.url, "version": info.version, "id": info.id, "title": info.title}


def _retired_json(item: RetiredCode) -> dict:
    return {"code": item.code, "display": item.display, "change": item.change, "replaced_by": item.replaced_by}


def report_json(report: ImpactReport) -> dict:
    return {
        "system": report.system, "from": release_ref(report.old), "to": release_ref(report.new),
        "summary": report.summary,
        "value_sets": [{**_resource_ref(v.info),
                        "added": [{"code": c, "display": d} for c, d in v.added],
                        "removed": [{"code": c, "display": d} for c, d in v.removed]} for v in report.value_sets],
        "concept_maps": [{**_resource_ref(m.info), "sources": [_retired_json(r) for r in m.sources],
                          "targets": [_retired_json(r) for r in m.targets]} for m in report.concept_maps],
        "pinned": [_resource_ref(info) for info in report.pinned],
        "errors": [{**_resource_ref(info), "message": message} for info, message in report.errors],
    }


# -- FHIR Parameters ---------------------------------------------------------------------------------------------


def _coding(system: str, version: str, code: str, display: str | None) -> dict:
    return {"system": system, "version": version, "code": code, **({"display": display} if display else {})}


def _resource_parts(info: ReleaseInfo) -> list[dict]:
    return [{"name": "type", "valueCode": info.kind}, {"name": "url", "valueUri": info.url},
            {"name": "version", "valueString": info.version}, {"name": "id", "valueId": info.id}]


def _retired_part(name: str, system: str, version: str, item: RetiredCode) -> dict:
    parts = [{"name": "concept", "valueCoding": _coding(system, version, item.code, item.display)},
             {"name": "change", "valueCode": item.change}]
    parts += [{"name": "replacedBy", "valueCoding": {"system": system, "code": code}} for code in item.replaced_by]
    return {"name": name, "part": parts}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def report_parameters(report: ImpactReport) -> dict:
    """The answer of ``CodeSystem/$impact``."""
    system, old, new = report.new.url, report.old.version, report.new.version
    parameters: list[dict] = [
        {"name": "system", "valueUri": system}, {"name": "fromVersion", "valueString": old},
        {"name": "toVersion", "valueString": new},
        {"name": "summary", "part": [{"name": _camel(k), "valueInteger": v} for k, v in report.summary.items()]},
    ]
    for item in report.value_sets:
        parts = _resource_parts(item.info)
        parts += [{"name": "added", "valueCoding": _coding(system, new, c, d)} for c, d in item.added]
        parts += [{"name": "removed", "valueCoding": _coding(system, old, c, d)} for c, d in item.removed]
        parameters.append({"name": "valueSet", "part": parts})
    for found in report.concept_maps:
        parts = _resource_parts(found.info)
        parts += [_retired_part("source", system, old, r) for r in found.sources]
        parts += [_retired_part("target", system, old, r) for r in found.targets]
        parameters.append({"name": "conceptMap", "part": parts})
    parameters += [{"name": "pinned", "part": _resource_parts(info)} for info in report.pinned]
    parameters += [{"name": "error", "part": [*_resource_parts(info), {"name": "message", "valueString": message}]}
                   for info, message in report.errors]
    return {"resourceType": "Parameters", "parameter": parameters}


# -- HTML and one line -------------------------------------------------------------------------------------------


def _codes(items: list[tuple[str, str | None]]) -> str:
    return ", ".join(escape(code) + (f" <small>{escape(display)}</small>" if display else "")
                     for code, display in items) or "—"


def _retired(items: list[RetiredCode]) -> str:
    return ", ".join(escape(r.code) + f" ({escape(r.change)}" + (f" → {escape(' / '.join(r.replaced_by))}"
                                                                 if r.replaced_by else "") + ")"
                     for r in items) or "—"


def report_html(report: ImpactReport) -> str:
    """The impact as a section of the diff page."""
    rows = "".join(f"<tr><td>{escape(v.info.title or v.info.url)}<br><small>{escape(v.info.url)} "
                   f"{escape(v.info.version)}</small></td><td>{_codes(v.added)}</td><td>{_codes(v.removed)}</td></tr>"
                   for v in report.value_sets)
    maps = "".join(f"<tr><td>{escape(m.info.title or m.info.url)}<br><small>{escape(m.info.url)} "
                   f"{escape(m.info.version)}</small></td><td>{_retired(m.sources)}</td><td>{_retired(m.targets)}</td>"
                   f"</tr>" for m in report.concept_maps)
    pinned = "".join(f"<li>{escape(i.kind)} {escape(i.url)} {escape(i.version)}</li>" for i in report.pinned)
    return (
        f"<section id=\"impact\"><h2>Impact sur les jeux de valeurs et alignements</h2>"
        f"<p>{report.checked} jeu(x) de valeurs utilisant ce système de codes développé(s) avec les deux versions ; "
        f"{len(report.value_sets)} changent, {len(report.concept_maps)} alignement(s) pointent vers des codes "
        f"retirés, {len(report.pinned)} ressource(s) figée(s) sur la version {escape(report.old.version)}.</p>"
        f"<table><thead><tr><th>Jeu de valeurs</th><th>Codes ajoutés</th><th>Codes retirés</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f"<table><thead><tr><th>Alignement</th><th>Sources retirées</th><th>Cibles retirées</th></tr></thead>"
        f"<tbody>{maps}</tbody></table><ul>{pinned}</ul></section>"
    )


def report_line(report: ImpactReport) -> str:
    """One sentence for the feed entry of the new release."""
    names = ", ".join(v.info.title or v.info.url for v in report.value_sets[:10])
    more = f" (+{len(report.value_sets) - 10})" if len(report.value_sets) > 10 else ""
    return (f"impact since {report.old.version}: {len(report.value_sets)} of {report.checked} value set(s) using it "
            f"change{': ' + names + more if names else ''}; {len(report.concept_maps)} concept map(s) with retired "
            f"codes; {len(report.pinned)} resource(s) pinned to {report.old.version}")
