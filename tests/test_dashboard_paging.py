"""The dashboard's "Alle afspraken" table pages like the other tables (issue 15, point 7): a page of
rows with a pager, the next page other rows, the total row and the CSV over all of them."""
from __future__ import annotations

import re

from tests.test_realisation_dashboard import CONTRACT_MANAGER as MANAGER

ROWS = re.compile(r'<section aria-labelledby="kop-overzicht".*?</section>', re.S)


def overview_of(page: str) -> str:
    return ROWS.search(page).group(0)


def body_rows(section: str) -> list[str]:
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>.*?</tr>", body, re.S)


def test_all_agreements_page_by_25_and_the_csv_holds_them_all(app, demo_with_realisation, signed_in):
    client = signed_in(MANAGER)
    first = overview_of(client.get("/realisatie/dashboard/").get_data(as_text=True))
    total = int(re.search(r"(\d+) afspraken", first).group(1))
    assert total > 25, "the demo region has more agreements than one page"
    rows = body_rows(first)
    assert len(rows) == 25
    assert "Pagina 1 van" in first and "pagina=2" in first and 'class="total"' in first
    second = overview_of(client.get("/realisatie/dashboard/?pagina=2").get_data(as_text=True))
    assert body_rows(second) and not set(body_rows(second)) & set(rows)
    last = overview_of(client.get("/realisatie/dashboard/?pagina=999").get_data(as_text=True))
    assert len(body_rows(last)) == total - 25 * ((total - 1) // 25)  # past the end: the last page
    csv = client.get("/realisatie/dashboard/export.csv?tabel=overzicht").get_data(as_text=True)
    assert len([line for line in csv.splitlines() if line.strip()]) >= total + 1
