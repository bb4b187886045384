"""Municipal choices per segment: a municipality sees and changes its own (with the place
conversion shown before it confirms); contract managers and auditors read every municipality's."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select
from wtforms import DateField, RadioField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal import clock, db
from portal.accounts import roles
from portal.accounts.roles import REGION_READERS, roles_required
from portal.accounts.scoping import get_scoped_or_404, scoped
from portal.contracts import municipal_choices
from portal.contracts.rules import VOLUME_BASES
from portal.formatting import nl_date
from portal.forms import AmountField, StrictForm
from portal.models import MunicipalChoice, Organisation, OrganisationKind, User
from portal.money import parse_amount
from portal.pagination import paginate, sort_by
from portal.registry import LOTS, current_registry
from portal.validators import RuleViolation
from portal.web.common import page_number, rejected_status, render_page_or_partial

bp = Blueprint("municipal_choices", __name__, url_prefix="/keuzes")

READERS = (roles.MUNICIPALITY_USER, *REGION_READERS)


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes; the rules (not the field) decide what is allowed."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MunicipalChoiceForm(StrictForm):
    effective_from = DateField("Ingangsdatum", validators=[Optional()],
                               description="De keuze geldt vanaf deze dag, tot een volgende keuze ingaat.")
    lots = CheckboxesField("Percelen waaraan uw gemeente deelneemt", validate_choice=False)
    volume_basis = RadioField("Uw gemeente koopt in als", validate_choice=False,
                              choices=[SelectChoice(value, label) for value, label in VOLUME_BASES.items()])
    funding_forms = CheckboxesField("Bekostiging", validate_choice=False,
                                    description="Binnen één segment gebruikt een gemeente één "
                                                "bekostigingssystematiek.")
    volume = AmountField("Verwacht volume per jaar (optioneel)", places=2, validators=[Optional()],
                         description="Aantal trajecten of plekken per jaar; alleen voor de omrekening.")
    note = TextAreaField("Toelichting (optioneel)", validators=[Optional(), Length(
        max=500, message="Hoogstens 500 tekens.")])
    review = SubmitField("Bekijk de gevolgen")
    confirm = SubmitField("Bevestig keuze")
    back = SubmitField("Terug en aanpassen")



def _municipality_or_404(municipality_id: int) -> Organisation:
    municipality = get_scoped_or_404(Organisation, municipality_id)
    if municipality.kind != OrganisationKind.MUNICIPALITY:
        abort(404)
    return municipality


def _segment_or_404(segment_key: str):
    segment = current_registry().segments.get(segment_key)
    if segment is None:
        abort(404)
    return segment


def _can_change(municipality: Organisation) -> bool:
    return current_user.role == roles.MUNICIPALITY_USER and current_user.organisation.id == municipality.id


def _domain_sections(municipality: Organisation):
    in_force = municipal_choices.choices_in_force(municipality.id)
    counts = municipal_choices.version_counts(municipality.id)
    return [(domain, [(segment, in_force.get(segment.key), counts.get(segment.key, 0))
                      for segment in domain.segments])
            for domain in current_registry().domains.values()]


def _labels():
    # In tables under the heading "Percelen" the word "Perceel" is left out: "Regionaal, lokaal".
    short_lots = {lot: label.removeprefix("Perceel ").capitalize() for lot, label in LOTS.items()}
    return {"lots": LOTS, "short_lots": short_lots, "funding": current_registry().funding_forms, "bases": VOLUME_BASES,
            "funding_label": municipal_choices.funding_label}


# --- Overviews ---------------------------------------------------------------------------------


@bp.route("/")
@roles_required(*READERS)
def index():
    if current_user.role == roles.MUNICIPALITY_USER:
        return _municipality_page(current_user.organisation)
    municipalities = db.session().exec(
        scoped(select(Organisation), Organisation)
        .where(Organisation.kind == OrganisationKind.MUNICIPALITY).order_by(Organisation.name)).all()
    filters = {"gemeente": request.args.get("gemeente", ""), "segment": request.args.get("segment", ""),
               "basis": request.args.get("basis", "")}
    statement = scoped(municipal_choices.in_force_statement(), MunicipalChoice)
    if filters["gemeente"].isdigit():
        statement = statement.where(MunicipalChoice.municipality_id == int(filters["gemeente"]))
    if filters["segment"] in current_registry().segments:
        statement = statement.where(MunicipalChoice.segment_key == filters["segment"])
    if filters["basis"] in VOLUME_BASES:
        statement = statement.where(MunicipalChoice.volume_basis == filters["basis"])
    statement, sort = sort_by(statement, request.args.get("sorteer"), {
        "gemeente": Organisation.name, "segment": MunicipalChoice.segment_key,
        "ingang": MunicipalChoice.effective_from}, "gemeente")
    statement = statement.order_by(MunicipalChoice.segment_key, Organisation.name)
    page = paginate(statement, page_number(), per_page=30)
    return render_page_or_partial(
        "municipal_choices/index.html", "municipal_choices/_results.html", page=page, sort=sort,
        filters=filters, municipalities=municipalities, segments=current_registry().segments, **_labels())


@bp.route("/gemeente/<int:municipality_id>")
@roles_required(*READERS)
def municipality(municipality_id):
    return _municipality_page(_municipality_or_404(municipality_id))


def _municipality_page(municipality: Organisation):
    return render_template("municipal_choices/municipality.html", municipality=municipality,
                           sections=_domain_sections(municipality), can_change=_can_change(municipality),
                           **_labels())


@bp.route("/gemeente/<int:municipality_id>/<segment_key>")
@roles_required(*READERS)
def segment(municipality_id, segment_key):
    municipality = _municipality_or_404(municipality_id)
    segment = _segment_or_404(segment_key)
    statement = (scoped(select(MunicipalChoice, User.name), MunicipalChoice)
                 .outerjoin(User, User.id == MunicipalChoice.created_by)
                 .where(MunicipalChoice.municipality_id == municipality.id,
                        MunicipalChoice.segment_key == segment.key)
                 .order_by(MunicipalChoice.effective_from.desc()))
    page = paginate(statement, page_number())
    rows = [(choice, author, _volume(choice)) for choice, author in page.items]
    return render_template("municipal_choices/segment.html", municipality=municipality, segment=segment,
                           domain=current_registry().domains[segment.domain], page=page, rows=rows,
                           current=municipal_choices.current_choice(municipality.id, segment.key),
                           can_change=_can_change(municipality), today=clock.today(), **_labels())


def _volume(choice: MunicipalChoice) -> Decimal | None:
    volume = (choice.details or {}).get("volume")
    return None if volume in (None, "") else Decimal(volume)


# --- A new choice: form with live conversion, then review, then confirm -----------------------


def _default_effective_from(municipality: Organisation, segment_key: str) -> date:
    """1 January of next year, or the day after the latest version when that is later."""
    proposal = date(clock.today().year + 1, 1, 1)
    latest = next(iter(municipal_choices.history(municipality.id, segment_key)), None)
    if latest is not None and latest.effective_from >= proposal:
        return date.fromordinal(latest.effective_from.toordinal() + 1)
    return proposal


def _choice_form(municipality: Organisation, segment) -> MunicipalChoiceForm:
    if request.method == "POST":
        form = MunicipalChoiceForm()
    else:
        current = municipal_choices.current_choice(municipality.id, segment.key)
        form = MunicipalChoiceForm(data={
            "effective_from": _default_effective_from(municipality, segment.key),
            "lots": list(current.lots) if current else list(segment.lots),
            "volume_basis": current.volume_basis if current else "trajectories",
            "funding_forms": municipal_choices.funding_forms(current) if current else [],
        })
    form.lots.choices = [SelectChoice(lot, LOTS[lot]) for lot in segment.lots]
    form.funding_forms.choices = [SelectChoice(code, label) for code, label in zip(segment.funding_forms, segment.funding_labels)]
    return form


def _choice_input(form: MunicipalChoiceForm, segment) -> municipal_choices.ChoiceInput:
    return municipal_choices.ChoiceInput(
        segment_key=segment.key, effective_from=form.effective_from.data, lots=tuple(form.lots.data or ()),
        volume_basis=form.volume_basis.data, funding_forms=tuple(form.funding_forms.data or ()),
        volume=form.volume.data, note=(form.note.data or "").strip())


@bp.route("/gemeente/<int:municipality_id>/<segment_key>/nieuw", methods=["GET", "POST"])
@roles_required(roles.MUNICIPALITY_USER)
def new_choice(municipality_id, segment_key):
    municipality = _municipality_or_404(municipality_id)
    segment = _segment_or_404(segment_key)
    form = _choice_form(municipality, segment)
    context = {"municipality": municipality, "segment": segment,
               "domain": current_registry().domains[segment.domain],
               "current": municipal_choices.current_choice(municipality.id, segment.key), **_labels()}

    def show_form(status=200):
        preview = municipal_choices.conversion_preview(
            municipality.region_id, segment.key, form.effective_from.data, form.volume_basis.data,
            form.volume.data)
        return render_template("municipal_choices/form.html", form=form, preview=preview, **context), status

    if request.method != "POST":
        return show_form()
    status = rejected_status(form)
    if status:
        return show_form(status)
    if form.back.data:
        return show_form()
    choice = _choice_input(form, segment)
    try:
        if form.confirm.data:
            municipal_choices.record_choice(municipality, choice, current_user.user.id)
        else:
            municipal_choices.check_choice(municipality, choice)
    except RuleViolation as error:
        db.session().rollback()
        if error.field and hasattr(form, error.field):
            getattr(form, error.field).errors = [error.message]
        else:
            form.form_errors.append(error.message)
        return show_form(422)
    if form.confirm.data:
        db.session().commit()
        flash(f"Uw keuze voor {context['domain'].name} {segment.code} is vastgelegd en geldt vanaf "
              f"{nl_date(choice.effective_from)}.", "success")
        return redirect(url_for("municipal_choices.segment", municipality_id=municipality.id,
                                segment_key=segment.key))
    preview = municipal_choices.conversion_preview(municipality.region_id, segment.key, choice.effective_from,
                                                   choice.volume_basis, choice.volume)
    return render_template("municipal_choices/confirm.html", form=form, choice=choice, preview=preview,
                           **context)


@bp.route("/gemeente/<int:municipality_id>/<segment_key>/omrekening")
@roles_required(roles.MUNICIPALITY_USER)
def preview(municipality_id, segment_key):
    """The conversion table for the values in the query string (htmx swaps it into the form)."""
    municipality = _municipality_or_404(municipality_id)
    segment = _segment_or_404(segment_key)
    problem = ""
    try:
        on = date.fromisoformat(request.args.get("effective_from", ""))
    except ValueError:
        on = clock.today()
    basis = request.args.get("volume_basis")
    basis = basis if basis in VOLUME_BASES else "trajectories"
    volume = None
    raw_volume = request.args.get("volume", "").strip()
    if raw_volume:
        try:
            volume = parse_amount(raw_volume)
            if not Decimal(0) <= volume <= municipal_choices.MAX_VOLUME:
                raise ValueError(raw_volume)
        except ValueError:
            volume, problem = None, "Vul bij het volume een aantal van 0 tot 100.000 in, bijvoorbeeld 12 of 2,5."
    result = municipal_choices.conversion_preview(municipality.region_id, segment.key, on, basis, volume)
    return render_page_or_partial("municipal_choices/conversion.html", "municipal_choices/_conversion.html",
                                  preview=result, problem=problem, municipality=municipality,
                                  segment=segment, domain=current_registry().domains[segment.domain], **_labels())
