"""Every query is scoped to the signed-in organisation; another organisation's object is a 404."""
from __future__ import annotations

from sqlmodel import select

from portal import db
from portal.models import AuditEvent, Membership, Organisation, Region, User
from tests.conftest import csrf_token, sign_in

CONTRACT_MANAGER = "contractmanager@mgr-noord-limburg.example"
MAASLAND_ADMIN = "beheer@zorggroep-maasland.example"


def _other_region(app):
    """A second region with one provider and one account, to prove regions do not mix."""
    with app.app_context():
        session = db.session()
        region = Region(code="rivierenland", name="Rivierenland")
        session.add(region)
        session.flush()
        provider = Organisation(region_id=region.id, kind="provider", name="Zorg aan de Waal",
                                kvk_number="70000001", agb_code="73000001")
        session.add(provider)
        session.flush()
        user = User(email="beheer@zorgaandewaal.example", name="Els de Waal")
        session.add(user)
        session.flush()
        membership = Membership(user_id=user.id, organisation_id=provider.id, role="provider_admin")
        session.add(membership)
        session.add(AuditEvent(action="test.other_region", summary="elders", region_id=region.id))
        session.commit()
        return provider.id, membership.id


def _membership_id(app, email):
    with app.app_context():
        return db.session().exec(select(Membership.id).join(User, User.id == Membership.user_id)
                                 .where(User.email == email)).one()


def test_contract_manager_gets_404_for_another_regions_organisation(app, demo):
    other_provider, _ = _other_region(app)
    client = app.test_client()
    sign_in(client, CONTRACT_MANAGER)
    assert client.get(f"/organisaties/{other_provider}").status_code == 404
    assert client.get(f"/organisaties/{other_provider}/bewerken").status_code == 404
    listing = client.get("/organisaties/?soort=provider").get_data(as_text=True)
    assert "Zorg aan de Waal" not in listing
    assert "Zorggroep Maasland" in listing


def test_contract_manager_cannot_change_another_regions_organisation(app, demo):
    other_provider, _ = _other_region(app)
    client = app.test_client()
    sign_in(client, CONTRACT_MANAGER)
    token = csrf_token(client, "/organisaties/nieuw")
    response = client.post(f"/organisaties/{other_provider}/bewerken",
                           data={"csrf_token": token, "name": "Overgenomen", "kind": "provider",
                                 "kvk_number": "70000001", "agb_code": "73000001", "is_active": "y"})
    assert response.status_code == 404
    with app.app_context():
        assert db.session().get(Organisation, other_provider).name == "Zorg aan de Waal"


def test_provider_admin_gets_404_for_another_providers_membership(app, demo):
    thuishulp_colleague = _membership_id(app, "medewerker@thuishulp-venray.example")
    own_colleague = _membership_id(app, "medewerker@zorggroep-maasland.example")
    client = app.test_client()
    sign_in(client, MAASLAND_ADMIN)
    assert client.get(f"/gebruikers/{own_colleague}/rol").status_code == 200
    assert client.get(f"/gebruikers/{thuishulp_colleague}/rol").status_code == 404
    listing = client.get("/gebruikers/").get_data(as_text=True)
    assert "medewerker@zorggroep-maasland.example" in listing
    assert "medewerker@thuishulp-venray.example" not in listing


def test_provider_admin_cannot_remove_another_providers_colleague(app, demo):
    thuishulp_colleague = _membership_id(app, "medewerker@thuishulp-venray.example")
    client = app.test_client()
    sign_in(client, MAASLAND_ADMIN)
    token = csrf_token(client, "/gebruikers/")
    response = client.post(f"/gebruikers/{thuishulp_colleague}/verwijderen", data={"csrf_token": token})
    assert response.status_code == 404
    with app.app_context():
        assert db.session().get(Membership, thuishulp_colleague) is not None


def test_scoped_helper_per_role(app, demo):
    _other_region(app)
    from portal.accounts.scoping import scoped

    def visible(email):
        client = app.test_client()
        sign_in(client, email)
        with client:
            client.get("/")
            return {o.name for o in db.session().exec(scoped(select(Organisation), Organisation))}

    provider_view = visible(MAASLAND_ADMIN)
    assert provider_view == {"Zorggroep Maasland"}
    assert visible("medewerker@venlo.example") == {"Venlo"}
    region_view = visible(CONTRACT_MANAGER)
    assert "Zorggroep Maasland" in region_view and "Venlo" in region_view
    assert "Zorg aan de Waal" not in region_view
    assert visible("auditor@accountant-noord-limburg.example") == region_view


def test_audit_log_shows_only_own_region(app, demo):
    _other_region(app)
    client = app.test_client()
    sign_in(client, "auditor@accountant-noord-limburg.example")
    page = client.get("/logboek/").get_data(as_text=True)
    assert "Demoregio Noord-Limburg geladen" in page
    assert "elders" not in page
