"""A Rivierenland provider in Chromium: signs in beside the Noord-Limburg demo, opens the
realisation page and sees only Rivierenland's segments and templates, downloads a pre-filled
template, fills one row and uploads it; the pages pass axe. With ``PORTAL_SCREENSHOTS`` set, the
realisation and segments pages are saved there at 1280 px."""
from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect
from portal_rivierenland.region import RIVIERENLAND

from portal import clock
from portal.accounts.passwords import hash_password
from portal.demo import load_demo, load_pack_demo

# The core's browser fixtures (Debian's Chromium, the live server): plugins/conftest.py shares only
# the app and database fixtures.
from tests.conftest import DEMO_PASSWORD, browser_type_launch_args, live_server  # noqa: F401
from tests.test_browser import TIMEOUT_MS, assert_accessible, sign_in
from tests.test_browser_proposals import shot

pytestmark = pytest.mark.browser

PROVIDER = "beheer@delinge.example"
OWN = ["Wmo BEG", "Wmo DAG", "Jeugd ABG"]  # De Linge's contracted segments


@pytest.fixture
def two_regions(live_server):  # noqa: F811  (the fixture imported above)
    """The live server with Noord-Limburg's demo (without its months of realisation) and
    Rivierenland's; returns the base URL."""
    with live_server.app_context():
        load_demo(DEMO_PASSWORD, realisation=False)
        load_pack_demo(RIVIERENLAND, "rivierenland", hash_password(DEMO_PASSWORD), clock.today())
    return live_server.base_url


def test_a_rivierenland_provider_sees_its_own_segments_and_uploads_from_its_template(browser, two_regions,
                                                                                     tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, two_regions, PROVIDER)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom, Joost van Tuil")

    page.goto(f"{two_regions}/realisatie/")
    options = page.locator("#filter-segment option").all_inner_texts()
    assert options[0] == "Alle" and any(text.startswith("Wmo BEG") for text in options)
    assert not any(code in text for text in options for code in ("S1a", "S3a", "Jeugd S4", "Participatie"))
    assert any("Wonen met behandeling" in text for text in options)

    page.get_by_role("link", name="Bestand uploaden").first.click()
    links = page.locator("a", has_text="CSV-sjabloon")
    expect(links).to_have_count(len(OWN))
    names = [text.replace("CSV-sjabloon", "").strip() for text in links.all_text_contents()]
    assert [name.split(" — ")[0] for name in names] == OWN
    assert_accessible(page, "de uploadpagina van een aanbieder in Rivierenland")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV-sjabloon Wmo BEG", exact=False).click()
    raw = download_info.value.path().read_bytes()
    header, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert header[:6] == ["gemeente", "gemeentenaam", "segment", "periode", "traject", "trajectnaam"]
    assert "eenheden" in header
    assert {row[1] for row in rows} == {"Buren", "Culemborg", "Neder-Betuwe", "Tiel", "West Betuwe",
                                        "West Maas en Waal"}
    assert {row[2] for row in rows} == {"wmo.BEG"}

    chosen = next(row for row in rows if row[1] == "Tiel" and row[4] == "BEG-6")
    values = {"gestart": "2", "lopend": "9", "beeindigd": "1", "clienten": "9", "eenheden": "78"}
    filled = [[values.get(column, cell) if row is chosen else cell for column, cell in zip(header, row)]
              for row in rows]
    path = tmp_path / "realisatie-rivierenland.csv"
    path.write_text(";".join(header) + "\n" + "\n".join(";".join(row) for row in filled) + "\n", encoding="utf-8")
    page.get_by_label("Bestand met realisatie (CSV of Excel)").set_input_files(str(path))
    page.get_by_role("button", name="Uploaden en controleren").click()
    expect(page.locator("#uploadstatus")).to_contain_text("1 regel ingelezen in 1 rapportage", timeout=30_000)
    expect(page.locator("#uploadstatus")).to_contain_text("Tiel")

    page.goto(f"{two_regions}/realisatie/")
    report = page.locator("table.table-realisation tbody tr")
    expect(report).to_have_count(1)
    expect(report).to_contain_text("Wmo BEG")
    assert_accessible(page, "de realisatiepagina van een aanbieder in Rivierenland")
    shot(page, "rivierenland-realisatie-1280")

    page.goto(f"{two_regions}/segmenten/")
    expect(page.locator("main")).to_contain_text("Kortdurend verblijf")
    expect(page.locator("main")).not_to_contain_text("Hulp bij het huishouden")
    assert_accessible(page, "de segmenten van Rivierenland")
    shot(page, "rivierenland-segmenten-1280")
    context.close()
