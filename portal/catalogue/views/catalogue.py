"""The catalogue of a region: standard trajectories per year with their computed prices (every
role reads them; a provider sees the price with the surcharges it qualifies for), and the
contract managers' screens to keep care forms, tariffs, surcharges and trajectories."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from htmx_flask import request as htmx_request

from portal import clock, db
from portal.accounts import roles
from portal.accounts.roles import REGION_READERS, roles_required
from portal.accounts.scoping import get_scoped_or_404
from portal.catalogue import admin as catalogue_admin
from portal.catalogue import queries
from portal.catalogue import service as catalogue_service
from portal.catalogue.admin import UNIT_LABELS, CatalogueViolation, segment_label
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
from portal.models import CareForm, Organisation, StandardTrajectory, Surcharge, Tariff
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


def _one_of(name: str, allowed) -> str:
    """The request's value of ``name`` when it is one of ``allowed``, else "" (no filter)."""
    value = request.args.get(name, "")
    return value if value in allowed else ""


def _search() -> str:
    return request.args.get("zoek", "").strip()


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


@bp.route("/")
@roles_required(*EVERY_ROLE)
def overview():
    registry = current_registry()
    year = _year()
    domain = _one_of("domein", registry.domains)
    segment = _one_of("segment", registry.segments)
    query = _search()
    provider_id = _provider_id()
    found = queries.trajectory_overview(year, domain=domain, segment=segment, query=query,
                                        sort=request.args.get("sorteer"), page_number=page_number(),
                                        provider_id=provider_id)
    params = {"jaar": year, "domein": domain, "segment": segment, "zoek": query}
    return render_page_or_partial(
        "catalogue/overview.html", "catalogue/_overview_results.html",
        page=found.page, rows=found.rows, year=year, years=found.years, domain=domain,
        segment=segment, query=query, sort=found.sort, params=params, segment_choices=queries.segment_choices(),
        provider_view=provider_id is not None, can_edit=_can_edit(), custom_rows=found.custom_rows)


@bp.route("/trajecten/<int:trajectory_id>")
@roles_required(*EVERY_ROLE)
def trajectory_detail(trajectory_id):
    trajectory = get_scoped_or_404(StandardTrajectory, trajectory_id)
    return render_template("catalogue/trajectory_detail.html", **_detail_context(trajectory))


def _detail_context(trajectory):
    detail = queries.trajectory_detail(trajectory, _provider_id())
    return {"row": detail.row, "trajectory": trajectory, "place_year": detail.place_year,
            "extra_values": detail.extra_values, "provider_view": _provider_id() is not None,
            "can_edit": _can_edit()}


def _row_for(trajectory: StandardTrajectory):
    return queries.trajectory_row(trajectory, _provider_id())


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


def _chosen_segment(source, trajectory: StandardTrajectory | None) -> str | None:
    """The segment whose plugin fields the form shows: that of the chosen care form."""
    raw = source.get("care_form_id")
    if raw:
        try:
            segment_key = queries.segment_of_care_form(int(raw))
        except ValueError:
            segment_key = None
        if segment_key is not None:
            return segment_key
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
        for extra, value in queries.extra_values(trajectory):
            form["extra_" + extra.name].data = value
    else:
        form = form_class(formdata=None, year=_year())
    form.care_form_id.choices = queries.care_form_choices()
    form.tariff_id.choices = queries.tariff_choices()
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
            preview = catalogue_admin.preview_price(_region_id(), _trajectory_values(form), trajectory)
        except CatalogueViolation as violation:
            put_problems_on(form, violation.problems)
            problems, status = _problem_list(form), 422
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


@bp.route("/zorgvormen/")
@roles_required(*EVERY_ROLE)
def care_forms():
    segment = _one_of("segment", current_registry().segments)
    query = _search()
    page, sort = queries.care_form_list(segment=segment, query=query, sort=request.args.get("sorteer"),
                                        page_number=page_number())
    return render_page_or_partial(
        "catalogue/care_forms.html", "catalogue/_care_forms_results.html", page=page, sort=sort,
        segment=segment, query=query, params={"segment": segment, "zoek": query},
        segment_choices=queries.segment_choices(), segment_name=segment_label, can_edit=_can_edit())


def _care_form_form(care_form):
    form = CareFormForm(obj=care_form)
    form.segment_key.choices = queries.segment_choices("Kies een segment")
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


@bp.route("/tarieven/")
@roles_required(*EVERY_ROLE)
def tariffs():
    unit = _one_of("eenheid", UNIT_LABELS)
    query = _search()
    page, rows, sort = queries.tariff_list(unit=unit, query=query, sort=request.args.get("sorteer"),
                                           page_number=page_number())
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
    detail = queries.tariff_detail(tariff)
    return {"tariff": tariff, "versions": detail.versions, "used": detail.used,
            "unit_labels": UNIT_LABELS, "can_edit": _can_edit(), "current_date": clock.today()}


def _tariff_form(tariff):
    form = TariffForm(obj=tariff)
    form.unit.choices = queries.unit_choices()
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


@bp.route("/tarieven/<int:tariff_id>/versies/nieuw", methods=["GET", "POST"])
@roles_required(MANAGER)
def version_create(tariff_id):
    tariff = get_scoped_or_404(Tariff, tariff_id)
    return _save_version(TariffVersionForm(), tariff, None)


@bp.route("/tariefversies/<int:version_id>/bewerken", methods=["GET", "POST"])
@roles_required(MANAGER)
def version_edit(version_id):
    version, tariff = queries.version_or_404(version_id)
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
    version, tariff = queries.version_or_404(version_id)
    return render_page_or_partial("catalogue/tariff_detail.html", "catalogue/_version_row.html",
                                  version=version, **_tariff_context(tariff))


@bp.route("/tariefversies/<int:version_id>/rij/wijzigen", methods=["GET", "POST"])
@roles_required(MANAGER)
def version_row_edit(version_id):
    version, tariff = queries.version_or_404(version_id)
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
        version, tariff = queries.version_or_404(version_id)
        return render_template(template, form=form, version=version, tariff=tariff), 422
    db.session().commit()
    if not _is_htmx():
        flash(f"Tariefversie van {tariff.code} is opgeslagen.", "success")
        return redirect(url_for("catalogue.tariff_detail", tariff_id=tariff.id))
    return render_template("catalogue/_version_row.html", version=version, tariff=tariff, can_edit=True,
                           current_date=clock.today(), saved=True)


# --- Surcharges and the providers that qualify -------------------------------------------------


@bp.route("/opslagen/")
@roles_required(*EVERY_ROLE)
def surcharges():
    query = _search()
    found = queries.surcharge_list(query=query, sort=request.args.get("sorteer"), page_number=page_number(),
                                   provider_id=_provider_id())
    return render_page_or_partial(
        "catalogue/surcharges.html", "catalogue/_surcharges_results.html", page=found.page, sort=found.sort,
        query=query, params={"zoek": query}, counts=found.counts, own=found.own,
        provider_view=_provider_id() is not None, region_reader=current_user.role in REGION_READERS,
        segment_name=segment_label, can_edit=_can_edit(), surcharges_allowed=_surcharges_allowed())


def _surcharges_allowed() -> bool:
    """Whether the signed-in user's region has surcharges at all (the rule ``surcharges``)."""
    return catalogue_service.surcharges_allowed(current_user.region.code)


def _surcharge_context(surcharge, form=None):
    context = {"surcharge": surcharge, "can_edit": _can_edit(), "provider_view": _provider_id() is not None,
               "segment_name": segment_label,
               "region_reader": current_user.role in REGION_READERS}
    if current_user.role in REGION_READERS:
        qualified = queries.qualified_providers(surcharge)
        context["qualified"] = qualified
        if _can_edit():
            if form is None:
                form = QualificationForm()
            form.organisation_id.choices = queries.qualification_choices(qualified)
            context["form"] = form
    elif _provider_id() is not None:
        context["qualifies"] = queries.qualifies(surcharge, _provider_id())
    return context


@bp.route("/opslagen/<int:surcharge_id>")
@roles_required(*EVERY_ROLE)
def surcharge_detail(surcharge_id):
    surcharge = get_scoped_or_404(Surcharge, surcharge_id)
    return render_template("catalogue/surcharge_detail.html", **_surcharge_context(surcharge))


def _surcharge_form(surcharge):
    form = SurchargeForm(obj=surcharge)
    form.segment_key.choices = queries.segment_choices("Alle segmenten")
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
    try:
        organisation = catalogue_admin.grant_qualification_to(surcharge, form.organisation_id.data)
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
