"""Contract managers keep the organisations of their region; bad input is refused with nothing saved."""
from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.models import AuditEvent, Organisation
from tests.conftest import post_form

MANAGER = "contractmanager@mgr-noord-limburg.example"
GOOD_PROVIDER = {"name": "Zorgcoöperatie Maasdal", "kind": "provider", "kvk_number": "12345678",
                 "agb_code": "73731234", "is_active": "y"}


def _count(app):
    with app.app_context():
        return db.session().exec(select(func.count()).select_from(Organisation)).one()


def test_contract_manager_creates_a_provider(app, signed_in):
    client = signed_in(MANAGER)
    response = post_form(client, "/organisaties/nieuw", GOOD_PROVIDER)
    assert response.status_code == 302
    with app.app_context():
        session = db.session()
        created = session.exec(select(Organisation).where(Organisation.name == GOOD_PROVIDER["name"])).one()
        assert (created.kvk_number, created.agb_code, created.residents) == ("12345678", "73731234", None)
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "organisation.created")).one()
        assert event.details["after"]["kvk_number"] == "12345678" and event.details["before"] is None
        assert event.actor_email == MANAGER
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Zorgcoöperatie Maasdal" in page and "12345678" in page


@pytest.mark.parametrize("changes, field_message", [
    ({"kvk_number": "1234567"}, "Een KvK-nummer bestaat uit precies 8 cijfers."),
    ({"kvk_number": "1234567A"}, "Een KvK-nummer bestaat uit precies 8 cijfers."),
    ({"agb_code": "123456789"}, "Een AGB-code bestaat uit precies 8 cijfers."),
    ({"agb_code": ""}, "Een zorgaanbieder heeft een AGB-code."),
    ({"name": ""}, "Dit veld is verplicht."),
    ({"kind": "bank"}, "Ongeldige keuze"),
    ({"kind": "municipality", "kvk_number": "", "agb_code": "", "residents": "0", "municipality_code": "0983"},
     "Vul een aantal inwoners tussen 1 en 2.000.000 in."),
    ({"kind": "municipality", "kvk_number": "", "agb_code": "", "residents": "1000", "municipality_code": "98"},
     "Een CBS-gemeentecode bestaat uit 4 cijfers."),
    ({"kind": "municipality", "residents": "1000", "municipality_code": "0999"},
     "Alleen zorgaanbieders hebben een KvK-nummer en AGB-code hier."),
])
def test_bad_organisation_input_is_refused(app, signed_in, changes, field_message):
    client = signed_in(MANAGER)
    before = _count(app)
    response = post_form(client, "/organisaties/nieuw", {**GOOD_PROVIDER, **changes})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Controleer het formulier" in body
    assert field_message in body
    assert _count(app) == before


def test_duplicate_name_in_region_is_refused(app, signed_in):
    client = signed_in(MANAGER)
    response = post_form(client, "/organisaties/nieuw", {**GOOD_PROVIDER, "name": "Zorggroep Maasland"})
    assert response.status_code == 422
    assert "Er is al een organisatie met deze naam" in response.get_data(as_text=True)


def test_edit_records_before_and_after(app, signed_in):
    client = signed_in(MANAGER)
    with app.app_context():
        venlo = db.session().exec(select(Organisation).where(Organisation.name == "Venlo")).one()
    response = post_form(client, f"/organisaties/{venlo.id}/bewerken", {
        "name": "Venlo", "kind": "municipality", "residents": "102000", "municipality_code": "0983",
        "is_active": "y"})
    assert response.status_code == 302
    with app.app_context():
        session = db.session()
        assert session.get(Organisation, venlo.id).residents == 102000
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "organisation.changed")).one()
        assert event.details["before"]["residents"] == 101797
        assert event.details["after"]["residents"] == 102000


def test_kind_cannot_change_while_organisation_has_users(app, signed_in):
    client = signed_in(MANAGER)
    with app.app_context():
        venlo = db.session().exec(select(Organisation).where(Organisation.name == "Venlo")).one()
    response = post_form(client, f"/organisaties/{venlo.id}/bewerken", {
        "name": "Venlo", "kind": "auditor", "is_active": "y"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session().get(Organisation, venlo.id).kind == "municipality"


def test_auditor_reads_but_cannot_change(app, signed_in):
    client = signed_in("auditor@accountant-noord-limburg.example")
    assert client.get("/organisaties/").status_code == 200
    assert "Organisatie toevoegen" not in client.get("/organisaties/").get_data(as_text=True)
    assert client.get("/organisaties/nieuw").status_code == 403


def test_list_filters_and_searches(app, signed_in):
    client = signed_in(MANAGER)
    municipalities = client.get("/organisaties/?soort=municipality").get_data(as_text=True)
    assert "7 organisaties gevonden" in municipalities and "Zorggroep Maasland" not in municipalities
    search = client.get("/organisaties/?zoek=maas").get_data(as_text=True)
    assert "Zorggroep Maasland" in search and "Peel en Maas" in search and "Venray" not in search
