"""Budget dashboard: budget and ceiling against approved realisation and a forecast to year end,
ceiling use, place occupancy and the monthly trend, as charts with their tables and as CSV/XLSX.

A provider sees its own figures, a municipality its own, contract managers and auditors the
region. The figures and their rules live in :mod:`portal.realisation.dashboard`; the charts in
:mod:`portal.web.charts`. The XLSX of every table grows with the region: with the job queue on, a
worker makes it (:mod:`portal.exports`); the CSV of one table stays within the request."""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, abort, request, url_for
from flask_login import current_user
from sqlmodel import select

from portal import clock, db, exports, page_cache
from portal.accounts import roles, scoping
from portal.accounts.roles import roles_required
from portal.accounts.scoping import scoped
from portal.models.agreements import BudgetAgreement
from portal.models.realisation import RealisationReport
from portal.pagination import page_of_list
from portal.realisation import dashboard as figures
from portal.registry import current_registry
from portal.web import charts
from portal.web.common import page_number, render_page_or_partial

bp = Blueprint("realisation_dashboard", __name__, url_prefix="/realisatie/dashboard")

XLSX_EXPORT = "realisation.dashboard.xlsx"
BY_PARAMETER = {"segment": "segment", "gemeente": "municipality", "aanbieder": "provider"}
BY_VALUE = {value: key for key, value in BY_PARAMETER.items()}
MAX_CEILING_BARS = 20
OVERVIEW_PER_PAGE = 25  # "Alle afspraken" pages like the other tables; its CSV holds every row



def _organisation_filter(name: str, allowed: list[tuple[int, str]]) -> int | None:
    """The chosen organisation; one the viewer may not see answers 404, as everywhere."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) not in {org_id for org_id, _ in allowed}:
        abort(404)
    return int(raw)


def years() -> list[int]:
    session = db.session()
    found = set(session.exec(scoped(select(BudgetAgreement.year), BudgetAgreement).distinct()))
    found |= set(session.exec(scoped(select(RealisationReport.year), RealisationReport).distinct()))
    found.add(clock.today().year)
    return sorted(found, reverse=True)


def by_choices() -> dict[str, str]:
    """The ways to group the chart (parameter value → label), without the viewer's own kind."""
    choices = {"segment": "Segment", "gemeente": "Gemeente", "aanbieder": "Zorgaanbieder"}
    if current_user.role in roles.PROVIDER_ROLES:
        choices.pop("aanbieder")
    elif current_user.role == roles.MUNICIPALITY_USER:
        choices.pop("gemeente")
    return choices


def read_filters():
    providers, municipalities = scoping.filterable_organisations()
    args = request.args
    try:
        year = int(args.get("jaar") or clock.today().year)
    except ValueError:
        year = clock.today().year
    if not 2000 <= year <= 2100:
        year = clock.today().year
    domain = args.get("domein") or ""
    segment = args.get("segment") or ""
    by = args.get("indeling") or "segment"
    result = figures.Filters(
        year=year,
        provider_id=_organisation_filter("aanbieder", providers),
        municipality_id=_organisation_filter("gemeente", municipalities),
        domain=domain if domain in current_registry().domains else "",
        segment=segment if segment in current_registry().segments else "",
        by=BY_PARAMETER[by] if by in by_choices() else "segment")
    return result, providers, municipalities


def query_of(filters) -> dict:
    """The filters as URL parameters (for the export links)."""
    query = {"jaar": filters.year, "aanbieder": filters.provider_id, "gemeente": filters.municipality_id,
             "domein": filters.domain, "segment": filters.segment, "indeling": BY_VALUE[filters.by]}
    return {key: value for key, value in query.items() if value not in (None, "")}


def hidden_columns() -> set[str]:
    if current_user.role in roles.PROVIDER_ROLES:
        return {"provider"}
    if current_user.role == roles.MUNICIPALITY_USER:
        return {"municipality"}
    return set()


def build(filters):
    dashboard = figures.load(filters, current_registry().segment_short_label)
    return dashboard, figures.tables(dashboard, hidden_columns())


def build_charts(dashboard, tables) -> dict:
    """The charts, each summarised in words for those who cannot see it."""
    total = dashboard.total
    year = dashboard.filters.year
    money = lambda value: charts.euro(value, True)  # noqa: E731
    result = {}
    if dashboard.groups:
        names = [name for name, _ in dashboard.groups]
        by = figures.DIMENSIONS[dashboard.filters.by].lower()
        result["indeling"] = charts.grouped_bars(
            "grafiek-indeling", f"Budget en plafond, goedgekeurde realisatie en prognose {year} per {by}",
            f"In totaal {money(total.agreed)} afgesproken (budget en plafond), {money(total.approved)} goedgekeurd "
            f"en een prognose van {money(total.forecast)} tot het jaareinde. De tabel onder de grafiek geeft de "
            f"bedragen per {by}.",
            names,
            [charts.Series("Budget en plafond", [f.agreed for _, f in dashboard.groups], charts.BLUE),
             charts.Series("Goedgekeurde realisatie", [f.approved for _, f in dashboard.groups], charts.GREEN, "hatch"),
             charts.Series("Prognose jaareinde", [f.forecast for _, f in dashboard.groups], charts.BROWN, "dots")])
    ceiling_rows = tables["plafond"].rows[:MAX_CEILING_BARS]
    if ceiling_rows:
        status_of = {label: key for key, label in figures.STATUS_LABELS.items()}
        warnings = sum(1 for row in tables["plafond"].rows if status_of.get(row[4]) == figures.STATUS_WARNING)
        over = sum(1 for row in tables["plafond"].rows if status_of.get(row[4]) == figures.STATUS_OVER)
        result["plafond"] = charts.percent_bars(
            "grafiek-plafond", f"Gebruik van de budgetplafonds {year}",
            f"{len(tables['plafond'].rows)} plafondafspraken: {over} overschreden, {warnings} boven 80%. "
            "Lijnen bij 80% en 100%. De tabel onder de grafiek geeft elk plafond.",
            [(row[0], row[3], f"{charts.percent(row[3] or 0)} · {row[4]}", status_of.get(row[4]))
             for row in ceiling_rows])
    known = [row for row in tables["bezetting"].rows if row[5] is not None]
    if known:
        result["bezetting"] = charts.percent_bars(
            "grafiek-bezetting", f"Bezetting van de plekken {year}",
            f"Bezetting in totaal {charts.percent(total.occupancy or 0)} van de beschikbare plekdagen. "
            "De tabel onder de grafiek geeft de bezetting per afspraak.",
            [(row[0], row[5], charts.percent(row[5]), None) for row in known], marks=(100,))
    monthly_agreed = (total.agreed / 12) if total.agreed else None
    result["maanden"] = charts.monthly_trend(
        "grafiek-maanden", f"Goedgekeurde realisatie {year} per maand",
        f"In totaal {money(total.approved)} goedgekeurd en {money(total.submitted)} ingediend maar nog niet "
        f"beoordeeld" + (f"; afgesproken is gemiddeld {money(figures.to_cents(monthly_agreed))} per maand"
                         if monthly_agreed else "") + ". De tabel onder de grafiek geeft elke maand.",
        [figures.month_name(m) for m in range(1, 13)], dashboard.months, dashboard.submitted_months,
        monthly_agreed)
    return result


@bp.route("/")
@roles_required(*roles.ALL_ROLES)
@page_cache.cached
def index():
    filters, providers, municipalities = read_filters()
    dashboard, tables = build(filters)
    query = query_of(filters)
    overview = page_of_list(tables["overzicht"].rows, page_number(), OVERVIEW_PER_PAGE)
    return render_page_or_partial(
        "realisation_dashboard/index.html", "realisation_dashboard/_results.html",
        dashboard=dashboard, tables=tables, charts=build_charts(dashboard, tables), filters=filters,
        overview=overview, overview_table=replace(tables["overzicht"], rows=overview.items),
        providers=providers, municipalities=municipalities, years=years(), by_choices=by_choices(),
        by_value=BY_VALUE[filters.by], domains=current_registry().domains, segments=current_registry().segments,
        segment_label=current_registry().segment_short_label, query=query,
        status_classes={label: key for key, label in figures.STATUS_LABELS.items()},
        show_provider_filter=current_user.role not in roles.PROVIDER_ROLES,
        show_municipality_filter=current_user.role != roles.MUNICIPALITY_USER,
        xlsx_url=url_for("realisation_dashboard.export_xlsx", **query), xlsx_queued=exports.queued())


def _download(content, mimetype: str, filename: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/export.csv")
@roles_required(*roles.ALL_ROLES)
def export_csv():
    filters, _, _ = read_filters()
    key = request.args.get("tabel") or "overzicht"
    _, tables = build(filters)
    if key not in tables:
        abort(404)
    return _download(figures.csv_text(tables[key]).encode("utf-8"), "text/csv; charset=utf-8",
                     f"budgetdashboard-{filters.year}-{key}.csv")


@exports.export(XLSX_EXPORT, "Budgetdashboard als Excel (XLSX)")
def build_xlsx(progress) -> exports.ExportFile:
    """Every table of the dashboard with the filters of ``request.args``, as the signed-in
    organisation sees it."""
    filters, _, _ = read_filters()
    _, tables = build(filters)
    content = figures.xlsx_bytes(list(tables.values()), progress)
    return exports.ExportFile(f"budgetdashboard-{filters.year}.xlsx", content)


def _summary(filters, providers, municipalities) -> list[str]:
    """The filters in words, for the page that offers the export."""
    registry = current_registry()
    lines = [f"Jaar {filters.year}, ingedeeld per {figures.DIMENSIONS[filters.by].lower()}"]
    for label, chosen, names in (("Zorgaanbieder", filters.provider_id, providers),
                                 ("Gemeente", filters.municipality_id, municipalities)):
        if chosen is not None:
            lines.append(f"{label}: {dict(names).get(chosen, chosen)}")
    if filters.domain:
        lines.append(f"Domein: {registry.domains[filters.domain].name}")
    if filters.segment:
        lines.append(f"Segment: {registry.segment_short_label(filters.segment)}")
    lines.append("Alle tabellen van het dashboard, elk op een eigen werkblad")
    return lines


@bp.route("/export.xlsx", methods=["GET", "POST"])
@roles_required(*roles.ALL_ROLES)
def export_xlsx():
    """Every table as XLSX: the file itself without the job queue; with it, a page that makes the
    export as a job (:func:`portal.exports.respond`)."""
    filters, providers, municipalities = read_filters()  # a filter the viewer may not use is a 404 here
    return exports.respond(XLSX_EXPORT, summary=_summary(filters, providers, municipalities),
                           back_url=url_for("realisation_dashboard.index", **query_of(filters)),
                           back_label="Budgetdashboard")
