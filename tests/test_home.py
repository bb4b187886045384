"""Each role's home page says who you are, for which organisation, and where to go next."""
from __future__ import annotations

import pytest
from sqlmodel import select

from portal import db
from portal.models import Membership, Organisation, User
from tests.conftest import post_form, sign_in

HOMES = {
    "beheer@zorggroep-maasland.example": ["Anouk Verstegen", "Zorggroep Maasland", "Beheerder zorgaanbieder",
                                          "61234567", "73730101", 'href="/gebruikers/"'],
    "medewerker@thuishulp-venray.example": ["Bram Willems", "Thuishulp Venray", "Medewerker zorgaanbieder",
                                            "64567890"],
    "contractmanager@mgr-noord-limburg.example": ["Marieke Janssen", "MGR Sociaal Domein Noord-Limburg",
                                                  "Contractmanager", 'href="/organisaties/"', 'href="/logboek/"'],
    "medewerker@venlo.example": ["Medewerker Venlo", "Venlo", "Medewerker gemeente", "101.797", "0983",
                                 "Periode van realisatieverantwoording", "Standaardwaarde"],
    "auditor@accountant-noord-limburg.example": ["Sanne Peeters", "Accountant (alleen lezen)",
                                                 "wijzigt niets", 'href="/logboek/"'],
}


@pytest.mark.parametrize("email", list(HOMES))
def test_home_per_role(signed_in, email):
    body = signed_in(email).get("/").get_data(as_text=True)
    for text in HOMES[email]:
        assert text in body, f"{text!r} missing on the home page of {email}"


def test_provider_user_is_not_offered_user_management(signed_in):
    body = signed_in("medewerker@thuishulp-venray.example").get("/").get_data(as_text=True)
    assert 'href="/gebruikers/"' not in body and 'href="/organisaties/"' not in body


def test_municipality_sees_its_population_share(signed_in):
    body = signed_in("medewerker@venlo.example").get("/").get_data(as_text=True)
    # 101,797 of 274,733 residents in the region
    assert "37,05%" in body


def test_user_with_two_organisations_chooses_and_switches(app, demo):
    with app.app_context():
        session = db.session()
        user = session.exec(select(User).where(User.email == "beheer@zorggroep-maasland.example")).one()
        venray = session.exec(select(Organisation).where(Organisation.name == "Thuishulp Venray")).one()
        second = Membership(user_id=user.id, organisation_id=venray.id, role="provider_user")
        session.add(second)
        session.commit()
        second_id = second.id
    client = app.test_client()
    response = sign_in(client, "beheer@zorggroep-maasland.example")
    assert client.get("/").headers["Location"].endswith("/organisatie-kiezen")
    assert client.get("/gebruikers/").status_code == 302  # nothing before choosing
    response = post_form(client, "/organisatie-kiezen", {"membership": second_id})
    assert response.status_code == 302
    body = client.get("/").get_data(as_text=True)
    assert "Thuishulp Venray" in body and "Medewerker zorgaanbieder" in body
    assert "Werken voor een andere organisatie" in body
    assert client.get("/gebruikers/").status_code == 403  # a provider_user there


def test_choosing_someone_elses_membership_is_refused(app, demo):
    with app.app_context():
        session = db.session()
        user = session.exec(select(User).where(User.email == "beheer@zorggroep-maasland.example")).one()
        venray = session.exec(select(Organisation).where(Organisation.name == "Thuishulp Venray")).one()
        session.add(Membership(user_id=user.id, organisation_id=venray.id, role="provider_user"))
        session.commit()
        foreign = session.exec(select(Membership).join(User, User.id == Membership.user_id)
                               .where(User.email == "medewerker@venlo.example")).one().id
    client = app.test_client()
    sign_in(client, "beheer@zorggroep-maasland.example")
    response = post_form(client, "/organisatie-kiezen", {"membership": foreign})
    assert response.status_code == 422
    assert client.get("/").headers["Location"].endswith("/organisatie-kiezen")
