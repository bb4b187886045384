"""The yearly settlement end to end in Chromium (issue 6, "done when"): a contract manager runs the
settlement of this year (the run's year, ``YEAR``) and publishes it, the provider signs in, sees its
statement with amounts in nl-NL and accepts it, and the contract manager sees "Geaccepteerd".
axe-core checks the run page and the statements; the main menu stays on one line at 1280 px for
every role."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from portal import db
from portal.accounts import roles
from portal.formatting import money
from portal.models import Organisation
from portal.models.settlement import SettlementRun
from portal.settlement import runs as runs_service
from tests.dates import YEAR
from tests.test_browser import ONE_ACCOUNT_PER_ROLE, assert_accessible, portal, sign_in  # noqa: F401
from tests.test_browser_proposals import new_page

pytestmark = pytest.mark.browser

PROVIDER = "beheer@zorggroep-maasland.example"
MANAGER = "contractmanager@mgr-noord-limburg.example"
MUNICIPALITY = "medewerker@venlo.example"
SHOTS = os.environ.get("PORTAL_SCREENSHOTS")  # a folder: save a screenshot of every screen there
NL_MONEY = re.compile(r"€\s\d{1,3}(\.\d{3})*,\d{2}")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"settle-{name}.png"), full_page=True)


@pytest.mark.clock_on(12, 1)  # shared costs are split by this year's approved realisation: months of it
def test_manager_runs_and_publishes_provider_accepts_manager_sees_it(browser, portal, live_server):  # noqa: F811
    # 1. The contract manager runs this year from the menu and publishes the draft.
    manager_context, manager = new_page(browser)
    sign_in(manager, portal, MANAGER)
    manager.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Afrekening").click()
    # The page opens on the latest year that has ended; the manager chooses this year.
    expect(manager.get_by_role("heading", level=1)).to_have_text(f"Afrekening {YEAR - 1}")
    manager.get_by_label("Jaar om af te rekenen").select_option(str(YEAR))
    manager.get_by_label("Programmakosten (verdeeld naar inwonertal)").fill("10.000,00")
    manager.get_by_label("Gedeelde regionale kosten (verdeeld naar realisatie)").fill("25.000,00")
    shot(manager, "manager-overzicht")
    manager.get_by_role("button", name="Afrekening berekenen").click()
    expect(manager.get_by_role("heading", level=1)).to_contain_text(f"Afrekening {YEAR}, versie 1")
    expect(manager.locator("main")).to_contain_text("Voorlopige afrekening")
    assert_accessible(manager, "the settlement run page (draft)")
    manager.get_by_role("button", name="Publiceren").click()
    expect(manager.locator(".flashes")).to_contain_text("De afrekening is gepubliceerd")
    expect(manager.get_by_role("heading", level=1)).to_contain_text("Gepubliceerd")
    run_url = manager.url
    with live_server.app_context():
        run = db.session().exec(select(SettlementRun)).one()
        maasland = db.session().exec(select(Organisation).where(Organisation.name == "Zorggroep Maasland")).one()
        own = runs_service.totals(runs_service.lines_of(run, organisation_id=maasland.id))
    manager.locator("details").first.locator("summary").click()
    assert_accessible(manager, "the settlement run page (published, explanation open)")
    shot(manager, "manager-run")

    # 2. The provider finds its statement, sees the amounts in nl-NL and accepts.
    provider_context, page = new_page(browser)
    sign_in(page, portal, PROVIDER)
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Afrekening").click()
    page.get_by_role("link", name=f"{YEAR}, versie 1").click()
    main = page.locator("main")
    expect(main).to_contain_text(money(own.settled_value))
    expect(main).to_contain_text(money(abs(own.due)))
    assert NL_MONEY.search(main.inner_text().replace("\xa0", " "))
    expect(main).to_contain_text("Nog geen antwoord")
    page.locator("details").first.locator("summary").click()
    expect(page.locator("details").first.locator("ol li").first).to_be_visible()
    assert_accessible(page, "the provider's settlement statement")
    shot(page, "provider-statement")
    page.get_by_role("button", name="Accepteren").click()
    expect(page.locator(".flashes")).to_contain_text("U hebt de afrekening geaccepteerd.")
    expect(page.locator("#huidig-antwoord")).to_contain_text("Geaccepteerd")
    expect(page.get_by_role("button", name="Accepteren")).to_have_count(0)

    # 3. The contract manager sees the answer.
    manager.goto(run_url)
    answers = manager.get_by_role("table", name="Antwoord per zorgaanbieder")
    expect(answers.get_by_role("row", name=re.compile("Zorggroep Maasland"))).to_contain_text("Geaccepteerd")
    manager.get_by_role("link", name=f"← Afrekening {YEAR}").click()
    expect(manager.get_by_role("link", name="Versie 1")).to_be_visible()
    shot(manager, "manager-versions")

    # 4. The municipality sees its own statement with its cost share.
    municipality_context, town = new_page(browser)
    sign_in(town, portal, MUNICIPALITY)
    town.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Afrekening").click()
    town.get_by_role("link", name=f"{YEAR}, versie 1").click()
    expect(town.get_by_role("heading", level=1)).to_contain_text(f"Afrekening {YEAR} van Venlo")
    expect(town.locator("main")).to_contain_text("Programmakosten (naar inwonertal)")
    assert_accessible(town, "the municipality's settlement statement")
    shot(town, "municipality-statement")
    for context in (manager_context, provider_context, municipality_context):
        context.close()


@pytest.mark.parametrize("role", roles.ALL_ROLES)
def test_main_menu_stays_on_one_line_at_1280_px(browser, portal, role):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, portal, ONE_ACCOUNT_PER_ROLE[role].email)
    items = page.get_by_role("navigation", name="Hoofdmenu").locator("li")
    expect(items.filter(has_text="Afrekening")).to_have_count(1)
    tops = items.evaluate_all("items => items.map(item => item.getBoundingClientRect().top)")
    assert len(set(tops)) == 1, f"the main menu of {role} wraps onto {len(set(tops))} lines: {tops}"
    context.close()
