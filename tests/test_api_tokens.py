"""API tokens: only the hash is stored, revoked or unknown tokens get a JSON 401, cookies never
open the API and bearer tokens never open the screens; the command line and the "API-sleutels"
screen create and revoke them, audited."""
from __future__ import annotations

import hashlib

import pytest
from sqlmodel import select

from portal import db
from portal.accounts import api_tokens
from portal.models import ApiToken, AuditEvent, Membership, Organisation, User
from tests.conftest import csrf_token, post_form
from tests.test_api import small_region

MAASLAND_ADMIN = "beheer@zorggroep-maasland.example"
MAASLAND_USER = "medewerker@zorggroep-maasland.example"
CONTRACT_MANAGER = "contractmanager@mgr-noord-limburg.example"
API = "/api/v1/framework-agreements"


@pytest.fixture
def accounts(app):
    """The accounts of a small region, without passwords (quicker than the demo region)."""
    with app.app_context():
        small_region(db.session())
        db.session().commit()


def make_token(app, email: str, label: str = "test", organisation: str | None = None) -> str:
    with app.app_context():
        session = db.session()
        user = session.exec(select(User).where(User.email == email)).one()
        _token, plain = api_tokens.create_token(user, api_tokens.membership_for(user, organisation), label)
        session.commit()
        return plain


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def token_row(app, plain: str) -> ApiToken:
    with app.app_context():
        return db.session().exec(select(ApiToken).where(ApiToken.token_hash == api_tokens.hash_token(plain))).one()


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session().exec(select(AuditEvent).where(AuditEvent.action == action)
                                      .order_by(AuditEvent.id)).all())


def test_only_the_hash_is_stored_and_creation_is_audited(app, accounts):
    plain = make_token(app, MAASLAND_ADMIN, "koppeling ECD")
    assert plain.startswith("pp_") and len(plain) > 40
    row = token_row(app, plain)
    assert row.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert row.label == "koppeling ECD" and row.revoked_at is None and row.last_used_at is None
    [created] = events(app, "api_token.created")
    assert created.object_id == str(row.id)
    assert created.details["after"]["organisation"] == "Zorggroep Maasland"
    assert created.details["after"]["fingerprint"] == row.token_hash[:12]
    assert plain not in str(created.details) and plain not in created.summary


def test_a_live_token_reads_and_records_its_last_use(app, accounts, client):
    plain = make_token(app, MAASLAND_ADMIN)
    response = client.get(API, headers=bearer(plain))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["data"] == [] and response.json["total"] == 0
    assert token_row(app, plain).last_used_at is not None


def test_revoked_unknown_and_missing_tokens_get_a_json_401(app, accounts, client):
    plain = make_token(app, MAASLAND_ADMIN)
    with app.app_context():
        api_tokens.revoke_token(db.session().get(ApiToken, token_row(app, plain).id))
        db.session().commit()
    for headers, invalid in ((bearer(plain), True), (bearer("pp_verzonnen"), True), ({}, False),
                             ({"Authorization": "Basic dXNlcjpwdw=="}, False)):
        response = client.get(API, headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/json"
        assert response.json["error"]["code"] == "unauthorized"
        assert response.json["error"]["message"]
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith("Bearer")
        assert ('error="invalid_token"' in challenge) is invalid
    assert len(events(app, "api_token.revoked")) == 1


def test_a_token_stops_working_when_its_account_or_organisation_is_deactivated(app, accounts, client):
    plain = make_token(app, MAASLAND_ADMIN)
    assert client.get(API, headers=bearer(plain)).status_code == 200
    with app.app_context():
        session = db.session()
        organisation = session.exec(select(Organisation).where(Organisation.name == "Zorggroep Maasland")).one()
        organisation.is_active = False
        session.add(organisation)
        session.commit()
    assert client.get(API, headers=bearer(plain)).status_code == 401


def test_a_cookie_session_never_opens_the_api(app, signed_in):
    client = signed_in(CONTRACT_MANAGER)
    assert client.get("/logboek/").status_code == 200  # the cookie works on the screens
    response = client.get(API)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert "Set-Cookie" not in response.headers


def test_a_bearer_token_never_opens_the_screens_nor_sets_a_cookie(app, accounts, client):
    plain = make_token(app, CONTRACT_MANAGER)
    screen = client.get("/logboek/", headers=bearer(plain))
    assert screen.status_code == 302 and "/inloggen" in screen.headers["Location"]
    response = client.get(API, headers=bearer(plain))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


# --- Command line ------------------------------------------------------------------------------


def test_cli_create_prints_only_the_token_and_revoke_stops_it(app, accounts, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["token", "create", MAASLAND_ADMIN, "--label", "ECD"])
    assert result.exit_code == 0, result.output
    plain = result.stdout.strip()
    assert plain.startswith("pp_") and "\n" not in plain
    assert "niet nog eens getoond" in result.stderr
    assert client.get(API, headers=bearer(plain)).status_code == 200

    listing = runner.invoke(args=["token", "list", MAASLAND_ADMIN])
    row = token_row(app, plain)
    assert listing.exit_code == 0 and row.token_hash[:12] in listing.stdout and "actief" in listing.stdout
    assert plain not in listing.stdout

    revoked = runner.invoke(args=["token", "revoke", row.token_hash[:8]])
    assert revoked.exit_code == 0, revoked.output
    assert client.get(API, headers=bearer(plain)).status_code == 401
    again = runner.invoke(args=["token", "revoke", str(row.id)])
    assert again.exit_code == 2 and "al ingetrokken" in again.stderr
    [event] = events(app, "api_token.revoked")
    assert "opdrachtregel" in event.summary
    assert event.details["before"]["revoked_at"] is None and event.details["after"]["revoked_at"]


def test_cli_refuses_unknown_accounts_and_tokens_with_exit_code_2(app, accounts):
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["token", "create", "niemand@nergens.example"])
    assert unknown.exit_code == 2 and "geen account" in unknown.stderr and unknown.stdout == ""
    for identifier in ("999", "abcdef123456", "x"):
        result = runner.invoke(args=["token", "revoke", identifier])
        assert result.exit_code == 2 and result.stderr.startswith("Fout: "), identifier
    with app.app_context():
        assert db.session().exec(select(ApiToken)).all() == []


def test_cli_asks_which_organisation_when_the_account_has_several(app, accounts, client):
    with app.app_context():
        session = db.session()
        user = session.exec(select(User).where(User.email == CONTRACT_MANAGER)).one()
        auditor_office = session.exec(select(Organisation).where(Organisation.kind == "auditor")).one()
        session.add(Membership(user_id=user.id, organisation_id=auditor_office.id, role="auditor"))
        session.commit()
    runner = app.test_cli_runner()
    ambiguous = runner.invoke(args=["token", "create", CONTRACT_MANAGER])
    assert ambiguous.exit_code == 2 and "--organisation" in ambiguous.stderr
    wrong = runner.invoke(args=["token", "create", CONTRACT_MANAGER, "--organisation", "Zorggroep Maasland"])
    assert wrong.exit_code == 2 and "werkt niet voor" in wrong.stderr
    chosen = runner.invoke(args=["token", "create", CONTRACT_MANAGER,
                                 "--organisation", "ACCOUNTANTSDIENST"])
    assert chosen.exit_code == 0, chosen.output
    row = token_row(app, chosen.stdout.strip())
    with app.app_context():
        assert db.session().get(Membership, row.membership_id).role == "auditor"


# --- The "API-sleutels" screen ------------------------------------------------------------------


def test_screen_shows_a_new_token_once_and_revokes_it(app, signed_in):
    browser = signed_in(MAASLAND_ADMIN)
    assert "U hebt nog geen API-sleutels" in browser.get("/api-sleutels/").get_data(as_text=True)
    created = post_form(browser, "/api-sleutels/nieuw", {"label": "Koppeling cliëntsysteem"})
    assert created.status_code == 201
    page = created.get_data(as_text=True)
    plain = page.split('spellcheck="false">', 1)[1].split("</textarea>", 1)[0]
    assert plain.startswith("pp_")
    assert created.headers["Cache-Control"] == "no-store"

    listing = browser.get("/api-sleutels/").get_data(as_text=True)
    assert "Koppeling cliëntsysteem" in listing and plain not in listing and "Actief" in listing

    api = app.test_client()
    assert api.get(API, headers=bearer(plain)).status_code == 200
    row = token_row(app, plain)
    assert browser.get(f"/api-sleutels/{row.id}/intrekken").status_code == 200
    revoked = post_form(browser, f"/api-sleutels/{row.id}/intrekken", {})
    assert revoked.status_code == 302
    assert api.get(API, headers=bearer(plain)).status_code == 401
    assert "Ingetrokken op" in browser.get("/api-sleutels/").get_data(as_text=True)
    [created_event] = events(app, "api_token.created")
    [revoked_event] = events(app, "api_token.revoked")
    assert created_event.actor_email == MAASLAND_ADMIN == revoked_event.actor_email


def test_screen_refuses_an_empty_label_and_a_missing_csrf_token(app, signed_in):
    browser = signed_in(MAASLAND_ADMIN)
    empty = post_form(browser, "/api-sleutels/nieuw", {"label": ""})
    assert empty.status_code == 422 and "Dit veld is verplicht" in empty.get_data(as_text=True)
    no_csrf = browser.post("/api-sleutels/nieuw", data={"label": "zonder token"})
    assert no_csrf.status_code == 400
    with app.app_context():
        assert db.session().exec(select(ApiToken)).all() == []


def test_screen_another_users_token_is_not_found(app, signed_in):
    plain = make_token(app, MAASLAND_ADMIN)
    row = token_row(app, plain)
    colleague = signed_in(MAASLAND_USER)
    assert colleague.get(f"/api-sleutels/{row.id}/intrekken").status_code == 404
    token = csrf_token(colleague, "/api-sleutels/nieuw")
    response = colleague.post(f"/api-sleutels/{row.id}/intrekken", data={"csrf_token": token})
    assert response.status_code == 404
    assert token_row(app, plain).revoked_at is None
    assert row.token_hash[:12] not in colleague.get("/api-sleutels/").get_data(as_text=True)


def test_removing_someones_access_revokes_their_tokens(app, signed_in, client):
    plain = make_token(app, MAASLAND_USER)
    with app.app_context():
        membership_id = token_row(app, plain).membership_id
    admin = signed_in(MAASLAND_ADMIN)
    response = post_form(admin, f"/gebruikers/{membership_id}/verwijderen", {})
    assert response.status_code == 302
    assert client.get(API, headers=bearer(plain)).status_code == 401
    [event] = events(app, "api_token.revoked")
    assert "toegang tot de organisatie ingetrokken" in event.summary
    assert event.actor_email == MAASLAND_ADMIN


def test_sessions_and_api_tokens_import_each_other_in_one_direction_only():
    """api_tokens builds on sessions; portal.accounts.login wires both into Flask-Login (no import loop)."""
    import ast
    import pathlib

    def imported(name: str) -> set[str]:
        tree = ast.parse((pathlib.Path(__file__).resolve().parent.parent / "portal" / "accounts" / f"{name}.py").read_text())
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        return found

    assert "portal.accounts.sessions" in imported("api_tokens")
    assert not {"portal.accounts.api_tokens", "portal.accounts.login"} & imported("sessions")
