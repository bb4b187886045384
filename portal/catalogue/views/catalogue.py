"""The catalogue of a region: standard trajectories per year with their computed prices (every
role reads them; a provider sees the price with the surcharges it qualifies for), and the
contract managers' screens to keep care forms, tariffs, surcharges and trajectories."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from htmx_flask import request as htmx_request
from sqlalchemy import Numeric, cast, or_
from sqlmodel import func, select

from portal import clock, db
from portal.accounts import roles
from portal.accounts.roles import REGION_READERS, roles_required
from portal.accounts.scoping import get_scoped_or_404, scoped
from portal.catalogue import admin as catalogue_admin
from portal.catalogue import pricing
from portal.catalogue import service as catalogue
from portal.catalogue.admin import UNIT_LABELS, CatalogueViolation, segment_label, segment_short
from portal.catalogue.forms import (
    CareFormForm,
    QualificationForm,
    SurchargeForm,
    TariffForm,
    TariffVersionForm,
    TrajectoryTermsForm,
    UnitRateForm,
    put_problems_on,
    trajectory_form_class,
)
from portal.forms import ConfirmForm
from portal.models import (
    CareForm,
    CustomTrajectory,
    Organisation,
    OrganisationKind,
    StandardTrajectory,
    Surcharge,
    SurchargeQualification,
    Tariff,
    TariffVersion,
)
from portal.pagination import paginate, sort_by
from portal.registry import current_registry
from portal.validators import RuleViolation
from portal.web.common import page_number, rejected_status, render_page_or_partial

bp = Blueprint("catalogue", __name__, url_prefix="/catalogus")

EVERY_ROLE = tuple(roles.ALL_ROLES)
MANAGER = roles.CONTRACT_MANAGER


# --- Helpers -----------------------------------------------------------------------------------


def _region_id() -> int:
    return current_user.region.id


def _provider_id() -> int | None:
    """Providers see prices with the surcharges their own organisation qualifies for."""
    if current_user.role in roles.PROVIDER_ROLES:
        return current_user.organisation.id
    return None


def _can_edit() -> bool:
    return current_user.role == MANAGER


def _year(value=None) -> int:
    try:
        year = int(value if value is not None else request.args.get("jaar", ""))
    except ValueError:
        return clock.today().year
    return year if catalogue_admin.FIRST_YEAR <= year <= catalogue_admin.LAST_YEAR else clock.today().year


def _segment_choices(blank: str | None = None) -> list[tuple[str, str]]:
    registry = current_registry()
    choices = [("", blank)] if blank is not None else []
    for domain in registry.domains.values():
        for segment in domain.segments:
            choices.append((segment.key, segment_label(segment.key)))
    return choices


def _committed(message: str, target: str):
    db.session().commit()
    flash(message, "success")
    return redirect(target)


def _refused(form, violation: RuleViolation) -> None:
    """Nothing of a refused change is kept; the reasons go on the form's fields."""
    db.session().rollback()
    put_problems_on(form, getattr(violation, "problems", [(violation.field, violation.message)]))


def _is_htmx() -> bool:
    return bool(htmx_request.htmx)


# --- Standard trajectories: the overview -------------------------------------------------------


@dataclass
class TrajectoryRow:
    trajectory: StandardTrajectory
    care_form: CareForm
    tariff: Tariff
    unit_rate: Decimal | None = None
    price: pricing.PriceBreakdown | None = None
    error: str | None = None

    @property
    def segment(self) -> str:
        return segment_label(self.trajectory.segment_key)

    @property
    def segment_short(self) -> str:
        return segment_short(self.trajectory.segment_key)

    @property
    def unit_plural(self) -> str:
        return pricing.UNITS.get(self.tariff.unit, (self.tariff.unit, self.tariff.unit))[1]

    @property
    def intensity_unit(self) -> str:
        """"uur" for an intensity of exactly 1, else "uren" (and so on)."""
        return self.unit_singular if self.trajectory.intensity == 1 else self.unit_plural

    @property
    def unit_singular(self) -> str:
        return pricing.UNITS.get(self.tariff.unit, (self.tariff.unit, self.tariff.unit))[0]


def _priced_row(trajectory, care_form, tariff, provider_id) -> TrajectoryRow:
    row = TrajectoryRow(trajectory, care_form, tariff)
    try:
        terms = catalogue.trajectory_terms(trajectory, provider_id)
        row.unit_rate = terms.unit_rate
        row.price = pricing.price_trajectory(terms, current_registry().pricing.get(trajectory.segment_key))
    except (RuleViolation, pricing.PricingError) as problem:
        row.error = problem.message
    return row


def _row_for(trajectory: StandardTrajectory) -> TrajectoryRow:
    session = db.session()
    return _priced_row(trajectory, session.get(CareForm, trajectory.care_form_id),
                       session.get(Tariff, trajectory.tariff_id), _provider_id())


TRAJECTORY_SORTS = {
    "segment": StandardTrajectory.segment_key,
    "code": StandardTrajectory.code,
    "naam": StandardTrajectory.name,
    "zorgvorm": CareForm.name,
    "deskundigheid": StandardTrajectory.expertise,
    # SQLite keeps exact decimals as text: compare them as numbers.
    "intensiteit": cast(StandardTrajectory.intensity, Numeric(8, 2)),
    "doorlooptijd": StandardTrajectory.duration_months,
    "tarief": Tariff.name,
}


def _years_on_offer(region_id: int, year: int) -> list[int]:
    years = set(db.session().exec(select(StandardTrajectory.year).where(
        StandardTrajectory.region_id == region_id).distinct()).all())
    years |= {clock.today().year, year}
    return sorted(years, reverse=True)


@bp.route("/")
@roles_required(*EVERY_ROLE)
def overview():
    registry = current_registry()
    year = _year()
    domain = request.args.get("domein", "")
    domain = domain if domain in registry.domains else ""
    segment = request.args.get("segment", "")
    segment = segment if segment in registry.segments else ""
    query = request.args.get("zoek", "").strip()
    statement = scoped(
        select(StandardTrajectory, CareForm, Tariff)
        .join(CareForm, CareForm.id == StandardTrajectory.care_form_id)
        .join(Tariff, Tariff.id == StandardTrajectory.tariff_id), StandardTrajectory,
    ).where(StandardTrajectory.year == year)
    if domain:
        statement = statement.where(StandardTrajectory.segment_key.startswith(f"{domain}."))
    if segment:
        statement = statement.where(StandardTrajectory.segment_key == segment)
    if query:
        pattern = f"%{query}%"
        statement = statement.where(or_(StandardTrajectory.name.ilike(pattern), StandardTrajectory.code.ilike(pattern),
                                        CareForm.name.ilike(pattern)))
    statement, sort = sort_by(statement, request.args.get("sorteer"), TRAJECTORY_SORTS, "segment")
    statement = statement.order_by(StandardTrajectory.code, StandardTrajectory.id)
    page = paginate(statement, page_number())
    provider_id = _provider_id()
    rows = [_priced_row(t, c, tf, provider_id) for t, c, tf in page.items]
    params = {"jaar": year, "domein": domain, "segment": segment, "zoek": query}
    custom_rows = _custom_rows(provider_id, year) if provider_id is not None else []
    return render_page_or_partial(
        "catalogue/overview.html", "catalogue/_overview_results.html",
        page=page, rows=rows, year=year, years=_years_on_offer(_region_id(), year), domain=domain,
        segment=segment, query=query, sort=sort, params=params, segment_choices=_segment_choices(),
        provider_view=provider_id is not None, can_edit=_can_edit(), custom_rows=custom_rows)


def _custom_rows(provider_id: int, year: int) -> list[tuple]:
    """The provider's approved custom trajectories valid in ``year``, priced from the same tariffs
    as the standard trajectories: (custom trajectory, price or None, why no price)."""

    session = db.session()
    rows = []
    for custom in session.exec(scoped(select(CustomTrajectory), CustomTrajectory).where(
            CustomTrajectory.valid_from <= date(year, 12, 31),
            or_(CustomTrajectory.valid_until == None, CustomTrajectory.valid_until >= date(year, 1, 1)))  # noqa: E711
            .order_by(CustomTrajectory.code)):
        standard = session.get(StandardTrajectory, custom.standard_trajectory_id)
        try:
            price = catalogue.trajectory_price(
                standard, provider_id, year=year, intensity=custom.intensity,
                intensity_period=custom.intensity_period, duration_months=custom.duration_months,
                extra=dict(custom.extra or {}))
            rows.append((custom, price.total, None))
        except (RuleViolation, pricing.PricingError) as problem:
            rows.append((custom, None, problem.message))
    return rows


@bp.route("/trajecten/<int:trajectory_id>")
@roles_required(*EVERY_ROLE)
def trajectory_detail(trajectory_id):
    trajectory = get_scoped_or_404(StandardTrajectory, trajectory_id)
    return render_template("catalogue/trajectory_detail.html", **_detail_context(trajectory))


def _detail_context(trajectory):
    row = _row_for(trajectory)
    place_year = None
    if row.price is not None:
        place_year = (pricing.trajectories_per_place_year(trajectory.duration_months),
                      pricing.price_per_place_year(row.price.total, trajectory.duration_months))
    stored = trajectory.extra or {}
    extra_values = [(extra.label, Decimal(str(stored[extra.name])) if stored.get(extra.name) not in (None, "") else None)
                    for extra in catalogue_admin.extra_fields_for(trajectory.segment_key)]
    return {"row": row, "trajectory": trajectory, "place_year": place_year, "extra_values": extra_values,
            "provider_view": _provider_id() is not None, "can_edit": _can_edit()}


# --- Inline edit of a trajectory's intensity and duration ------------------------------------


@bp.route("/trajecten/<int:trajectory_id>/rij")
@roles_required(*EVERY_ROLE)
def trajectory_row(trajectory_id):
    """One row of the overview (htmx: after cancelling an inline edit); otherwise the detail page."""
    trajectory = get_scoped_or_404(StandardTrajectory, trajectory_id)
    context = _detail_context(trajectory)
    return render_page_or_partial("catalogue/trajectory_detail.html", "catalogue/_trajectory_row.html", **context)


@bp.route("/trajecten/<int:trajectory_id>/rij/wijzigen", methods=["GET", "POST"])
@roles_required(MANAGER)
def trajectory_row_edit(trajectory_id):
    trajectory = get_scoped_or_404(StandardTrajectory, trajectory_id)
    if not _is_htmx() and request.method == "GET":
        return redirect(url_for("catalogue.trajectory_edit", trajectory_id=trajectory.id))
    form = TrajectoryTermsForm(obj=trajectory, prefix=f"traject{trajectory.id}")
    template = "catalogue/_trajectory_row_form.html"
    if request.method != "POST":
        return render_template(template, form=form, row=_row_for(trajectory))
    status = rejected_status(form)
    if status:
        return render_template(template, form=form, row=_row_for(trajectory)), status
    try:
        catalogue_admin.update_trajectory(trajectory, intensity=form.intensity.data,
                                          duration_months=form.duration_months.data)
    except CatalogueViolation as violation:
        _refused(form, violation)
        trajectory = get_scoped_or_404(StandardTrajectory, trajectory_id)
        return render_template(template, form=form, row=_row_for(trajectory)), 422
    db.session().commit()
    if not _is_htmx():
        flash(f"Traject {trajectory.code} is opgeslagen.", "success")
        return redirect(url_for("catalogue.overview", jaar=trajectory.year))
    return render_template("catalogue/_trajectory_row.html", row=_row_for(trajectory), can_edit=True,
                           provider_view=False, saved=True)


# --- Standard trajectories: create, change, live price preview ------------------------------


def _care_form_choices():
    care_forms = db.session().exec(scoped(select(CareForm), CareForm)
                                   .order_by(CareForm.segment_key, CareForm.code)).all()
    return [("", "Kies een zorgvorm")] + [
        (str(c.id), f"{segment_short(c.segment_key)} · {c.code} {c.name}") for c in care_forms]


def _tariff_choices():
    tariffs = db.session().exec(scoped(select(Tariff), Tariff).order_by(Tariff.code)).all()
    return [("", "Kies een tarief")] + [
        (str(t.id), f"{t.code} {t.name} ({UNIT_LABELS.get(t.unit, t.unit).lower()})") for t in tariffs]


def _chosen_segment(source, trajectory: StandardTrajectory | None) -> str | None:
    """The segment whose plugin fields the form shows: that of the chosen care form."""
    raw = source.get("care_form_id")
    if raw:
        try:
            care_form = db.session().exec(scoped(select(CareForm), CareForm)
                                          .where(CareForm.id == int(raw))).first()
        except ValueError:
            care_form = None
        if care_form is not None:
            return care_form.segment_key
    return trajectory.segment_key if trajectory is not None else None


def _trajectory_form(trajectory: StandardTrajectory | None, source=None):
    """The trajectory form with the chosen segment's plugin fields, filled from ``source``
    (the posted form by default), else from the trajectory."""
    if source is None:
        source = request.form if request.method == "POST" else {}
    segment_key = _chosen_segment(source, trajectory)
    form_class = trajectory_form_class(catalogue_admin.extra_fields_for(segment_key))
    if source:
        form = form_class(formdata=source)
    elif trajectory is not None:
        form = form_class(obj=trajectory)
        for extra in form.extra_fields:
            value = (trajectory.extra or {}).get(extra.name)
            form["extra_" + extra.name].data = Decimal(str(value)) if value not in (None, "") else None
    else:
        form = form_class(formdata=None, year=_year())
    form.care_form_id.choices = _care_form_choices()
    form.tariff_id.choices = _tariff_choices()
    form.chosen_segment = segment_key
    return form


def _trajectory_values(form) -> dict:
    return {
        "year": form.year.data, "care_form_id": form.care_form_id.data, "code": form.code.data,
        "name": form.name.data, "expertise": form.expertise.data, "intensity": form.intensity.data,
        "intensity_period": form.intensity_period.data, "duration_months": form.duration_months.data,
        "tariff_id": form.tariff_id.data, "extra": form.extra_values(),
    }


def _form_context(form, trajectory, preview=None, preview_problems=None):
    return {
        "form": form, "trajectory": trajectory, "preview": preview, "preview_problems": preview_problems,
        "segment_label": segment_label(form.chosen_segment) if form.chosen_segment else None,
        "preview_url": url_for("catalogue.trajectory_preview", trajectory_id=trajectory.id)
        if trajectory else url_for("catalogue.trajectory_preview"),
        "fields_url": url_for("catalogue.trajectory_fields"),
    }


@bp.route("/trajecten/nieuw", methods=["GET", "POST"])
@roles_required(MANAGER)
def trajectory_create():
    return _save_trajectory(None)


@bp.route("/trajecten/<int:trajectory_id>/bewerken", methods=["GET", "POST"])
@roles_required(MANAGER)
def trajectory_edit(trajectory_id):
    return _save_trajectory(get_scoped_or_404(StandardTrajectory, trajectory_id))


def _save_trajectory(trajectory: StandardTrajectory | None):
    template = "catalogue/trajectory_form.html"
    form = _trajectory_form(trajectory)
    if request.method != "POST":
        return render_template(template, **_form_context(form, trajectory))
    status = rejected_status(form)
    if status:
        return render_template(template, **_form_context(form, trajectory)), status
    try:
        if trajectory is None:
            trajectory = catalogue_admin.create_trajectory(_region_id(), **_trajectory_values(form))
        else:
            catalogue_admin.update_trajectory(trajectory, **_trajectory_values(form))
    except CatalogueViolation as violation:
        _refused(form, violation)
        if trajectory is not None:
            trajectory = get_scoped_or_404(StandardTrajectory, trajectory.id)
        return render_template(template, **_form_context(form, trajectory)), 422
    return _committed(f"Standaardtraject {trajectory.code} {trajectory.name} is opgeslagen.",
                      url_for("catalogue.trajectory_detail", trajectory_id=trajectory.id))


@bp.route("/trajecten/prijs", methods=["POST"])
@bp.route("/trajecten/<int:trajectory_id>/prijs", methods=["POST"])
@roles_required(MANAGER)
def trajectory_preview(trajectory_id=None):
    """The price the form's values would give, without saving: a partial under the form (htmx),
    or the whole form page with the price (without JavaScript)."""
    trajectory = get_scoped_or_404(StandardTrajectory, trajectory_id) if trajectory_id else None
    form = _trajectory_form(trajectory)
    preview, problems, status = None, None, 200
    if rejected_status(form):
        problems, status = _problem_list(form), 422
    else:
        try:
            preview = catalogue_admin.check_trajectory(_region_id(), _trajectory_values(form), trajectory).price
        except CatalogueViolation as violation:
            put_problems_on(form, violation.problems)
            problems, status = _problem_list(form), 422
    db.session().rollback()  # a preview never writes
    if _is_htmx():
        return render_template("catalogue/_price_preview.html", preview=preview, preview_problems=problems), status
    return render_template("catalogue/trajectory_form.html",
                           **_form_context(form, trajectory, preview, problems)), status


def _problem_list(form) -> list[tuple[str | None, str]]:
    """(field label, message) for every error on the form, in the form's order."""
    problems = [(None, error) for error in form.form_errors]
    for form_field in form:
        if form_field.errors and form_field.type != "CSRFTokenField":
            problems.append((form_field.label.text, " ".join(form_field.errors)))
    if "csrf_token" in form and form.csrf_token.errors:
        problems.append((None, "Het beveiligingstoken van het formulier is verlopen. Laad de pagina opnieuw."))
    return problems


@bp.route("/trajecten/segmentvelden")
@roles_required(MANAGER)
def trajectory_fields():
    """The inputs the chosen care form's segment adds (htmx swaps them into the form)."""
    form = _trajectory_form(None, source=request.args)
    return render_template("catalogue/_segment_fields.html", form=form,
                           segment_label=segment_label(form.chosen_segment) if form.chosen_segment else None)


# --- Care forms --------------------------------------------------------------------------------


CARE_FORM_SORTS = {"segment": CareForm.segment_key, "code": CareForm.code, "naam": CareForm.name}


@bp.route("/zorgvormen/")
@roles_required(*EVERY_ROLE)
def care_forms():
    registry = current_registry()
    segment = request.args.get("segment", "")
    segment = segment if segment in registry.segments else ""
    query = request.args.get("zoek", "").strip()
    statement = scoped(select(CareForm), CareForm)
    if segment:
        statement = statement.where(CareForm.segment_key == segment)
    if query:
        statement = statement.where(or_(CareForm.name.ilike(f"%{query}%"), CareForm.code.ilike(f"%{query}%")))
    statement, sort = sort_by(statement, request.args.get("sorteer"), CARE_FORM_SORTS, "segment")
    page = paginate(statement.order_by(CareForm.code, CareForm.id), page_number())
    return render_page_or_partial(
        "catalogue/care_forms.html", "catalogue/_care_forms_results.html", page=page, sort=sort,
        segment=segment, query=query, params={"segment": segment, "zoek": query},
        segment_choices=_segment_choices(), segment_name=segment_label, can_edit=_can_edit())


def _care_form_form(care_form):
    form = CareFormForm(obj=care_form)
    form.segment_key.choices = _segment_choices("Kies een segment")
    return form


@bp.route("/zorgvormen/nieuw", methods=["GET", "POST"])
@roles_required(MANAGER)
def care_form_create():
    return _save_simple(_care_form_form(None), None, "catalogue/care_form_form.html", "care_form",
                        catalogue_admin.create_care_form, catalogue_admin.update_care_form,
                        catalogue_admin.CARE_FORM_FIELDS, "Zorgvorm {code} {name} is opgeslagen.",
                        lambda obj: url_for("catalogue.care_forms"))


@bp.route("/zorgvormen/<int:care_form_id>/bewerken", methods=["GET", "POST"])
@roles_required(MANAGER)
def care_form_edit(care_form_id):
    care_form = get_scoped_or_404(CareForm, care_form_id)
    return _save_simple(_care_form_form(care_form), care_form, "catalogue/care_form_form.html", "care_form",
                        catalogue_admin.create_care_form, catalogue_admin.update_care_form,
                        catalogue_admin.CARE_FORM_FIELDS, "Zorgvorm {code} {name} is opgeslagen.",
                        lambda obj: url_for("catalogue.care_forms"))


def _save_simple(form, obj, template, name, create, update, fields, message, done):
    """Create or change a catalogue object whose form fields match the service's values."""
    context = {"form": form, name: obj}
    if request.method != "POST":
        return render_template(template, **context)
    status = rejected_status(form)
    if status:
        return render_template(template, **context), status
    values = {field: form[field].data for field in fields}
    try:
        obj = create(_region_id(), **values) if obj is None else update(obj, **values)
    except CatalogueViolation as violation:
        _refused(form, violation)
        return render_template(template, **context), 422
    return _committed(message.format(**{field: getattr(obj, field) for field in fields}), done(obj))


# --- Tariffs and their versions ----------------------------------------------------------------


TARIFF_SORTS = {"code": Tariff.code, "naam": Tariff.name, "eenheid": Tariff.unit}


def _rate_today(tariff_id: int) -> Decimal | None:
    versions = [(pricing.Period(v.valid_from, v.valid_until), v.unit_rate) for v in catalogue.versions_of(tariff_id)]
    return pricing.rate_on(versions, clock.today())


@bp.route("/tarieven/")
@roles_required(*EVERY_ROLE)
def tariffs():
    unit = request.args.get("eenheid", "")
    unit = unit if unit in UNIT_LABELS else ""
    query = request.args.get("zoek", "").strip()
    statement = scoped(select(Tariff), Tariff)
    if unit:
        statement = statement.where(Tariff.unit == unit)
    if query:
        statement = statement.where(or_(Tariff.name.ilike(f"%{query}%"), Tariff.code.ilike(f"%{query}%")))
    statement, sort = sort_by(statement, request.args.get("sorteer"), TARIFF_SORTS, "code")
    page = paginate(statement.order_by(Tariff.id), page_number())
    counts = dict(db.session().exec(
        select(TariffVersion.tariff_id, func.count()).where(TariffVersion.tariff_id.in_([t.id for t in page.items]))
        .group_by(TariffVersion.tariff_id)).all()) if page.items else {}
    rows = [(t, counts.get(t.id, 0), _rate_today(t.id)) for t in page.items]
    return render_page_or_partial(
        "catalogue/tariffs.html", "catalogue/_tariffs_results.html", page=page, rows=rows, sort=sort,
        unit=unit, query=query, params={"eenheid": unit, "zoek": query}, unit_labels=UNIT_LABELS,
        can_edit=_can_edit())


@bp.route("/tarieven/<int:tariff_id>")
@roles_required(*EVERY_ROLE)
def tariff_detail(tariff_id):
    tariff = get_scoped_or_404(Tariff, tariff_id)
    return render_template("catalogue/tariff_detail.html", **_tariff_context(tariff))


def _tariff_context(tariff):
    session = db.session()
    used = session.exec(select(StandardTrajectory.year, func.count()).where(
        StandardTrajectory.tariff_id == tariff.id).group_by(StandardTrajectory.year)
        .order_by(StandardTrajectory.year)).all()
    return {"tariff": tariff, "versions": catalogue.versions_of(tariff.id), "used": used,
            "unit_labels": UNIT_LABELS, "can_edit": _can_edit(), "current_date": clock.today()}


def _tariff_form(tariff):
    form = TariffForm(obj=tariff)
    form.unit.choices = [("", "Kies een eenheid")] + list(UNIT_LABELS.items())
    return form


@bp.route("/tarieven/nieuw", methods=["GET", "POST"])
@roles_required(MANAGER)
def tariff_create():
    return _save_simple(_tariff_form(None), None, "catalogue/tariff_form.html", "tariff",
                        catalogue_admin.create_tariff, catalogue_admin.update_tariff,
                        catalogue_admin.TARIFF_FIELDS, "Tarief {code} {name} is opgeslagen.",
                        lambda obj: url_for("catalogue.tariff_detail", tariff_id=obj.id))


@bp.route("/tarieven/<int:tariff_id>/bewerken", methods=["GET", "POST"])
@roles_required(MANAGER)
def tariff_edit(tariff_id):
    tariff = get_scoped_or_404(Tariff, tariff_id)
    return _save_simple(_tariff_form(tariff), tariff, "catalogue/tariff_form.html", "tariff",
                        catalogue_admin.create_tariff, catalogue_admin.update_tariff,
                        catalogue_admin.TARIFF_FIELDS, "Tarief {code} {name} is opgeslagen.",
                        lambda obj: url_for("catalogue.tariff_detail", tariff_id=obj.id))


def _version_or_404(version_id: int) -> tuple[TariffVersion, Tariff]:
    """A tariff version of a tariff the signed-in organisation may see, else 404."""
    found = db.session().exec(scoped(
        select(TariffVersion, Tariff).join(Tariff, Tariff.id == TariffVersion.tariff_id), Tariff)
        .where(TariffVersion.id == version_id)).first()
    if found is None:
        abort(404)
    return found


@bp.route("/tarieven/<int:tariff_id>/versies/nieuw", methods=["GET", "POST"])
@roles_required(MANAGER)
def version_create(tariff_id):
    tariff = get_scoped_or_404(Tariff, tariff_id)
    return _save_version(TariffVersionForm(), tariff, None)


@bp.route("/tariefversies/<int:version_id>/bewerken", methods=["GET", "POST"])
@roles_required(MANAGER)
def version_edit(version_id):
    version, tariff = _version_or_404(version_id)
    return _save_version(TariffVersionForm(obj=version), tariff, version)


def _save_version(form, tariff, version):
    template = "catalogue/version_form.html"
    context = {"form": form, "tariff": tariff, "version": version, "unit_labels": UNIT_LABELS}
    if request.method != "POST":
        return render_template(template, **context)
    status = rejected_status(form)
    if status:
        return render_template(template, **context), status
    values = {"valid_from": form.valid_from.data, "valid_until": form.valid_until.data,
              "unit_rate": form.unit_rate.data}
    try:
        if version is None:
            catalogue_admin.add_tariff_version(tariff, **values)
        else:
            catalogue_admin.change_tariff_version(version, **values)
    except CatalogueViolation as violation:
        _refused(form, violation)
        return render_template(template, **context), 422
    return _committed(f"Tariefversie van {tariff.code} {tariff.name} is opgeslagen.",
                      url_for("catalogue.tariff_detail", tariff_id=tariff.id))


@bp.route("/tariefversies/<int:version_id>/rij")
@roles_required(*EVERY_ROLE)
def version_row(version_id):
    """One version row (htmx: after cancelling an inline edit); otherwise the tariff's page."""
    version, tariff = _version_or_404(version_id)
    return render_page_or_partial("catalogue/tariff_detail.html", "catalogue/_version_row.html",
                                  version=version, **_tariff_context(tariff))


@bp.route("/tariefversies/<int:version_id>/rij/wijzigen", methods=["GET", "POST"])
@roles_required(MANAGER)
def version_row_edit(version_id):
    version, tariff = _version_or_404(version_id)
    if not _is_htmx() and request.method == "GET":
        return redirect(url_for("catalogue.version_edit", version_id=version.id))
    form = UnitRateForm(obj=version, prefix=f"versie{version.id}")
    template = "catalogue/_version_row_form.html"
    if request.method != "POST":
        return render_template(template, form=form, version=version, tariff=tariff)
    status = rejected_status(form)
    if status:
        return render_template(template, form=form, version=version, tariff=tariff), status
    try:
        catalogue_admin.change_tariff_version(version, unit_rate=form.unit_rate.data)
    except CatalogueViolation as violation:
        _refused(form, violation)
        version, tariff = _version_or_404(version_id)
        return render_template(template, form=form, version=version, tariff=tariff), 422
    db.session().commit()
    if not _is_htmx():
        flash(f"Tariefversie van {tariff.code} is opgeslagen.", "success")
        return redirect(url_for("catalogue.tariff_detail", tariff_id=tariff.id))
    return render_template("catalogue/_version_row.html", version=version, tariff=tariff, can_edit=True,
                           current_date=clock.today(), saved=True)


# --- Surcharges and the providers that qualify -------------------------------------------------


SURCHARGE_SORTS = {"code": Surcharge.code, "naam": Surcharge.name, "segment": Surcharge.segment_key,
                   "percentage": cast(Surcharge.percentage, Numeric(6, 3)), "vanaf": Surcharge.valid_from}


@bp.route("/opslagen/")
@roles_required(*EVERY_ROLE)
def surcharges():
    query = request.args.get("zoek", "").strip()
    statement = scoped(select(Surcharge), Surcharge)
    if query:
        statement = statement.where(or_(Surcharge.name.ilike(f"%{query}%"), Surcharge.code.ilike(f"%{query}%")))
    statement, sort = sort_by(statement, request.args.get("sorteer"), SURCHARGE_SORTS, "code")
    page = paginate(statement.order_by(Surcharge.id), page_number())
    ids = [s.id for s in page.items]
    session = db.session()
    counts = dict(session.exec(
        select(SurchargeQualification.surcharge_id, func.count()).where(SurchargeQualification.surcharge_id.in_(ids))
        .group_by(SurchargeQualification.surcharge_id)).all()) if ids else {}
    own = set()
    if _provider_id() is not None and ids:
        own = set(session.exec(select(SurchargeQualification.surcharge_id).where(
            SurchargeQualification.surcharge_id.in_(ids),
            SurchargeQualification.organisation_id == _provider_id())).all())
    return render_page_or_partial(
        "catalogue/surcharges.html", "catalogue/_surcharges_results.html", page=page, sort=sort, query=query,
        params={"zoek": query}, counts=counts, own=own, provider_view=_provider_id() is not None,
        region_reader=current_user.role in REGION_READERS, segment_name=segment_label, can_edit=_can_edit())


def _surcharge_context(surcharge, form=None):
    context = {"surcharge": surcharge, "can_edit": _can_edit(), "provider_view": _provider_id() is not None,
               "segment_name": segment_label,
               "region_reader": current_user.role in REGION_READERS}
    if current_user.role in REGION_READERS:
        qualified = catalogue_admin.qualified_providers(surcharge)
        context["qualified"] = qualified
        if _can_edit():
            if form is None:
                form = QualificationForm()
            taken = {o.id for o in qualified}
            providers = db.session().exec(scoped(select(Organisation), Organisation).where(
                Organisation.kind == OrganisationKind.PROVIDER, Organisation.is_active == True)  # noqa: E712
                .order_by(Organisation.name)).all()
            form.organisation_id.choices = [("", "Kies een zorgaanbieder")] + [
                (str(o.id), o.name) for o in providers if o.id not in taken]
            context["form"] = form
    elif _provider_id() is not None:
        context["qualifies"] = db.session().exec(select(SurchargeQualification).where(
            SurchargeQualification.surcharge_id == surcharge.id,
            SurchargeQualification.organisation_id == current_user.organisation.id)).first() is not None
    return context


@bp.route("/opslagen/<int:surcharge_id>")
@roles_required(*EVERY_ROLE)
def surcharge_detail(surcharge_id):
    surcharge = get_scoped_or_404(Surcharge, surcharge_id)
    return render_template("catalogue/surcharge_detail.html", **_surcharge_context(surcharge))


def _surcharge_form(surcharge):
    form = SurchargeForm(obj=surcharge)
    form.segment_key.choices = _segment_choices("Alle segmenten")
    return form


@bp.route("/opslagen/nieuw", methods=["GET", "POST"])
@roles_required(MANAGER)
def surcharge_create():
    return _save_simple(_surcharge_form(None), None, "catalogue/surcharge_form.html", "surcharge",
                        catalogue_admin.create_surcharge, catalogue_admin.update_surcharge,
                        catalogue_admin.SURCHARGE_FIELDS, "Opslag {code} {name} is opgeslagen.",
                        lambda obj: url_for("catalogue.surcharge_detail", surcharge_id=obj.id))


@bp.route("/opslagen/<int:surcharge_id>/bewerken", methods=["GET", "POST"])
@roles_required(MANAGER)
def surcharge_edit(surcharge_id):
    surcharge = get_scoped_or_404(Surcharge, surcharge_id)
    return _save_simple(_surcharge_form(surcharge), surcharge, "catalogue/surcharge_form.html", "surcharge",
                        catalogue_admin.create_surcharge, catalogue_admin.update_surcharge,
                        catalogue_admin.SURCHARGE_FIELDS, "Opslag {code} {name} is opgeslagen.",
                        lambda obj: url_for("catalogue.surcharge_detail", surcharge_id=obj.id))


@bp.route("/opslagen/<int:surcharge_id>/aanbieders", methods=["POST"])
@roles_required(MANAGER)
def qualification_grant(surcharge_id):
    surcharge = get_scoped_or_404(Surcharge, surcharge_id)
    form = QualificationForm()
    template = "catalogue/surcharge_detail.html"
    context = _surcharge_context(surcharge, form)
    status = rejected_status(form)
    if status:
        return render_template(template, **context), status
    organisation = db.session().exec(scoped(select(Organisation), Organisation)
                                     .where(Organisation.id == form.organisation_id.data)).first()
    try:
        if organisation is None:
            raise CatalogueViolation([("organisation_id", "Kies een zorgaanbieder uit de regio.")])
        catalogue_admin.grant_qualification(surcharge, organisation)
    except CatalogueViolation as violation:
        _refused(form, violation)
        return render_template(template, **_surcharge_context(surcharge, form)), 422
    return _committed(f"{organisation.name} komt nu in aanmerking voor opslag {surcharge.name}.",
                      url_for("catalogue.surcharge_detail", surcharge_id=surcharge.id))


@bp.route("/opslagen/<int:surcharge_id>/aanbieders/<int:organisation_id>/intrekken", methods=["POST"])
@roles_required(MANAGER)
def qualification_withdraw(surcharge_id, organisation_id):
    surcharge = get_scoped_or_404(Surcharge, surcharge_id)
    organisation = get_scoped_or_404(Organisation, organisation_id)
    form = ConfirmForm()
    target = url_for("catalogue.surcharge_detail", surcharge_id=surcharge.id)
    if rejected_status(form):
        flash("Het formulier is verlopen; probeer het opnieuw.", "error")
        return redirect(target)
    try:
        catalogue_admin.withdraw_qualification(surcharge, organisation)
    except CatalogueViolation as violation:
        db.session().rollback()
        flash(violation.message, "error")
        return redirect(target)
    return _committed(f"{organisation.name} komt niet meer in aanmerking voor opslag {surcharge.name}.", target)
