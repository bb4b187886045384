"""Realisatie beoordelen: the contract managers' queue of submitted realisation reports (filters,
counts, values, warnings, a bulk decision) and each report's page (lines, versions and what they
changed, warnings, the upload it came from) with approve and reject. Auditors read only.

The views only parse and render; every rule lives in :mod:`portal.realisation.review`."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select

from portal import db, page_cache
from portal.accounts import roles
from portal.accounts.roles import roles_required
from portal.accounts.scoping import get_scoped_or_404, organisation_names, scoped
from portal.models import Organisation, OrganisationKind, User
from portal.models.realisation import RealisationReport
from portal.pagination import paginate
from portal.realisation import review
from portal.realisation.importing import SOURCES
from portal.realisation.review_forms import ApproveForm, BulkForm, RejectForm
from portal.realisation.rules import parse_period
from portal.realisation.views.reports import line_columns
from portal.registry import current_registry
from portal.validators import RuleViolation
from portal.web.common import page_number, rejected_status, render_page_or_partial

bp = Blueprint("realisation_review", __name__, url_prefix="/realisatie/beoordelen")

READERS = (roles.CONTRACT_MANAGER, roles.AUDITOR)
PER_PAGE = 50
ALL_STATES = "alle"
MAX_FLASHED = 10



def can_act() -> bool:
    return current_user.role == roles.CONTRACT_MANAGER


# --- The queue -------------------------------------------------------------------------------


def queue_filters() -> dict:
    """The filters from the query string, unknown values dropped. The state defaults to
    "submitted" (the work to do); "alle" shows every state but superseded versions."""
    args = request.args
    filters = {"provider_id": args.get("aanbieder") or "", "municipality_id": args.get("gemeente") or "",
               "segment": args.get("segment") or "", "year": args.get("jaar") or "",
               "period": args.get("periode") or "", "state": args.get("status", "submitted")}
    for key in ("provider_id", "municipality_id", "year"):
        filters[key] = int(filters[key]) if str(filters[key]).isdigit() and len(str(filters[key])) < 10 else ""
    if filters["segment"] not in current_registry().segments:
        filters["segment"] = ""
    try:
        filters["period"] = parse_period(filters["period"]).code if filters["period"] else ""
    except ValueError:
        filters["period"] = ""
    if filters["state"] not in review.STATE_LABELS and filters["state"] != ALL_STATES:
        filters["state"] = "submitted"
    return filters


def _service_filters(filters: dict) -> dict:
    result = {key: value for key, value in filters.items() if value not in ("", None)}
    if result.get("period"):
        result["period"] = parse_period(result["period"])
    if result.get("state") == ALL_STATES:
        result.pop("state")
    return result


def _organisations(kind: str) -> list[Organisation]:
    return list(db.session().exec(scoped(select(Organisation), Organisation).where(
        Organisation.kind == kind).order_by(Organisation.name)).all())


@bp.route("/")
@roles_required(*READERS)
@page_cache.cached
def queue(bulk_form=None, status: int = 200):
    filters = queue_filters()
    service_filters = _service_filters(filters)
    page = paginate(review.queue_statement(service_filters), page_number(), PER_PAGE)
    count, value = review.queue_totals(service_filters)
    names = organisation_names([r.organisation_id for r in page.items] + [r.municipality_id for r in page.items])
    rows = [{"report": r, "provider": names.get(r.organisation_id, ""),
             "municipality": names.get(r.municipality_id, ""), "segment": current_registry().segment_short_label(r.segment_key),
             "period": review.period_of(r).label} for r in page.items]
    years = sorted(set(db.session().exec(scoped(select(RealisationReport.year), RealisationReport)
                                         .distinct()).all()), reverse=True)
    query = {key: value for key, value in (("aanbieder", filters["provider_id"]),
                                            ("gemeente", filters["municipality_id"]),
                                            ("segment", filters["segment"]), ("jaar", filters["year"]),
                                            ("periode", filters["period"]),
                                            ("status", filters["state"])) if value not in ("", None)}
    body = render_page_or_partial(
        "realisation_review/index.html", "realisation_review/_queue_table.html",
        rows=rows, page=page, count=count, value=value, counts=review.state_counts(), filters=filters,
        query=query, providers=_organisations(OrganisationKind.PROVIDER),
        municipalities=_organisations(OrganisationKind.MUNICIPALITY), segments=current_registry().segments,
        segment_label=current_registry().segment_short_label, years=years, labels=review.STATE_LABELS, all_states=ALL_STATES,
        periods=[(period.code, period.label) for period in review.queue_periods()],
        bulk_form=bulk_form or BulkForm(formdata=None), can_act=can_act())
    body.status_code = status
    return body


@bp.route("/in-een-keer", methods=["POST"])
@roles_required(roles.CONTRACT_MANAGER)
def bulk():
    """Approve (where safe: reports without warnings) or reject (with one reason) the chosen
    reports; see :func:`portal.realisation.review.bulk_approve`."""
    form = BulkForm()
    status = rejected_status(form)
    if status:
        return queue(form, status)
    choices = []
    for choice in form.selected.data:
        first, _, second = choice.partition(":")
        if first.isdigit() and second.isdigit():
            choices.append((int(first), int(second)))
    visible = set(db.session().exec(scoped(select(RealisationReport.id), RealisationReport).where(
        RealisationReport.id.in_([report_id for report_id, _lock in choices]))).all()) if choices else set()
    choices = [choice for choice in choices if choice[0] in visible]
    try:
        if form.action.data == "approve":
            outcome = review.bulk_approve(choices, current_user)
        else:
            outcome = review.bulk_reject(choices, current_user, form.reason.data)
    except RuleViolation as error:
        db.session().rollback()
        if error.field == "reason":
            form.reason.errors = [error.message]
        else:
            form.form_errors.append(error.message)
        return queue(form, 422)
    db.session().commit()
    word = "goedgekeurd" if form.action.data == "approve" else "afgewezen"
    if outcome.decided:
        count = len(outcome.decided)
        flash(f"{count} {'rapportage' if count == 1 else 'rapportages'} {word}.", "success")
    if not outcome.decided and not outcome.skipped:
        flash("Er is niets beoordeeld.", "error")
    names = organisation_names([r.municipality_id for r, _message in outcome.skipped])
    for report, message in outcome.skipped[:MAX_FLASHED]:
        flash(f"Niet {word}: {review.report_label(report, names.get(report.municipality_id))} — {message}", "error")
    if len(outcome.skipped) > MAX_FLASHED:
        flash(f"En nog {len(outcome.skipped) - MAX_FLASHED} andere rapportages niet {word}.", "error")
    return redirect(_back_to_queue(), 303)


def _back_to_queue() -> str:
    """The queue as the user last saw it: filters changed through htmx are in the address bar
    (hx-push-url), so in the Referer, not in the bulk form's own action."""
    queue_path = url_for("realisation_review.queue")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path == queue_path:
        return f"{referrer.path}?{referrer.query}" if referrer.query else referrer.path
    return url_for("realisation_review.queue", **request.args)


# --- One report ------------------------------------------------------------------------------


def _version_rows(report: RealisationReport) -> list[dict]:
    versions = review.versions(report)
    users = {u.id: u for u in db.session().exec(select(User).where(User.id.in_(
        {v.submitted_by for v in versions if v.submitted_by} | {v.reviewed_by for v in versions if v.reviewed_by})
    )).all()} if versions else {}
    rows, previous = [], None
    for version in versions:
        rows.append({"report": version, "changes": review.changes(previous, version),
                     "submitted_by": users.get(version.submitted_by), "reviewed_by": users.get(version.reviewed_by),
                     "upload": review.upload_of(version)})
        previous = version
    return rows


def _render_detail(report: RealisationReport, status: int = 200, approve_form=None, reject_form=None,
                   stale: str | None = None):
    session = db.session()
    provider = session.get(Organisation, report.organisation_id)
    municipality = session.get(Organisation, report.municipality_id)
    lines = review.lines(report)
    spec = current_registry().realisation_spec(report.segment_key)
    extra_labels = {f.name: f.label for f in getattr(spec, "fields", ())}
    acting = can_act() and report.state == "submitted"
    if acting:
        approve_form = approve_form or ApproveForm(formdata=None, lock_version=report.lock_version)
        reject_form = reject_form or RejectForm(formdata=None, lock_version=report.lock_version)
        approve_form.lock_version.data = report.lock_version
        reject_form.lock_version.data = report.lock_version
    body = render_template(
        "realisation_review/detail.html", report=report, provider=provider, municipality=municipality,
        segment=current_registry().segment_short_label(report.segment_key), period=review.period_of(report), lines=lines,
        extra_labels=extra_labels, **line_columns(report, lines),
        versions=_version_rows(report), upload=review.upload_of(report), sources=SOURCES,
        labels=review.STATE_LABELS, refusal=review.state_refusal(report), acting=acting,
        approve_form=approve_form, reject_form=reject_form, stale=stale, min_reason=review.MIN_REASON)
    return body, status


@bp.route("/<int:report_id>")
@roles_required(*READERS)
def detail(report_id: int):
    return _render_detail(get_scoped_or_404(RealisationReport, report_id))


def _decide(report_id: int, action: str):
    report = get_scoped_or_404(RealisationReport, report_id)
    form = ApproveForm() if action == "approve" else RejectForm()
    status = rejected_status(form)
    forms = {"approve_form": form} if action == "approve" else {"reject_form": form}
    if status:
        return _render_detail(report, status, **forms)
    try:
        if action == "approve":
            review.approve(report, current_user, form.lock_version.data)
        else:
            review.reject(report, current_user, form.lock_version.data, form.reason.data)
    except RuleViolation as error:
        db.session().rollback()
        report = get_scoped_or_404(RealisationReport, report_id)
        if error.field == "reason" and action == "reject":
            form.reason.errors = [error.message]
            return _render_detail(report, 422, **forms)
        return _render_detail(report, 409 if isinstance(error, review.StaleReport) else 422, stale=error.message)
    db.session().commit()
    flash("De realisatie is goedgekeurd en staat nu vast." if action == "approve"
          else "De realisatie is afgewezen; de zorgaanbieder krijgt bericht met de reden.", "success")
    return redirect(url_for("realisation_review.detail", report_id=report.id), 303)


@bp.route("/<int:report_id>/goedkeuren", methods=["POST"])
@roles_required(roles.CONTRACT_MANAGER)
def approve(report_id: int):
    return _decide(report_id, "approve")


@bp.route("/<int:report_id>/afwijzen", methods=["POST"])
@roles_required(roles.CONTRACT_MANAGER)
def reject(report_id: int):
    return _decide(report_id, "reject")
