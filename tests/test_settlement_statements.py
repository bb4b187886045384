"""The settlement statements as files: the provider's and the municipality's statement as PDF (text
read back with pypdf: amounts, explanation, version, state) and as XLSX (read back with openpyxl:
amounts are numbers in a euro format, the totals add up, text that looks like a formula is
neutralised), and who may download which (drafts only for contract managers and auditors)."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import select

from portal import db
from portal.formatting import money
from portal.models import Organisation
from portal.models.settlement import SettlementRun
from portal.settlement import runs as runs_service
from tests.dates import YEAR
from tests.test_settlement_screens import (
    AUDITOR,
    MANAGER,
    MUNICIPALITY,
    PROVIDER,
    PROVIDER_USER,
    make_run,
    org,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def pdf_text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(response.data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages).replace("\xa0", " ")


def plain(text: str) -> str:
    return text.replace("\xa0", " ")


def workbook(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype == XLSX
    return load_workbook(io.BytesIO(response.data))


def facts(app, run_id: int, provider: str | None = None, municipality: str | None = None):
    with app.app_context():
        run = db.session().get(SettlementRun, run_id)
        kwargs = {}
        if provider:
            kwargs["organisation_id"] = org(provider).id
        if municipality:
            kwargs["municipality_id"] = org(municipality).id
        lines = runs_service.lines_of(run, **kwargs)
        shares = {s.municipality_id: s for s in runs_service.cost_shares(run)}
        for line in lines:
            db.session().expunge(line)
        return lines, runs_service.totals(lines), shares


def test_provider_pdf_shows_the_amounts_and_the_explanation(app, signed_in):
    run_id = make_run(app, YEAR, publish=True)
    lines, summed, _shares = facts(app, run_id, provider="Zorggroep Maasland")
    maasland = org_id(app, "Zorggroep Maasland")
    response = signed_in(PROVIDER).get(f"/afrekening/{run_id}/aanbieder/{maasland}.pdf")
    text = pdf_text(response)
    assert "attachment" in response.headers["Content-Disposition"]
    assert f"Afrekening {YEAR} — Zorggroep Maasland" in text
    assert "Noord-Limburg" in text and "Gepubliceerd" in text and "Versie 1" in text
    for amount in (summed.settled_value, summed.paid, summed.repayments, lines[0].realisation, lines[0].settled_value):
        assert plain(money(amount)) in text
    assert plain(lines[0].explanation[-1]) in text
    assert "Gemaakt op" in text and "Nog geen antwoord" in text


def test_provider_xlsx_has_numbers_sums_and_explanations(app, signed_in):
    run_id = make_run(app, YEAR, publish=True)
    lines, summed, _shares = facts(app, run_id, provider="Zorggroep Maasland")
    maasland = org_id(app, "Zorggroep Maasland")
    book = workbook(signed_in(PROVIDER_USER).get(f"/afrekening/{run_id}/aanbieder/{maasland}.xlsx"))
    assert book.sheetnames == ["Afrekening", "Toelichting"]
    sheet = book["Afrekening"]
    headers = [cell.value for cell in sheet[4]]
    assert headers[:9] == ["Zorgaanbieder", "Gemeente", "Segment", "Soort", "Realisatie", "Afgerekend",
                           "Al betaald", "Saldo", "Richting"]
    rows = list(sheet.iter_rows(min_row=5, values_only=False))
    data, total = rows[:-1], rows[-1]
    assert len(data) == len(lines)
    for row in data:
        assert row[0].value == "Zorggroep Maasland"
        for cell in row[4:8]:
            assert isinstance(cell.value, (int, float)) and cell.data_type == "n"
            assert "€" in cell.number_format
    assert total[0].value == "Totaal"
    due = sum(Decimal(str(row[7].value)) for row in data)
    assert due.quantize(Decimal("0.01")) == summed.due == Decimal(str(total[7].value)).quantize(Decimal("0.01"))
    settled = sum(Decimal(str(row[5].value)) for row in data)
    assert settled.quantize(Decimal("0.01")) == summed.settled_value
    assert all(not str(cell.value).startswith("=") for row in sheet.iter_rows() for cell in row if cell.value)
    notes = book["Toelichting"]
    steps = [row for row in notes.iter_rows(min_row=2, values_only=True)]
    assert len(steps) == sum(len(line.explanation) for line in lines)
    assert steps[0][3] == 1 and steps[0][4] == lines[0].explanation[0]


def test_text_that_looks_like_a_formula_is_neutralised(app, signed_in):
    run_id = make_run(app, YEAR, publish=True)
    with app.app_context():
        maasland = org("Zorggroep Maasland")
        maasland.name = '=HYPERLINK("http://example.org","klik")'
        db.session().commit()
        maasland_id = maasland.id
    book = workbook(signed_in(MANAGER).get(f"/afrekening/{run_id}/aanbieder/{maasland_id}.xlsx"))
    title = book["Afrekening"]["A1"]
    assert title.value.startswith(f"Afrekening {YEAR} — =HYPERLINK") and title.data_type == "s"
    cell = book["Afrekening"]["A5"]
    assert cell.value == "'" + '=HYPERLINK("http://example.org","klik")' and cell.data_type == "s"
    assert book["Toelichting"]["A2"].value.startswith("'=")


def test_municipality_statement_has_the_cost_share_and_the_total(app, signed_in):
    run_id = make_run(app, YEAR, publish=True, program_costs="10.000,00")
    lines, summed, shares = facts(app, run_id, municipality="Venlo")
    venlo = org_id(app, "Venlo")
    share = shares[venlo]
    to_pay = summed.due + share.shared_costs + share.program_costs
    client = signed_in(MUNICIPALITY)
    text = pdf_text(client.get(f"/afrekening/{run_id}/gemeente/{venlo}.pdf"))
    assert f"Afrekening {YEAR} — gemeente Venlo" in text
    assert plain(money(share.program_costs)) in text and plain(money(abs(to_pay))) in text
    assert "Programmakosten" in text and "Gedeelde regionale kosten" in text
    assert "Zorggroep Maasland" in text  # the lines of all providers with Venlo

    book = workbook(client.get(f"/afrekening/{run_id}/gemeente/{venlo}.xlsx"))
    assert book.sheetnames == ["Afrekening", "Toelichting", "Kostenverdeling"]
    data = list(book["Afrekening"].iter_rows(min_row=5, values_only=True))[:-1]
    assert len(data) == len(lines) and {row[1] for row in data} == {"Venlo"}
    costs = {row[0]: row[1] for row in book["Kostenverdeling"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert Decimal(str(costs["Programmakosten (naar inwonertal)"])) == share.program_costs
    parts = (costs["Saldo afrekening met aanbieders"], costs["Gedeelde regionale kosten (naar realisatie)"],
             costs["Programmakosten (naar inwonertal)"])
    total = Decimal(str(costs["Totaal te betalen (negatief: te ontvangen)"])).quantize(Decimal("0.01"))
    assert sum(Decimal(str(p)) for p in parts).quantize(Decimal("0.01")) == total == to_pay
    assert costs["Inwoners"] == share.residents


def org_id(app, name: str) -> int:
    with app.app_context():
        return org(name).id


@pytest.mark.parametrize("email, provider_status, municipality_status", [
    (MANAGER, 200, 200), (AUDITOR, 200, 200), (PROVIDER, 404, 403), (MUNICIPALITY, 403, 404)])
def test_drafts_are_only_for_managers_and_auditors(app, signed_in, email, provider_status, municipality_status):
    run_id = make_run(app, YEAR)
    maasland, venlo = org_id(app, "Zorggroep Maasland"), org_id(app, "Venlo")
    client = signed_in(email)
    for extension in ("pdf", "xlsx"):
        assert client.get(f"/afrekening/{run_id}/aanbieder/{maasland}.{extension}").status_code == provider_status
        assert client.get(f"/afrekening/{run_id}/gemeente/{venlo}.{extension}").status_code == municipality_status


def test_statements_of_organisations_outside_the_run_or_region_are_404(app, signed_in):
    run_id = make_run(app, YEAR, publish=True)
    with app.app_context():
        run = db.session().get(SettlementRun, run_id)
        with_lines = set(runs_service.provider_ids(run))
        without = db.session().exec(select(Organisation.id).where(
            Organisation.kind == "provider", Organisation.id.not_in(with_lines))).first()
        venlo = org("Venlo").id
    client = signed_in(MANAGER)
    if without is not None:
        assert client.get(f"/afrekening/{run_id}/aanbieder/{without}.pdf").status_code == 404
    assert client.get(f"/afrekening/{run_id}/aanbieder/{venlo}.pdf").status_code == 404  # not a provider
    assert client.get(f"/afrekening/{run_id}/aanbieder/999999.xlsx").status_code == 404
    assert client.get(f"/afrekening/{run_id}/gemeente/999999.pdf").status_code == 404
    assert client.get(f"/afrekening/999999/gemeente/{venlo}.pdf").status_code == 404
