"""Browsing the audit trail of the region (contract managers and auditors)."""
from __future__ import annotations

from flask import Blueprint, request
from sqlmodel import select

from portal.core_plugin import REGION_READERS
from portal.models import AuditEvent
from portal.pagination import paginate
from portal.roles import roles_required
from portal.scoping import scoped
from portal.views.common import page_number, render_page_or_partial

bp = Blueprint("audit_log", __name__, url_prefix="/logboek")


@bp.route("/")
@roles_required(*REGION_READERS)
def list_events():
    action = request.args.get("actie", "").strip()
    statement = scoped(select(AuditEvent), AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        statement = statement.where(AuditEvent.action.startswith(action))
    page = paginate(statement, page_number(), per_page=50)
    return render_page_or_partial("audit_log/list.html", "audit_log/_results.html", page=page, action=action)
