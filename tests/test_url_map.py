"""Walks the whole URL map for an anonymous visitor and every role, and checks each answer.

Every route must appear in EXPECTED: a new route fails this test until someone decides who may
see it.
"""
from __future__ import annotations

import pytest
from sqlmodel import select

from portal.models import Membership, Organisation, User
from tests.conftest import sign_in

ROLES = ("anonymous", "provider_admin", "provider_user", "contract_manager", "municipality_user", "auditor")
ACCOUNTS = {
    "provider_admin": "beheer@zorggroep-maasland.example",
    "provider_user": "medewerker@zorggroep-maasland.example",
    "contract_manager": "contractmanager@mgr-noord-limburg.example",
    "municipality_user": "medewerker@venlo.example",
    "auditor": "auditor@accountant-noord-limburg.example",
}


def expect(*statuses):
    assert len(statuses) == len(ROLES)
    return dict(zip(ROLES, statuses))


EVERYONE = expect(200, 200, 200, 200, 200, 200)
SIGNED_IN = expect(302, 200, 200, 200, 200, 200)
REGION_READERS = expect(302, 403, 403, 200, 403, 200)
CONTRACT_MANAGER = expect(302, 403, 403, 200, 403, 403)
PROVIDER_ADMIN = expect(302, 200, 403, 403, 403, 403)
POST_ONLY = expect(405, 405, 405, 405, 405, 405)
BAD_TOKEN = expect(400, 400, 400, 400, 400, 400)

EXPECTED = {
    "static": EVERYONE,
    "home.health": EVERYONE,
    "home.index": SIGNED_IN,
    "home.choose_organisation": SIGNED_IN,
    "auth.sign_in": expect(200, 302, 302, 302, 302, 302),
    "auth.sign_out": POST_ONLY,
    "auth.forgot_password": EVERYONE,
    "auth.reset_password": BAD_TOKEN,
    "auth.accept_invitation": BAD_TOKEN,
    "organisations.list_organisations": REGION_READERS,
    "organisations.detail": REGION_READERS,
    "organisations.create": CONTRACT_MANAGER,
    "organisations.edit": CONTRACT_MANAGER,
    "organisations.invite": CONTRACT_MANAGER,
    "users.list_users": PROVIDER_ADMIN,
    "users.invite": PROVIDER_ADMIN,
    "users.change_role": PROVIDER_ADMIN,
    "users.remove": PROVIDER_ADMIN,
    "segments.list_segments": SIGNED_IN,
    "audit_log.list_events": REGION_READERS,
    "wmo.overview": SIGNED_IN,
    "jeugd.overview": SIGNED_IN,
    "participatie.overview": SIGNED_IN,
}


def _sample_arguments(app):
    from portal import db

    with app.app_context():
        session = db.session()
        organisation = session.exec(select(Organisation).where(Organisation.name == "Thuishulp Venray")).one()
        colleague = session.exec(select(Membership).join(User, User.id == Membership.user_id)
                                 .where(User.email == "medewerker@zorggroep-maasland.example")).one()
        return {"organisation_id": organisation.id, "membership_id": colleague.id,
                "token": "geen-geldige-link", "filename": "portal.css"}


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - EXPECTED.keys() == set(), "routes without a decided answer"
    assert EXPECTED.keys() - endpoints == set(), "table names routes that no longer exist"


def test_walk_url_map_for_every_role(app, demo):
    arguments = _sample_arguments(app)
    clients = {"anonymous": app.test_client()}
    for role, email in ACCOUNTS.items():
        clients[role] = app.test_client()
        assert sign_in(clients[role], email).status_code == 302
    failures = []
    for rule in app.url_map.iter_rules():
        url = app.url_for(rule.endpoint, **{name: arguments[name] for name in rule.arguments})
        for role in ROLES:
            response = clients[role].get(url)
            wanted = EXPECTED[rule.endpoint][role]
            if response.status_code != wanted:
                failures.append(f"{role:18} GET {url} -> {response.status_code}, expected {wanted}")
            elif wanted == 302 and role == "anonymous":
                if "/inloggen" not in response.headers["Location"]:
                    failures.append(f"{role} GET {url} redirects to {response.headers['Location']}")
            response.close()
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("status_page", ["/bestaat-niet", "/organisaties/999999"])
def test_not_found_pages_are_dutch_and_plain(app, demo, status_page):
    client = app.test_client()
    sign_in(client, ACCOUNTS["contract_manager"])
    response = client.get(status_page)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Pagina niet gevonden" in body
    assert "Traceback" not in body
