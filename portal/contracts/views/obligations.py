"""Obligations that come with a framework agreement (social return, say): a provider reports what
it realised per agreement and year; contract managers and auditors follow every agreement per
year, who is behind first. In a region without obligations the pages say so (and the menu hides
them)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import db
from portal.accounts import roles
from portal.accounts.roles import REGION_READERS, roles_required
from portal.accounts.scoping import get_scoped_or_404
from portal.contracts import obligations
from portal.contracts.forms import ObligationReportForm
from portal.models import FrameworkAgreement
from portal.registry import current_registry
from portal.validators import RuleViolation
from portal.web.common import rejected_status

bp = Blueprint("obligations", __name__, url_prefix="/verplichtingen")


@bp.record_once
def _labels(state):
    state.app.jinja_env.globals.update(obligation_states=obligations.STATES)


@bp.route("/")
@roles_required(*REGION_READERS)
def overview():
    years = obligations.overview_years()
    try:
        year = int(request.args.get("jaar", ""))
    except ValueError:
        year = obligations.default_year(years)
    rows = obligations.overview(year)
    return render_template("obligations/overview.html", rows=rows, year=year, years=years,
                           declared=list(current_registry().obligations.values()))


@bp.route("/mijn/")
@roles_required(*roles.PROVIDER_ROLES)
def mine():
    return render_template("obligations/mine.html", agreements=obligations.own_agreements(current_user.organisation.id),
                           declared=list(current_registry().obligations.values()))


@bp.route("/<int:agreement_id>/rapporteren", methods=["GET", "POST"])
@roles_required(*roles.PROVIDER_ROLES)
def report(agreement_id):
    agreement = get_scoped_or_404(FrameworkAgreement, agreement_id)
    found = obligations.for_agreement(agreement)
    form = ObligationReportForm()
    form.obligation_id.choices = {item.obligation.id: item.obligation.name for item in found.items if item.applies}
    template = "obligations/report.html"

    def page(status=200):
        return render_template(template, form=form, found=found), status

    if request.method != "POST":
        chosen = request.args.get("verplichting") or next(iter(form.obligation_id.choices), "")
        form.obligation_id.data = chosen
        try:
            form.year.data = int(request.args.get("jaar", ""))
        except ValueError:
            form.year.data = None
        standing = next((s for s in found.standings.get(chosen, []) if s.year == form.year.data), None)
        if standing is not None and standing.report is not None:  # a correction starts from what is there
            form.amount.data = standing.realised
            form.note.data = standing.report.note
        return page()
    status = rejected_status(form)
    if status:
        return page(status)
    try:
        saved = obligations.record_report(agreement, form.obligation_id.data, form.year.data, form.amount.data,
                                          form.note.data or "", reported_by=current_user.user.id)
    except RuleViolation as error:
        db.session().rollback()
        field = getattr(form, error.field, None) if error.field else None
        if field is not None:
            field.errors = [error.message]
        else:
            form.form_errors.append(error.message)
        return page(422)
    db.session().commit()
    flash(f"De realisatie {saved.year} van {agreement.reference} is opgeslagen.", "success")
    return redirect(url_for("obligations.mine") + f"#overeenkomst-{agreement.id}")
