"""The agreement screens: contract managers create and change, with errors on the field that is
wrong and nothing saved; htmx inline editing of a budget row; providers and municipalities see
only their own ("Mijn contracten", "Budgetafspraken"); another organisation's id is a 404."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.contracts import service as agreements
from portal.models import AuditEvent, BowWaveEvaluation, BudgetAgreement, ExtraCapacity, FrameworkAgreement
from tests.agreement_data import budget, framework, new_provider, organisation
from tests.conftest import post_form
from tests.dates import YEAR, this_year

D = Decimal
MANAGER = "contractmanager@mgr-noord-limburg.example"
AUDITOR = "auditor@accountant-noord-limburg.example"
MAASLAND_ADMIN = "beheer@zorggroep-maasland.example"
VENRAY_ADMIN = "beheer@thuishulp-venray.example"
VENLO = "medewerker@venlo.example"
GENNEP = "medewerker@gennep.example"
HTMX = {"HX-Request": "true"}


def _count(app, model) -> int:
    with app.app_context():
        return db.session().exec(select(func.count()).select_from(model)).one()


def _text(html: str) -> str:
    """Visible text with whitespace (also non-breaking spaces) folded, for simple assertions."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html).replace("\xa0", " "))


def _setup(app):
    """Zorggroep Maasland (regional) and Thuishulp Venray (local) each with a framework agreement
    of their own, periods chosen after any demo agreement; Maasland has a budget with Venlo and
    one with Gennep."""
    with app.app_context():
        session = db.session()
        maasland, venray = organisation("Zorggroep Maasland"), organisation("Thuishulp Venray")
        regional = framework(maasland, "T-MAAS-1", segments=("jeugd.S3",))
        local = framework(venray, "T-VENRAY-1", segments=("wmo.S3a",), lot="local")
        year = regional.start_date.year
        venlo_budget = budget(maasland, "Venlo", year, amount="125000.00", segment_key="jeugd.S3")
        gennep_budget = budget(maasland, "Gennep", year, amount="43210.98", segment_key="jeugd.S3", kind="ceiling")
        session.commit()
        return {"regional": regional.id, "local": local.id, "venlo": venlo_budget.id, "gennep": gennep_budget.id,
                "year": year, "local_year": local.start_date.year, "maasland": maasland.id, "venray": venray.id,
                "venlo_id": organisation("Venlo").id, "gennep_id": organisation("Gennep").id}


# --- Framework agreements ---------------------------------------------------------------------


def test_contract_manager_creates_and_changes_a_framework_agreement(app, signed_in):
    client = signed_in(MANAGER)
    with app.app_context():
        provider = new_provider("Testzorg Scherm")
        db.session().commit()
        provider_id = provider.id
    form = client.get("/afspraken/nieuw").get_data(as_text=True)
    assert 'name="segments" value="jeugd.S3"' in form and "Testzorg Scherm" in form
    response = post_form(client, "/afspraken/nieuw", {
        "organisation_id": provider_id, "reference": "T-SCHERM-1", "domain": "jeugd",
        "segments": ["jeugd.S3", "jeugd.S4"], "lot": "regional", "contract_form": "d",
        "start_date": f"{YEAR}-01-01", "scheme": ""})
    assert response.status_code == 302, _text(response.get_data(as_text=True))
    detail = _text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Raamovereenkomst T-SCHERM-1" in detail and "Testzorg Scherm" in detail
    assert f"31 december {YEAR + 2}" in detail  # 3+1 from the segments, no extension used
    assert "Verlengen met 1 jaar" in detail
    with app.app_context():
        agreement = db.session().exec(select(FrameworkAgreement).where(FrameworkAgreement.reference == "T-SCHERM-1")).one()
        assert agreements.segments_of(agreement) == ["jeugd.S3", "jeugd.S4"]
        event = db.session().exec(select(AuditEvent).where(AuditEvent.action == "framework_agreement.created",
                                                           AuditEvent.object_id == str(agreement.id))).one()
        assert event.actor_email == MANAGER
        agreement_id = agreement.id

    response = post_form(client, f"/afspraken/{agreement_id}/bewerken", {
        "reference": "T-SCHERM-1", "domain": "jeugd", "segments": ["jeugd.S4"], "lot": "regional",
        "contract_form": "c", "start_date": f"{YEAR}-01-01", "scheme": "3+1"})
    assert response.status_code == 302
    with app.app_context():
        assert agreements.segments_of(db.session().get(FrameworkAgreement, agreement_id)) == ["jeugd.S4"]
    # The provider does not change, even when someone posts it.
    response = post_form(client, f"/afspraken/{agreement_id}/bewerken", {
        "organisation_id": provider_id, "reference": "T-SCHERM-1", "domain": "jeugd", "segments": ["jeugd.S4"],
        "lot": "regional", "contract_form": "c", "start_date": f"{YEAR}-01-01", "scheme": "3+1"})
    assert response.status_code == 400


def test_a_refused_framework_agreement_shows_the_error_on_its_field(app, signed_in):
    client = signed_in(MANAGER)
    before = _count(app, FrameworkAgreement)
    response = post_form(client, "/afspraken/nieuw", {
        "organisation_id": organisation_id(app, "Zorggroep Maasland"), "reference": "T-FOUT-1", "domain": "jeugd",
        "segments": ["jeugd.S1"], "lot": "local", "contract_form": "a", "start_date": "2040-01-01"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Controleer het formulier" in body
    assert re.search(r'id="lot-error".*Perceel lokaal bestaat niet voor Jeugd S1', body, re.S)
    assert _count(app, FrameworkAgreement) == before


def organisation_id(app, name: str) -> int:
    with app.app_context():
        return organisation(name).id


@pytest.mark.date_sensitive
def test_extension_and_evaluation_through_the_screens(app, signed_in):
    """Agreements that started last year run today: both extensions can be used, and last year is
    the bow-wave agreement's next year to evaluate."""
    year = this_year()
    with app.app_context():
        provider = new_provider("Testzorg Scherm")
        ordinary = framework(provider, "T-VERL-1", segments=("wmo.S1a",), start=date(year - 1, 1, 1))
        bow_wave = framework(provider, "T-BOEG-1", segments=("participatie.S3",), contract_form="a",
                             start=date(year - 1, 1, 1), bow_wave=True)
        db.session().commit()
        ordinary_id, bow_wave_id = ordinary.id, bow_wave.id
    client = signed_in(MANAGER)
    page = f"/afspraken/{ordinary_id}"
    response = post_form(client, f"{page}/verlengen", {}, form_path=page)
    assert response.status_code == 302
    response = post_form(client, f"{page}/verlengen", {}, form_path=page)
    assert response.status_code == 302
    with app.app_context():
        agreement = db.session().get(FrameworkAgreement, ordinary_id)
        assert agreement.extensions_used == 2
        assert agreements.term_of(agreement).end == date(year + 3, 12, 31)
    detail = client.get(page).get_data(as_text=True)
    assert "Verlengen met" not in detail and "2 van 2 gebruikt" in detail
    refused = post_form(client, f"{page}/verlengen", {}, form_path=f"/afspraken/{bow_wave_id}")
    assert refused.status_code == 422 and "Alle verlengingsopties" in refused.get_data(as_text=True)

    page = f"/afspraken/{bow_wave_id}"
    assert f'value="{year - 1}"' in client.get(page).get_data(as_text=True)  # next year to evaluate
    response = post_form(client, f"{page}/evaluatie", {"year": year - 1, "satisfactory": "nee",
                                                      "note": "Doorlooptijden te lang"})
    assert response.status_code == 302
    again = post_form(client, f"{page}/evaluatie", {"year": year - 1, "satisfactory": "ja"})
    assert again.status_code == 422
    assert re.search(r'id="year-error".*al geëvalueerd', again.get_data(as_text=True), re.S)
    history = _text(client.get(page).get_data(as_text=True))
    assert f"{year - 1} Onvoldoende" in history and "Doorlooptijden te lang" in history
    with app.app_context():
        assert db.session().exec(select(func.count()).select_from(BowWaveEvaluation).where(
            BowWaveEvaluation.framework_agreement_id == bow_wave_id)).one() == 1


def test_framework_list_filters_sorts_and_shows_the_term(app, signed_in):
    ids = _setup(app)
    client = signed_in(AUDITOR)
    body = _text(client.get(f"/afspraken/?aanbieder={ids['venray']}").get_data(as_text=True))
    assert "T-VENRAY-1" in body and "T-MAAS-1" not in body and "Lokaal" in body
    body = client.get("/afspraken/?domein=jeugd&sorteer=-kenmerk", headers=HTMX).get_data(as_text=True)
    assert "<html" not in body and "T-MAAS-1" in body and "T-VENRAY-1" not in body
    assert 'aria-sort="descending"' in body
    future = client.get("/afspraken/?status=future").get_data(as_text=True)
    running = client.get("/afspraken/?status=running").get_data(as_text=True)
    assert ("T-MAAS-1" in future) != ("T-MAAS-1" in running)
    # Auditors read; they get no buttons that change anything.
    detail = client.get(f"/afspraken/{ids['regional']}").get_data(as_text=True)
    assert "Wijzigen" not in detail and "Verlengen" not in detail and "Samenvatting (PDF)" in detail


# --- Budget agreements -----------------------------------------------------------------------------


def test_contract_manager_creates_a_budget_agreement(app, signed_in):
    ids = _setup(app)
    client = signed_in(MANAGER)
    form = client.get(f"/afspraken/budgetten/nieuw?aanbieder={ids['maasland']}").get_data(as_text=True)
    assert "Voorschotschema" in form and '<optgroup label="Jeugd">' in form
    response = post_form(client, "/afspraken/budgetten/nieuw", {
        "organisation_id": ids["maasland"], "municipality_id": organisation_id(app, "Horst aan de Maas"),
        "segment_key": "jeugd.S3", "year": ids["year"], "kind": "budget", "amount": "60.000,00",
        "bandwidth_percentage": "2,5", "advance_installments": "4"})
    assert response.status_code == 302, _text(response.get_data(as_text=True))
    listing = _text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Horst aan de Maas" in listing and "€ 60.000,00" in listing and "2,5%" in listing
    assert "Per kwartaal" in listing and "1e kwartaal € 15.000,00" in listing
    with app.app_context():
        created = db.session().exec(select(BudgetAgreement).where(
            BudgetAgreement.municipality_id == organisation("Horst aan de Maas").id,
            BudgetAgreement.organisation_id == ids["maasland"], BudgetAgreement.year == ids["year"])).one()
        assert (created.amount, created.bandwidth_percentage, created.advance_installments) == (D("60000.00"), D("2.5"), 4)


def test_a_budget_agreement_for_a_local_provider_is_refused_on_the_provider_field(app, signed_in):
    ids = _setup(app)
    client = signed_in(MANAGER)
    before = _count(app, BudgetAgreement)
    response = post_form(client, "/afspraken/budgetten/nieuw", {
        "organisation_id": ids["venray"], "municipality_id": ids["venlo_id"], "segment_key": "wmo.S3a",
        "year": ids["local_year"], "kind": "budget", "amount": "10.000,00", "bandwidth_percentage": "",
        "advance_installments": "12"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert re.search(r'id="organisation_id-error".*lokale perceel', body, re.S)
    assert "Controleer het formulier" in body
    assert _count(app, BudgetAgreement) == before
    # A bad amount is refused by the form, in Dutch, on its field.
    response = post_form(client, "/afspraken/budgetten/nieuw", {
        "organisation_id": ids["maasland"], "municipality_id": ids["venlo_id"], "segment_key": "jeugd.S4",
        "year": ids["year"], "kind": "budget", "amount": "12,345", "advance_installments": "12"})
    assert response.status_code == 422
    assert re.search(r'id="amount-error".*hoogstens 2 cijfers', response.get_data(as_text=True), re.S)
    assert _count(app, BudgetAgreement) == before


def test_advance_preview_follows_amount_and_installments(app, signed_in):
    client = signed_in(MANAGER)
    body = _text(client.get("/afspraken/budgetten/voorschotten?amount=1.000,00&advance_installments=12&kind=budget",
                            headers=HTMX).get_data(as_text=True))
    assert "12 voorschotten" in body and "januari € 83,34" in body and "december € 83,33" in body
    body = _text(client.get("/afspraken/budgetten/voorschotten?amount=1000&advance_installments=&kind=ceiling",
                            headers=HTMX).get_data(as_text=True))
    assert "geen voorschotten" in body


def test_inline_editing_of_a_budget_row(app, signed_in):
    ids = _setup(app)
    client = signed_in(MANAGER)
    row_url = f"/afspraken/budgetten/{ids['venlo']}/rij/bewerken"
    edit_row = client.get(row_url, headers=HTMX).get_data(as_text=True)
    assert edit_row.lstrip().startswith("<tr") and 'name="amount"' in edit_row and 'value="125000"' in edit_row
    assert client.get(row_url).status_code == 302  # without htmx: the full edit screen

    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/afspraken/budgetten/").get_data(as_text=True)).group(1)
    saved = client.post(row_url, data={"amount": "150.000,50", "bandwidth_percentage": "7,5"},
                        headers={**HTMX, "X-CSRFToken": token})
    assert saved.status_code == 200
    text = _text(saved.get_data(as_text=True))
    assert "€ 150.000,50" in text and "7,5%" in text and "Opgeslagen" in text

    refused = client.post(row_url, data={"amount": "160.000,00", "bandwidth_percentage": "101"},
                          headers={**HTMX, "X-CSRFToken": token})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert body.lstrip().startswith("<tr") and 'aria-invalid="true"' in body
    assert re.search(r'id="bandwidth-\d+-error".*0 tot en met 100', body, re.S)
    with app.app_context():
        agreement = db.session().get(BudgetAgreement, ids["venlo"])
        assert (agreement.amount, agreement.bandwidth_percentage) == (D("150000.50"), D("7.5"))
        event = db.session().exec(select(AuditEvent).where(AuditEvent.action == "budget_agreement.changed",
                                                           AuditEvent.object_id == str(ids["venlo"]))).one()
        assert event.actor_email == MANAGER
        assert event.details["before"]["amount"] == "125000.00" and event.details["after"]["amount"] == "150000.50"

    # A ceiling has no bandwidth: posting one is refused in the row.
    ceiling_row = f"/afspraken/budgetten/{ids['gennep']}/rij/bewerken"
    refused = client.post(ceiling_row, data={"amount": "50.000", "bandwidth_percentage": "5"},
                          headers={**HTMX, "X-CSRFToken": token})
    assert refused.status_code == 422 and "geen bandbreedte" in refused.get_data(as_text=True)
    # Auditors may not edit; a provider does not even see the region's list.
    assert signed_in(AUDITOR).post(row_url, data={"amount": "1"}, headers={**HTMX, "X-CSRFToken": token}).status_code in (400, 403)
    assert signed_in(MAASLAND_ADMIN).get("/afspraken/budgetten/").status_code == 403


def test_budget_list_filters_and_totals(app, signed_in):
    ids = _setup(app)
    client = signed_in(MANAGER)
    body = _text(client.get(f"/afspraken/budgetten/?aanbieder={ids['maasland']}&jaar={ids['year']}&soort=ceiling")
                 .get_data(as_text=True))
    assert "1 afspraak gevonden; samen € 43.210,98" in body and "Gennep" in body
    body = client.get(f"/afspraken/budgetten/?gemeente={ids['venlo_id']}&aanbieder={ids['maasland']}&sorteer=-bedrag",
                      headers=HTMX).get_data(as_text=True)
    assert "<html" not in body and "Venlo" in body and "Gennep" not in body


# --- Extra capacity -----------------------------------------------------------------------------------


def test_extra_capacity_over_ten_percent_is_refused_on_the_amount(app, signed_in):
    ids = _setup(app)
    client = signed_in(MANAGER)
    contracted = D("125000.00") + D("43210.98")
    with app.app_context():
        contracted = agreements.contracted_value(organisation("Venlo").region_id, "jeugd.S3", ids["year"])
    room = (contracted * D("0.10")).quantize(D("0.01"))
    data = {"organisation_id": ids["venray"], "municipality_id": "", "segment_key": "jeugd.S3",
            "year": ids["year"], "reason": "Wachtlijst; raamaanbieders kunnen niet leveren"}
    before = _count(app, ExtraCapacity)
    refused = post_form(client, "/afspraken/extra-capaciteit/nieuw",
                        {**data, "amount": f"{room + D('0.01')}".replace(".", ",")})
    assert refused.status_code == 422
    assert re.search(r'id="amount-error".*10% van de gecontracteerde waarde', refused.get_data(as_text=True), re.S)
    assert _count(app, ExtraCapacity) == before
    short = post_form(client, "/afspraken/extra-capaciteit/nieuw", {**data, "reason": "Vol", "amount": "10"})
    assert short.status_code == 422 and "ten minste 10 tekens" in short.get_data(as_text=True)
    saved = post_form(client, "/afspraken/extra-capaciteit/nieuw", {**data, "amount": f"{room}".replace(".", ",")})
    assert saved.status_code == 302
    listing = _text(client.get(saved.headers["Location"]).get_data(as_text=True))
    assert "Thuishulp Venray" in listing and "Hele regio" in listing and "Wachtlijst" in listing
    assert "10% geen" in listing  # the share used, and no room left


# --- What providers and municipalities see ----------------------------------------------------------


def test_provider_sees_its_own_contracts_only(app, signed_in):
    ids = _setup(app)
    maasland = signed_in(MAASLAND_ADMIN)
    body = _text(maasland.get("/mijn-contracten/").get_data(as_text=True))
    assert "T-MAAS-1" in body and "T-VENRAY-1" not in body
    assert "€ 125.000,00" in body and "€ 43.210,98" in body and "Budgetplafond" in body
    assert "Per maand" in body and "januari € 10.416,67" in body and "december € 10.416,66" in body
    assert f"/afspraken/{ids['regional']}/samenvatting.pdf" in maasland.get("/mijn-contracten/").get_data(as_text=True)
    assert maasland.get(f"/afspraken/{ids['regional']}/samenvatting.pdf").status_code == 200
    assert maasland.get(f"/afspraken/{ids['local']}/samenvatting.pdf").status_code == 404
    assert maasland.get(f"/afspraken/{ids['regional']}").status_code == 403

    venray = signed_in(VENRAY_ADMIN)
    body = _text(venray.get("/mijn-contracten/").get_data(as_text=True))
    assert "T-VENRAY-1" in body and "T-MAAS-1" not in body and "125.000,00" not in body
    assert venray.get(f"/afspraken/{ids['regional']}/samenvatting.pdf").status_code == 404
    filtered = venray.get(f"/mijn-contracten/?gemeente={ids['venlo_id']}", headers=HTMX).get_data(as_text=True)
    assert "<html" not in filtered and "Geen budgetafspraken" in filtered


def test_municipality_sees_its_own_budget_agreements_only(app, signed_in):
    ids = _setup(app)
    venlo = signed_in(VENLO)
    body = _text(venlo.get(f"/budgetafspraken/?aanbieder={ids['maasland']}").get_data(as_text=True))
    assert "€ 125.000,00" in body and "43.210,98" not in body and "Zorggroep Maasland" in body
    # Asking for another municipality's agreements through the filter changes nothing.
    body = _text(venlo.get(f"/budgetafspraken/?gemeente={ids['gennep_id']}&aanbieder={ids['maasland']}")
                 .get_data(as_text=True))
    assert "43.210,98" not in body and "€ 125.000,00" in body
    gennep = _text(signed_in(GENNEP).get(f"/budgetafspraken/?aanbieder={ids['maasland']}").get_data(as_text=True))
    assert "€ 43.210,98" in gennep and "125.000,00" not in gennep
    assert venlo.get(f"/afspraken/{ids['regional']}/samenvatting.pdf").status_code == 403
    assert venlo.get("/mijn-contracten/").status_code == 403


def test_full_edit_screen_of_a_budget_agreement(app, signed_in):
    ids = _setup(app)
    client = signed_in(MANAGER)
    path = f"/afspraken/budgetten/{ids['venlo']}/wijzigen"
    page = client.get(path).get_data(as_text=True)
    assert 'value="125000"' in page and "Voorschotschema" in page and "€ 10.416,67" in page.replace("\xa0", " ")
    refused = post_form(client, path, {"kind": "ceiling", "amount": "90.000,00", "bandwidth_percentage": "",
                                       "advance_installments": "12"})
    assert refused.status_code == 422
    assert re.search(r'id="advance_installments-error".*geen voorschotten', refused.get_data(as_text=True), re.S)
    saved = post_form(client, path, {"kind": "ceiling", "amount": "90.000,00", "bandwidth_percentage": "",
                                     "advance_installments": ""})
    assert saved.status_code == 302
    with app.app_context():
        agreement = db.session().get(BudgetAgreement, ids["venlo"])
        assert (agreement.kind, agreement.amount, agreement.advance_installments) == ("ceiling", D("90000.00"), None)
    assert signed_in(AUDITOR).get(path).status_code == 403
