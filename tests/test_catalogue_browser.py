"""The catalogue screens in Chromium: live price preview and inline edits through htmx under the
portal's strict CSP, and no axe-core violations on any catalogue page."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from portal import db
from portal.models import Region
from tests.catalogue_data import build_catalogue
from tests.test_browser import assert_accessible, axe_page, portal, sign_in, strict_page  # noqa: F401

pytestmark = pytest.mark.browser

MANAGER = "contractmanager@mgr-noord-limburg.example"


def _catalogue(live_server):
    with live_server.app_context():
        session = db.session()
        region = session.exec(select(Region).where(Region.code == "noord-limburg")).one()
        catalogue = build_catalogue(session, region.id)
        session.commit()
        return catalogue


def test_live_preview_and_inline_edit(portal, live_server, strict_page):  # noqa: F811
    page = strict_page
    cat = _catalogue(live_server)
    sign_in(page, portal, MANAGER)

    page.goto(f"{portal}/catalogus/trajecten/nieuw?jaar=2024")
    page.get_by_label("Zorgvorm").select_option(str(cat.care_form_s3.id))
    expect(page.get_by_label("Opvangdagen per week")).to_be_visible()  # the segment's own fields
    page.get_by_label("Code").fill("T-LIVE")
    page.get_by_label("Naam").fill("Dagbehandeling met opvang")
    page.get_by_label("Gevraagde deskundigheid").fill("HBO")
    page.get_by_label("Intensiteit").fill("3")
    page.get_by_label("Doorlooptijd in maanden").fill("4")
    page.get_by_label("Tarief", exact=True).select_option(str(cat.tariff.id))
    page.get_by_label("Opvangdagen per week").fill("2")
    page.get_by_label("Opvangtarief per dag (€)").fill("40")
    page.get_by_label("Eigen bijdrage ouders per dag (€)").fill("5")
    preview = page.locator("#prijsvoorbeeld")
    expect(preview).to_contain_text("Eigen bijdrage ouders voor de opvang")
    expect(preview).to_contain_text("4.593,34")
    page.get_by_label("Intensiteit").fill("0")
    expect(preview).to_contain_text("De intensiteit moet groter zijn dan 0.")
    page.get_by_label("Intensiteit").fill("3")
    expect(preview).to_contain_text("4.593,34")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator(".flashes")).to_contain_text("Standaardtraject T-LIVE Dagbehandeling met opvang is opgeslagen.")

    page.goto(f"{portal}/catalogus/?jaar=2024")
    row = page.locator(f"#traject-{cat.trajectory.id}")
    row.get_by_role("link", name="Wijzigen").click()
    duration = page.locator(f"#traject{cat.trajectory.id}-duration_months")
    duration.fill("0")
    row.get_by_role("button", name="Opslaan").click()
    expect(row.locator(".field-error")).to_contain_text("De doorlooptijd moet minstens 1 maand zijn.")
    duration.fill("9")
    row.get_by_role("button", name="Opslaan").click()
    expect(row).to_contain_text("Opgeslagen")
    expect(row).to_contain_text("5.070,00")  # 65 × 2 × 39 weeks
    assert page.evaluate("window.__cspViolations") == []


def test_catalogue_pages_have_no_axe_violations(portal, live_server, axe_page):  # noqa: F811
    cat = _catalogue(live_server)
    page = axe_page
    sign_in(page, portal, MANAGER)
    for path in ["/catalogus/?jaar=2024", f"/catalogus/trajecten/{cat.trajectory_s3.id}",
                 f"/catalogus/trajecten/{cat.trajectory_s3.id}/bewerken", "/catalogus/zorgvormen/",
                 "/catalogus/zorgvormen/nieuw", "/catalogus/tarieven/", f"/catalogus/tarieven/{cat.tariff.id}",
                 f"/catalogus/tariefversies/{cat.version_2024.id}/bewerken", "/catalogus/opslagen/",
                 f"/catalogus/opslagen/{cat.surcharge.id}", "/catalogus/opslagen/nieuw"]:
        page.goto(portal + path)
        assert_accessible(page, path)
    page.goto(f"{portal}/catalogus/tarieven/{cat.tariff.id}")
    row = page.locator(f"#versie-{cat.version_2024.id}")
    row.get_by_role("link", name="Bedrag wijzigen").click()
    page.locator(f"#versie{cat.version_2024.id}-unit_rate").fill("-1")
    row.get_by_role("button", name="Opslaan").click()
    expect(row.locator(".field-error")).to_contain_text("Het tarief mag niet negatief zijn.")
    assert_accessible(page, "an inline edit with an error")
