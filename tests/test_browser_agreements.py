"""Agreements in a real browser (Chromium through Playwright): a contract manager creates a budget
agreement for Zorggroep Maasland and its provider admin then sees it on "Mijn contracten"; inline
editing of a budget row with htmx; the agreement pages have no axe-core violations."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal import db
from tests.agreement_data import budget, framework, organisation
from tests.test_browser import assert_accessible, axe_page, portal, sign_in, strict_page  # noqa: F401

pytestmark = pytest.mark.browser

MANAGER = "contractmanager@mgr-noord-limburg.example"
MAASLAND_ADMIN = "beheer@zorggroep-maasland.example"


@pytest.fixture
def maasland_framework(live_server, portal):  # noqa: F811
    """Zorggroep Maasland's regional framework agreement for Jeugd S3, after any demo agreement."""
    with live_server.app_context():
        agreement = framework(organisation("Zorggroep Maasland"), "RO-JGD-TEST-01", segments=("jeugd.S3",))
        db.session().commit()
        return {"id": agreement.id, "year": agreement.start_date.year}


def sign_out(page, base_url: str) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_url(f"{base_url}/inloggen")


def test_contract_manager_creates_a_budget_agreement_the_provider_then_sees(portal, maasland_framework,  # noqa: F811
                                                                            strict_page):  # noqa: F811
    page = strict_page
    year = str(maasland_framework["year"])
    sign_in(page, portal, MANAGER)
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Afspraken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Raamovereenkomsten")
    page.get_by_role("navigation", name="Afspraken").get_by_role("link", name="Budgetafspraken en plafonds").click()
    page.get_by_role("link", name="Budgetafspraak toevoegen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Budgetafspraak of budgetplafond toevoegen")

    page.get_by_label("Zorgaanbieder").select_option(label="Zorggroep Maasland")
    page.get_by_label("Gemeente").select_option(label="Beesel")
    page.get_by_label("Segment").select_option("jeugd.S3")
    page.get_by_label("Jaar").fill(year)
    page.get_by_label("Budgetafspraak", exact=True).check()
    page.get_by_label("Bedrag (euro)").fill("87.654,32")
    page.get_by_label("Bandbreedte (%)").fill("5")
    page.get_by_label("Voorschotten").select_option(label="Per kwartaal")
    # The advance schedule follows the input without a page load (htmx).
    preview = page.locator("#voorschotschema")
    expect(preview).to_contain_text("4 voorschotten")
    expect(preview.get_by_role("row", name=re.compile("1e kwartaal"))).to_contain_text("21.913,58")
    page.get_by_label("Budgetplafond", exact=True).check()
    expect(preview).to_contain_text("een budgetplafond kent geen voorschotten")
    page.get_by_label("Budgetafspraak", exact=True).check()
    expect(preview).to_contain_text("4 voorschotten")
    page.get_by_role("button", name="Opslaan").click()

    expect(page.locator(".flashes")).to_contain_text(f"Budgetafspraak {year} is vastgelegd.")
    row = page.get_by_role("row", name=re.compile(r"Beesel"))
    expect(row).to_contain_text("Zorggroep Maasland")
    expect(row).to_contain_text("€ 87.654,32")
    assert page.evaluate("window.__cspViolations") == []
    sign_out(page, portal)

    sign_in(page, portal, MAASLAND_ADMIN)
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Mijn contracten").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mijn contracten")
    expect(page.get_by_role("row", name=re.compile("RO-JGD-TEST-01"))).to_contain_text("Regionaal")
    page.get_by_label("Gemeente").select_option(label="Beesel")
    page.get_by_label("Jaar").select_option(year)
    row = page.locator("#resultaten").get_by_role("row", name=re.compile(r"Beesel"))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Budgetafspraak")
    expect(row).to_contain_text("€ 87.654,32")
    expect(row).to_contain_text("5%")
    row.get_by_text("Per kwartaal").click()  # the advance schedule opens
    expect(row.get_by_role("row", name=re.compile("4e kwartaal"))).to_contain_text("€ 21.913,58")
    assert page.evaluate("window.__cspViolations") == []


def test_inline_editing_of_a_budget_row_in_the_browser(portal, maasland_framework, strict_page, live_server):  # noqa: F811
    with live_server.app_context():
        budget(organisation("Zorggroep Maasland"), "Bergen (L)", maasland_framework["year"], amount="10000.00")
        db.session().commit()
    page = strict_page
    sign_in(page, portal, MANAGER)
    page.goto(f"{portal}/afspraken/budgetten/?jaar={maasland_framework['year']}")
    page.evaluate("window.__noReload = true")
    row = page.locator("tr", has_text="Bergen (L)")
    row.get_by_role("link", name=re.compile("^Wijzigen")).click()
    amount = row.get_by_label(re.compile("^Bedrag in euro"))
    expect(amount).to_be_focused()
    amount.fill("12.500,00")
    row.get_by_label(re.compile("^Bandbreedte")).fill("150")
    row.get_by_role("button", name=re.compile("^Opslaan")).click()
    expect(row.locator(".field-error")).to_contain_text("0 tot en met 100")  # the error, in the row
    # Wait until htmx is done: a swap that lands while the next field is being filled moves the
    # focus to the autofocused amount field, and the typing would end up there.
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
    row.get_by_label(re.compile("^Bedrag in euro")).fill("12.500,00")
    row.get_by_label(re.compile("^Bandbreedte")).fill("2,5")
    row.get_by_role("button", name=re.compile("^Opslaan")).click()
    expect(row).to_contain_text("€ 12.500,00")
    expect(row).to_contain_text("2,5%")
    expect(row.get_by_role("status")).to_have_text("Opgeslagen")
    assert page.evaluate("window.__noReload") is True
    assert page.evaluate("window.__cspViolations") == []


def test_agreement_pages_have_no_axe_violations(portal, maasland_framework, axe_page, live_server):  # noqa: F811
    with live_server.app_context():
        budget(organisation("Zorggroep Maasland"), "Venray", maasland_framework["year"], amount="50000.00")
        db.session().commit()
    sign_in(axe_page, portal, MANAGER)
    for path in ("/afspraken/", f"/afspraken/{maasland_framework['id']}", "/afspraken/nieuw",
                 "/afspraken/budgetten/", "/afspraken/budgetten/nieuw", "/afspraken/extra-capaciteit/",
                 "/afspraken/extra-capaciteit/nieuw"):
        axe_page.goto(f"{portal}{path}")
        assert_accessible(axe_page, path)
    axe_page.goto(f"{portal}/afspraken/budgetten/?jaar={maasland_framework['year']}")
    axe_page.locator("tr", has_text="Venray").get_by_role("link", name=re.compile("^Wijzigen")).click()
    expect(axe_page.locator("tr.row-editing")).to_have_count(1)
    assert_accessible(axe_page, "a budget row being edited")
    axe_page.goto(f"{portal}/afspraken/nieuw")
    axe_page.get_by_role("button", name="Opslaan").click()
    expect(axe_page.get_by_role("alert")).to_contain_text("Controleer het formulier")
    assert_accessible(axe_page, "the refused framework agreement form")
    sign_out(axe_page, portal)

    sign_in(axe_page, portal, MAASLAND_ADMIN)
    axe_page.goto(f"{portal}/mijn-contracten/")
    assert_accessible(axe_page, "Mijn contracten")
    sign_out(axe_page, portal)
    sign_in(axe_page, portal, "medewerker@venray.example")
    axe_page.goto(f"{portal}/budgetafspraken/")
    expect(axe_page.get_by_role("heading", level=1)).to_have_text("Budgetafspraken van Venray")
    assert_accessible(axe_page, "the municipality's budget agreements")
