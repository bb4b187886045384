"""A custom trajectory negotiated end to end in Chromium: the provider submits a proposal, a contract
manager counters, the provider accepts, a second contract manager approves, and the provider finds the
approved custom trajectory and its printable agreement on "Mijn contracten"."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.test_browser import TIMEOUT_MS, assert_accessible, portal, sign_in  # noqa: F401  (portal is a fixture)

pytestmark = pytest.mark.browser

PROVIDER = "beheer@zorggroep-maasland.example"
MANAGER = "contractmanager@mgr-noord-limburg.example"
MANAGER2 = "contractmanager2@mgr-noord-limburg.example"
SHOTS = os.environ.get("PORTAL_SCREENSHOTS")  # a folder: save a screenshot of every step there


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def new_page(browser):
    context = browser.new_context(bypass_csp=True)  # so axe-core can be injected
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def test_provider_submits_manager_counters_provider_accepts_second_manager_approves(browser, portal):  # noqa: F811
    # The provider picks a standard trajectory of a segment it has a regional framework agreement for.
    provider_context, provider = new_page(browser)
    sign_in(provider, portal, PROVIDER)
    provider.get_by_role("link", name="Maatwerk", exact=True).first.click()
    provider.get_by_role("link", name="Nieuw voorstel").click()
    choice = provider.get_by_label("Standaardtraject")
    first_option = choice.locator("option").nth(1)
    choice.select_option(first_option.get_attribute("value"))
    provider.get_by_role("button", name="Traject kiezen").click()
    provider.get_by_label("Titel").fill("Langere dagbehandeling")
    duration = provider.get_by_label("Doorlooptijd (maanden)")
    standard_duration = int(duration.input_value())
    duration.fill(str(standard_duration + 3))
    provider.get_by_label("Verwacht aantal trajecten per jaar").fill("8")
    for extra in provider.locator("input[name^='extra_']").all():
        if not extra.input_value():
            extra.fill("1")
    provider.get_by_label("Onderbouwing").fill("Onze cliënten hebben drie maanden meer nodig om het doel te halen.")
    # the live price preview (htmx) shows the difference and the yearly value
    preview = provider.locator("#prijsvoorbeeld")
    expect(preview).to_contain_text("Verschil met het standaardtraject")
    expect(preview).to_contain_text("Verwachte waarde per jaar")
    shot(provider, "1-nieuw-voorstel")
    assert_accessible(provider, "nieuw maatwerkvoorstel")
    provider.get_by_role("button", name="Indienen bij de regio").click()
    expect(provider.get_by_role("heading", level=1)).to_contain_text("Langere dagbehandeling")
    expect(provider.locator("main")).to_contain_text("Ingediend")
    proposal_url = provider.url
    shot(provider, "2-ingediend")

    # Contract manager 1 finds it in the queue and counters with a shorter duration and a comment.
    manager_context, manager = new_page(browser)
    sign_in(manager, portal, MANAGER)
    manager.goto(f"{portal}/maatwerk/beoordelen")
    shot(manager, "3-wachtrij")
    assert_accessible(manager, "beoordelen")
    manager.get_by_role("link", name="Langere dagbehandeling").click()
    shot(manager, "3b-voorstel-voor-contractmanager")
    assert_accessible(manager, "voorstel voor de contractmanager")
    form = manager.locator("#form-counter")
    form.get_by_label("Doorlooptijd (maanden)").fill(str(standard_duration + 1))
    form.get_by_label("Toelichting bij het tegenvoorstel").fill("Twee maanden extra is te veel; één maand extra kan.")
    form.get_by_role("button", name="Tegenvoorstel versturen").click()
    expect(manager.locator("main")).to_contain_text("In onderhandeling")
    manager_context.close()

    # The provider sees the thread with what changed, and accepts the counter-proposal.
    provider.goto(proposal_url)
    thread = provider.locator("ol.thread")
    expect(thread).to_contain_text("Versie 2")
    expect(thread).to_contain_text("Gewijzigd ten opzichte van versie 1")
    expect(thread).to_contain_text("één maand extra kan")
    shot(provider, "4-tegenvoorstel")
    assert_accessible(provider, "voorstel met tegenvoorstel")
    provider.get_by_role("button", name="Tegenvoorstel aanvaarden").click()
    expect(provider.locator("main")).to_contain_text("Ingediend")
    # where the approval stands: the counter counts as its author's approval, one is still waited for
    approval = provider.locator("section", has=provider.get_by_role("heading", name=re.compile("Goedkeuring")))
    expect(approval).to_contain_text("Gegeven door")
    expect(approval).to_contain_text("Wacht op")
    shot(provider, "4b-goedkeuring-wacht")
    assert_accessible(provider, "voorstel wacht op goedkeuring")
    provider.set_viewport_size({"width": 390, "height": 844})  # the same page on a phone
    expect(approval).to_contain_text("Wacht op")
    shot(provider, "4c-goedkeuring-wacht-390")
    assert_accessible(provider, "voorstel wacht op goedkeuring, 390 px")
    provider.set_viewport_size({"width": 1280, "height": 900})

    # The manager who made the counter is not offered "Goedkeuren" and is told who approves next.
    author_context, author = new_page(browser)
    sign_in(author, portal, MANAGER)
    author.goto(proposal_url)
    expect(author.locator("main")).to_contain_text("een andere contractmanager geeft de volgende goedkeuring")
    expect(author.get_by_role("button", name="Goedkeuren")).to_have_count(0)
    author_context.close()

    # A second contract manager approves.
    second_context, second = new_page(browser)
    sign_in(second, portal, MANAGER2)
    second.goto(proposal_url)
    second.get_by_role("button", name="Goedkeuren").click()
    expect(second.locator("main")).to_contain_text("Goedgekeurd")
    shot(second, "5-goedgekeurd")
    second_context.close()

    # The provider sees the custom trajectory on "Mijn contracten", and the agreement prints.
    provider.get_by_role("link", name="Mijn contracten").first.click()
    section = provider.locator("section", has=provider.get_by_role("heading", name="Maatwerktrajecten"))
    expect(section.locator("tbody tr")).to_have_count(1)
    expect(section).to_contain_text(f"{standard_duration + 1} maanden")
    shot(provider, "6-mijn-contracten")
    assert_accessible(provider, "mijn contracten")
    href = section.get_by_role("link", name=re.compile("PDF")).get_attribute("href")
    pdf = provider.request.get(f"{portal}{href}")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")
    if SHOTS:
        (Path(SHOTS) / "7-afspraak.pdf").write_bytes(pdf.body())
    provider.goto(f"{portal}/maatwerk/")
    expect(provider.locator("main")).to_contain_text("Goedgekeurd")
    shot(provider, "8-mijn-voorstellen")
    assert_accessible(provider, "mijn maatwerkvoorstellen")
    provider_context.close()
