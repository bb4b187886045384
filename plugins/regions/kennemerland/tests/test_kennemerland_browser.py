"""Kennemerland in a browser: its contract manager sees only Kennemerland's segments, and the
catalogue refuses a tariff below the minimum, both pages clean under axe-core.
``PORTAL_SCREENSHOTS=folder`` keeps a screenshot of each at 1280 px."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from portal_kennemerland.segments import PACK

from portal.accounts.passwords import hash_password
from portal.demo import load_demo, load_pack_demo
from tests.conftest import DEMO_PASSWORD, browser_type_launch_args, live_server  # noqa: F401  (fixtures)
from tests.test_browser import TIMEOUT_MS, assert_accessible, sign_in

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("PORTAL_SCREENSHOTS")
MANAGER = "contractmanager@kennemerland.example"


@pytest.fixture
def portal(live_server):  # noqa: F811  (the fixture imported above)
    """The live server with Noord-Limburg's and Kennemerland's demo; returns its base URL."""
    from portal import clock

    with live_server.app_context():
        load_demo(DEMO_PASSWORD, realisation=False)
        load_pack_demo(PACK, "kennemerland", hash_password(DEMO_PASSWORD), clock.today())
    return live_server.base_url


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_kennemerlands_manager_sees_its_segments_and_the_minimum_tariff(browser, portal):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, portal, MANAGER)
    # With the obligations under "Afspraken", the manager's main menu stays on one line.
    items = page.get_by_role("navigation", name="Hoofdmenu").locator("li")
    tops = items.evaluate_all("items => items.map(item => item.getBoundingClientRect().top)")
    assert len(set(tops)) == 1, f"the main menu wraps onto {len(set(tops))} lines: {tops}"

    page.goto(f"{portal}/segmenten/")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=2, name="Kennemerland")).to_be_visible()
    for name in ("Basisinfrastructuur (lokaal)", "Ontwikkeling en herstel", "Duurzaam licht", "Duurzaam zwaar",
                 "Crisis", "Hoogspecialistisch"):
        expect(main.get_by_text(name, exact=False).first).to_be_visible()
    for other in ("Wmo", "Jeugd", "Participatie", "Hulp bij het huishouden"):
        expect(main.get_by_role("heading", name=other, exact=True)).to_have_count(0)
        expect(main.get_by_text(other, exact=True)).to_have_count(0)
    assert_accessible(page, "Kennemerland's segments page")
    shot(page, "kennemerland-segmenten-1280")

    # The current version of the tariff for light lasting support, lowered below €62,50 an hour.
    page.goto(f"{portal}/catalogus/tarieven/?zoek=KEN-BEG-L")
    page.get_by_role("link", name="KEN-BEG-L", exact=True).click()
    page.get_by_role("row", name="Geldt nu").get_by_role("link", name="Periode wijzigen").click()
    page.get_by_label("Tarief per eenheid (€)").fill("55,00")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator("#unit_rate-error")).to_contain_text(
        "Het tarief ligt onder het minimumtarief van € 62,50 per uur voor Kennemerland B2.")
    assert_accessible(page, "the refused tariff version")
    shot(page, "kennemerland-minimumtarief-1280")

    page.goto(f"{portal}/catalogus/opslagen/")
    expect(page.get_by_text("In deze regio gelden geen opslagen")).to_be_visible()
    expect(page.get_by_role("link", name="Opslag toevoegen")).to_have_count(0)
    context.close()
