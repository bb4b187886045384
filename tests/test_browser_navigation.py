"""The main menu in a browser (issue 15, points 5 and 6): every role's main jobs are in its menu,
"Home" is the brand link only, the menu stays on one line at 1280 px, and at 390 px it folds behind
a "Menu" button that opens it. ``PORTAL_SCREENSHOTS=folder`` keeps a screenshot of each."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.accounts import roles
from tests.test_browser import ONE_ACCOUNT_PER_ROLE, TIMEOUT_MS, assert_accessible, portal, sign_in  # noqa: F401

SHOTS = os.environ.get("PORTAL_SCREENSHOTS")

MAIN_JOBS = {
    roles.CONTRACT_MANAGER: ["Organisaties", "Afspraken", "Maatwerk", "Realisatie", "Afrekening", "Logboek"],
    roles.AUDITOR: ["Organisaties", "Afspraken", "Afrekening", "Logboek"],
    roles.PROVIDER_ADMIN: ["Gebruikers", "Mijn contracten", "Maatwerk", "Realisatie", "Afrekening"],
    roles.PROVIDER_USER: ["Mijn contracten", "Maatwerk", "Realisatie", "Afrekening"],
    roles.MUNICIPALITY_USER: ["Budgetafspraken", "Keuzes per segment", "Dashboard", "Afrekening"],
}


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("role", roles.ALL_ROLES)
def test_every_role_finds_its_main_jobs_in_the_menu_and_home_once(browser, portal, role):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, portal, ONE_ACCOUNT_PER_ROLE[role].email)
    menu = page.get_by_role("navigation", name="Hoofdmenu")
    for label in MAIN_JOBS[role]:
        expect(menu.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(menu.get_by_role("link", name="Home", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Aanbiedersportaal")).to_have_count(1)  # the brand leads home
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    context.close()


@pytest.mark.parametrize("role", [roles.CONTRACT_MANAGER, roles.PROVIDER_ADMIN, roles.MUNICIPALITY_USER])
def test_on_a_phone_the_menu_folds_behind_a_button(browser, portal, role):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, portal, ONE_ACCOUNT_PER_ROLE[role].email)
    menu = page.get_by_role("navigation", name="Hoofdmenu")
    button = menu.get_by_role("button", name="Menu")
    first_job = menu.get_by_role("link", name=MAIN_JOBS[role][0], exact=True)
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(first_job).to_be_hidden()
    shot(page, f"home-390-{role}")
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    for label in MAIN_JOBS[role]:
        expect(menu.get_by_role("link", name=label, exact=True)).to_be_visible()
    shot(page, f"menu-390-{role}")
    assert_accessible(page, f"opened menu at 390 px ({role})")
    button.click()
    expect(first_job).to_be_hidden()
    context.close()


def test_on_a_phone_the_dashboard_stacks_its_key_figures_and_shows_tables_for_charts(browser, portal):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, portal, ONE_ACCOUNT_PER_ROLE[roles.CONTRACT_MANAGER].email)
    page.goto(f"{portal}/realisatie/dashboard/")
    figures = page.locator(".dashboard-facts > div")
    expect(figures.first).to_be_visible()
    lefts = {round(box["x"]) for box in figures.evaluate_all(
        "items => items.map(item => item.getBoundingClientRect().toJSON())")}
    assert len(lefts) == 1, f"the key figures stand side by side at 390 px: {lefts}"
    assert all(box["x"] + box["width"] <= 390 for box in figures.evaluate_all(
        "items => items.map(item => item.getBoundingClientRect().toJSON())"))
    expect(page.locator(".chart-box").first).to_be_hidden()
    expect(page.locator("table.table-dashboard").first).to_be_attached()
    assert_accessible(page, "dashboard at 390 px")
    context.close()
