"""Municipal choices in a real browser: the conversion follows the basis and volume live (htmx,
no page load, no CSP violation), the review shows it again before confirming, and the screens
have no axe-core violations."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.test_browser import assert_accessible, axe_page, portal, sign_in, strict_page  # noqa: F401

pytestmark = pytest.mark.browser

VENLO = "medewerker@venlo.example"


def _segment_path(page, base):
    page.goto(f"{base}/keuzes/")
    page.get_by_role("link", name="S3 van Jeugd", exact=True).click()
    page.wait_for_url("**/jeugd.S3")
    return page.url


def test_live_conversion_then_review_then_confirm(portal, strict_page):  # noqa: F811
    page = strict_page
    sign_in(page, portal, VENLO)
    segment_url = _segment_path(page, portal)
    page.get_by_role("link", name="Nieuwe keuze maken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nieuwe keuze voor Jeugd S3")
    page.evaluate("window.__noReload = true")

    row = page.get_by_role("row").filter(has_text="S3-DAGB-4")
    expect(row.get_by_role("cell").nth(2)).to_have_text("3")  # 12 / 4 months
    page.get_by_label("Verwacht volume per jaar (optioneel)").fill("2,5")
    expect(page.get_by_role("columnheader", name="2,5 plekken = trajecten per jaar")).to_be_visible()
    expect(row.get_by_role("cell").nth(4)).to_have_text("7,5")
    page.get_by_label("Trajecten", exact=True).check()
    expect(page.get_by_role("columnheader", name="2,5 trajecten = plekken")).to_be_visible()
    expect(row.get_by_role("cell").nth(4)).to_have_text("0,83")
    assert page.evaluate("window.__noReload") is True
    assert page.evaluate("window.__cspViolations") == []

    page.get_by_role("button", name="Bekijk de gevolgen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gevolgen van uw keuze voor Jeugd S3")
    expect(page.get_by_role("row").filter(has_text="S3-DAGB-4").get_by_role("cell").nth(4)).to_have_text("0,83")
    page.get_by_role("button", name="Bevestig keuze").click()
    page.wait_for_url(segment_url)
    expect(page.locator(".flashes")).to_contain_text("is vastgelegd en geldt vanaf 1 januari")
    expect(page.get_by_text("toekomstig")).to_be_visible()
    assert page.evaluate("window.__cspViolations") == []


def test_choice_screens_have_no_axe_violations(portal, axe_page):  # noqa: F811
    page = axe_page
    sign_in(page, portal, VENLO)
    page.goto(f"{portal}/keuzes/")
    assert_accessible(page, "the municipality's choices")
    _segment_path(page, portal)
    assert_accessible(page, "the history of a segment")
    page.get_by_role("link", name="Nieuwe keuze maken").click()
    assert_accessible(page, "the form for a new choice")
    page.get_by_label("Trajectfinanciering (prijs × traject)").check()
    page.get_by_role("button", name="Bekijk de gevolgen").click()
    expect(page.locator("#funding_forms-error")).to_contain_text("één bekostigingssystematiek")
    assert_accessible(page, "the form with a refused second funding form")
    page.get_by_label("Trajectfinanciering (prijs × traject)").uncheck()
    page.get_by_role("button", name="Bekijk de gevolgen").click()
    expect(page.get_by_role("button", name="Bevestig keuze")).to_be_visible()
    assert_accessible(page, "the review before confirming")


def test_region_overview_has_no_axe_violations(portal, axe_page):  # noqa: F811
    sign_in(axe_page, portal, "auditor@accountant-noord-limburg.example")
    axe_page.goto(f"{portal}/keuzes/")
    expect(axe_page.get_by_text("91 keuzes gevonden")).to_be_visible()
    assert_accessible(axe_page, "the region's overview of choices")
