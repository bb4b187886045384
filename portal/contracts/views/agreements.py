"""Contract managers keep the agreements of the region; auditors read them: framework agreements
(extensions, bow-wave evaluations), budget agreements and ceilings (inline editing with htmx),
extra capacity, and the printable summary of a framework agreement (PDF)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from htmx_flask import request as htmx_request

from portal import clock, db, page_cache
from portal.accounts import roles
from portal.accounts.roles import REGION_READERS, roles_required
from portal.accounts.scoping import get_scoped_or_404
from portal.contracts import queries, rules, service, terms
from portal.contracts.forms import (
    BowWaveEvaluationForm,
    BudgetAgreementForm,
    BudgetEditForm,
    BudgetRowForm,
    ExtensionForm,
    ExtraCapacityForm,
    FrameworkAgreementForm,
)
from portal.contracts.pdf import framework_summary_pdf
from portal.formatting import nl_date, number
from portal.models import BudgetAgreement, FrameworkAgreement, OrganisationKind
from portal.money import parse_amount
from portal.registry import LOTS, current_registry
from portal.validators import RuleViolation
from portal.web.common import page_number, rejected_status, render_page_or_partial

bp = Blueprint("agreements", __name__, url_prefix="/afspraken")

PER_PAGE = 25
PDF_READERS = frozenset({*roles.PROVIDER_ROLES, roles.CONTRACT_MANAGER, roles.AUDITOR})


@bp.app_template_filter("segment_label")
def _segment_label(key: str) -> str:
    return current_registry().segment_label(key)


@bp.app_template_filter("segment_short")
def _segment_short(key: str) -> str:
    return current_registry().segment_short_label(key)


@bp.app_template_filter("advances")
def _advances(agreement: BudgetAgreement) -> list:
    return service.advance_periods(agreement.amount, agreement.advance_installments)


@bp.app_template_filter("lot_short")
def _lot_short(lot: str) -> str:
    """"Regionaal" for "Perceel regionaal": for narrow table columns headed "Perceel"."""
    label = LOTS.get(lot, lot)
    return label.removeprefix("Perceel ").capitalize()


@bp.app_template_filter("short_date")
def _short_date(value) -> str:
    return "" if value is None else format_date(value, "d-M-y", locale="nl_NL")


@bp.app_template_filter("percentage")
def _percentage(value) -> str:
    return "" if value is None else f"{number(value)}%"


@bp.record_once
def _agreement_labels(state):
    """Labels the agreement templates and their macros use (globals, so macros see them too)."""
    state.app.jinja_env.globals.update(
        lot_labels=LOTS, contract_forms=terms.CONTRACT_FORMS, status_labels=terms.STATUS_LABELS,
        kind_labels_agreement=rules.KINDS, installment_labels=rules.INSTALLMENTS)


# --- Shared helpers ---------------------------------------------------------------------------------


def _int_arg(name: str) -> int | None:
    try:
        return int(request.args.get(name, ""))
    except ValueError:
        return None


def _options(organisations) -> dict[str, str]:
    return {str(organisation.id): organisation.name for organisation in organisations}


def _field_error(form, error: RuleViolation) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [error.message]
    else:
        form.form_errors.append(error.message)


# --- Framework agreements ------------------------------------------------------------------------

@bp.route("/")
@roles_required(*REGION_READERS)
@page_cache.cached
def list_frameworks():
    provider_id = _int_arg("aanbieder")
    domain = request.args.get("domein", "")
    status = request.args.get("status", "")
    page, sort = queries.framework_list(provider_id, domain, status, request.args.get("sorteer", ""),
                                        page_number())
    filters = {"aanbieder": provider_id or "", "domein": domain, "status": status}
    return render_page_or_partial("agreements/list.html", "agreements/_framework_results.html",
                                  page=page, filters=filters, sort=sort,
                                  providers=queries.active_organisations(OrganisationKind.PROVIDER),
                                  domains=list(current_registry().domains.values()))


def _framework_form(agreement: FrameworkAgreement | None):
    registry = current_registry()
    form = FrameworkAgreementForm(obj=agreement)
    if agreement is not None:
        del form.organisation_id
        if request.method != "POST":
            form.segments.data = service.segments_of(agreement)
            form.scheme.data = "+".join(str(n) for n in [agreement.initial_years, *agreement.extension_options])
            form.contract_value.data = service.contract_value(agreement)
    else:
        form.organisation_id.choices = _options(queries.active_organisations(OrganisationKind.PROVIDER))
    form.domain.choices = {d.code: d.name for d in registry.domains.values()}
    form.segments.choices = {key: label for group in queries.segment_choices().values() for key, label in group.items()}
    return form


@bp.route("/nieuw", methods=["GET", "POST"])
@roles_required(roles.CONTRACT_MANAGER)
def create():
    return _save_framework(_framework_form(None), None)


@bp.route("/<int:agreement_id>/bewerken", methods=["GET", "POST"])
@roles_required(roles.CONTRACT_MANAGER)
def edit(agreement_id):
    agreement = get_scoped_or_404(FrameworkAgreement, agreement_id)
    return _save_framework(_framework_form(agreement), agreement)


def _save_framework(form, agreement: FrameworkAgreement | None):
    template = "agreements/form.html"
    context = {"form": form, "agreement": agreement, "segment_groups": queries.segment_choices()}
    if request.method != "POST":
        return render_template(template, **context)
    status = rejected_status(form)
    if status:
        return render_template(template, **context), status
    values = dict(reference=form.reference.data, domain=form.domain.data, segments=form.segments.data or [],
                  lot=form.lot.data, contract_form=form.contract_form.data, start_date=form.start_date.data,
                  scheme=form.scheme.data, bow_wave=form.bow_wave.data, terminated_on=form.terminated_on.data,
                  contract_value=form.contract_value.data)
    try:
        if agreement is None:
            agreement = service.create_framework_agreement(current_user.region.id,
                                                           organisation_id=form.organisation_id.data, **values)
        else:
            service.update_framework_agreement(agreement, **values)
    except RuleViolation as error:
        db.session().rollback()
        _field_error(form, error)
        return render_template(template, **context), 422
    db.session().commit()
    flash(f"Raamovereenkomst {agreement.reference} is opgeslagen.", "success")
    return redirect(url_for("agreements.detail", agreement_id=agreement.id))


def _render_detail(agreement: FrameworkAgreement, evaluation_form=None, extension_form=None,
                   extension_error: str | None = None, status: int = 200):
    shown = queries.framework_detail(agreement)
    if evaluation_form is None:
        evaluation_form = BowWaveEvaluationForm(formdata=None)
        evaluation_form.year.data = shown.term.next_evaluation_year
    body = render_template(
        "agreements/detail.html", agreement=agreement, provider=shown.provider, term=shown.term,
        evaluations=shown.evaluations, segments=shown.segments, budgets=shown.budgets,
        obligations=shown.obligations, contract_value=service.contract_value(agreement),
        evaluation_form=evaluation_form,
        extension_form=extension_form or ExtensionForm(formdata=None), extension_error=extension_error)
    return body, status


@bp.route("/<int:agreement_id>")
@roles_required(*REGION_READERS)
def detail(agreement_id):
    return _render_detail(get_scoped_or_404(FrameworkAgreement, agreement_id))


@bp.route("/<int:agreement_id>/verlengen", methods=["POST"])
@roles_required(roles.CONTRACT_MANAGER)
def use_extension(agreement_id):
    agreement = get_scoped_or_404(FrameworkAgreement, agreement_id)
    form = ExtensionForm()
    status = rejected_status(form)
    if status:
        return _render_detail(agreement, extension_form=form, status=status)
    try:
        term = service.use_extension(agreement)
    except RuleViolation as error:
        db.session().rollback()
        return _render_detail(agreement, extension_error=error.message, status=422)
    db.session().commit()
    flash(f"Raamovereenkomst {agreement.reference} is verlengd tot {_nl(term.end)}.", "success")
    return redirect(url_for("agreements.detail", agreement_id=agreement.id))


@bp.route("/<int:agreement_id>/evaluatie", methods=["POST"])
@roles_required(roles.CONTRACT_MANAGER)
def evaluate(agreement_id):
    agreement = get_scoped_or_404(FrameworkAgreement, agreement_id)
    form = BowWaveEvaluationForm()
    status = rejected_status(form)
    if status:
        return _render_detail(agreement, evaluation_form=form, status=status)
    try:
        evaluation = service.record_bow_wave_evaluation(agreement, form.year.data, form.satisfactory.data == "ja",
                                                        form.note.data or "", decided_by=current_user.user.id)
    except RuleViolation as error:
        db.session().rollback()
        _field_error(form, error)
        return _render_detail(agreement, evaluation_form=form, status=422)
    db.session().commit()
    flash(f"Evaluatie {evaluation.year} vastgelegd; de overeenkomst loopt tot {_nl(evaluation.end_after)}.",
          "success")
    return redirect(url_for("agreements.detail", agreement_id=agreement.id) + "#boeggolf")


def _nl(day: date) -> str:
    return nl_date(day)


@bp.route("/<int:agreement_id>/samenvatting.pdf")
@roles_required(*PDF_READERS)
def summary_pdf(agreement_id):
    agreement = get_scoped_or_404(FrameworkAgreement, agreement_id)
    response = make_response(framework_summary_pdf(agreement))
    response.headers["Content-Type"] = "application/pdf"
    filename = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in agreement.reference)
    response.headers["Content-Disposition"] = f'inline; filename="samenvatting-{filename}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- Budget agreements and ceilings --------------------------------------------------------------

def budget_filters() -> dict:
    """The budget list's filters as the request gives them (an unreadable number filters nothing)."""
    return {"jaar": _int_arg("jaar") or "", "aanbieder": _int_arg("aanbieder") or "",
            "gemeente": _int_arg("gemeente") or "", "segment": request.args.get("segment", ""),
            "soort": request.args.get("soort", "")}


def budget_page(filters: dict, default_sort: str = "-jaar"):
    """One page of budget agreements for the filters, the requested sort and page, and the total."""
    return queries.budget_page(filters, request.args.get("sorteer"), page_number(), default_sort)


@bp.route("/budgetten/")
@roles_required(*REGION_READERS)
def list_budgets():
    filters = budget_filters()
    page, sort, total = budget_page(filters)
    return render_page_or_partial(
        "agreements/budgets.html", "agreements/_budget_results.html", page=page, sort=sort, total=total,
        filters=filters, years=queries.budget_years(), providers=queries.active_organisations(OrganisationKind.PROVIDER),
        municipalities=queries.active_organisations(OrganisationKind.MUNICIPALITY), segment_groups=queries.segment_choices())


def _budget_form():
    form = BudgetAgreementForm()
    form.organisation_id.choices = _options(queries.active_organisations(OrganisationKind.PROVIDER))
    form.municipality_id.choices = _options(queries.active_organisations(OrganisationKind.MUNICIPALITY))
    form.segment_key.choices = queries.segment_choices()
    if request.method != "POST":
        form.year.data = clock.today().year
        form.organisation_id.data = _int_arg("aanbieder")
        if request.args.get("segment"):
            form.segment_key.data = request.args["segment"]
    return form


def _preview(amount, installments, kind) -> list:
    if kind != "budget" or amount is None or amount <= 0 or installments not in rules.INSTALLMENTS:
        return []
    return service.advance_periods(amount, installments)


@bp.route("/budgetten/nieuw", methods=["GET", "POST"])
@roles_required(roles.CONTRACT_MANAGER)
def create_budget():
    form = _budget_form()
    template = "agreements/budget_form.html"

    def page(status=200):
        preview = _preview(form.amount.data, form.advance_installments.data, form.kind.data)
        return render_template(template, form=form, preview=preview, amount=form.amount.data), status

    if request.method != "POST":
        return page()
    status = rejected_status(form)
    if status:
        return page(status)
    try:
        agreement = service.create_budget_agreement(
            current_user.region.id, organisation_id=form.organisation_id.data,
            municipality_id=form.municipality_id.data, segment_key=form.segment_key.data, year=form.year.data,
            kind=form.kind.data, amount=form.amount.data, bandwidth_percentage=form.bandwidth_percentage.data,
            advance_installments=form.advance_installments.data)
    except RuleViolation as error:
        db.session().rollback()
        _field_error(form, error)
        return page(422)
    db.session().commit()
    flash(f"{rules.KINDS[agreement.kind]} {agreement.year} is vastgelegd.", "success")
    return redirect(url_for("agreements.list_budgets", jaar=agreement.year, aanbieder=agreement.organisation_id))


@bp.route("/budgetten/voorschotten")
@roles_required(roles.CONTRACT_MANAGER)
def advance_preview():
    """The advance schedule for the amount and installments being typed (htmx)."""
    problem = None
    try:
        amount = parse_amount(request.args.get("amount", ""))
    except ValueError:
        amount = None
    if amount is not None and amount != amount.quantize(Decimal("0.01")):
        # "100.000" reads as 100 with three decimals, as the form will too; say how to write it.
        problem = "Schrijf het bedrag met een komma voor de centen, bijvoorbeeld 100.000,00."
        amount = None
    try:
        installments = int(request.args.get("advance_installments", ""))
    except ValueError:
        installments = None
    preview = _preview(amount, installments, request.args.get("kind", "budget"))
    return render_template("agreements/_advance_preview.html", preview=preview, amount=amount, problem=problem)


def _budget_row(budget_id: int):
    row = queries.budget_row(budget_id)
    if row is None:
        abort(404)
    return row


@bp.route("/budgetten/<int:budget_id>/wijzigen", methods=["GET", "POST"])
@roles_required(roles.CONTRACT_MANAGER)
def edit_budget(budget_id):
    agreement, provider_name, municipality_name = _budget_row(budget_id)
    form = BudgetEditForm(obj=agreement if request.method != "POST" else None)
    if request.method != "POST":
        form.advance_installments.data = "" if agreement.advance_installments is None else str(agreement.advance_installments)
    template = "agreements/budget_edit.html"

    def page(status=200):
        preview = _preview(form.amount.data, form.advance_installments.data, form.kind.data) \
            if request.method == "POST" else service.advance_periods(agreement.amount, agreement.advance_installments)
        return render_template(template, form=form, agreement=agreement, provider_name=provider_name,
                               municipality_name=municipality_name, preview=preview), status

    if request.method != "POST":
        return page()
    status = rejected_status(form)
    if status:
        return page(status)
    try:
        service.update_budget_agreement(agreement, amount=form.amount.data, kind=form.kind.data,
                                        bandwidth_percentage=form.bandwidth_percentage.data,
                                        advance_installments=form.advance_installments.data)
    except RuleViolation as error:
        db.session().rollback()
        _field_error(form, error)
        return page(422)
    db.session().commit()
    flash(f"{rules.KINDS[agreement.kind]} {agreement.year} van {provider_name} met {municipality_name} is "
          "gewijzigd.", "success")
    return redirect(url_for("agreements.list_budgets", jaar=agreement.year, aanbieder=agreement.organisation_id))


@bp.route("/budgetten/<int:budget_id>/rij")
@roles_required(*REGION_READERS)
def budget_row(budget_id):
    """One table row, read-only (htmx: after cancelling an inline edit); a browser goes to the list."""
    agreement, provider_name, municipality_name = _budget_row(budget_id)
    if not htmx_request.htmx:
        return redirect(url_for("agreements.list_budgets", jaar=agreement.year))
    return render_template("agreements/_budget_row.html", agreement=agreement, provider_name=provider_name,
                           municipality_name=municipality_name)


@bp.route("/budgetten/<int:budget_id>/rij/bewerken", methods=["GET", "POST"])
@roles_required(roles.CONTRACT_MANAGER)
def edit_budget_row(budget_id):
    """Inline editing of amount and bandwidth in the table row (htmx). Errors appear in the row,
    with status 422, and nothing is saved. A browser without htmx gets the full edit screen."""
    agreement, provider_name, municipality_name = _budget_row(budget_id)
    if request.method != "POST" and not htmx_request.htmx:
        return redirect(url_for("agreements.edit_budget", budget_id=agreement.id))
    form = BudgetRowForm(obj=agreement if request.method != "POST" else None)
    context = {"agreement": agreement, "provider_name": provider_name, "municipality_name": municipality_name,
               "form": form}
    if request.method != "POST":
        return render_template("agreements/_budget_row_edit.html", **context)
    status = rejected_status(form)
    if status:
        return render_template("agreements/_budget_row_edit.html", **context), status
    try:
        service.update_budget_agreement(agreement, amount=form.amount.data,
                                        bandwidth_percentage=form.bandwidth_percentage.data)
    except RuleViolation as error:
        db.session().rollback()
        _field_error(form, error)
        return render_template("agreements/_budget_row_edit.html", **context), 422
    db.session().commit()
    return render_template("agreements/_budget_row.html", saved=True, **context)


# --- Extra capacity ---------------------------------------------------------------------------------


@bp.route("/extra-capaciteit/")
@roles_required(*REGION_READERS)
def list_extra_capacity():
    year = _int_arg("jaar")
    segment = request.args.get("segment", "")
    page, sort = queries.extra_capacity_page(year, segment, request.args.get("sorteer"), page_number())
    return render_page_or_partial(
        "agreements/extra_capacity.html", "agreements/_extra_capacity_results.html", page=page, sort=sort,
        usage=queries.extra_capacity_usage(current_user.region.id, year, segment),
        filters={"jaar": year or "", "segment": segment}, years=queries.extra_capacity_years(),
        segment_groups=queries.segment_choices())


@bp.route("/extra-capaciteit/nieuw", methods=["GET", "POST"])
@roles_required(roles.CONTRACT_MANAGER)
def create_extra_capacity():
    form = ExtraCapacityForm()
    form.organisation_id.choices = _options(queries.active_organisations(OrganisationKind.PROVIDER))
    form.municipality_id.choices = {"": "Hele regio", **_options(queries.active_organisations(OrganisationKind.MUNICIPALITY))}
    form.segment_key.choices = queries.segment_choices()
    template = "agreements/extra_capacity_form.html"
    if request.method != "POST":
        form.year.data = clock.today().year
        return render_template(template, form=form)
    status = rejected_status(form)
    if status:
        return render_template(template, form=form), status
    try:
        extra = service.add_extra_capacity(
            current_user.region.id, organisation_id=form.organisation_id.data,
            municipality_id=form.municipality_id.data, segment_key=form.segment_key.data, year=form.year.data,
            amount=form.amount.data, reason=form.reason.data)
    except RuleViolation as error:
        db.session().rollback()
        _field_error(form, error)
        return render_template(template, form=form), 422
    db.session().commit()
    flash("De extra capaciteit is vastgelegd.", "success")
    return redirect(url_for("agreements.list_extra_capacity", jaar=extra.year, segment=extra.segment_key))
