"""The budget dashboard's figures: budget and ceiling against approved realisation and a forecast to
year end, ceiling use, place occupancy and the trend over the months, for one year.

Rules (the dashboard states them on screen too):

- Only **approved** reports count as realisation. Submitted reports that are not yet reviewed are
  shown apart ("ingediend, nog niet beoordeeld"); rejected and superseded versions never count.
- Figures are kept per provider × municipality × segment and rolled up by adding them.
- **Forecast to year end** (linear): approved ÷ months covered × 12, where *months covered* is the
  last month of the latest approved period in the year (a quarter covers up to its last month).
  Rounded half-up to the cent per provider × municipality × segment; a roll-up is the sum of those
  rounded forecasts. Without an approved month the forecast is € 0,00.
- **Ceiling use** = approved realisation ÷ ceiling (only where the agreement is a ceiling):
  from 80% a warning, from 100% "over".
- **Place occupancy** = occupied place-days of approved reports ÷ (places × days of the months
  those reports cover); the places are the municipality's choice (``details["volume"]``) in force
  on the first of each month. A municipality buys its places for all providers together: a
  provider's row shows its use of them, and a roll-up counts each municipality's places once.
- **Trend**: approved value per month; a quarter report is spread evenly over its three months
  (whole cents that add up exactly: :func:`portal.money.split_evenly`).

Amounts are summed by the database in whole cents (:class:`portal.models.types.cents`): on SQLite
decimals are text, and a float sum would lose cents.
"""
from __future__ import annotations

import calendar
import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import and_, case, func, or_
from sqlmodel import select

from portal import db
from portal.accounts.scoping import organisation_names, scoped
from portal.formatting import neutralise
from portal.models.agreements import BudgetAgreement, MunicipalChoice
from portal.models.realisation import RealisationReport
from portal.models.types import cents, from_cents
from portal.money import split_evenly, to_cents
from portal.realisation.rules import MONTHS, Period

ZERO = Decimal("0.00")
TENTH = Decimal("0.1")
WARNING_SHARE = Decimal("0.8")
STATUS_OK, STATUS_WARNING, STATUS_OVER = "ok", "warning", "over"
STATUS_LABELS = {
    STATUS_OK: "Binnen het plafond",
    STATUS_WARNING: "Let op: 80% van het plafond bereikt",
    STATUS_OVER: "Plafond overschreden",
}
DIMENSIONS = {"segment": "Segment", "municipality": "Gemeente", "provider": "Zorgaanbieder"}


# --- Pure rules ------------------------------------------------------------------------------


def forecast_to_year_end(approved: Decimal, months_covered: int) -> Decimal:
    """Linear forecast: ``approved / months_covered * 12``, half-up to the cent (0 without months)."""
    if months_covered <= 0:
        return ZERO
    return to_cents(Decimal(approved) / months_covered * 12)


def percentage(part, whole) -> Decimal | None:
    """``part / whole`` as a percentage with one decimal (half-up); None when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def ceiling_status(used: Decimal, ceiling: Decimal) -> str | None:
    """ok below 80% of the ceiling, warning from 80%, over from 100%; None without a ceiling."""
    if not ceiling:
        return None
    if used >= ceiling:
        return STATUS_OVER
    if used >= ceiling * WARNING_SHARE:
        return STATUS_WARNING
    return STATUS_OK


def month_values(period: Period, value: Decimal) -> dict[int, Decimal]:
    """The value of one report per month: a month as is, a quarter spread evenly over its months."""
    months = period.months
    return dict(zip(months, split_evenly(to_cents(value), len(months))))


def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


# --- Figures ---------------------------------------------------------------------------------


@dataclass
class Figures:
    """The money and volumes of one provider × municipality × segment, or a roll-up of several."""

    budget: Decimal = ZERO
    ceiling: Decimal = ZERO
    approved: Decimal = ZERO
    submitted: Decimal = ZERO
    forecast: Decimal = ZERO
    approved_under_ceiling: Decimal = ZERO
    last_month: int = 0
    place_days: int = 0
    # Places are bought by a municipality for a segment, not per provider: the place-days available
    # (places × days of the covered months) and the places, per (municipality, segment), so that a
    # roll-up over several providers of one municipality counts its places once.
    capacities: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    places_by: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    months: set[int] = field(default_factory=set)

    @property
    def capacity(self) -> Decimal:
        return sum(self.capacities.values(), Decimal(0))

    @property
    def places(self) -> Decimal | None:
        return sum(self.places_by.values(), Decimal(0)) if self.places_by else None

    def add(self, other: Figures) -> None:
        self.budget += other.budget
        self.ceiling += other.ceiling
        self.approved += other.approved
        self.submitted += other.submitted
        self.forecast += other.forecast
        self.approved_under_ceiling += other.approved_under_ceiling
        self.last_month = max(self.last_month, other.last_month)
        self.place_days += other.place_days
        for key, capacity in other.capacities.items():
            self.capacities[key] = max(self.capacities.get(key, Decimal(0)), capacity)
        for key, places in other.places_by.items():
            self.places_by[key] = max(self.places_by.get(key, Decimal(0)), places)
        self.months |= other.months

    @property
    def agreed(self) -> Decimal:
        return self.budget + self.ceiling

    @property
    def ceiling_use(self) -> Decimal | None:
        return percentage(self.approved_under_ceiling, self.ceiling)

    @property
    def status(self) -> str | None:
        return ceiling_status(self.approved_under_ceiling, self.ceiling)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, "") if self.status else ""

    @property
    def occupancy(self) -> Decimal | None:
        return percentage(self.place_days, self.capacity)


@dataclass
class Row:
    provider_id: int
    municipality_id: int
    segment_key: str
    provider: str
    municipality: str
    segment: str
    figures: Figures


@dataclass
class Filters:
    year: int
    provider_id: int | None = None
    municipality_id: int | None = None
    domain: str = ""
    segment: str = ""
    by: str = "segment"


@dataclass
class Dashboard:
    filters: Filters
    rows: list[Row]
    total: Figures
    groups: list[tuple[str, Figures]]  # rolled up per filters.by
    months: list[Decimal]  # approved value per month 1–12
    submitted_months: list[Decimal]


# --- Reading ---------------------------------------------------------------------------------


def _filtered(statement, model, filters: Filters):
    statement = statement.where(model.year == filters.year)
    if filters.provider_id:
        statement = statement.where(model.organisation_id == filters.provider_id)
    if filters.municipality_id:
        statement = statement.where(model.municipality_id == filters.municipality_id)
    if filters.segment:
        statement = statement.where(model.segment_key == filters.segment)
    elif filters.domain:
        statement = statement.where(model.segment_key.startswith(filters.domain + "."))
    return statement


def _places_by_month(session, year: int, keys: set[tuple[int, str]]) -> dict[tuple[int, str], dict[int, Decimal]]:
    """Per (municipality, segment) the places bought per month of ``year`` (months without places
    are left out). Choices are configuration of municipalities the caller already sees data of."""
    municipality_ids = {municipality_id for municipality_id, _ in keys}
    if not municipality_ids:
        return {}
    choices: dict[tuple[int, str], list[MunicipalChoice]] = {}
    for choice in session.exec(select(MunicipalChoice).where(MunicipalChoice.municipality_id.in_(municipality_ids))
                               .order_by(MunicipalChoice.effective_from)):
        choices.setdefault((choice.municipality_id, choice.segment_key), []).append(choice)
    result: dict[tuple[int, str], dict[int, Decimal]] = {}
    for key in keys:
        per_month: dict[int, Decimal] = {}
        for month in range(1, 13):
            current = None
            for choice in choices.get(key, []):
                if choice.effective_from <= date(year, month, 1):
                    current = choice
            volume = (current.details or {}).get("volume") if current and current.volume_basis == "places" else None
            if volume not in (None, ""):
                try:
                    per_month[month] = Decimal(str(volume))
                except ArithmeticError:
                    continue
        if per_month:
            result[key] = per_month
    return result


def _month_columns():
    """Per month of the year, the value a report puts in it (whole cents: a quarter spread evenly,
    the first months getting the extra cents, as :func:`month_values`) and whether it covers it."""
    report = RealisationReport
    value = cents(report.total_value)
    sign = case((value < 0, -1), else_=1)
    parts, covered = [], []
    for month in range(1, 13):
        quarter, offset = (month + 2) // 3, (month - 1) % 3
        in_month = and_(report.period_kind == "month", report.period == month)
        in_quarter = and_(report.period_kind == "quarter", report.period == quarter)
        third = sign * (func.abs(value) // 3 + case((func.abs(value) % 3 > offset, 1), else_=0))
        parts.append(func.sum(case((in_month, value), (in_quarter, third), else_=0)))
        covered.append(func.max(case((or_(in_month, in_quarter), 1), else_=0)))
    return parts, covered


def load(filters: Filters, segment_label) -> Dashboard:
    """The dashboard for the signed-in organisation's scope and ``filters``."""
    session = db.session()
    figures: dict[tuple[int, int, str], Figures] = {}

    def at(key) -> Figures:
        return figures.setdefault(key, Figures())

    # Sums per provider × municipality × segment in the database (whole cents, exact on both
    # databases): the page reads one row per cell it shows, not one per agreement or report.
    key = (BudgetAgreement.organisation_id, BudgetAgreement.municipality_id, BudgetAgreement.segment_key)
    for provider_id, municipality_id, segment_key, kind, amount in session.exec(_filtered(scoped(select(
            *key, BudgetAgreement.kind, func.sum(cents(BudgetAgreement.amount))), BudgetAgreement),
            BudgetAgreement, filters).group_by(*key, BudgetAgreement.kind)):
        row = at((provider_id, municipality_id, segment_key))
        if kind == "ceiling":
            row.ceiling += from_cents(amount)
        else:
            row.budget += from_cents(amount)

    months = [ZERO] * 12
    submitted_months = [ZERO] * 12
    # Each report's own place-days (written with its lines by the import), its months and the
    # last month it covers, summed per cell and state.
    parts, covered = _month_columns()
    report = RealisationReport
    key = (report.organisation_id, report.municipality_id, report.segment_key)
    last_month = case((report.period_kind == "quarter", report.period * 3), else_=report.period)
    sums = session.exec(_filtered(scoped(select(
        *key, report.state, func.sum(cents(report.total_value)), func.sum(report.place_days_total),
        func.max(last_month), *parts, *covered), report), report, filters)
        .where(report.state.in_(("approved", "submitted"))).group_by(*key, report.state))
    for provider_id, municipality_id, segment_key, state, value, place_days, last, *per_month in sums:
        row = at((provider_id, municipality_id, segment_key))
        value = from_cents(value)
        target = months if state == "approved" else submitted_months
        for month, part in enumerate(per_month[:12]):
            target[month] += from_cents(part)
        if state == "approved":
            row.approved += value
            row.last_month = max(row.last_month, int(last))
            row.months.update(month for month, flag in enumerate(per_month[12:], start=1) if flag)
            row.place_days += int(place_days or 0)
        else:
            row.submitted += value

    places = _places_by_month(session, filters.year, {(m, s) for (_, m, s), f in figures.items() if f.months})
    for (provider_id, municipality_id, segment_key), row in figures.items():
        row.forecast = forecast_to_year_end(row.approved, row.last_month)
        if row.ceiling:
            row.approved_under_ceiling = row.approved
        per_month = places.get((municipality_id, segment_key))
        if per_month:
            key = (municipality_id, segment_key)
            row.capacities[key] = sum((per_month[m] * days_in_month(filters.year, m) for m in row.months
                                       if m in per_month), Decimal(0))
            row.places_by[key] = per_month.get(row.last_month) or max(per_month.values())

    org_names = organisation_names({k[0] for k in figures} | {k[1] for k in figures})
    rows = [Row(p, m, s, org_names.get(p, str(p)), org_names.get(m, str(m)), segment_label(s), f)
            for (p, m, s), f in figures.items()]
    rows.sort(key=lambda r: (r.provider.lower(), r.municipality.lower(), r.segment_key))
    total = Figures()
    grouped: dict[str, Figures] = {}
    for row in rows:
        total.add(row.figures)
        name = {"segment": row.segment, "municipality": row.municipality, "provider": row.provider}[filters.by]
        grouped.setdefault(name, Figures()).add(row.figures)
    groups = sorted(grouped.items(), key=lambda item: item[0].lower())
    return Dashboard(filters, rows, total, groups, months, submitted_months)


# --- Tables (the screen, the CSV and the XLSX show the same cells) ---------------------------


@dataclass
class Column:
    label: str
    kind: str = "text"  # text | money | percent | int | decimal


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list]
    total: list | None = None
    sheet: str = ""


def month_name(month: int) -> str:
    return MONTHS[month - 1]


def row_label(row: Row, hide: set[str]) -> str:
    parts = [value for name, value in (("provider", row.provider), ("municipality", row.municipality),
                                       ("segment", row.segment)) if name not in hide]
    return " · ".join(parts)


def tables(dashboard: Dashboard, hide: set[str] = frozenset()) -> dict[str, Table]:
    """Every table of the dashboard; ``hide`` names columns that say nothing for this viewer (a
    provider needn't read its own name on every row)."""
    year = dashboard.filters.year
    by_label = DIMENSIONS[dashboard.filters.by]
    total = dashboard.total
    result: dict[str, Table] = {}

    head = [Column(label) for name, label in (("provider", "Zorgaanbieder"), ("municipality", "Gemeente"),
                                               ("segment", "Segment")) if name not in hide]
    money_columns = [Column("Budget", "money"), Column("Plafond", "money"),
                     Column("Goedgekeurde realisatie", "money"),
                     Column("Ingediend, nog niet beoordeeld", "money"), Column("Prognose jaareinde", "money")]

    def money_cells(f: Figures) -> list:
        return [f.budget, f.ceiling, f.approved, f.submitted, f.forecast]

    def head_cells(row: Row) -> list:
        return [value for name, value in (("provider", row.provider), ("municipality", row.municipality),
                                          ("segment", row.segment)) if name not in hide]

    result["overzicht"] = Table(
        "overzicht", f"Budget, realisatie en prognose {year} per zorgaanbieder, gemeente en segment",
        head + money_columns + [Column("Gebruik plafond", "percent"), Column("Signaal", "status"),
                                Column("Laatste goedgekeurde maand")],
        [head_cells(r) + money_cells(r.figures) + [r.figures.ceiling_use, r.figures.status_label,
                                                    month_name(r.figures.last_month) if r.figures.last_month else ""]
         for r in dashboard.rows],
        ["Totaal"] + [""] * (len(head) - 1) + money_cells(total) + [total.ceiling_use, total.status_label, ""],
        sheet="Overzicht")

    result["indeling"] = Table(
        "indeling", f"Budget, realisatie en prognose {year} per {by_label.lower()}",
        [Column(by_label)] + money_columns,
        [[name] + money_cells(f) for name, f in dashboard.groups],
        ["Totaal"] + money_cells(total), sheet=f"Per {by_label.lower()}")

    ceilings = sorted((r for r in dashboard.rows if r.figures.ceiling),
                      key=lambda r: (-(r.figures.ceiling_use or 0), row_label(r, hide)))
    result["plafond"] = Table(
        "plafond", f"Gebruik van de budgetplafonds {year} (goedgekeurde realisatie ÷ plafond)",
        [Column("Afspraak"), Column("Plafond", "money"), Column("Goedgekeurde realisatie", "money"),
         Column("Gebruik plafond", "percent"), Column("Signaal", "status")],
        [[row_label(r, hide), r.figures.ceiling, r.figures.approved_under_ceiling, r.figures.ceiling_use,
          r.figures.status_label] for r in ceilings],
        None, sheet="Plafonds")

    occupied = [r for r in dashboard.rows if r.figures.capacity or r.figures.place_days]
    result["bezetting"] = Table(
        "bezetting", f"Bezetting van de plekken {year} (bezette plekdagen ÷ plekken × dagen van de gedekte maanden)",
        [Column("Afspraak"), Column("Plekken", "decimal"), Column("Gedekte maanden", "int"),
         Column("Beschikbare plekdagen", "decimal"), Column("Bezette plekdagen", "int"),
         Column("Bezetting", "percent")],
        [[row_label(r, hide), r.figures.places, len(r.figures.months), r.figures.capacity or None, r.figures.place_days,
          r.figures.occupancy] for r in occupied],
        None, sheet="Bezetting")

    cumulative = ZERO
    month_rows = []
    for month, (value, waiting) in enumerate(zip(dashboard.months, dashboard.submitted_months), 1):
        cumulative += value
        month_rows.append([f"{month_name(month)} {year}", value, cumulative, waiting])
    result["maanden"] = Table(
        "maanden", f"Goedgekeurde realisatie {year} per maand (kwartalen gelijk verdeeld over hun maanden)",
        [Column("Maand"), Column("Goedgekeurde realisatie", "money"), Column("Cumulatief", "money"),
         Column("Ingediend, nog niet beoordeeld", "money")],
        month_rows, ["Totaal", sum(dashboard.months, ZERO), cumulative, sum(dashboard.submitted_months, ZERO)],
        sheet="Per maand")
    return result


# --- Exports ---------------------------------------------------------------------------------

EURO_FORMAT = '"€" #,##0.00;"€" -#,##0.00'
PERCENT_FORMAT = "0.0%"


def _csv_cell(value, kind: str) -> str:
    """Excel NL reads ``1234,56`` as a number: decimal comma, no thousands separator."""
    if value is None or value == "":
        return ""
    if kind in ("money", "percent", "decimal", "int"):
        text = format(Decimal(value), "f") if kind != "money" else format(to_cents(value), "f")
        return text.replace(".", ",")
    return neutralise(str(value))


def csv_text(table: Table) -> str:
    """One table as CSV for Excel NL: semicolons, decimal comma, UTF-8 with a byte-order mark;
    text a spreadsheet would read as a formula gets a leading apostrophe."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(c.label) for c in table.columns])
    for row in table.rows + ([table.total] if table.total else []):
        writer.writerow([_csv_cell(value, column.kind) for value, column in zip(row, table.columns)])
    return buffer.getvalue()


def xlsx_bytes(all_tables: list[Table], progress=None) -> bytes:
    """Every table on its own sheet: a bold frozen header, amounts as numbers in euros,
    percentages as numbers, text neutralised and always text. ``progress(phase, done, total)``,
    when given, hears of the rows written after each sheet."""
    total = sum(len(table.rows) + (1 if table.total else 0) for table in all_tables)
    written = 0
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for table in all_tables:
        sheet = workbook.create_sheet(table.sheet[:31] or table.key)
        sheet.freeze_panes = "A2"
        for index, column in enumerate(table.columns, 1):
            sheet.column_dimensions[get_column_letter(index)].width = 16 if column.kind != "text" else 34
        header = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, value=column.label)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        body = table.rows + ([table.total] if table.total else [])
        for number, row in enumerate(body):
            cells = []
            for value, column in zip(row, table.columns):
                if value is None or value == "":
                    cell = WriteOnlyCell(sheet, value=None)
                elif column.kind == "money":
                    cell = WriteOnlyCell(sheet, value=to_cents(value))
                    cell.number_format = EURO_FORMAT
                elif column.kind == "percent":
                    cell = WriteOnlyCell(sheet, value=Decimal(value) / 100)
                    cell.number_format = PERCENT_FORMAT
                elif column.kind in ("int", "decimal"):
                    cell = WriteOnlyCell(sheet, value=Decimal(value))
                    cell.number_format = "#,##0" if column.kind == "int" else "#,##0.##"
                else:
                    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", neutralise(str(value))))
                    cell.data_type = "s"
                if table.total and number == len(body) - 1:
                    cell.font = bold
                cells.append(cell)
            sheet.append(cells)
        written += len(body)
        if progress is not None:
            progress("writing", written, total)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
