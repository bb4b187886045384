"""The settlement statements as XLSX (openpyxl): a sheet "Afrekening" with one row per line
(amounts as numbers in a euro format, a totals row), a sheet "Toelichting" with the explanation
steps and, for a municipality, a sheet "Kostenverdeling". Text cells are neutralised against
formulas as in :mod:`portal.web.audit_export`. The rows and totals come from
:mod:`portal.settlement.statements`, as on screen.

The caller has checked that the signed-in user may see the statement."""
from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from portal import clock, db
from portal.formatting import neutralise, nl_datetime
from portal.models import Organisation, Region
from portal.models.settlement import SettlementRun
from portal.settlement import runs as runs_service
from portal.settlement.statements import MunicipalityStatement, ProviderStatement, Statement

EURO = '"€" #,##0.00;-"€" #,##0.00'
PERCENT = '0.00"%"'
LINE_HEADERS = ["Zorgaanbieder", "Gemeente", "Segment", "Soort", "Realisatie", "Afgerekend", "Al betaald",
                "Saldo", "Richting"]
WIDTHS = [30, 20, 18, 20, 16, 16, 16, 16, 16]


def _text(sheet, row: int, column: int, value) -> None:
    cell = sheet.cell(row=row, column=column, value=neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value or ""))))
    cell.data_type = "s"


def _euro(sheet, row: int, column: int, value: Decimal, bold: bool = False) -> None:
    cell = sheet.cell(row=row, column=column, value=Decimal(value))
    cell.number_format = EURO
    if bold:
        cell.font = Font(bold=True)


def _header(sheet, row: int, titles: list[str]) -> None:
    for column, title in enumerate(titles, 1):
        _text(sheet, row, column, title)
        sheet.cell(row=row, column=column).font = Font(bold=True)


def _workbook(run: SettlementRun, title: str, statement: Statement) -> tuple[Workbook, int]:
    region = db.session().get(Region, run.region_id)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Afrekening"
    _text(sheet, 1, 1, title)
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    _text(sheet, 2, 1, f"Regio {region.name} · jaar {run.year} · versie {run.version} · "
                       f"{runs_service.STATE_LABELS[run.state]} · gemaakt op {nl_datetime(clock.local_now())}")
    _header(sheet, 4, LINE_HEADERS)
    rows = statement.rows
    number = 5
    for row in rows:
        line = row.line
        for column, value in enumerate((row.provider, row.municipality, row.segment, row.kind), 1):
            _text(sheet, number, column, value)
        for column, value in enumerate((line.realisation, line.settled_value, line.paid, line.due), 5):
            _euro(sheet, number, column, value)
        _text(sheet, number, 9, row.direction)
        number += 1
    summed = statement.totals
    _text(sheet, number, 1, "Totaal")
    sheet.cell(row=number, column=1).font = Font(bold=True)
    for column, value in enumerate((statement.realisation, summed.settled_value, summed.paid, summed.due), 5):
        _euro(sheet, number, column, value, bold=True)
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A5"

    notes = workbook.create_sheet("Toelichting")
    _header(notes, 1, ["Zorgaanbieder", "Gemeente", "Segment", "Stap", "Toelichting"])
    at = 2
    for row in rows:
        for step, text in enumerate(row.line.explanation, 1):
            for column, value in enumerate((row.provider, row.municipality, row.segment), 1):
                _text(notes, at, column, value)
            notes.cell(row=at, column=4, value=step)
            _text(notes, at, 5, text)
            at += 1
    for index, width in enumerate((30, 20, 18, 6, 110)):
        notes.column_dimensions[chr(ord("A") + index)].width = width
    notes.freeze_panes = "A2"
    return workbook, number


def _bytes(workbook: Workbook) -> bytes:
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def provider_statement_xlsx(run: SettlementRun, provider: Organisation,
                            statement: ProviderStatement) -> bytes:
    """The provider's statement as a workbook: its lines with a totals row, and their explanation."""
    workbook, _last = _workbook(run, f"Afrekening {run.year} — {provider.name}", statement)
    return _bytes(workbook)


def municipality_statement_xlsx(run: SettlementRun, municipality: Organisation,
                                statement: MunicipalityStatement) -> bytes:
    """The municipality's statement as a workbook, with a sheet of its cost share and what it pays."""
    workbook, _last = _workbook(run, f"Afrekening {run.year} — gemeente {municipality.name}", statement)
    costs = workbook.create_sheet("Kostenverdeling")
    _header(costs, 1, ["Onderdeel", "Bedrag"])
    share = statement.share
    entries = [("Saldo afrekening met aanbieders", statement.totals.due)]
    if share:
        entries += [("Gedeelde regionale kosten (naar realisatie)", share.share.shared_costs),
                    ("Programmakosten (naar inwonertal)", share.share.program_costs)]
    entries.append(("Totaal te betalen (negatief: te ontvangen)", statement.to_pay))
    for at, (label, amount) in enumerate(entries, 2):
        _text(costs, at, 1, label)
        _euro(costs, at, 2, amount, bold=label.startswith("Totaal"))
    if share:
        s = share.share
        at = len(entries) + 3
        _text(costs, at, 1, "Goedgekeurde realisatie")
        _euro(costs, at, 2, s.realisation)
        _text(costs, at + 1, 1, "Inwoners")
        if s.residents is not None:
            costs.cell(row=at + 1, column=2, value=s.residents).number_format = "#,##0"
        _text(costs, at + 2, 1, "Aandeel in het inwonertal")
        if s.population_share is not None:
            costs.cell(row=at + 2, column=2, value=Decimal(s.population_share)).number_format = PERCENT
    costs.column_dimensions["A"].width = 46
    costs.column_dimensions["B"].width = 18
    return _bytes(workbook)
