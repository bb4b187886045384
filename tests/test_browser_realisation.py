"""Realisation end to end in Chromium (issue 5, "done when"): a provider uploads a file with
errors and sees the row-level report, uploads the corrected file (checked in the background while
the page shows progress), a contract manager approves the report, and the budget dashboard shows
the approved numbers."""
from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from portal import db
from portal.catalogue.service import trajectory_price
from portal.formatting import money
from portal.models import Organisation, StandardTrajectory
from portal.models.realisation import RealisationReport
from tests.dates import RUN_DATE, YEAR, month
from tests.test_browser import assert_accessible, portal, sign_in  # noqa: F401  (portal is a fixture)
from tests.test_browser_proposals import new_page, shot

pytestmark = pytest.mark.browser

PROVIDER = "beheer@zorggroep-maasland.example"
MANAGER = "contractmanager@mgr-noord-limburg.example"
# The month that holds the run's date: begun, and after the demo's own realisation (up to last month).
PERIOD = month(RUN_DATE.month, RUN_DATE.year)
HEADER = "gemeente;segment;periode;traject;gestart;lopend;beeindigd;clienten\n"
GOOD_ROWS = [f"0889;jeugd.S4;{PERIOD};S4-BEG-6;2;6;1;6", f"0889;jeugd.S4;{PERIOD};S4-BEH-4;1;3;0;3"]
BAD_ROWS = [f"0889;jeugd.S4;{PERIOD};S4-BEG-6;2;6;1;6", f"Atlantis;jeugd.S4;{PERIOD};S4-BEH-4;-1;drie;0;3"]


def _approved_total(app, provider_id: int, municipality_id: int) -> Decimal:
    with app.app_context():
        reports = db.session().exec(select(RealisationReport).where(
            RealisationReport.organisation_id == provider_id, RealisationReport.municipality_id == municipality_id,
            RealisationReport.segment_key == "jeugd.S4", RealisationReport.year == YEAR,
            RealisationReport.state == "approved")).all()
        return sum((report.total_value for report in reports), Decimal("0.00"))


def test_upload_with_errors_then_corrected_file_then_approval_shows_on_the_dashboard(browser, portal, live_server,  # noqa: F811
                                                                                   tmp_path):
    with live_server.app_context():
        session = db.session()
        provider = session.exec(select(Organisation).where(Organisation.name == "Zorggroep Maasland")).one()
        beesel = session.exec(select(Organisation).where(Organisation.name == "Beesel")).one()
        expected_value = Decimal(0)
        for code, started in (("S4-BEG-6", 2), ("S4-BEH-4", 1)):
            standard = session.exec(select(StandardTrajectory).where(
                StandardTrajectory.year == YEAR, StandardTrajectory.code == code)).one()
            expected_value += started * trajectory_price(standard, provider.id).total
    approved_before = _approved_total(live_server, provider.id, beesel.id)

    bad_file = tmp_path / "realisatie.csv"
    bad_file.write_text(HEADER + "\n".join(BAD_ROWS) + "\n", encoding="utf-8")
    good_file = tmp_path / "realisatie-verbeterd.csv"
    good_file.write_text(HEADER + "\n".join(GOOD_ROWS) + "\n", encoding="utf-8")

    # 1. The provider uploads a file with errors and gets the report per row and column.
    provider_context, page = new_page(browser)
    sign_in(page, portal, PROVIDER)
    page.get_by_role("link", name="Realisatie", exact=True).first.click()
    page.goto(f"{portal}/realisatie/uploaden")
    page.get_by_label("Bestand met realisatie (CSV of Excel)").set_input_files(str(bad_file))
    page.get_by_role("button", name="Uploaden en controleren").click()
    status = page.locator("#uploadstatus")
    expect(status).to_contain_text("niets is opgeslagen", timeout=30_000)
    errors = page.locator("table.table-errors")
    expect(errors).to_contain_text("Onbekende gemeente 'Atlantis' in deze regio.")
    expect(errors).to_contain_text("kan niet negatief zijn")
    expect(errors).to_contain_text("is geen getal: 'drie'")
    shot(page, "realisatie-1-foutenrapport")
    assert_accessible(page, "foutenrapport")
    with live_server.app_context():
        stored = db.session().exec(select(RealisationReport).where(
            RealisationReport.organisation_id == provider.id, RealisationReport.year == YEAR,
            RealisationReport.period == RUN_DATE.month)).all()
    assert stored == [], "nothing of a refused file may be stored"

    # 2. The corrected file is checked and stored; the page follows it (htmx polling) until done.
    page.get_by_role("link", name="Een ander bestand uploaden").click()
    picker = page.locator(".file-picker")
    expect(picker).to_contain_text("Bestand kiezen")  # the picker speaks Dutch (issue 15)
    expect(picker).to_contain_text("Geen bestand gekozen")
    page.get_by_label("Bestand met realisatie (CSV of Excel)").set_input_files(str(good_file))
    expect(picker).to_contain_text(good_file.name)
    shot(page, "realisatie-1b-bestand-gekozen")
    assert_accessible(page, "bestand gekozen")
    page.get_by_role("button", name="Uploaden en controleren").click()
    expect(page.locator("#uploadstatus")).to_contain_text("2 regels ingelezen in 1 rapportage", timeout=30_000)
    expect(page.locator("#uploadstatus")).to_contain_text(money(expected_value))
    shot(page, "realisatie-2-ingelezen")
    page.locator("#uploadstatus").get_by_role("link").first.click()
    expect(page.locator("main")).to_contain_text("Ingediend")
    report_path = page.url.split(portal, 1)[1]
    report_id = int(report_path.rstrip("/").rsplit("/", 1)[1])

    # 3. A contract manager finds it in the queue and approves it.
    manager_context, manager = new_page(browser)
    sign_in(manager, portal, MANAGER)
    manager.goto(f"{portal}/realisatie/beoordelen/?aanbieder={provider.id}&gemeente={beesel.id}")
    manager.locator(f"a[href$='/realisatie/beoordelen/{report_id}']").first.click()
    expect(manager.locator("main")).to_contain_text(money(expected_value))
    assert_accessible(manager, "realisatie beoordelen")
    manager.get_by_role("button", name="Realisatie goedkeuren").click()
    expect(manager.locator("main")).to_contain_text("Goedgekeurd")
    shot(manager, "realisatie-3-goedgekeurd")

    # 4. The dashboard counts the approved report; the provider sees the state of its report.
    approved_after = _approved_total(live_server, provider.id, beesel.id)
    assert approved_after - approved_before == expected_value
    manager.goto(f"{portal}/realisatie/dashboard/?jaar={YEAR}&aanbieder={provider.id}&gemeente={beesel.id}"
                 f"&segment=jeugd.S4")
    summary = manager.locator("dl").filter(has_text="Goedgekeurde realisatie").first
    expect(summary).to_contain_text(money(approved_after))
    expect(manager.locator("svg[role='img']").first).to_be_visible()
    shot(manager, "realisatie-4-dashboard")
    assert_accessible(manager, "budgetdashboard")

    page.goto(f"{portal}{report_path}")
    expect(page.locator("main")).to_contain_text("Goedgekeurd")
    provider_context.close()
    manager_context.close()
