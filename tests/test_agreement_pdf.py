"""The printable summary of a framework agreement: a real PDF with the agreement's reference, its
terms and budgets in nl-NL notation; the provider gets its own, contract managers and auditors any
of the region, anyone else a 404 (another organisation) or 403 (a municipality)."""
from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from portal import db
from portal.contracts import service as agreements
from portal.pdf import font_files
from tests.agreement_data import budget, framework, new_provider, organisation

MANAGER = "contractmanager@mgr-noord-limburg.example"
AUDITOR = "auditor@accountant-noord-limburg.example"
MAASLAND_ADMIN = "beheer@zorggroep-maasland.example"
MAASLAND_USER = "medewerker@zorggroep-maasland.example"
VENRAY_ADMIN = "beheer@thuishulp-venray.example"


def _agreements(app) -> dict:
    with app.app_context():
        maasland = organisation("Zorggroep Maasland")
        regional = framework(maasland, "T-PDF/2026-01", segments=("jeugd.S3", "jeugd.S4"))
        budget(maasland, "Venlo", regional.start_date.year, amount="1234567.89")
        budget(maasland, "Peel en Maas", regional.start_date.year, amount="250000.00", kind="ceiling")
        werk = new_provider("Werkcoöperatie Noord")
        bow_wave = framework(werk, "T-PDF-BOEG", segments=("participatie.S3",), contract_form="a",
                             start=date(2024, 1, 1), bow_wave=True)
        agreements.record_bow_wave_evaluation(bow_wave, 2024, True, "Plaatsingen boven verwachting",
                                              today=date(2025, 2, 1))
        agreements.record_bow_wave_evaluation(bow_wave, 2025, False, "Minder werkgevers bereikt",
                                              today=date(2026, 2, 1))
        db.session().commit()
        return {"regional": regional.id, "bow_wave": bow_wave.id}


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_summary_is_a_pdf_with_the_agreement_and_its_budgets(app, signed_in):
    ids = _agreements(app)
    response = signed_in(MAASLAND_USER).get(f"/afspraken/{ids['regional']}/samenvatting.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert 'filename="samenvatting-T-PDF-2026-01.pdf"' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    pdf = response.get_data()
    assert pdf.startswith(b"%PDF-")
    text = _text(pdf)
    assert "T-PDF/2026-01" in text and "Zorggroep Maasland" in text
    assert "Jeugd S3 — Dagactiviteiten en dagbehandeling" in text
    assert "Perceel regionaal" in text and "Overeenkomst met vaste budgetafspraken" in text
    assert "Peel en Maas" in text and "Budgetplafond" in text
    with app.app_context():
        if font_files() is None:  # a system without Debian's fonts-dejavu-core: see the next test
            return
    text = text.replace("\xa0", " ")
    assert "€ 1.234.567,89" in text  # DejaVu embedded: the euro sign itself
    assert "12 × ca. € 102.880,66" in text
    fonts = [font.get_object()["/BaseFont"] for font in PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"].values()]
    assert all("DejaVuSans" in name for name in fonts), fonts  # embedded subsets, e.g. /ABCDEF+DejaVuSans


def test_bow_wave_history_is_in_the_summary(app, signed_in):
    ids = _agreements(app)
    text = _text(signed_in(MANAGER).get(f"/afspraken/{ids['bow_wave']}/samenvatting.pdf").get_data())
    assert "Werkcoöperatie Noord" in text and "Boeggolfprincipe, horizon 3 jaar" in text
    assert "Plaatsingen boven verwachting" in text and "Onvoldoende" in text
    assert "31 december 2027" in text  # 2024–2026, one good year earned


@pytest.mark.parametrize("app_config", [{"PDF_FONT_DIRS": []}])
def test_without_dejavu_the_core_font_writes_eur(app, signed_in, app_config):
    ids = _agreements(app)
    pdf = signed_in(AUDITOR).get(f"/afspraken/{ids['regional']}/samenvatting.pdf").get_data()
    assert pdf.startswith(b"%PDF-")
    text = _text(pdf)
    assert "EUR 1.234.567,89" in text.replace("\xa0", " ") and "€" not in text
    assert "Jeugd S3 - Dagactiviteiten en dagbehandeling" in text  # the dash Latin-1 lacks
    text = _text(signed_in(AUDITOR).get(f"/afspraken/{ids['bow_wave']}/samenvatting.pdf").get_data())
    assert "Werkcoöperatie Noord" in text  # Dutch letters are in Latin-1


def test_only_who_may_see_the_agreement_gets_its_summary(app, signed_in):
    ids = _agreements(app)
    assert signed_in(MAASLAND_ADMIN).get(f"/afspraken/{ids['regional']}/samenvatting.pdf").status_code == 200
    assert signed_in(MAASLAND_ADMIN).get(f"/afspraken/{ids['bow_wave']}/samenvatting.pdf").status_code == 404
    assert signed_in(VENRAY_ADMIN).get(f"/afspraken/{ids['regional']}/samenvatting.pdf").status_code == 404
    assert signed_in("medewerker@venlo.example").get(f"/afspraken/{ids['regional']}/samenvatting.pdf").status_code == 403
    assert signed_in(AUDITOR).get(f"/afspraken/{ids['bow_wave']}/samenvatting.pdf").status_code == 200
    assert signed_in(MANAGER).get("/afspraken/999999/samenvatting.pdf").status_code == 404
