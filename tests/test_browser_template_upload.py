"""A provider reports realisation from a pre-filled template in a browser (issue 15, point 3): the
template link names the segment, the downloaded file holds its own rows with Dutch names beside the
codes, a row filled in is read and a row left empty is skipped."""
from __future__ import annotations

import csv
import io

from playwright.sync_api import expect

from portal.realisation.rules import left_empty
from tests.test_browser import TIMEOUT_MS, assert_accessible, portal, sign_in  # noqa: F401  (portal is a fixture)

PROVIDER = "beheer@zorggroep-maasland.example"


def test_provider_downloads_a_prefilled_template_fills_one_row_and_uploads_it(browser, portal, tmp_path):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, portal, PROVIDER)
    page.goto(f"{portal}/realisatie/uploaden")
    link = page.get_by_role("link", name="CSV-sjabloon Jeugd S4", exact=False)
    expect(link).to_have_count(1)
    with page.expect_download() as download_info:
        link.click()
    raw = download_info.value.path().read_bytes()
    header, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert header[:6] == ["gemeente", "gemeentenaam", "segment", "periode", "traject", "trajectnaam"]
    assert {row[1] for row in rows} >= {"Venlo", "Beesel"} and all(row[5] for row in rows)

    chosen = next(row for row in rows if row[1] == "Venlo")
    filled = [row[:6] + ["2", "4", "1", "4"] + row[10:] if row is chosen else row for row in rows]
    path = tmp_path / "realisatie-uit-sjabloon.csv"
    path.write_text(";".join(header) + "\n" + "\n".join(";".join(row) for row in filled) + "\n", encoding="utf-8")
    page.get_by_label("Bestand met realisatie (CSV of Excel)").set_input_files(str(path))
    expect(page.locator(".file-picker")).to_contain_text(path.name)
    page.get_by_role("button", name="Uploaden en controleren").click()
    expect(page.locator("#uploadstatus")).to_contain_text("1 regel ingelezen in 1 rapportage", timeout=30_000)
    assert_accessible(page, "upload uit een vooraf ingevuld sjabloon")
    context.close()


def test_a_row_with_codes_but_no_figures_is_left_empty():
    codes = {"gemeente": "0983", "gemeentenaam": "Venlo", "segment": "jeugd.S4", "periode": "2026-11",
             "traject": "S4-BEG-6", "trajectnaam": "Begeleiding"}
    assert left_empty({**codes, "gestart": "", "lopend": None}, [])
    assert not left_empty({**codes, "gestart": "0"}, [])
    assert not left_empty({**codes, "plekdagen": 30}, [])
