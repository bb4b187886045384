"""Browsing the audit trail of the region (contract managers and auditors), and exporting it as
CSV or XLSX with the same filter. The XLSX grows with the log: with the job queue on, a worker
makes it (:mod:`portal.exports`); the CSV streams, so it stays within the request."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request, stream_with_context, url_for
from flask_login import current_user

from portal import audit, clock, db, exports
from portal.accounts.roles import REGION_READERS, roles_required
from portal.accounts.scoping import get_scoped_or_404
from portal.models import AuditEvent
from portal.pagination import paginate
from portal.web import audit_export
from portal.web.common import page_number, render_page_or_partial

bp = Blueprint("audit_log", __name__, url_prefix="/logboek")

XLSX_EXPORT = "audit_log.xlsx"


def _action_filter() -> str:
    return request.args.get("actie", "").strip()


@bp.route("/")
@roles_required(*REGION_READERS)
def list_events():
    action = _action_filter()
    statement = audit_export.filtered_events(action).order_by(AuditEvent.id.desc())
    page = paginate(statement, page_number(), per_page=50)
    return render_page_or_partial("audit_log/list.html", "audit_log/_results.html", page=page, action=action,
                                  xlsx_queued=exports.queued())


def _record_export(kind: str, action: str) -> None:
    """Who took the log out of the portal, and with which filter (committed before the file is
    written, so the file contains its own export event)."""
    audit.record("audit_log.exported",
                 f"Logboek geëxporteerd als {kind}" + (f" (gebeurtenissen die beginnen met '{action}')" if action else ""),
                 object_type="audit_log", details={"after": {"format": kind, "filter": action}})
    db.session().commit()


def _filename(extension: str) -> str:
    stamp = clock.local_now().strftime("%Y%m%d-%H%M")
    return f"logboek-{current_user.region.code}-{stamp}.{extension}"


@bp.route("/export.csv")
@roles_required(*REGION_READERS)
def export_csv():
    action = _action_filter()
    _record_export("CSV", action)
    statement = audit_export.filtered_events(action)
    response = Response(stream_with_context(audit_export.csv_chunks(statement)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@exports.export(XLSX_EXPORT, "Logboek als Excel (XLSX)")
def build_xlsx(progress) -> exports.ExportFile:
    """The log with the filter of ``request.args``, as the signed-in user sees it."""
    content = audit_export.xlsx_bytes(audit_export.filtered_events(_action_filter()), progress)
    return exports.ExportFile(_filename("xlsx"), content)


@bp.route("/export.xlsx", methods=["GET", "POST"])
@roles_required(*REGION_READERS)
def export_xlsx():
    """The log as XLSX: the file itself without the job queue; with it, a page that makes the
    export as a job (:func:`portal.exports.respond`). Either way the export is in the log."""
    action = _action_filter()
    summary = [f"Gebeurtenissen die beginnen met '{action}'" if action else "Alle gebeurtenissen",
               "Nieuwste eerst, met voor en na van elke wijziging"]
    return exports.respond(XLSX_EXPORT, summary=summary, before=lambda: _record_export("XLSX", action),
                           back_url=url_for("audit_log.list_events", actie=action or None), back_label="Logboek")


@bp.route("/<int:event_id>")
@roles_required(*REGION_READERS)
def detail(event_id):
    """One event with its before and after, field by field."""
    event = get_scoped_or_404(AuditEvent, event_id)
    details = event.details or {}
    before, after = details.get("before"), details.get("after")
    fields = []
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        for name in list(before) + [name for name in after if name not in before]:
            fields.append((name, before.get(name), after.get(name), before.get(name) != after.get(name)))
    other = {key: value for key, value in details.items() if key not in ("before", "after")}
    return render_template("audit_log/detail.html", event=event, fields=fields, other=other)
