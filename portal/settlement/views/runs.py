"""Afrekening: the yearly settlement on screen. Contract managers run a year (a new version),
publish it and make it final; auditors read along; a provider sees and answers its own statement;
a municipality sees its own statement with its share of the region's costs. The statements come
as PDF and XLSX too.

The views only parse, scope and render; every rule lives in :mod:`portal.settlement.runs`."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select
from wtforms.fields.choices import SelectChoice

from portal import clock, db
from portal.accounts import roles
from portal.accounts.roles import roles_required
from portal.accounts.scoping import get_scoped_or_404
from portal.models import Organisation, OrganisationKind, Region, User
from portal.models.settlement import SettlementCostShare, SettlementLine, SettlementRun
from portal.registry import current_registry
from portal.settlement import engine
from portal.settlement import runs as runs_service
from portal.settlement.forms import FinaliseForm, PublishForm, RespondForm, RunForm
from portal.settlement.pdf import municipality_statement_pdf, provider_statement_pdf
from portal.settlement.xlsx import municipality_statement_xlsx, provider_statement_xlsx
from portal.validators import RuleViolation
from portal.web.common import rejected_status

bp = Blueprint("settlement", __name__, url_prefix="/afrekening")

READERS = (roles.CONTRACT_MANAGER, roles.AUDITOR)
EVERY_ROLE = tuple(roles.ALL_ROLES)
KIND_LABELS = engine.KIND_LABELS
STATE_EXPLANATIONS = {
    "draft": "Concept: alleen contractmanagers en de accountant zien deze versie. Publiceer haar om de "
             "zorgaanbieders en gemeenten hun afrekening te laten zien.",
    "published": "Gepubliceerd: de zorgaanbieders en gemeenten zien hun afrekening; aanbieders kunnen haar "
                 "accepteren of er bezwaar tegen maken. Na afloop van het jaar kan zij definitief worden.",
    "final": "Definitief: deze afrekening staat vast en verandert niet meer.",
    "superseded": "Vervangen: er is een nieuwere versie van deze afrekening. Deze versie blijft ter inzage "
                  "bewaard, maar er kan niets meer aan gebeuren.",
}


def _region() -> Region:
    return current_user.region


def _names(ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session().exec(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all())


def _user_names(ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: (u.name or u.email) for u in db.session().exec(select(User).where(User.id.in_(ids))).all()}


def is_region_reader() -> bool:
    return current_user.role in READERS


def is_provider() -> bool:
    return current_user.role in roles.PROVIDER_ROLES


def is_municipality() -> bool:
    return current_user.role == roles.MUNICIPALITY_USER


def shown_to_organisations(run: SettlementRun) -> bool:
    """Providers and municipalities see published and final runs, and superseded runs that had been
    published before they were replaced; never a draft."""
    return run.state in ("published", "final") or (run.state == "superseded" and run.published_at is not None)


def visible_run_or_404(run_id: int) -> SettlementRun:
    run = get_scoped_or_404(SettlementRun, run_id)  # the signed-in user's region only
    if not is_region_reader() and not shown_to_organisations(run):
        abort(404)
    return run


# --- Line groups ---------------------------------------------------------------------------------


@dataclass
class LineRow:
    line: SettlementLine
    provider: str
    municipality: str
    segment: str
    kind: str
    direction: str


def line_rows(lines: list[SettlementLine]) -> list[LineRow]:
    names = _names({l.organisation_id for l in lines} | {l.municipality_id for l in lines})
    rows = [LineRow(l, names.get(l.organisation_id, ""), names.get(l.municipality_id, ""),
                    current_registry().segment_short_label(l.segment_key), KIND_LABELS.get(l.kind, l.kind), engine.direction_label(l.due))
            for l in lines]
    rows.sort(key=lambda r: (r.provider, r.segment, r.municipality))
    return rows


def grouped(rows: list[LineRow], first: str, second: str | None = None) -> list[dict]:
    """Rows grouped once or twice (e.g. provider → segment; each subgroup is one table), each group
    with its totals. Without ``second`` a group is one table."""
    groups: list[dict] = []
    for row in rows:
        if not groups or groups[-1]["name"] != getattr(row, first):
            groups.append({"name": getattr(row, first), "subgroups": [], "lines": []})
        group = groups[-1]
        group["lines"].append(row.line)
        name = getattr(row, second) if second else None
        if not group["subgroups"] or group["subgroups"][-1]["name"] != name:
            group["subgroups"].append({"name": name, "rows": []})
        group["subgroups"][-1]["rows"].append(row)
    for group in groups:
        group["totals"] = runs_service.totals(group["lines"])
    return groups


@dataclass
class ShareRow:
    share: SettlementCostShare
    municipality: str

    @property
    def total(self) -> Decimal:
        return self.share.shared_costs + self.share.program_costs


def share_rows(run: SettlementRun, municipality_id: int | None = None) -> list[ShareRow]:
    shares = runs_service.cost_shares(run)
    if municipality_id is not None:
        shares = [s for s in shares if s.municipality_id == municipality_id]
    names = _names(s.municipality_id for s in shares)
    return sorted((ShareRow(s, names.get(s.municipality_id, "")) for s in shares), key=lambda r: r.municipality)


def share_totals(rows: list[ShareRow]) -> dict[str, Decimal]:
    zero = Decimal("0.00")
    return {"residents": sum((r.share.residents or 0 for r in rows), 0),
            "realisation": sum((r.share.realisation for r in rows), zero),
            "shared_costs": sum((r.share.shared_costs for r in rows), zero),
            "program_costs": sum((r.share.program_costs for r in rows), zero),
            "total": sum((r.total for r in rows), zero)}


def municipality_statement(run: SettlementRun, municipality_id: int) -> dict:
    """What a municipality settles in a run: its lines with all providers, its cost share, the sum."""
    lines = runs_service.lines_of(run, municipality_id=municipality_id)
    shares = share_rows(run, municipality_id)
    if not lines and not shares:
        abort(404)
    summed = runs_service.totals(lines)
    share = shares[0] if shares else None
    costs = share.total if share else Decimal("0.00")
    return {"rows": line_rows(lines), "totals": summed, "share": share,
            "to_pay": summed.due + costs}


# --- Overviews -----------------------------------------------------------------------------------


@bp.route("/")
@roles_required(*EVERY_ROLE)
def index():
    if is_region_reader():
        return _manager_index()
    if is_provider():
        return _provider_index()
    return _municipality_index()


def _selected_year(years: list[int]) -> int | None:
    wanted = request.args.get("jaar", "")
    if wanted.isdigit() and int(wanted) in years:
        return int(wanted)
    # A year is settled after it has ended: the latest year that has, else this year.
    ended = [year for year in years if runs_service.year_has_ended(year)]
    if ended:
        return max(ended)
    current = clock.today().year
    if current in years:
        return current
    return years[0] if years else None


def _run_form(years: list[int], year: int | None, form: RunForm | None = None) -> RunForm:
    form = form or RunForm(formdata=None, year=year)
    form.year.choices = [SelectChoice(y, str(y)) for y in years]
    return form


def _manager_index(form: RunForm | None = None, status: int = 200):
    region = _region()
    years = runs_service.years_with_agreements(region.id)
    year = form.year.data if form is not None and form.year.data in years else _selected_year(years)
    year_runs = runs_service.runs(region.id, year) if year else []
    rows = []
    for run in year_runs:
        rows.append({"run": run, "totals": runs_service.totals(runs_service.lines_of(run)),
                     "lines": runs_service.count_lines(run)})
    can_act = current_user.role == roles.CONTRACT_MANAGER
    body = render_template(
        "settlement/index_manager.html", years=years, year=year, rows=rows, labels=runs_service.STATE_LABELS,
        form=_run_form(years, year, form) if can_act else None, can_act=can_act,
        whatif="settlement_whatif.index" in current_app.view_functions, year_ended=runs_service.year_has_ended(year) if year else True)
    return body, status


def _organisation_runs() -> list[SettlementRun]:
    region = _region()
    return [run for run in runs_service.runs(region.id) if shown_to_organisations(run)]


def _provider_index():
    organisation_id = current_user.organisation.id
    answers_rows = []
    for run in _organisation_runs():
        lines = runs_service.lines_of(run, organisation_id=organisation_id)
        if not lines:
            continue
        answer = runs_service.responses(run).get(organisation_id)
        answers_rows.append({"run": run, "totals": runs_service.totals(lines), "lines": len(lines),
                             "answer": answer})
    return render_template("settlement/index_provider.html", rows=answers_rows, labels=runs_service.STATE_LABELS,
                           answer_labels=runs_service.RESPONSE_LABELS)


def _municipality_index():
    municipality_id = current_user.organisation.id
    rows = []
    for run in _organisation_runs():
        lines = runs_service.lines_of(run, municipality_id=municipality_id)
        shares = share_rows(run, municipality_id)
        if not lines and not shares:
            continue
        summed = runs_service.totals(lines)
        costs = shares[0].total if shares else Decimal("0.00")
        rows.append({"run": run, "totals": summed, "costs": costs, "to_pay": summed.due + costs,
                     "lines": len(lines)})
    return render_template("settlement/index_municipality.html", rows=rows, labels=runs_service.STATE_LABELS,
                           whatif="settlement_whatif.index" in current_app.view_functions)


@bp.route("/berekenen", methods=["POST"])
@roles_required(roles.CONTRACT_MANAGER)
def run():
    region = _region()
    years = runs_service.years_with_agreements(region.id)
    form = _run_form(years, None, RunForm())
    status = rejected_status(form)
    if status:
        return _manager_index(form, status)
    try:
        new_run = runs_service.run_settlement(region, form.year.data, current_user, form.shared_costs.data or "",
                                              form.program_costs.data or "", form.note.data or "")
    except RuleViolation as error:
        db.session().rollback()
        field = getattr(form, error.field, None) if error.field else None
        if field is not None and error.field != "csrf_token":
            field.errors = list(field.errors) + [error.message]
        else:
            form.form_errors.append(error.message)
        return _manager_index(form, 422)
    db.session().commit()
    flash(f"Afrekening {new_run.year} versie {new_run.version} is berekend als concept.", "success")
    return redirect(url_for("settlement.run_detail", run_id=new_run.id), 303)


# --- One run -------------------------------------------------------------------------------------


@bp.route("/<int:run_id>")
@roles_required(*EVERY_ROLE)
def run_detail(run_id: int):
    run = visible_run_or_404(run_id)
    if is_region_reader():
        return _manager_run(run)
    if is_provider():
        return _provider_run(run)
    return _municipality_run(run)


def _change_rows(run: SettlementRun) -> list[dict] | None:
    found = runs_service.changes(run)
    if found is None:
        return None
    lines = [c.before or c.after for c in found]
    names = _names({l.organisation_id for l in lines} | {l.municipality_id for l in lines})
    return [{"change": c, "provider": names.get((c.before or c.after).organisation_id, ""),
             "municipality": names.get((c.before or c.after).municipality_id, ""),
             "segment": current_registry().segment_short_label((c.before or c.after).segment_key)} for c in found]


def _manager_run(run: SettlementRun, status: int = 200, publish_form=None, finalise_form=None,
                 message: str | None = None):
    lines = runs_service.lines_of(run)
    rows = line_rows(lines)
    answers = runs_service.responses(run)
    provider_ids = runs_service.provider_ids(run)
    names = _names(provider_ids)
    providers = sorted(({"id": pid, "name": names.get(pid, ""), "answer": answers.get(pid)} for pid in provider_ids),
                       key=lambda p: p["name"])
    shares = share_rows(run)
    previous = db.session().get(SettlementRun, run.previous_id) if run.previous_id else None
    can_act = current_user.role == roles.CONTRACT_MANAGER
    if can_act and run.state == "draft":
        publish_form = publish_form or PublishForm(formdata=None)
        publish_form.lock_version.data = run.lock_version
    if can_act and run.state == "published":
        finalise_form = finalise_form or FinaliseForm(formdata=None)
        finalise_form.lock_version.data = run.lock_version
    all_accepted = all(getattr(answers.get(pid), "state", None) == "accepted" for pid in provider_ids)
    people = _user_names([run.created_by, run.published_by, run.finalised_by])
    body = render_template(
        "settlement/run.html", run=run, totals=runs_service.totals(lines), groups=grouped(rows, "provider", "segment"),
        providers=providers, answer_labels=runs_service.RESPONSE_LABELS, shares=shares,
        share_totals=share_totals(shares), changes=_change_rows(run), previous=previous,
        labels=runs_service.STATE_LABELS, explanation=STATE_EXPLANATIONS[run.state], can_act=can_act,
        publish_form=publish_form if can_act and run.state == "draft" else None,
        finalise_form=finalise_form if can_act and run.state == "published" else None,
        all_accepted=all_accepted, year_ended=runs_service.year_has_ended(run.year), message=message, people=people,
        min_reason=runs_service.MIN_REASON)
    return body, status


def _provider_run(run: SettlementRun, status: int = 200, form: RespondForm | None = None,
                  message: str | None = None):
    organisation_id = current_user.organisation.id
    lines = runs_service.lines_of(run, organisation_id=organisation_id)
    if not lines:
        abort(404)
    answer = runs_service.responses(run).get(organisation_id)
    can_answer = run.state == "published" and getattr(answer, "state", None) != "accepted"
    if can_answer:
        form = form or RespondForm(formdata=None)
        form.lock_version.data = run.lock_version
    rows = line_rows(lines)
    body = render_template(
        "settlement/provider_run.html", run=run, totals=runs_service.totals(lines),
        groups=grouped(rows, "segment"), answer=answer, answer_labels=runs_service.RESPONSE_LABELS,
        labels=runs_service.STATE_LABELS, form=form if can_answer else None, message=message,
        year_ended=runs_service.year_has_ended(run.year), organisation=current_user.organisation,
        min_reason=runs_service.MIN_REASON)
    return body, status


def _municipality_run(run: SettlementRun):
    statement = municipality_statement(run, current_user.organisation.id)
    return render_template(
        "settlement/municipality_run.html", run=run, labels=runs_service.STATE_LABELS,
        groups=grouped(statement["rows"], "provider"), totals=statement["totals"],
        share=statement["share"], to_pay=statement["to_pay"], year_ended=runs_service.year_has_ended(run.year),
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
    return _manager_step(run_id, "publish")


@bp.route("/<int:run_id>/definitief", methods=["POST"])
@roles_required(roles.CONTRACT_MANAGER)
def finalise(run_id: int):
    return _manager_step(run_id, "finalise")


@bp.route("/<int:run_id>/antwoord", methods=["POST"])
@roles_required(*roles.PROVIDER_ROLES)
def respond(run_id: int):
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


def _statement_run(run_id: int) -> SettlementRun:
    run = visible_run_or_404(run_id)
    return run


def _provider_for_statement(run: SettlementRun, provider_id: int) -> tuple[Organisation, list[SettlementLine]]:
    if is_provider() and provider_id != current_user.organisation.id:
        abort(404)
    provider = get_scoped_or_404(Organisation, provider_id)
    lines = runs_service.lines_of(run, organisation_id=provider.id)
    if provider.kind != OrganisationKind.PROVIDER or not lines:
        abort(404)
    return provider, lines


def _municipality_for_statement(run: SettlementRun, municipality_id: int) -> tuple[Organisation, dict]:
    if is_municipality() and municipality_id != current_user.organisation.id:
        abort(404)
    municipality = get_scoped_or_404(Organisation, municipality_id)
    if municipality.kind != OrganisationKind.MUNICIPALITY:
        abort(404)
    return municipality, municipality_statement(run, municipality.id)


def _file(data: bytes, mimetype: str, name: str):
    response = current_app.response_class(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/<int:run_id>/aanbieder/<int:provider_id>.pdf")
@roles_required(roles.CONTRACT_MANAGER, roles.AUDITOR, *roles.PROVIDER_ROLES)
def provider_pdf(run_id: int, provider_id: int):
    run = _statement_run(run_id)
    provider, lines = _provider_for_statement(run, provider_id)
    data = provider_statement_pdf(run, provider, line_rows(lines), runs_service.responses(run).get(provider.id))
    return _file(data, "application/pdf", f"afrekening-{run.year}-v{run.version}-{provider.id}.pdf")


@bp.route("/<int:run_id>/aanbieder/<int:provider_id>.xlsx")
@roles_required(roles.CONTRACT_MANAGER, roles.AUDITOR, *roles.PROVIDER_ROLES)
def provider_xlsx(run_id: int, provider_id: int):
    run = _statement_run(run_id)
    provider, lines = _provider_for_statement(run, provider_id)
    data = provider_statement_xlsx(run, provider, line_rows(lines))
    return _file(data, XLSX, f"afrekening-{run.year}-v{run.version}-{provider.id}.xlsx")


@bp.route("/<int:run_id>/gemeente/<int:municipality_id>.pdf")
@roles_required(roles.CONTRACT_MANAGER, roles.AUDITOR, roles.MUNICIPALITY_USER)
def municipality_pdf(run_id: int, municipality_id: int):
    run = _statement_run(run_id)
    municipality, statement = _municipality_for_statement(run, municipality_id)
    data = municipality_statement_pdf(run, municipality, statement)
    return _file(data, "application/pdf", f"afrekening-{run.year}-v{run.version}-gemeente-{municipality.id}.pdf")


@bp.route("/<int:run_id>/gemeente/<int:municipality_id>.xlsx")
@roles_required(roles.CONTRACT_MANAGER, roles.AUDITOR, roles.MUNICIPALITY_USER)
def municipality_xlsx(run_id: int, municipality_id: int):
    run = _statement_run(run_id)
    municipality, statement = _municipality_for_statement(run, municipality_id)
    data = municipality_statement_xlsx(run, municipality, statement)
    return _file(data, XLSX, f"afrekening-{run.year}-v{run.version}-gemeente-{municipality.id}.xlsx")
