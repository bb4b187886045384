"""Reviewing realisation in a browser (issue 15, point 2): the queue filters by period, and the bulk
decision appears in a bar stuck to the bottom of the window the moment a report is ticked."""
from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.test_browser import TIMEOUT_MS, assert_accessible, portal, sign_in  # noqa: F401  (portal is a fixture)

MANAGER = "contractmanager@mgr-noord-limburg.example"
AUDITOR = "auditor@accountant-noord-limburg.example"
SHOTS = os.environ.get("PORTAL_SCREENSHOTS")  # a folder: keep a screenshot of the bar there


def test_manager_filters_a_period_ticks_reports_and_approves_them_from_the_sticky_bar(browser, portal):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, portal, MANAGER)
    page.goto(f"{portal}/realisatie/beoordelen/")
    bar = page.get_by_role("region", name="Gekozen rapportages in één keer beoordelen")
    expect(bar).to_be_hidden()  # nothing ticked yet

    # The newest period: the demo's last month, still submitted.
    periods = page.get_by_label("Periode")
    newest = periods.locator("option").nth(1)
    label = newest.inner_text()
    periods.select_option(newest.get_attribute("value"))
    page.get_by_role("button", name="Filteren").click()
    expect(page).to_have_url(re.compile(r"periode="))
    rows = page.locator("#resultaten tbody tr")
    expect(rows.first).to_contain_text(label)
    assert all(label in text for text in rows.all_inner_texts())

    clean = rows.filter(has_not_text="waarschuwing").locator("input[name='selected']")
    chosen = min(2, clean.count())
    assert chosen > 0, "the demo's last month has reports without warnings"
    for index in range(chosen):
        clean.nth(index).check()
    expect(bar).to_be_visible()
    expect(bar).to_contain_text(f"{chosen} rapportage{'s' if chosen > 1 else ''} gekozen")
    box = bar.bounding_box()
    assert box["y"] + box["height"] <= 800 + 1, "the bar is in view without scrolling"
    assert_accessible(page, "beoordelen met gekozen rapportages")
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / "review-1280-bulk-bar.png"))

    bar.get_by_role("button", name="Gekozen rapportages goedkeuren").click()
    expect(page.locator(".flashes")).to_contain_text(
        f"{chosen} rapportage{'s' if chosen > 1 else ''} goedgekeurd.")
    expect(page).to_have_url(re.compile(r"periode="))  # back on the queue as it was filtered
    context.close()


def test_an_auditor_reads_the_queue_without_a_bulk_bar(browser, portal):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, portal, AUDITOR)
    page.goto(f"{portal}/realisatie/beoordelen/")
    expect(page.get_by_label("Periode")).to_be_visible()
    expect(page.locator("input[name='selected']")).to_have_count(0)
    expect(page.get_by_role("region", name="Gekozen rapportages in één keer beoordelen")).to_have_count(0)
    context.close()
