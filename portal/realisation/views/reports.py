"""Realisatie aanleveren: the provider's reports and uploads, uploading a file (with its progress
polled by htmx and its error report), templates per segment, and the web form with row-by-row
checks. The views parse and render; the pipeline is :mod:`portal.realisation.importing`."""
from __future__ import annotations

import csv
import io
from datetime import date

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select

from portal import db, jobs, page_cache
from portal.accounts import roles
from portal.accounts.roles import roles_required
from portal.accounts.scoping import get_scoped_or_404, scoped
from portal.formatting import neutralise
from portal.models import Organisation, OrganisationKind
from portal.models.realisation import RealisationLine, RealisationReport, RealisationUpload
from portal.pagination import paginate
from portal.realisation import importing
from portal.realisation import progress as realisation_progress
from portal.realisation import upload_templates as realisation_templates
from portal.realisation.forms import FormRow, RetryForm, RowsForm, UploadForm, form_columns, typed_values
from portal.realisation.lookups import ProviderLookups
from portal.realisation.rules import Period, check_row, parse_period
from portal.registry import current_registry
from portal.web.common import page_number, rejected_status

bp = Blueprint("realisation", __name__, url_prefix="/realisatie")

PROVIDERS = tuple(roles.PROVIDER_ROLES)
REPORT_STATES = {"submitted": "Ingediend", "approved": "Goedgekeurd", "rejected": "Afgewezen",
                 "superseded": "Vervangen"}
RUNNING = ("queued", "checking", "storing")
PERIOD_CHOICES = {"month": 24, "quarter": 8}


def lookups() -> ProviderLookups:
    """The realisation checks' questions answered for the signed-in provider."""
    return ProviderLookups(current_user.organisation)


def municipality_names() -> dict[int, str]:
    rows = db.session().exec(select(Organisation.id, Organisation.name).where(
        Organisation.region_id == current_user.organisation.region_id,
        Organisation.kind == OrganisationKind.MUNICIPALITY)).all()
    return dict(rows)


def period_of(report: RealisationReport) -> Period:
    return Period(report.year, report.period_kind, report.period)


def contracted_segments(found) -> list[str]:
    """Segments with a framework agreement running in the current year."""
    start_of_year = date(found.today.year, 1, 1)
    return [key for key in current_registry().segments
            if any(end is None or end >= start_of_year for _start, end in found.contract_terms(key))]


# --- Overview and one report ------------------------------------------------------------------


def _own_reports():
    return scoped(select(RealisationReport), RealisationReport).where(
        RealisationReport.organisation_id == current_user.organisation.id)


@bp.route("/")
@roles_required(*PROVIDERS)
@page_cache.cached
def index():
    args = request.args
    filters = {"jaar": args.get("jaar", ""), "gemeente": args.get("gemeente", ""),
               "segment": args.get("segment", ""), "status": args.get("status", "")}
    statement = _own_reports()
    if filters["jaar"].isdigit():
        statement = statement.where(RealisationReport.year == int(filters["jaar"]))
    if filters["gemeente"].isdigit():
        statement = statement.where(RealisationReport.municipality_id == int(filters["gemeente"]))
    if filters["segment"] in current_registry().segments:
        statement = statement.where(RealisationReport.segment_key == filters["segment"])
    if filters["status"] in REPORT_STATES:
        statement = statement.where(RealisationReport.state == filters["status"])
    statement = statement.order_by(RealisationReport.year.desc(), RealisationReport.period.desc(),
                                   RealisationReport.municipality_id, RealisationReport.segment_key,
                                   RealisationReport.version.desc())
    page = paginate(statement, page_number())
    session = db.session()
    years = sorted(set(session.exec(scoped(select(RealisationReport.year), RealisationReport).where(
        RealisationReport.organisation_id == current_user.organisation.id).distinct()).all()), reverse=True)
    uploads = session.exec(scoped(select(RealisationUpload), RealisationUpload).where(
        RealisationUpload.organisation_id == current_user.organisation.id)
        .order_by(RealisationUpload.created_at.desc(), RealisationUpload.id.desc()).limit(10)).all()
    return render_template("realisation/index.html", page=page, filters={k: v for k, v in filters.items() if v},
                           chosen=filters, years=years, municipalities=municipality_names(),
                           segments=current_registry().segments, segment_label=current_registry().segment_label, period_of=period_of,
                           short_label=current_registry().segment_short_label,
                           states=REPORT_STATES, uploads=uploads, upload_states=importing.STATES,
                           sources=importing.SOURCES)


@bp.route("/rapportages/<int:report_id>")
@roles_required(*PROVIDERS)
def report_detail(report_id: int):
    report = get_scoped_or_404(RealisationReport, report_id)
    if report.organisation_id != current_user.organisation.id:
        abort(404)
    session = db.session()
    lines = session.exec(select(RealisationLine).where(RealisationLine.report_id == report.id)
                         .order_by(RealisationLine.trajectory_code)).all()
    versions = session.exec(_own_reports().where(
        RealisationReport.municipality_id == report.municipality_id,
        RealisationReport.segment_key == report.segment_key, RealisationReport.year == report.year,
        RealisationReport.period_kind == report.period_kind, RealisationReport.period == report.period)
        .order_by(RealisationReport.version.desc())).all()
    municipality = session.get(Organisation, report.municipality_id)
    return render_template("realisation/report.html", report=report, lines=lines, versions=versions,
                           municipality=municipality.name, municipality_code=municipality.municipality_code,
                           segment_label=current_registry().segment_label, period=period_of(report), states=REPORT_STATES,
                           **line_columns(report, lines))


def line_columns(report: RealisationReport, lines) -> dict:
    """Which columns a report's lines table shows: units, place-days and the plugin's fields,
    each only when some line has a value in it."""
    spec = current_registry().realisation_spec(report.segment_key)
    return {"extra_columns": [(f.name, f.label) for f in spec.fields
                              if any((line.extra or {}).get(f.name) not in (None, "") for line in lines)],
            "show_units": any(line.units is not None for line in lines),
            "show_place_days": any(line.place_days is not None for line in lines)}


# --- Uploading a file ----------------------------------------------------------------------------


def _template_links(found) -> list[dict]:
    return [{"key": key, "label": current_registry().segment_label(key)} for key in contracted_segments(found)]


@bp.route("/uploaden", methods=["GET", "POST"])
@roles_required(*PROVIDERS)
def upload():
    form = UploadForm()
    context = {"form": form, "templates": _template_links(lookups())}
    if request.method != "POST":
        return render_template("realisation/upload.html", **context)
    status = rejected_status(form)
    if status:
        return render_template("realisation/upload.html", **context), status
    chosen = form.bestand.data
    name = getattr(chosen, "filename", "") or ""
    if not name:
        form.bestand.errors = ["Kies een bestand om te uploaden."]
        return render_template("realisation/upload.html", **context), 422
    if not name.lower().endswith((".csv", ".xlsx")):
        form.bestand.errors = ["Kies een CSV-bestand (.csv) of een Excel-werkmap (.xlsx); dit bestand is "
                               f"'{name[-60:]}'."]
        return render_template("realisation/upload.html", **context), 422
    try:
        jobs.ensure_reachable()  # Redis down: say so before anything is stored
        received = importing.receive_file(current_user.organisation, current_user.user, chosen.stream, name)
    except jobs.JobNotQueued as refused:
        form.bestand.errors = [refused.message]
        return render_template("realisation/upload.html", **context), 503
    except importing.FileRefused as refused:
        db.session().rollback()
        form.bestand.errors = [refused.message]
        return render_template("realisation/upload.html", **context), 422
    try:
        importing.start(received)
    except jobs.JobNotQueued as refused:  # Redis went away just now: the upload fails, its file stays
        importing.not_queued(received, refused.message)
        form.bestand.errors = [refused.message]
        return render_template("realisation/upload.html", **context), 503
    return redirect(url_for("realisation.upload_status", upload_id=received.id), 303)


def _own_upload(upload_id: int) -> RealisationUpload:
    found = get_scoped_or_404(RealisationUpload, upload_id)
    if found.organisation_id != current_user.organisation.id:
        abort(404)
    return found


def _status_context(found: RealisationUpload) -> dict:
    reports = []
    if found.state == "stored":
        reports = db.session().exec(_own_reports().where(RealisationReport.upload_id == found.id)
                                    .order_by(RealisationReport.municipality_id,
                                              RealisationReport.segment_key)).all()
    found = importing.fail_if_abandoned(found)
    return {"upload": found, "running": found.state in RUNNING, "progress": realisation_progress.get(found.id),
            "can_retry": importing.can_retry(found), "retry_form": RetryForm(),
            "reports": reports, "states": importing.STATES, "report_states": REPORT_STATES,
            "municipalities": municipality_names(), "segment_label": current_registry().segment_label, "period_of": period_of,
            "sources": importing.SOURCES}


@bp.route("/uploads/<int:upload_id>")
@roles_required(*PROVIDERS)
def upload_status(upload_id: int):
    return render_template("realisation/upload_status.html", **_status_context(_own_upload(upload_id)))


@bp.route("/uploads/<int:upload_id>/voortgang")
@roles_required(*PROVIDERS)
def upload_progress(upload_id: int):
    """The status block alone (htmx polls it each second while the upload is being processed; the
    finished block carries no trigger, so polling stops)."""
    response = make_response(render_template("realisation/_upload_status.html",
                                              **_status_context(_own_upload(upload_id))))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/uploads/<int:upload_id>/opnieuw", methods=["POST"])
@roles_required(*PROVIDERS)
def upload_retry(upload_id: int):
    """Queue a failed upload again from its stored file (the provider's own upload only)."""
    found = _own_upload(upload_id)
    form = RetryForm()
    if rejected_status(form):
        abort(400)
    try:
        importing.retry(found, current_user.user)
    except (importing.FileRefused, jobs.JobNotQueued) as refused:
        flash(refused.message, "error")
        return redirect(url_for("realisation.upload_status", upload_id=found.id), 303)
    flash("De aanlevering staat opnieuw in de wachtrij.", "success")
    return redirect(url_for("realisation.upload_status", upload_id=found.id), 303)


@bp.route("/uploads/<int:upload_id>/fouten.csv")
@roles_required(*PROVIDERS)
def upload_errors_csv(upload_id: int):
    found = _own_upload(upload_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Regel", "Kolom", "Melding"])
    for error in found.errors or []:
        writer.writerow([error.get("row", ""), neutralise(str(error.get("column", ""))),
                         neutralise(str(error.get("message", "")))])
    if not found.errors and found.message:
        writer.writerow(["", "", neutralise(found.message)])
    response = make_response(("\ufeff" + buffer.getvalue()).encode("utf-8"))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="foutenrapport-upload-{found.id}.csv"'
    return response


# --- Templates ------------------------------------------------------------------------------------


def _template(segment_key: str):
    found = lookups()
    if segment_key not in contracted_segments(found):
        abort(404)
    return realisation_templates, realisation_templates.build_template(found, segment_key)


@bp.route("/sjabloon/<segment_key>.csv")
@roles_required(*PROVIDERS)
def template_csv(segment_key: str):
    module, template = _template(segment_key)
    response = make_response(module.template_csv(template))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="realisatie-{segment_key}.csv"'
    return response


@bp.route("/sjabloon/<segment_key>.xlsx")
@roles_required(*PROVIDERS)
def template_xlsx(segment_key: str):
    module, template = _template(segment_key)
    response = make_response(module.template_xlsx(template))
    response.headers["Content-Type"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response.headers["Content-Disposition"] = f'attachment; filename="realisatie-{segment_key}.xlsx"'
    return response


# --- The web form ---------------------------------------------------------------------------------


def period_choices(found, municipality, segment_key: str) -> list[Period]:
    """Periods the provider may report for a municipality and segment, newest first: the kind the
    region's rule ``reporting_period`` asks for, begun already, within the framework agreement."""
    kind = found.reporting_kind(municipality, segment_key)
    today = found.today
    current = (Period(today.year, "month", today.month) if kind == "month"
               else Period(today.year, "quarter", (today.month - 1) // 3 + 1))
    terms = found.contract_terms(segment_key)
    periods, year, number = [], current.year, current.number
    last = 12 if kind == "month" else 4
    for _ in range(PERIOD_CHOICES[kind]):
        period = Period(year, kind, number)
        if any(start <= period.start and (end is None or period.start <= end) for start, end in terms):
            periods.append(period)
        number -= 1
        if number == 0:
            year, number = year - 1, last
    return periods


def _choice(source, found):
    """The chosen municipality, segment and period (each None when missing or not allowed)."""
    municipality = found.municipality(source.get("gemeente", "")) if source.get("gemeente") else None
    segments = contracted_segments(found)
    segment_key = source.get("segment") if source.get("segment") in segments else None
    periods = period_choices(found, municipality, segment_key) if municipality and segment_key else []
    period = None
    try:
        wanted = parse_period(source.get("periode", ""))
        period = wanted if wanted in periods else None
    except ValueError:
        pass
    return municipality, segment_key, period, segments, periods


def _grid(found, municipality, segment_key, period, data=None):
    spec = found.spec(segment_key)
    codes = found.trajectory_codes(segment_key, period)
    buys_places, _places = found.buys_places(municipality, segment_key, period.start)
    basis = "places" if buys_places else spec.basis
    units = sorted({code.unit for code in codes})
    columns = form_columns(spec, basis, units[0] if len(units) == 1 else "")
    rows = [FormRow(index, code.code, code.name, typed_values(data or {}, index, columns))
            for index, code in enumerate(codes)]
    return columns, rows


def _raw_row(row: FormRow, municipality, segment_key, period) -> dict:
    raw = {"gemeente": municipality.code, "segment": segment_key, "periode": period.code, "traject": row.code}
    raw.update({name: value for name, value in row.values.items() if value != ""})
    return raw


def _apply_errors(row: FormRow, errors, columns) -> None:
    shown = {column.name for column in columns}
    for error in errors:
        if error.column in shown:
            row.errors.setdefault(error.column, []).append(error.message)
        else:
            row.row_errors.append(error.message)


def _check_row(found, row: FormRow, columns, municipality, segment_key, period) -> None:
    if not row.filled:
        return
    valued, errors = check_row(row.index + 1, _raw_row(row, municipality, segment_key, period), found)
    if valued is None:
        _apply_errors(row, errors, columns)
    else:
        row.value, row.warnings = valued.value, valued.warnings


@bp.route("/invoeren", methods=["GET", "POST"])
@roles_required(*PROVIDERS)
def form():
    found = lookups()
    source = request.form if request.method == "POST" else request.args
    municipality, segment_key, period, segments, periods = _choice(source, found)
    context = {"municipalities": found.municipalities(), "segments": segments, "segment_label": current_registry().segment_label,
               "municipality": municipality, "segment_key": segment_key, "period": period, "periods": periods,
               "columns": [], "rows": [], "form": None, "problems": []}
    if not (municipality and segment_key and period):
        if request.method == "POST":
            abort(400)
        return render_template("realisation/form.html", **context)
    columns, rows = _grid(found, municipality, segment_key, period,
                          request.form if request.method == "POST" else None)
    rows_form = RowsForm()
    rows_form.row_columns = tuple(column.name for column in columns)
    context.update(columns=columns, rows=rows, form=rows_form)
    if request.method != "POST":
        return render_template("realisation/form.html", **context)
    status = rejected_status(rows_form)
    if status:
        return render_template("realisation/form.html", **context), status
    filled = [row for row in rows if row.filled]
    if not filled:
        context["problems"] = ["Vul ten minste één regel in: er is niets ingediend."]
        return render_template("realisation/form.html", **context), 422
    upload, result = importing.submit_rows(current_user.organisation, current_user.user,
                                           [_raw_row(row, municipality, segment_key, period) for row in filled],
                                           "form")
    if upload.state != "stored":
        by_number = {number: row for number, row in enumerate(filled, start=1)}
        for row in filled:
            _check_row(found, row, columns, municipality, segment_key, period)
        for error in result.errors:  # errors the row check alone cannot see (a repeated line)
            row = by_number.get(error.row)
            if row is not None and not row.has_errors:
                _apply_errors(row, [error], columns)
        count = result.error_count
        context["problems"] = [
            f"{count} {'fout' if count == 1 else 'fouten'} in de ingevulde regels. Verbeter de gemarkeerde velden "
            f"en dien de realisatie opnieuw in." if count else (upload.message or "Er is niets ingediend.")]
        return render_template("realisation/form.html", **context), 422
    report = db.session().exec(_own_reports().where(RealisationReport.upload_id == upload.id)).first()
    flash(f"De realisatie van {municipality.name}, {current_registry().segment_label(segment_key)}, {period.label} is ingediend "
          f"(versie {report.version}).", "success")
    return redirect(url_for("realisation.report_detail", report_id=report.id), 303)


@bp.route("/invoeren/regel", methods=["POST"])
@roles_required(*PROVIDERS)
def validate_row():
    """One row of the web form checked (htmx): the row re-rendered with its errors and value.
    Nothing is saved."""
    found = lookups()
    municipality, segment_key, period, _segments, _periods = _choice(request.form, found)
    if not (municipality and segment_key and period):
        abort(400)
    columns, rows = _grid(found, municipality, segment_key, period, request.form)
    rows_form = RowsForm()
    rows_form.row_columns = tuple(column.name for column in columns)
    if rejected_status(rows_form):
        abort(400)
    index = rows_form.rij.data or ""
    if not index.isdigit() or int(index) >= len(rows):
        abort(400)
    row = rows[int(index)]
    _check_row(found, row, columns, municipality, segment_key, period)
    return render_template("realisation/_form_row.html", row=row, columns=columns)
