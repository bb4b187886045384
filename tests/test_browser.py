"""The portal in a real browser (Debian's Chromium through Playwright): signing in and out,
accessibility (axe-core), only our own assets, and no Content-Security-Policy violations.

Run with ``pytest tests/test_browser.py``; every test is marked ``browser``.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from portal.accounts import roles
from portal.demo import ACCOUNTS, load_demo
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# WCAG 2.0 and 2.1 level A and AA, plus axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
TIMEOUT_MS = 10_000
# Assertions wait as long as actions do (Playwright's own default is 5 s): on a loaded 2-core CI
# machine an htmx round trip can take longer than that without anything being wrong.
expect.set_options(timeout=TIMEOUT_MS)

PROVIDER_ADMIN = "beheer@zorggroep-maasland.example"
ONE_ACCOUNT_PER_ROLE = {role: next(a for a in ACCOUNTS if a.role == role) for role in roles.ALL_ROLES}


@pytest.fixture
def portal(live_server):
    """The live server with the demo region loaded; returns its base URL."""
    with live_server.app_context():
        load_demo(DEMO_PASSWORD)
    return live_server.base_url


@pytest.fixture
def axe_page(browser):
    """A page whose context ignores the CSP, so axe-core can be injected as a script tag."""
    context = browser.new_context(bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def strict_page(browser):
    """A page in an ordinary context: the CSP of the portal applies in full."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    # Runs before any page script (and is not subject to the CSP): records every CSP violation.
    context.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push("
        "{directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber}));")
    yield context.new_page()
    context.close()


def sign_in(page, base_url: str, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base_url}/inloggen")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(f"{base_url}/")


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations",
        AXE_TAGS)


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(node['target'])}: {node['failureSummary']}".replace("\n", " | "))
    return "\n".join(lines)


def assert_accessible(page, where: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe-core found violations on {where} ({page.url}):\n{describe(violations)}"


def test_provider_signs_in_sees_home_and_signs_out(portal, page):
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, portal, PROVIDER_ADMIN)

    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom, Anouk Verstegen")
    facts = page.locator("main .facts")
    expect(facts.locator("div", has=page.locator("dt", has_text="Organisatie")).locator("dd")).to_have_text(
        "Zorggroep Maasland")
    expect(facts.locator("div", has=page.locator("dt", has_text="Uw rol")).locator("dd")).to_have_text(
        roles.LABELS[roles.PROVIDER_ADMIN])
    expect(page.locator(".user-box")).to_contain_text("Zorggroep Maasland")
    expect(page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Gebruikers")).to_be_visible()

    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_url(f"{portal}/inloggen")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")
    expect(page.locator(".flashes")).to_contain_text("U bent uitgelogd.")
    expect(page.get_by_role("button", name="Uitloggen")).to_have_count(0)

    # Signed out for real: the home page sends us back to the sign-in form.
    page.goto(f"{portal}/")
    expect(page).to_have_url(f"{portal}/inloggen?next=%2F")


def test_sign_in_pages_have_no_axe_violations(portal, axe_page):
    axe_page.goto(f"{portal}/inloggen")
    assert_accessible(axe_page, "the sign-in page")

    axe_page.get_by_role("button", name="Inloggen").click()
    expect(axe_page.get_by_role("alert")).to_contain_text("Controleer het formulier")
    expect(axe_page.locator(".field-error")).to_have_count(2)
    assert_accessible(axe_page, "the sign-in page with validation errors")

    axe_page.get_by_label("E-mailadres").fill("onbekend@example.org")
    axe_page.get_by_label("Wachtwoord").fill("niet-het-wachtwoord")
    axe_page.get_by_role("button", name="Inloggen").click()
    expect(axe_page.get_by_role("alert")).to_contain_text("Het e-mailadres of het wachtwoord is onjuist.")
    assert_accessible(axe_page, "the sign-in page after a wrong password")


@pytest.mark.parametrize("role", roles.ALL_ROLES)
def test_home_page_of_each_role_has_no_axe_violations(portal, axe_page, role):
    account = ONE_ACCOUNT_PER_ROLE[role]
    sign_in(axe_page, portal, account.email)
    expect(axe_page.get_by_role("heading", level=1)).to_have_text(f"Welkom, {account.name}")
    assert_accessible(axe_page, f"the home page of {role} {account.email}")


def test_only_own_assets_are_loaded(portal, strict_page):
    host = urlsplit(portal).netloc
    requests = []
    strict_page.on("request", lambda request: requests.append(request.url))
    responses = {}
    strict_page.on("response", lambda response: responses.setdefault(urlsplit(response.url).path, response.status))

    sign_in(strict_page, portal, PROVIDER_ADMIN)
    strict_page.wait_for_load_state("load")

    scripts = strict_page.eval_on_selector_all("script", "nodes => nodes.map(n => n.getAttribute('src'))")
    assert scripts == ["/static/htmx.min.js", "/static/portal.js"], scripts  # both vendored or ours
    assert responses.get("/static/htmx.min.js") in (200, 304), responses
    assert strict_page.evaluate("typeof htmx === 'object' && typeof htmx.version === 'string'"), \
        "htmx did not load"
    foreign = [url for url in requests
               if urlsplit(url).scheme not in ("http", "https") or urlsplit(url).netloc != host]
    assert foreign == [], f"requests to other hosts or schemes: {foreign}"
    assert any(urlsplit(url).path == "/static/portal.css" for url in requests), requests


def test_no_csp_violations_during_sign_in_and_home(portal, strict_page):
    errors = []
    strict_page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    strict_page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))

    response = strict_page.goto(f"{portal}/inloggen")
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "style-src 'self'" in csp, csp
    violations = strict_page.evaluate("window.__cspViolations")

    sign_in(strict_page, portal, PROVIDER_ADMIN)
    expect(strict_page.get_by_role("heading", level=1)).to_have_text("Welkom, Anouk Verstegen")
    strict_page.wait_for_load_state("load")
    violations += strict_page.evaluate("window.__cspViolations")

    assert violations == [], "CSP violations:\n" + json.dumps(violations, indent=2)
    assert errors == [], "errors in the console:\n" + "\n".join(errors)


def test_organisation_filter_updates_in_place_with_htmx(portal, strict_page):
    """Typing in the search box filters the table without a page load, and the URL follows."""
    page = strict_page
    sign_in(page, portal, "contractmanager@mgr-noord-limburg.example")
    page.goto(f"{portal}/organisaties/")
    page.evaluate("window.__noReload = true")  # gone if the browser loads a new page
    expect(page.get_by_role("link", name="Venray", exact=True)).to_be_visible()
    page.get_by_label("Zoek op naam").fill("maas")
    expect(page.get_by_role("link", name="Venray", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Zorggroep Maasland")).to_be_visible()
    expect(page.get_by_text("4 organisaties gevonden")).to_be_visible()
    assert page.evaluate("window.__noReload") is True
    page.wait_for_url("**/organisaties/?zoek=maas**")
    assert page.evaluate("window.__cspViolations") == []
    # The kind filter works together with the search.
    page.get_by_label("Soort").select_option("municipality")
    expect(page.get_by_role("link", name="Zorggroep Maasland")).to_have_count(0)
    expect(page.get_by_role("link", name="Peel en Maas", exact=True)).to_be_visible()


def test_error_summary_gets_focus_after_a_refused_form(portal, strict_page):
    strict_page.goto(f"{portal}/inloggen")
    strict_page.get_by_role("button", name="Inloggen").click()
    expect(strict_page.locator("#formulierfouten")).to_be_focused()
    expect(strict_page.locator("#formulierfouten")).to_contain_text("Dit veld is verplicht.")
