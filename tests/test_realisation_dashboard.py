"""The budget dashboard: budget against approved realisation and forecast, ceiling warnings, place
occupancy, the monthly trend, scoping per role and the CSV/XLSX exports."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlmodel import delete, select

from portal import db
from portal.models import FrameworkAgreement, Organisation, OrganisationKind
from portal.models.agreements import BudgetAgreement, MunicipalChoice
from portal.models.realisation import RealisationLine, RealisationReport
from portal.realisation import dashboard as figures
from portal.realisation.rules import Period

PROVIDER = "beheer@zorggroep-maasland.example"
CONTRACT_MANAGER = "contractmanager@mgr-noord-limburg.example"
MUNICIPALITY = "medewerker@venlo.example"
AUDITOR = "auditor@accountant-noord-limburg.example"
YEAR = 2026
URL = f"/realisatie/dashboard/?jaar={YEAR}"
EVIL_NAME = "=HYPERLINK(\"http://x.example\",\"Zorg B\")"


# --- Pure rules ------------------------------------------------------------------------------


def test_forecast_is_linear_to_year_end_half_up_to_the_cent():
    assert figures.forecast_to_year_end(Decimal("10000.00"), 7) == Decimal("17142.86")
    assert figures.forecast_to_year_end(Decimal("0.05"), 8) == Decimal("0.08")  # 0.075 → 0.08 (half-up)
    assert figures.forecast_to_year_end(Decimal("7000.01"), 6) == Decimal("14000.02")
    assert figures.forecast_to_year_end(Decimal("500.00"), 0) == Decimal("0.00")


def test_ceiling_status_warns_from_80_and_is_over_from_100_percent():
    ceiling = Decimal("1000.00")
    assert figures.ceiling_status(Decimal("799.99"), ceiling) == "ok"
    assert figures.ceiling_status(Decimal("800.00"), ceiling) == "warning"
    assert figures.ceiling_status(Decimal("999.99"), ceiling) == "warning"
    assert figures.ceiling_status(Decimal("1000.00"), ceiling) == "over"
    assert figures.ceiling_status(Decimal("5.00"), Decimal("0")) is None
    assert figures.STATUS_LABELS["warning"] == "Let op: 80% van het plafond bereikt"
    assert figures.STATUS_LABELS["over"] == "Plafond overschreden"


def test_a_quarter_is_spread_over_its_months_in_cents_that_add_up():
    spread = figures.month_values(Period(2026, "quarter", 2), Decimal("100.00"))
    assert spread == {4: Decimal("33.34"), 5: Decimal("33.33"), 6: Decimal("33.33")}
    assert figures.month_values(Period(2026, "month", 9), Decimal("12.50")) == {9: Decimal("12.50")}
    assert figures.percentage(350, 362) == Decimal("96.7")


# --- Seeded region -----------------------------------------------------------------------------


def _org(session, name):
    return session.exec(select(Organisation).where(Organisation.name == name)).one()


def _report(session, provider, municipality, segment, kind, period, value, state="approved", version=1,
            place_days=None):
    report = RealisationReport(region_id=provider.region_id, organisation_id=provider.id,
                               municipality_id=municipality.id, segment_key=segment, year=YEAR,
                               period_kind=kind, period=period, version=version, state=state,
                               total_value=Decimal(value), line_count=1,
                               place_days_total=place_days or 0)  # as the import writes it with the lines
    session.add(report)
    session.flush()
    session.add(RealisationLine(report_id=report.id, trajectory_code="T-1", clients=1, place_days=place_days,
                                unit_price=Decimal(value), value=Decimal(value)))
    return report


def _agreement(session, provider, municipality, segment, kind, amount):
    framework = session.exec(select(FrameworkAgreement).where(
        FrameworkAgreement.organisation_id == provider.id)).first()
    session.add(BudgetAgreement(region_id=provider.region_id, organisation_id=provider.id,
                                municipality_id=municipality.id, framework_agreement_id=framework.id,
                                segment_key=segment, year=YEAR, kind=kind, amount=Decimal(amount)))


@pytest.fixture(autouse=True)
def _without_demo_realisation(monkeypatch):
    """The demo's own realisation is replaced below anyway: skip loading it (it takes seconds)."""
    import portal.realisation.demo

    monkeypatch.setattr(portal.realisation.demo, "load_demo_realisation", lambda demo: 0)


@pytest.fixture
def region(app, demo):
    """The demo region with its budgets and realisation replaced by known figures."""
    with app.app_context():
        session = db.session()
        session.exec(delete(RealisationLine))
        session.exec(delete(RealisationReport))
        session.exec(delete(BudgetAgreement))
        maasland = _org(session, "Zorggroep Maasland")
        venlo, venray, horst = (_org(session, n) for n in ("Venlo", "Venray", "Horst aan de Maas"))
        other = session.exec(select(Organisation).join(
            FrameworkAgreement, FrameworkAgreement.organisation_id == Organisation.id).where(
            Organisation.kind == OrganisationKind.PROVIDER, Organisation.id != maasland.id)).first()
        # Venlo buys 2 places in this segment during the year.
        choice = session.exec(select(MunicipalChoice).where(
            MunicipalChoice.municipality_id == venlo.id, MunicipalChoice.segment_key == "jeugd.S3",
            MunicipalChoice.effective_from == date(YEAR, 1, 1))).first()
        if choice is None:
            choice = MunicipalChoice(region_id=venlo.region_id, municipality_id=venlo.id, segment_key="jeugd.S3",
                                     effective_from=date(YEAR, 1, 1), lots=["regional"], volume_basis="places",
                                     funding_form="budget_agreement")
        choice.volume_basis, choice.details = "places", {"volume": 2}
        session.add(choice)

        _agreement(session, maasland, venlo, "jeugd.S3", "budget", "20000.00")
        _report(session, maasland, venlo, "jeugd.S3", "quarter", 1, "4000.00", place_days=200)
        _report(session, maasland, venlo, "jeugd.S3", "quarter", 2, "9999.00", state="superseded", place_days=999)
        _report(session, maasland, venlo, "jeugd.S3", "quarter", 2, "3000.01", version=2, place_days=150)
        _report(session, maasland, venlo, "jeugd.S3", "quarter", 3, "5000.00", state="rejected")
        _report(session, maasland, venlo, "jeugd.S3", "quarter", 3, "2500.00", state="submitted", version=2)

        _agreement(session, maasland, venray, "wmo.S1a", "ceiling", "10000.00")
        for month in range(1, 7):
            _report(session, maasland, venray, "wmo.S1a", "month", month, "1000.00")
        _report(session, maasland, venray, "wmo.S1a", "month", 7, "2500.00")

        _agreement(session, maasland, horst, "wmo.S1b", "ceiling", "5000.00")
        _report(session, maasland, horst, "wmo.S1b", "month", 1, "5000.00")

        _agreement(session, other, venlo, "jeugd.S4", "budget", "50000.00")
        _report(session, other, venlo, "jeugd.S4", "month", 3, "1000.00")
        session.commit()
        ids = {"maasland": maasland.id, "other": other.id, "venlo": venlo.id, "venray": venray.id,
               "other_name": other.name}
    return ids


def _csv(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark for Excel
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    return rows[0], rows[1:]


def _amount(text):
    return Decimal(text.replace(",", ".")) if text else None


def test_contract_manager_sees_budget_approved_and_forecast_to_the_cent(signed_in, region):
    client = signed_in(CONTRACT_MANAGER)
    header, rows = _csv(client.get(f"/realisatie/dashboard/export.csv?jaar={YEAR}&tabel=overzicht"))
    assert header[:8] == ["Zorgaanbieder", "Gemeente", "Segment", "Budget", "Plafond", "Goedgekeurde realisatie",
                          "Ingediend, nog niet beoordeeld", "Prognose jaareinde"]
    by_key = {(r[0], r[1]): r for r in rows}
    venlo = by_key[("Zorggroep Maasland", "Venlo")]
    # superseded (9.999) and rejected (5.000) versions do not count; the submitted one stands apart
    assert [_amount(v) for v in venlo[3:8]] == [Decimal("20000.00"), Decimal("0.00"),
                                                 Decimal("7000.01"), Decimal("2500.00"), Decimal("14000.02")]
    venray = by_key[("Zorggroep Maasland", "Venray")]
    assert _amount(venray[5]) == Decimal("8500.00") and _amount(venray[7]) == Decimal("14571.43")
    assert venray[8] == "85,0" and venray[9] == "Let op: 80% van het plafond bereikt"
    horst = by_key[("Zorggroep Maasland", "Horst aan de Maas")]
    assert horst[8] == "100,0" and horst[9] == "Plafond overschreden"
    assert _amount(horst[7]) == Decimal("60000.00")
    total = rows[-1]
    assert total[0] == "Totaal"
    assert [_amount(v) for v in total[3:8]] == [Decimal("70000.00"), Decimal("15000.00"), Decimal("21500.01"),
                                                 Decimal("2500.00"), Decimal("92571.45")]
    assert total[8] == "90,0"  # 13.500 approved under ceilings of 15.000

    page = client.get(URL).get_data(as_text=True)
    assert "Let op: 80% van het plafond bereikt" in page and "Plafond overschreden" in page
    assert "€\xa021.500,01" in page and "€\xa092.571,45" in page
    assert page.count('role="img"') == 4 and "<caption>" in page
    assert " style=" not in page.split("<main", 1)[1]


def test_occupancy_and_monthly_trend(signed_in, region):
    client = signed_in(CONTRACT_MANAGER)
    header, rows = _csv(client.get(f"/realisatie/dashboard/export.csv?jaar={YEAR}&tabel=bezetting"))
    assert header == ["Afspraak", "Plekken", "Gedekte maanden", "Beschikbare plekdagen", "Bezette plekdagen",
                      "Bezetting"]
    # 200 + 150 place-days (the superseded 999 not) ÷ (2 places × 181 days of January–June)
    assert rows == [["Zorggroep Maasland · Venlo · Jeugd S3", "2", "6", "362", "350", "96,7"]]
    _, months = _csv(client.get(f"/realisatie/dashboard/export.csv?jaar={YEAR}&tabel=maanden"))
    values = {row[0]: _amount(row[1]) for row in months}
    assert values[f"januari {YEAR}"] == Decimal("7333.34")  # 4.000 / 3 (first month gets the cent) + 1.000 + 5.000
    assert values[f"maart {YEAR}"] == Decimal("3333.33")
    assert values[f"april {YEAR}"] == Decimal("2000.01")
    assert values[f"augustus {YEAR}"] == Decimal("0.00")
    assert months[-1][0] == "Totaal" and _amount(months[-1][1]) == Decimal("21500.01")
    assert _amount(months[6][3]) == Decimal("833.34")  # July: a third of the submitted quarter


def test_provider_sees_only_its_own_figures(signed_in, region):
    client = signed_in(PROVIDER)
    header, rows = _csv(client.get(f"/realisatie/dashboard/export.csv?jaar={YEAR}"))
    assert header[0] == "Gemeente"  # its own name is not repeated on every row
    assert {r[0] for r in rows[:-1]} == {"Venlo", "Venray", "Horst aan de Maas"}
    assert [_amount(v) for v in rows[-1][2:7]] == [Decimal("20000.00"), Decimal("15000.00"), Decimal("20500.01"),
                                                    Decimal("2500.00"), Decimal("88571.45")]
    page = client.get(URL).get_data(as_text=True)
    assert region["other_name"] not in page
    assert client.get(f"{URL}&aanbieder={region['other']}").status_code == 404
    assert client.get(f"/realisatie/dashboard/export.csv?jaar={YEAR}&aanbieder={region['other']}").status_code == 404
    assert client.get(f"{URL}&gemeente={region['venlo']}").status_code == 200


def test_municipality_sees_only_its_own_municipality(signed_in, region):
    client = signed_in(MUNICIPALITY)
    header, rows = _csv(client.get(f"/realisatie/dashboard/export.csv?jaar={YEAR}"))
    assert header[:2] == ["Zorgaanbieder", "Segment"]
    assert sorted(r[0] for r in rows[:-1]) == sorted(["Zorggroep Maasland", region["other_name"]])
    assert [_amount(v) for v in rows[-1][2:7]] == [Decimal("70000.00"), Decimal("0.00"), Decimal("8000.01"),
                                                    Decimal("2500.00"), Decimal("18000.02")]
    assert client.get(f"{URL}&gemeente={region['venray']}").status_code == 404
    assert client.get(f"/realisatie/dashboard/export.xlsx?jaar={YEAR}&gemeente={region['venray']}").status_code == 404
    filtered = client.get(f"/realisatie/dashboard/export.csv?jaar={YEAR}&aanbieder={region['other']}")
    assert [r[0] for r in _csv(filtered)[1][:-1]] == [region["other_name"]]


def test_region_filters_and_unknown_organisations(signed_in, region):
    client = signed_in(AUDITOR)
    _, rows = _csv(client.get(f"/realisatie/dashboard/export.csv?jaar={YEAR}&domein=wmo&indeling=gemeente"
                              "&tabel=indeling"))
    assert [r[0] for r in rows] == ["Horst aan de Maas", "Venray", "Totaal"]
    _, rows = _csv(client.get(f"/realisatie/dashboard/export.csv?jaar={YEAR}&gemeente={region['venlo']}"
                              "&segment=jeugd.S3&tabel=indeling"))
    assert [r[0] for r in rows] == ["Jeugd S3", "Totaal"] and _amount(rows[0][3]) == Decimal("7000.01")
    assert client.get(f"{URL}&aanbieder=999999").status_code == 404
    assert client.get(f"{URL}&aanbieder={region['venlo']}").status_code == 404  # a municipality is no provider
    assert client.get("/realisatie/dashboard/?jaar=1900").status_code == 200


def test_filters_answer_with_the_results_only_for_htmx(signed_in, region):
    client = signed_in(CONTRACT_MANAGER)
    response = client.get(f"{URL}&segment=wmo.S1a", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="grafiek-plafond"' in body
    assert "€\xa08.500,00" in body and "€\xa07.000,01" not in body
    assert "HX-Request" in response.headers.get("Vary", "")


def test_exports_carry_the_same_numbers_and_neutralise_formulas(app, signed_in, region):
    with app.app_context():
        session = db.session()
        other = session.get(Organisation, region["other"])
        other.name = EVIL_NAME
        session.add(other)
        session.commit()
    client = signed_in(CONTRACT_MANAGER)
    _, rows = _csv(client.get(f"/realisatie/dashboard/export.csv?jaar={YEAR}"))
    assert ["'" + EVIL_NAME] == [r[0] for r in rows if "HYPERLINK" in r[0]]

    response = client.get(f"/realisatie/dashboard/export.xlsx?jaar={YEAR}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="budgetdashboard-{YEAR}.xlsx"'
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames == ["Overzicht", "Per segment", "Plafonds", "Bezetting", "Per maand"]
    sheet = workbook["Overzicht"]
    table = list(sheet.iter_rows())
    assert [c.value for c in table[0]][:6] == ["Zorgaanbieder", "Gemeente", "Segment", "Budget", "Plafond",
                                                "Goedgekeurde realisatie"]
    total = table[-1]
    assert total[0].value == "Totaal"
    assert [total[i].value for i in range(3, 8)] == [70000, 15000, pytest.approx(21500.01), 2500,
                                                      pytest.approx(92571.45)]
    assert "€" in total[5].number_format and total[8].number_format == "0.0%"
    assert total[8].value == pytest.approx(0.9)
    names = [row[0].value for row in table[1:]]
    assert "'" + EVIL_NAME in names
    for row in table:
        for cell in row:
            assert cell.data_type != "f"
            assert not (isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")))


def test_every_role_reaches_the_dashboard_and_anonymous_is_sent_to_sign_in(app, signed_in, region):
    for email in (PROVIDER, CONTRACT_MANAGER, MUNICIPALITY, AUDITOR):
        assert signed_in(email).get(URL).status_code == 200
    assert app.test_client().get("/realisatie/dashboard/export.csv").status_code == 302


def test_a_roll_up_counts_a_municipalitys_places_once():
    """Two providers filling the places one municipality bought: each row shows its use of them, the
    total divides all place-days by the places once (not twice)."""
    key = (1, "segment.S1")
    first = figures.Figures(place_days=200, capacities={key: Decimal(362)}, places_by={key: Decimal(2)})
    second = figures.Figures(place_days=100, capacities={key: Decimal(362)}, places_by={key: Decimal(2)})
    other = figures.Figures(place_days=50, capacities={(2, "segment.S1"): Decimal(100)},
                            places_by={(2, "segment.S1"): Decimal(1)})
    total = figures.Figures()
    for row in (first, second, other):
        total.add(row)
    assert first.occupancy == figures.percentage(200, Decimal(362))
    assert total.capacity == Decimal(462) and total.places == Decimal(3)
    assert total.occupancy == figures.percentage(350, Decimal(462))
