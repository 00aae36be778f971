"""A diff report as JSON (summary + lists per change type), CSV (one row per change) or an HTML table."""

from __future__ import annotations

import csv
import io
from html import escape

from smt.publish.changes import DiffReport
from smt.publish.diff import CHANGE_TYPES, Change
from smt.store.releases import ReleaseInfo

CSV_COLUMNS = ("change", "system", "code", "display", "property", "language", "use", "old", "new")
_LABELS = {
    "added": "Ajouté", "removed": "Supprimé", "retired": "Désactivé", "reactivated": "Réactivé",
    "display": "Libellé modifié", "designation": "Désignation modifiée", "property": "Propriété modifiée",
    "moved": "Déplacé dans la hiérarchie",
}


def release_ref(info: ReleaseInfo) -> dict[str, str]:
    return {"version": info.version, "release": info.id, "status": info.status}


def report_json(report: DiffReport) -> dict:
    """Summary counts and, per change type, the list of changes."""
    by_type: dict[str, list[dict]] = {kind: [] for kind in CHANGE_TYPES}
    for change in report.changes:
        by_type[change.type].append(change.as_dict(with_type=False))
    return {
        "kind": report.kind, "url": report.url, "from": release_ref(report.old), "to": release_ref(report.new),
        "summary": report.summary, "changes": by_type,
    }


def _cell(value: str | list[str] | None) -> str:
    if value is None:
        return ""
    return " | ".join(value) if isinstance(value, list) else value


def change_row(change: Change) -> list[str]:
    data = change.as_dict()
    data["change"] = data.pop("type")
    return [_cell(data.get(column)) for column in CSV_COLUMNS]


def report_csv(report: DiffReport) -> str:
    """One row per change; list values are joined with " | "."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(change_row(change) for change in report.changes)
    return out.getvalue()


def report_html(report: DiffReport, extra: str = "") -> str:
    """A small self-contained page: the summary, then one table row per change (then ``extra`` HTML, e.g. the
    impact section of a code system's diff)."""
    title = f"{report.url} : {report.old.version} → {report.new.version}"
    summary = "".join(f"<li>{_LABELS[k]} : {n}</li>" for k, n in report.summary.items())
    header = "".join(f"<th>{escape(c)}</th>" for c in CSV_COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in change_row(change)) + "</tr>"
        for change in report.changes
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}</style></head>"
        f"<body><h1>{escape(title)}</h1><p>{escape(report.kind)} — {len(report.changes)} changement(s)</p>"
        f"<ul>{summary}</ul><table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>{extra}"
        "</body></html>\n"
    )
