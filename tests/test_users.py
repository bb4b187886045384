"""A provider admin manages its own organisation's accounts."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.models import AuditEvent, MailMessage, Membership, User
from tests.conftest import post_form

ADMIN = "beheer@zorggroep-maasland.example"


def _membership(app, email):
    with app.app_context():
        return db.session().exec(select(Membership).join(User, User.id == Membership.user_id)
                                 .where(User.email == email)).one()


def test_admin_invites_a_colleague(app, signed_in):
    client = signed_in(ADMIN)
    response = post_form(client, "/gebruikers/uitnodigen", {
        "name": "Noor Jacobs", "email": "Noor.Jacobs@zorggroep-maasland.example", "role": "provider_user"})
    assert response.status_code == 302
    with app.app_context():
        session = db.session()
        user = session.exec(select(User).where(User.email == "noor.jacobs@zorggroep-maasland.example")).one()
        assert user.password_hash is None
        mail = session.exec(select(MailMessage).where(MailMessage.recipient == user.email)).one()
        assert "/uitnodiging/" in mail.body and "Zorggroep Maasland" in mail.body
    assert "Noor Jacobs" in client.get("/gebruikers/").get_data(as_text=True)


def test_admin_cannot_give_a_role_of_another_kind(app, signed_in):
    client = signed_in(ADMIN)
    response = post_form(client, "/gebruikers/uitnodigen", {
        "name": "Indringer", "email": "indringer@example.org", "role": "contract_manager"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session().exec(select(User).where(User.email == "indringer@example.org")).first() is None


def test_admin_changes_a_role_and_it_is_logged(app, signed_in):
    colleague = _membership(app, "medewerker@zorggroep-maasland.example")
    client = signed_in(ADMIN)
    response = post_form(client, f"/gebruikers/{colleague.id}/rol", {"role": "provider_admin"})
    assert response.status_code == 302
    with app.app_context():
        session = db.session()
        assert session.get(Membership, colleague.id).role == "provider_admin"
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "membership.role_changed")).one()
        assert event.details == {"before": {"role": "provider_user"}, "after": {"role": "provider_admin"}}


def test_last_admin_cannot_step_down(app, signed_in):
    own = _membership(app, ADMIN)
    client = signed_in(ADMIN)
    response = post_form(client, f"/gebruikers/{own.id}/rol", {"role": "provider_user"})
    assert response.status_code == 422
    assert "minstens één beheerder" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session().get(Membership, own.id).role == "provider_admin"


def test_removing_access_ends_the_colleagues_session(app, signed_in):
    colleague = _membership(app, "medewerker@zorggroep-maasland.example")
    colleague_client = signed_in("medewerker@zorggroep-maasland.example")
    assert colleague_client.get("/").status_code == 200
    client = signed_in(ADMIN)
    assert "Ja, toegang intrekken" in client.get(f"/gebruikers/{colleague.id}/verwijderen").get_data(as_text=True)
    response = post_form(client, f"/gebruikers/{colleague.id}/verwijderen", {})
    assert response.status_code == 302
    with app.app_context():
        session = db.session()
        assert session.get(Membership, colleague.id) is None
        assert session.exec(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.action == "membership.removed")).one() == 1
    assert colleague_client.get("/").status_code == 302
