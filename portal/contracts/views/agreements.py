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
from sqlalchemy.orm import aliased
from sqlmodel import select

from portal import clock, db
from portal.accounts import roles
from portal.accounts.roles import REGION_READERS, roles_required
from portal.accounts.scoping import get_scoped_or_404, scoped
from portal.contracts import rules, service, terms
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
from portal.models import BudgetAgreement, ExtraCapacity, FrameworkAgreement, Organisation, OrganisationKind
from portal.money import parse_amount
from portal.pagination import Page, paginate, sort_by
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


def _organisations(kind: str) -> list[Organisation]:
    return list(db.session().exec(scoped(select(Organisation), Organisation).where(
        Organisation.kind == kind, Organisation.is_active == True)  # noqa: E712
        .order_by(Organisation.name)).all())


def segment_choices() -> dict[str, dict[str, str]]:
    """Segments grouped by domain name (optgroups): {domain name: {segment key: label}}."""
    registry = current_registry()
    return {d.name: {s.key: f"{d.name} {s.code} — {s.name}" for s in d.segments}
            for d in registry.domains.values()}


def _options(organisations) -> dict[str, str]:
    return {str(organisation.id): organisation.name for organisation in organisations}


def list_page(items: list, page: int, per_page: int = PER_PAGE) -> Page:
    """A page of a list that was filtered and sorted in Python."""
    total = len(items)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    return Page(items[(page - 1) * per_page: page * per_page], page, per_page, total)


def _field_error(form, error: RuleViolation) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [error.message]
    else:
        form.form_errors.append(error.message)


# --- Framework agreements ------------------------------------------------------------------------

FRAMEWORK_SORTS = {
    "kenmerk": lambda row: row["agreement"].reference.lower(),
    "aanbieder": lambda row: row["provider"].lower(),
    "domein": lambda row: row["agreement"].domain,
    "perceel": lambda row: row["agreement"].lot,
    "ingang": lambda row: row["agreement"].start_date,
    "einde": lambda row: row["term"].end,
    "status": lambda row: row["term"].status_label,
}


def _framework_rows(statement) -> list[dict]:
    """Agreements with provider name, segments and term. The end date depends on the evaluations,
    so it is computed here; a region holds tens to hundreds of framework agreements."""
    found = db.session().exec(statement).all()
    ids = [agreement.id for agreement, _name in found]
    segments = service.segments_by_agreement(ids)
    evaluations = service.evaluations_by_agreement(ids)
    return [{"agreement": agreement, "provider": name, "segments": segments[agreement.id],
             "evaluations": evaluations[agreement.id],
             "term": service.term_of(agreement, evaluations[agreement.id])}
            for agreement, name in found]


@bp.route("/")
@roles_required(*REGION_READERS)
def list_frameworks():
    registry = current_registry()
    provider_id = _int_arg("aanbieder")
    domain = request.args.get("domein", "")
    status = request.args.get("status", "")
    sort = request.args.get("sorteer", "")
    sort = sort if sort.lstrip("-") in FRAMEWORK_SORTS else "kenmerk"
    statement = (scoped(select(FrameworkAgreement, Organisation.name), FrameworkAgreement)
                 .join(Organisation, Organisation.id == FrameworkAgreement.organisation_id))
    if provider_id:
        statement = statement.where(FrameworkAgreement.organisation_id == provider_id)
    if domain in registry.domains:
        statement = statement.where(FrameworkAgreement.domain == domain)
    rows = _framework_rows(statement)
    if status in terms.STATUS_LABELS:
        rows = [row for row in rows if row["term"].status == status]
    rows.sort(key=FRAMEWORK_SORTS[sort.lstrip("-")], reverse=sort.startswith("-"))
    page = list_page(rows, page_number())
    filters = {"aanbieder": provider_id or "", "domein": domain, "status": status}
    return render_page_or_partial("agreements/list.html", "agreements/_framework_results.html",
                                  page=page, filters=filters, sort=sort, providers=_organisations(OrganisationKind.PROVIDER),
                                  domains=list(registry.domains.values()))


def _framework_form(agreement: FrameworkAgreement | None):
    registry = current_registry()
    form = FrameworkAgreementForm(obj=agreement)
    if agreement is not None:
        del form.organisation_id
        if request.method != "POST":
            form.segments.data = service.segments_of(agreement)
            form.scheme.data = "+".join(str(n) for n in [agreement.initial_years, *agreement.extension_options])
    else:
        form.organisation_id.choices = _options(_organisations(OrganisationKind.PROVIDER))
    form.domain.choices = {d.code: d.name for d in registry.domains.values()}
    form.segments.choices = {key: label for group in segment_choices().values() for key, label in group.items()}
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
    context = {"form": form, "agreement": agreement, "segment_groups": segment_choices()}
    if request.method != "POST":
        return render_template(template, **context)
    status = rejected_status(form)
    if status:
        return render_template(template, **context), status
    values = dict(reference=form.reference.data, domain=form.domain.data, segments=form.segments.data or [],
                  lot=form.lot.data, contract_form=form.contract_form.data, start_date=form.start_date.data,
                  scheme=form.scheme.data, bow_wave=form.bow_wave.data, terminated_on=form.terminated_on.data)
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
    session = db.session()
    provider = session.get(Organisation, agreement.organisation_id)
    evaluations = service.evaluations_of(agreement)
    term = service.term_of(agreement, evaluations)
    years: dict[int, dict] = {}
    for budget in session.exec(scoped(select(BudgetAgreement), BudgetAgreement)
                               .where(BudgetAgreement.framework_agreement_id == agreement.id)).all():
        year = years.setdefault(budget.year, {"year": budget.year, "count": 0, "budget": Decimal("0.00"),
                                              "ceiling": Decimal("0.00")})
        year["count"] += 1
        year[budget.kind] += budget.amount
    budgets = sorted(years.values(), key=lambda row: row["year"], reverse=True)
    if evaluation_form is None:
        evaluation_form = BowWaveEvaluationForm(formdata=None)
        evaluation_form.year.data = term.next_evaluation_year
    body = render_template(
        "agreements/detail.html", agreement=agreement, provider=provider, term=term, evaluations=evaluations,
        segments=service.segments_of(agreement), budgets=budgets, evaluation_form=evaluation_form,
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

Provider = aliased(Organisation, name="provider")
Municipality = aliased(Organisation, name="municipality")

BUDGET_SORTS = {
    "jaar": BudgetAgreement.year,
    "aanbieder": Provider.name,
    "gemeente": Municipality.name,
    "segment": BudgetAgreement.segment_key,
    "soort": BudgetAgreement.kind,
    "bedrag": BudgetAgreement.amount,
}


def budget_statement(columns, filters: dict):
    """Budget agreements with provider and municipality names, scoped and filtered."""
    statement = (scoped(select(*columns), BudgetAgreement)
                 .join(Provider, Provider.id == BudgetAgreement.organisation_id)
                 .join(Municipality, Municipality.id == BudgetAgreement.municipality_id))
    if filters.get("jaar"):
        statement = statement.where(BudgetAgreement.year == filters["jaar"])
    if filters.get("aanbieder"):
        statement = statement.where(BudgetAgreement.organisation_id == filters["aanbieder"])
    if filters.get("gemeente"):
        statement = statement.where(BudgetAgreement.municipality_id == filters["gemeente"])
    if filters.get("segment"):
        statement = statement.where(BudgetAgreement.segment_key == filters["segment"])
    if filters.get("soort") in rules.KINDS:
        statement = statement.where(BudgetAgreement.kind == filters["soort"])
    return statement


def budget_filters() -> dict:
    return {"jaar": _int_arg("jaar") or "", "aanbieder": _int_arg("aanbieder") or "",
            "gemeente": _int_arg("gemeente") or "", "segment": request.args.get("segment", ""),
            "soort": request.args.get("soort", "")}


def budget_years() -> list[int]:
    return list(db.session().exec(scoped(select(BudgetAgreement.year).distinct(), BudgetAgreement)
                                  .order_by(BudgetAgreement.year.desc())).all())


def budget_page(filters: dict, default_sort: str = "-jaar"):
    """One page of budget agreements for the filters and the requested sort, and the selection's total."""
    statement = budget_statement((BudgetAgreement, Provider.name, Municipality.name), filters)
    statement, sort = sort_by(statement, request.args.get("sorteer"), BUDGET_SORTS, default_sort)
    statement = statement.order_by(Provider.name, Municipality.name, BudgetAgreement.segment_key)
    page = paginate(statement, page_number(), PER_PAGE)
    total = service.sum_amounts(budget_statement((BudgetAgreement.amount,), filters))
    return page, sort, total


@bp.route("/budgetten/")
@roles_required(*REGION_READERS)
def list_budgets():
    filters = budget_filters()
    page, sort, total = budget_page(filters)
    return render_page_or_partial(
        "agreements/budgets.html", "agreements/_budget_results.html", page=page, sort=sort, total=total,
        filters=filters, years=budget_years(), providers=_organisations(OrganisationKind.PROVIDER),
        municipalities=_organisations(OrganisationKind.MUNICIPALITY), segment_groups=segment_choices())


def _budget_form():
    form = BudgetAgreementForm()
    form.organisation_id.choices = _options(_organisations(OrganisationKind.PROVIDER))
    form.municipality_id.choices = _options(_organisations(OrganisationKind.MUNICIPALITY))
    form.segment_key.choices = segment_choices()
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
    row = db.session().exec(budget_statement((BudgetAgreement, Provider.name, Municipality.name), {})
                            .where(BudgetAgreement.id == budget_id)).first()
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
    provider = aliased(Organisation)
    municipality = aliased(Organisation)
    statement = (scoped(select(ExtraCapacity, provider.name, municipality.name), ExtraCapacity)
                 .join(provider, provider.id == ExtraCapacity.organisation_id)
                 .outerjoin(municipality, municipality.id == ExtraCapacity.municipality_id))
    if year:
        statement = statement.where(ExtraCapacity.year == year)
    if segment:
        statement = statement.where(ExtraCapacity.segment_key == segment)
    statement, sort = sort_by(statement, request.args.get("sorteer"),
                              {"jaar": ExtraCapacity.year, "segment": ExtraCapacity.segment_key,
                               "aanbieder": provider.name, "bedrag": ExtraCapacity.amount,
                               "vastgelegd": ExtraCapacity.created_at}, "-vastgelegd")
    page = paginate(statement.order_by(ExtraCapacity.id.desc()), page_number(), PER_PAGE)
    usage = _extra_capacity_usage(year, segment)
    years = db.session().exec(scoped(select(ExtraCapacity.year).distinct(), ExtraCapacity)
                              .order_by(ExtraCapacity.year.desc())).all()
    return render_page_or_partial(
        "agreements/extra_capacity.html", "agreements/_extra_capacity_results.html", page=page, sort=sort,
        usage=usage, filters={"jaar": year or "", "segment": segment}, years=years, segment_groups=segment_choices())


def _extra_capacity_usage(year: int | None, segment: str) -> list[dict]:
    """Per segment and year with extra capacity: contracted value, extra capacity and its share."""
    statement = (scoped(select(ExtraCapacity.year, ExtraCapacity.segment_key), ExtraCapacity).distinct()
                 .order_by(ExtraCapacity.year.desc(), ExtraCapacity.segment_key))
    if year:
        statement = statement.where(ExtraCapacity.year == year)
    if segment:
        statement = statement.where(ExtraCapacity.segment_key == segment)
    usage = []
    for row_year, key in db.session().exec(statement).all():
        contracted = service.contracted_value(current_user.region.id, key, row_year)
        extra = service.extra_capacity_total(current_user.region.id, key, row_year)
        usage.append({"year": row_year, "segment_key": key, "contracted": contracted, "extra": extra,
                      "share": (extra / contracted * 100).quantize(Decimal("0.1")) if contracted else None,
                      "room": rules.extra_capacity_room(contracted, extra)})
    return usage


@bp.route("/extra-capaciteit/nieuw", methods=["GET", "POST"])
@roles_required(roles.CONTRACT_MANAGER)
def create_extra_capacity():
    form = ExtraCapacityForm()
    form.organisation_id.choices = _options(_organisations(OrganisationKind.PROVIDER))
    form.municipality_id.choices = {"": "Hele regio", **_options(_organisations(OrganisationKind.MUNICIPALITY))}
    form.segment_key.choices = segment_choices()
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
