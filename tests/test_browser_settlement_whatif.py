"""The what-if simulator in Chromium: a contract manager changes the bandwidth and the results follow
without a page load (htmx); a bad bandwidth gets its message on the field; axe finds nothing.

The page opens on this year (the latest with approved realisation); the tests that need its
realisation to lie below the budgets run on 1 December (``clock_on``), with months of it approved.

Screenshots of every step with ``PORTAL_SCREENSHOTS=/tmp`` (whatif-*.png)."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from portal import db
from portal.formatting import money
from portal.models import Region
from portal.settlement import whatif
from portal.settlement.inputs import Overrides
from tests.dates import YEAR
from tests.test_browser import assert_accessible, portal, sign_in  # noqa: F401  (portal is a fixture)
from tests.test_browser_proposals import new_page, shot

pytestmark = pytest.mark.browser

MANAGER = "contractmanager@mgr-noord-limburg.example"


def venlo_s1_under_half_a_band(app):
    """Werkbedrijf Noord-Limburg with Venlo in Participatie S1 this year, under a bandwidth of 50%."""
    with app.app_context():
        region = db.session().exec(select(Region).where(Region.code == "noord-limburg")).one()
        comparison = whatif.compare(region, YEAR, Overrides(bandwidth=Decimal("0.5")))
    [row] = [r for r in comparison.rows if (r.agreement.provider, r.agreement.municipality, r.agreement.segment)
             == ("Werkbedrijf Noord-Limburg", "Venlo", "participatie.S1")]
    return row


@pytest.mark.clock_on(12, 1)  # this year's realisation up to September is approved: below the budgets
def test_manager_changes_the_bandwidth_and_only_the_results_follow(browser, portal, live_server):  # noqa: F811
    venlo = venlo_s1_under_half_a_band(live_server)
    budget, realised = venlo.agreement.budget, venlo.agreement.realisation
    assert budget / 2 <= realised < budget  # inside a band of 50%, below the budget
    context, page = new_page(browser)
    sign_in(page, portal, MANAGER)
    page.goto(f"{portal}/afrekening/wat-als/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Wat als?")
    results = page.locator("#resultaten")
    expect(results.locator("table tbody tr.whatif-row")).to_have_count(46)
    expect(results).to_contain_text("Vandaag: per saldo")
    expect(results).to_contain_text("verschil: geen verschil")
    shot(page, "whatif-1-zoals-afgesproken")
    assert_accessible(page, "wat-als, zoals afgesproken")

    # A marker on the window survives an htmx swap, not a page load.
    page.evaluate("() => { window.__noPageLoad = true; }")
    bandwidth = page.get_by_label("Bandbreedte (%)")
    bandwidth.fill("50")
    bandwidth.press("Tab")  # leaving the field fires "change"
    expect(page).to_have_url(re.compile(r"bandbreedte=50"))
    row = results.locator("tbody tr.whatif-row").filter(has_text="Werkbedrijf Noord-Limburg").filter(has_text="Venlo")
    # The realisation lies inside a band of 50% around the budget: the budget is settled.
    expect(row.locator("td").nth(6)).to_have_text(money(budget))  # settled under the what-if
    expect(row.locator("td").nth(8)).to_have_text("+" + money(budget - realised))  # the difference
    assert venlo.whatif.settled_value == budget and venlo.difference == budget - realised
    expect(results).to_contain_text("meer voor de zorgaanbieders")
    assert page.evaluate("() => window.__noPageLoad === true"), "the results must come by htmx, not a page load"
    explanation = row.locator("xpath=following-sibling::tr[1]").locator("details")
    explanation.locator("summary").click()
    expect(explanation).to_contain_text("Met deze keuzes")
    expect(explanation).to_contain_text("De realisatie valt binnen de band: het budget wordt afgerekend.")
    shot(page, "whatif-2-bandbreedte-50")
    assert_accessible(page, "wat-als, bandbreedte 50%")

    # A rule as well: only the part outside the band.
    page.get_by_label("Regel buiten de band").select_option(label="Alleen het deel buiten de band")
    expect(page).to_have_url(re.compile(r"buiten_band=excess"))
    expect(results.locator("table tbody tr.whatif-row")).to_have_count(46)

    # A bandwidth that is no percentage: its message on the field, nothing computed, the value kept.
    bandwidth.fill("abc")
    bandwidth.press("Tab")
    expect(page.locator("#bandbreedte-error")).to_contain_text("Vul een percentage in, bijvoorbeeld 7,5.")
    expect(bandwidth).to_have_attribute("aria-invalid", "true")
    expect(bandwidth).to_have_value("abc")
    expect(results).to_contain_text("Er is niets doorgerekend")
    expect(results.locator("table")).to_have_count(0)
    assert page.evaluate("() => window.__noPageLoad === true")
    shot(page, "whatif-3-fout")
    assert_accessible(page, "wat-als, foute bandbreedte")

    # Corrected: the message goes, the results come back.
    bandwidth.fill("7,5")
    bandwidth.press("Tab")
    expect(page.locator("#bandbreedte-error")).to_have_count(0)
    expect(results.locator("table tbody tr.whatif-row")).to_have_count(46)
    context.close()


@pytest.mark.clock_on(12, 1)  # this year's realisation up to September is approved: below the budgets
def test_without_javascript_the_button_computes(browser, portal):  # noqa: F811
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, portal, MANAGER)
    page.goto(f"{portal}/afrekening/wat-als/")
    page.get_by_label("Bandbreedte (%)").fill("50")
    page.get_by_role("button", name="Doorrekenen").click()
    expect(page).to_have_url(re.compile(r"bandbreedte=50"))
    expect(page.locator("#resultaten")).to_contain_text("meer voor de zorgaanbieders")
    context.close()


def test_a_municipality_sees_its_own_agreements_accessibly(browser, portal):  # noqa: F811
    context, page = new_page(browser)
    sign_in(page, portal, "medewerker@venlo.example")
    page.goto(f"{portal}/afrekening/wat-als/?reikwijdte=region")
    rows = page.locator("#resultaten tbody tr.whatif-row")
    expect(rows.first).to_be_visible()
    assert set(rows.locator("td.col-municipality").all_inner_texts()) == {"Venlo"}
    expect(page.get_by_label("Gemeente", exact=True)).to_have_count(0)
    shot(page, "whatif-4-gemeente")
    assert_accessible(page, "wat-als, gemeente")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the table scrolls in its own box
    table_box = page.locator("#resultaten .table-scroll")
    assert table_box.evaluate("box => box.scrollWidth > box.clientWidth")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), \
        "only the table may scroll sideways, not the page"
    table_box.evaluate("box => { box.scrollLeft = 420; }")
    table_box.scroll_into_view_if_needed()
    shot(page, "whatif-5-gemeente-telefoon")
    context.close()
