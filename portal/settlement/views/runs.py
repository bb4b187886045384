"""Afrekening: the yearly settlement on screen. Contract managers run a year (a new version),
publish it and make it final; auditors read along; a provider sees and answers its own statement;
a municipality sees its own statement with its share of the region's costs. The statements come
as PDF and XLSX too.

The views only parse, scope and render: every rule lives in :mod:`portal.settlement.runs`, and what
a statement or overview shows (rows, groups, totals) in :mod:`portal.settlement.statements`."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal import db, jobs, page_cache
from portal.accounts import roles
from portal.accounts.roles import roles_required
from portal.accounts.scoping import get_scoped_or_404
from portal.models import Organisation, OrganisationKind
from portal.models.settlement import SettlementRun
from portal.settlement import glossary, statements
from portal.settlement import runs as runs_service
from portal.settlement.forms import FinaliseForm, PublishForm, RespondForm, RunForm
from portal.settlement.pdf import municipality_statement_pdf, provider_statement_pdf
from portal.settlement.statements import MunicipalityStatement, ProviderStatement
from portal.settlement.xlsx import municipality_statement_xlsx, provider_statement_xlsx
from portal.validators import RuleViolation
from portal.web.common import rejected_status

bp = Blueprint("settlement", __name__, url_prefix="/afrekening")

bp.context_processor(glossary.context)  # the settlement's words in plain Dutch, beside the figures

READERS = (roles.CONTRACT_MANAGER, roles.AUDITOR)
EVERY_ROLE = tuple(roles.ALL_ROLES)


def is_region_reader() -> bool:
    """The signed-in user reads the whole region's settlement (contract manager, auditor)."""
    return current_user.role in READERS


def is_provider() -> bool:
    """The signed-in user acts for a provider."""
    return current_user.role in roles.PROVIDER_ROLES


def is_municipality() -> bool:
    """The signed-in user acts for a municipality."""
    return current_user.role == roles.MUNICIPALITY_USER


def visible_run_or_404(run_id: int) -> SettlementRun:
    """The run of the signed-in user's region; a draft only for the region's readers; else 404."""
    run = get_scoped_or_404(SettlementRun, run_id)  # the signed-in user's region only
    if not is_region_reader() and not runs_service.shown_to_organisations(run):
        abort(404)
    return run


def _has_whatif() -> bool:
    return "settlement_whatif.index" in current_app.view_functions


# --- Overviews -----------------------------------------------------------------------------------


@bp.route("/")
@roles_required(*EVERY_ROLE)
@page_cache.cached
def index():
    """The overview of the settlement: a year's versions for the region, else the own statements."""
    if is_region_reader():
        return _manager_index()
    if is_provider():
        return _provider_index()
    return _municipality_index()


def _asked_year() -> int | None:
    wanted = request.args.get("jaar", "")
    return int(wanted) if wanted.isdigit() else None


def _run_form(years: list[int], year: int | None, form: RunForm | None = None) -> RunForm:
    form = form or RunForm(formdata=None, year=year)
    form.year.choices = [SelectChoice(y, str(y)) for y in years]
    return form


def _manager_index(form: RunForm | None = None, status: int = 200):
    # On a refused run the form's year comes first (when the region has agreements in it).
    asked = ((form.year.data,) if form is not None else ()) + (_asked_year(),)
    overview = statements.year_overview(current_user.region.id, asked)
    can_act = current_user.role == roles.CONTRACT_MANAGER
    body = render_template(
        "settlement/index_manager.html", years=overview.years, year=overview.year, rows=overview.rows,
        labels=runs_service.STATE_LABELS, can_act=can_act,
        form=_run_form(overview.years, overview.year, form) if can_act else None,
        whatif=_has_whatif(), year_ended=overview.year_ended,
        override_problems=(runs_service.overrides_that_cannot_apply(current_user.region, overview.year)
                           if can_act and overview.year else []))
    return body, status


def _provider_index():
    rows = statements.provider_overview(current_user.region.id, current_user.organisation.id)
    return render_template("settlement/index_provider.html", rows=rows, labels=runs_service.STATE_LABELS,
                           answer_labels=runs_service.RESPONSE_LABELS)


def _municipality_index():
    rows = statements.municipality_overview(current_user.region.id, current_user.organisation.id)
    return render_template("settlement/index_municipality.html", rows=rows, labels=runs_service.STATE_LABELS,
                           whatif=_has_whatif())


@bp.route("/berekenen", methods=["POST"])
@roles_required(roles.CONTRACT_MANAGER)
def run():
    """Settle the chosen year as a new draft version."""
    region = current_user.region
    form = _run_form(runs_service.years_with_agreements(region.id), None, RunForm())
    status = rejected_status(form)
    if status:
        return _manager_index(form, status)
    try:
        ticket = jobs.enqueue("settlement.run", region.id, form.year.data, current_user.user.id,
                              str(form.shared_costs.data or ""), str(form.program_costs.data or ""),
                              form.note.data or "", owner=current_user.user.id)
    except jobs.JobNotQueued as refused:
        form.form_errors.append(refused.message)
        return _manager_index(form, 503)
    except RuleViolation as error:  # run here and now (no queue): refused before anything was kept
        db.session().rollback()
        field = getattr(form, error.field, None) if error.field else None
        if field is not None and error.field != "csrf_token":
            field.errors = list(field.errors) + [error.message]
        else:
            form.form_errors.append(error.message)
        return _manager_index(form, 422)
    if ticket.queued:
        return redirect(url_for("settlement.run_job", job_id=ticket.id), 303)
    new_run = db.session().get(SettlementRun, ticket.result)
    flash(f"Afrekening {new_run.year} versie {new_run.version} is berekend als concept.", "success")
    return redirect(url_for("settlement.run_detail", run_id=new_run.id), 303)


@bp.route("/taken/<job_id>")
@roles_required(roles.CONTRACT_MANAGER)
def run_job(job_id: str):
    """A settlement run on the job queue: "bezig" (htmx polls each second) until the worker is done,
    then on to the new version; a refusal or a dead worker shows "mislukt" with the reason. Only the
    contract manager who started it sees it."""
    found = jobs.record(job_id)
    if not found or found.get("name") != "settlement.run" or found.get("owner") != str(current_user.user.id):
        abort(404)
    state, message = found.get("state", "queued"), found.get("message", "")
    if state in ("queued", "started"):
        reason = jobs.why_not_running(job_id)
        if reason:
            state, message = "failed", reason
    if state == "finished":
        new_run = get_scoped_or_404(SettlementRun, int(found["result"]))
        target = url_for("settlement.run_detail", run_id=new_run.id)
        flash(f"Afrekening {new_run.year} versie {new_run.version} is berekend als concept.", "success")
        if request.headers.get("HX-Request"):
            response = make_response("", 204)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target, 303)
    response = make_response(render_template(
        "settlement/job.html" if not request.headers.get("HX-Request") else "settlement/_job_status.html",
        job_id=job_id, state=state, message=message))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- One run -------------------------------------------------------------------------------------


@bp.route("/<int:run_id>")
@roles_required(*EVERY_ROLE)
def run_detail(run_id: int):
    """One run: the whole run for the region's readers, else the own statement."""
    run = visible_run_or_404(run_id)
    if is_region_reader():
        return _manager_run(run)
    if is_provider():
        return _provider_run(run)
    return _municipality_run(run)


def _manager_run(run: SettlementRun, status: int = 200, publish_form=None, finalise_form=None,
                 message: str | None = None):
    overview = statements.run_overview(run)
    can_act = current_user.role == roles.CONTRACT_MANAGER
    if can_act and run.state == "draft":
        publish_form = publish_form or PublishForm(formdata=None)
        publish_form.lock_version.data = run.lock_version
    if can_act and run.state == "published":
        finalise_form = finalise_form or FinaliseForm(formdata=None)
        finalise_form.lock_version.data = run.lock_version
    body = render_template(
        "settlement/run.html", run=run, totals=overview.totals, groups=overview.groups,
        providers=overview.providers, answer_labels=runs_service.RESPONSE_LABELS, shares=overview.shares,
        share_totals=overview.share_totals, changes=overview.changes, previous=overview.previous,
        labels=runs_service.STATE_LABELS, explanation=overview.explanation, can_act=can_act,
        publish_form=publish_form if can_act and run.state == "draft" else None,
        finalise_form=finalise_form if can_act and run.state == "published" else None,
        all_accepted=overview.all_accepted, year_ended=runs_service.year_has_ended(run.year), message=message,
        people=overview.people, min_reason=runs_service.MIN_REASON)
    return body, status


def _provider_run(run: SettlementRun, status: int = 200, form: RespondForm | None = None,
                  message: str | None = None):
    statement = statements.provider_statement(run, current_user.organisation.id)
    if statement is None:
        abort(404)
    can_answer = runs_service.open_for_answer(run, statement.answer)
    if can_answer:
        form = form or RespondForm(formdata=None)
        form.lock_version.data = run.lock_version
    body = render_template(
        "settlement/provider_run.html", run=run, totals=statement.totals,
        groups=statement.groups, answer=statement.answer, answer_labels=runs_service.RESPONSE_LABELS,
        labels=runs_service.STATE_LABELS, form=form if can_answer else None, message=message,
        year_ended=runs_service.year_has_ended(run.year), organisation=current_user.organisation,
        min_reason=runs_service.MIN_REASON)
    return body, status


def _municipality_run(run: SettlementRun):
    statement = statements.municipality_statement(run, current_user.organisation.id)
    if statement is None:
        abort(404)
    return render_template(
        "settlement/municipality_run.html", run=run, labels=runs_service.STATE_LABELS,
        groups=statement.groups, totals=statement.totals,
        share=statement.share, to_pay=statement.to_pay, year_ended=runs_service.year_has_ended(run.year),
        organisation=current_user.organisation)


def _manager_step(run_id: int, step: str):
    run = get_scoped_or_404(SettlementRun, run_id)
    form = PublishForm() if step == "publish" else FinaliseForm()
    forms = {"publish_form": form} if step == "publish" else {"finalise_form": form}
    status = rejected_status(form)
    if status:
        return _manager_run(run, status, **forms)
    try:
        if step == "publish":
            runs_service.publish(run, current_user, form.lock_version.data)
        else:
            runs_service.finalise(run, current_user, form.lock_version.data, form.reason.data)
    except RuleViolation as error:
        db.session().rollback()
        run = get_scoped_or_404(SettlementRun, run_id)
        if error.field == "reason" and step == "finalise":
            form.reason.errors = [error.message]
            return _manager_run(run, 422, **forms)
        stale = error.message == runs_service.STALE_MESSAGE
        return _manager_run(run, 409 if stale else 422, message=error.message,
                            **({} if stale else forms))
    db.session().commit()
    flash("De afrekening is gepubliceerd; de zorgaanbieders hebben bericht gekregen." if step == "publish"
          else "De afrekening is definitief en staat nu vast.", "success")
    return redirect(url_for("settlement.run_detail", run_id=run.id), 303)


@bp.route("/<int:run_id>/publiceren", methods=["POST"])
@roles_required(roles.CONTRACT_MANAGER)
def publish(run_id: int):
    """Publish a draft to the providers and municipalities."""
    return _manager_step(run_id, "publish")


@bp.route("/<int:run_id>/definitief", methods=["POST"])
@roles_required(roles.CONTRACT_MANAGER)
def finalise(run_id: int):
    """Make a published run final."""
    return _manager_step(run_id, "finalise")


@bp.route("/<int:run_id>/antwoord", methods=["POST"])
@roles_required(*roles.PROVIDER_ROLES)
def respond(run_id: int):
    """A provider accepts its statement or disputes it."""
    run = visible_run_or_404(run_id)
    organisation_id = current_user.organisation.id
    if not runs_service.lines_of(run, organisation_id=organisation_id):
        abort(404)
    form = RespondForm()
    status = rejected_status(form)
    if status:
        return _provider_run(run, status, form)
    accept = form.decision.data == "accept"
    try:
        runs_service.respond(run, current_user, organisation_id, accept, form.reason.data, form.lock_version.data)
    except RuleViolation as error:
        db.session().rollback()
        run = visible_run_or_404(run_id)
        if error.field == "reason":
            form.reason.errors = [error.message]
            return _provider_run(run, 422, form)
        return _provider_run(run, 409 if error.message == runs_service.STALE_MESSAGE else 422, message=error.message)
    db.session().commit()
    flash("U hebt de afrekening geaccepteerd." if accept
          else "Uw bezwaar is verstuurd; de contractmanager neemt contact met u op.", "success")
    return redirect(url_for("settlement.run_detail", run_id=run.id), 303)


# --- Statements as files -------------------------------------------------------------------------


def _provider_for_statement(run: SettlementRun, provider_id: int) -> tuple[Organisation, ProviderStatement]:
    if is_provider() and provider_id != current_user.organisation.id:
        abort(404)
    provider = get_scoped_or_404(Organisation, provider_id)
    statement = statements.provider_statement(run, provider.id)
    if provider.kind != OrganisationKind.PROVIDER or statement is None:
        abort(404)
    return provider, statement


def _municipality_for_statement(run: SettlementRun,
                                municipality_id: int) -> tuple[Organisation, MunicipalityStatement]:
    if is_municipality() and municipality_id != current_user.organisation.id:
        abort(404)
    municipality = get_scoped_or_404(Organisation, municipality_id)
    if municipality.kind != OrganisationKind.MUNICIPALITY:
        abort(404)
    statement = statements.municipality_statement(run, municipality.id)
    if statement is None:
        abort(404)
    return municipality, statement


def _file(data: bytes, mimetype: str, name: str):
    """A statement as a file, built within the request: one provider's or municipality's statement
    stays small whatever the region's size, so it needs no job (unlike :mod:`portal.exports`)."""
    response = current_app.response_class(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/<int:run_id>/aanbieder/<int:provider_id>.pdf")
@roles_required(roles.CONTRACT_MANAGER, roles.AUDITOR, *roles.PROVIDER_ROLES)
def provider_pdf(run_id: int, provider_id: int):
    """A provider's statement as PDF."""
    run = visible_run_or_404(run_id)
    provider, statement = _provider_for_statement(run, provider_id)
    data = provider_statement_pdf(run, provider, statement)
    return _file(data, "application/pdf", f"afrekening-{run.year}-v{run.version}-{provider.id}.pdf")


@bp.route("/<int:run_id>/aanbieder/<int:provider_id>.xlsx")
@roles_required(roles.CONTRACT_MANAGER, roles.AUDITOR, *roles.PROVIDER_ROLES)
def provider_xlsx(run_id: int, provider_id: int):
    """A provider's statement as XLSX."""
    run = visible_run_or_404(run_id)
    provider, statement = _provider_for_statement(run, provider_id)
    data = provider_statement_xlsx(run, provider, statement)
    return _file(data, XLSX, f"afrekening-{run.year}-v{run.version}-{provider.id}.xlsx")


@bp.route("/<int:run_id>/gemeente/<int:municipality_id>.pdf")
@roles_required(roles.CONTRACT_MANAGER, roles.AUDITOR, roles.MUNICIPALITY_USER)
def municipality_pdf(run_id: int, municipality_id: int):
    """A municipality's statement as PDF."""
    run = visible_run_or_404(run_id)
    municipality, statement = _municipality_for_statement(run, municipality_id)
    data = municipality_statement_pdf(run, municipality, statement)
    return _file(data, "application/pdf", f"afrekening-{run.year}-v{run.version}-gemeente-{municipality.id}.pdf")


@bp.route("/<int:run_id>/gemeente/<int:municipality_id>.xlsx")
@roles_required(roles.CONTRACT_MANAGER, roles.AUDITOR, roles.MUNICIPALITY_USER)
def municipality_xlsx(run_id: int, municipality_id: int):
    """A municipality's statement as XLSX."""
    run = visible_run_or_404(run_id)
    municipality, statement = _municipality_for_statement(run, municipality_id)
    data = municipality_statement_xlsx(run, municipality, statement)
    return _file(data, XLSX, f"afrekening-{run.year}-v{run.version}-gemeente-{municipality.id}.xlsx")
