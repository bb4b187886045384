"""The audit log as a file: CSV (streamed) and XLSX, for contract managers and auditors.

One row per event, newest first: moment (Europe/Amsterdam, ISO 8601), actor, action, summary,
object, before and after (JSON) and any other details (JSON). A cell that a spreadsheet would read
as a formula (it starts with = + - @, a tab or a carriage return) gets a leading apostrophe, in
both formats, so an exported log can never run code in the auditor's spreadsheet.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.accounts.scoping import scoped
from portal.formatting import TIMEZONE, neutralise
from portal.models import AuditEvent

HEADERS = ["Moment", "Wie", "Gebeurtenis", "Omschrijving", "Object", "Voor", "Na", "Overige details"]
COLUMN_WIDTHS = [26, 34, 26, 60, 20, 50, 50, 40]
BATCH = 500
XLSX_MAX_ROWS = 1_048_576  # Excel's limit, header included
XLSX_MAX_CELL = 32_767  # Excel's limit on the characters in one cell


def filtered_events(action: str = ""):
    """The events the signed-in contract manager or auditor may see (their region), filtered
    like the log page: ``action`` is a prefix of the event's action."""
    statement = scoped(select(AuditEvent), AuditEvent)
    if action:
        statement = statement.where(AuditEvent.action.startswith(action))
    return statement


def _json(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def event_row(event: AuditEvent) -> list[str]:
    """The cells of one event, neutralised."""
    details = dict(event.details or {}) if isinstance(event.details, dict) else {"details": event.details}
    before = details.pop("before", None)
    after = details.pop("after", None)
    moment = event.at.astimezone(TIMEZONE).isoformat(timespec="seconds") if event.at else ""
    subject = " ".join(part for part in (event.object_type, event.object_id) if part)
    cells = [moment, event.actor_email or "", event.action, event.summary, subject,
             _json(before), _json(after), _json(details) if details else ""]
    return [neutralise(cell) for cell in cells]


def iter_events(statement) -> Iterator[AuditEvent]:
    """Every event of ``statement``, newest first, read in batches (keyset on the id), so a long
    log is never held in memory at once."""
    session = db.session()
    last_id = None
    while True:
        batch_statement = statement.order_by(AuditEvent.id.desc()).limit(BATCH)
        if last_id is not None:
            batch_statement = batch_statement.where(AuditEvent.id < last_id)
        batch = session.exec(batch_statement).all()
        yield from batch
        if len(batch) < BATCH:
            return
        last_id = batch[-1].id


def csv_chunks(statement) -> Iterator[str]:
    """The CSV file in pieces (RFC 4180: comma, CRLF; UTF-8 with a byte-order mark so that
    spreadsheet programs read the accents right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(HEADERS)
    for number, event in enumerate(iter_events(statement), 1):
        writer.writerow(event_row(event))
        if number % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx_text(value: str) -> str:
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if len(value) > XLSX_MAX_CELL:
        value = value[:XLSX_MAX_CELL - 30] + " … (ingekort; zie de CSV)"
    return value


def count(statement) -> int:
    """How many events ``statement`` holds (for the progress of an export)."""
    return db.session().exec(select(func.count()).select_from(statement.subquery())).one()


def xlsx_bytes(statement, progress=None) -> bytes:
    """The XLSX workbook: one sheet, a bold frozen header row with a filter, every cell text.
    ``progress(phase, done, total)``, when given, hears of every batch of rows written."""
    total = count(statement) if progress is not None else None
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Logboek")
    sheet.freeze_panes = "A2"
    for index, width in enumerate(COLUMN_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    bold = Font(bold=True)
    header = []
    for title in HEADERS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    top = Alignment(vertical="top", wrap_text=False)
    rows = 1
    for event in iter_events(statement):
        if rows >= XLSX_MAX_ROWS - 1:
            sheet.append([neutralise("Meer gebeurtenissen dan een werkblad kan bevatten; gebruik de CSV.")])
            break
        cells = []
        for value in event_row(event):
            cell = WriteOnlyCell(sheet, value=_xlsx_text(value))
            cell.data_type = "s"  # always text: never a formula, number or date guess
            cell.alignment = top
            cells.append(cell)
        sheet.append(cells)
        rows += 1
        if progress is not None and (rows - 1) % BATCH == 0:
            progress("writing", rows - 1, total)
    if progress is not None:
        progress("writing", rows - 1, total)
    sheet.auto_filter.ref = f"A1:{chr(ord('A') + len(HEADERS) - 1)}{rows}"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
