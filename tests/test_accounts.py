"""Accounts: sign-in, password hashing, sessions, throttling, one-time links, CSRF, strict forms, mail.

Every test drives the app through its HTTP interface and then checks the database (in a session of
its own, never the request's) for what did or did not change, and for the audit trail.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from argon2 import PasswordHasher, Type
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, update
from sqlmodel import Session, SQLModel, select

from portal import db
from portal.accounts import tokens
from portal.accounts.passwords import hash_password, verify_password
from portal.models import (
    AuditEvent,
    LoginFailure,
    MailMessage,
    Membership,
    Organisation,
    UsedToken,
    User,
    UserSession,
    utcnow,
)
from tests.conftest import CSRF_RE, DEMO_PASSWORD, csrf_token, make_app, post_form, sign_in

ADMIN = "beheer@zorggroep-maasland.example"  # Anouk Verstegen, provider admin of Zorggroep Maasland
COLLEAGUE = "medewerker@zorggroep-maasland.example"  # Tom Gielen, provider user, same organisation
MANAGER = "contractmanager@mgr-noord-limburg.example"  # Marieke Janssen, contract manager

WRONG_CREDENTIALS = "Het e-mailadres of het wachtwoord is onjuist."
NEW_PASSWORD = "een-heel-nieuw-wachtwoord-2026"
COOKIE = "portal_session"
HOST = "portaal.test"

RESET_LINK = re.compile(r"http://portaal\.test(/wachtwoord-herstellen/[A-Za-z0-9_.\-]+)")
INVITATION_LINK = re.compile(r"http://portaal\.test(/uitnodiging/[A-Za-z0-9_.\-]+)")
ALERT = re.compile(r'<div class="alert alert-error"[^>]*>(.*?)</div>', re.S)
FLASHES = re.compile(r'<div class="flashes"[^>]*>(.*?)</div>', re.S)
ARGON2 = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")


@pytest.fixture
def app_config(request):
    """Per-test settings: ``@pytest.mark.parametrize("app_config", [{...}], indirect=True)``."""
    return getattr(request, "param", {})


# --- helpers -----------------------------------------------------------------------------------


def _engine(app):
    return app.extensions["portal.engine"]


def fetch(app, statement):
    with Session(_engine(app)) as session:
        return session.exec(statement).all()


def one(app, statement):
    rows = fetch(app, statement)
    assert len(rows) == 1, rows
    return rows[0]


def user(app, email: str) -> User:
    return one(app, select(User).where(User.email == email))


def events(app, action: str) -> list[AuditEvent]:
    return fetch(app, select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))


def sessions_of(app, email: str) -> list[UserSession]:
    return fetch(app, select(UserSession).join(User, User.id == UserSession.user_id)
                 .where(User.email == email).order_by(UserSession.created_at))


def outbox(app, recipient: str) -> list[MailMessage]:
    return fetch(app, select(MailMessage).where(MailMessage.recipient == recipient).order_by(MailMessage.id))


def execute(app, statement) -> None:
    with _engine(app).begin() as connection:
        connection.execute(statement)


def row_counts(app, ignore=("audit_event",)) -> dict[str, int]:
    """Rows per table: compare before and after to show a refused request changed nothing."""
    with _engine(app).connect() as connection:
        return {table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in SQLModel.metadata.sorted_tables if table.name not in ignore}


def alert(response) -> str:
    match = ALERT.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1)


def flashes(response) -> str:
    match = FLASHES.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1)


def session_cookie(client) -> str:
    cookie = client.get_cookie(COOKIE, domain=HOST)
    assert cookie is not None
    return cookie.value


def cookie_contents(app, value: str) -> dict:
    return app.session_interface.get_signing_serializer(app).loads(value)


def client_with_cookie(app, value: str):
    fresh = app.test_client()
    fresh.set_cookie(COOKIE, value, domain=HOST)
    return fresh


def is_anonymous(client) -> bool:
    response = client.get("/")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/inloggen")
        return True
    assert response.status_code == 200
    return False


def sign_in_from(client, address: str, email: str, password: str = DEMO_PASSWORD):
    environ = {"REMOTE_ADDR": address}
    page = client.get("/inloggen", environ_base=environ)
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    return client.post("/inloggen", data={"csrf_token": token, "email": email, "password": password},
                       environ_base=environ)


def request_reset(client, email: str):
    return post_form(client, "/wachtwoord-vergeten", {"email": email})


def reset_link(app, email: str) -> str:
    mails = outbox(app, email)
    assert mails, f"no mail to {email}"
    match = RESET_LINK.search(mails[-1].body)
    assert match, mails[-1].body
    return match.group(1)


def choose_password(client, link: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    """POST a new password to a one-time link (CSRF token from the sign-in page: a dead link has none)."""
    token = csrf_token(client, "/inloggen")
    return client.post(link, data={"csrf_token": token, "password": password,
                                   "confirm": password if confirm is None else confirm})


@contextmanager
def other_app(database_url, **overrides):
    """A second app on the same database, with other settings (the ``app`` fixture empties it)."""
    application = make_app(database_url, **overrides)
    try:
        yield application
    finally:
        application.extensions["portal.engine"].dispose()


# --- 1. signing in ----------------------------------------------------------------------------


def test_sign_in_with_demo_account_shows_home_with_name_and_organisation(app, client, demo):
    assert is_anonymous(client)
    response = sign_in(client, ADMIN)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    page = home.get_data(as_text=True)
    assert "Welkom, Anouk Verstegen" in page
    assert "Zorggroep Maasland" in page
    assert "Beheerder zorgaanbieder" in page
    assert len(sessions_of(app, ADMIN)) == 1
    assert [e.actor_email for e in events(app, "auth.signed_in")] == [ADMIN]
    # the address is matched without regard to case or surrounding spaces
    assert sign_in(app.test_client(), "  Beheer@Zorggroep-Maasland.EXAMPLE ").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_401_and_are_audited(app, demo):
    before = row_counts(app, ignore=("audit_event", "login_failure"))
    wrong_client, unknown_client = app.test_client(), app.test_client()
    wrong = sign_in(wrong_client, ADMIN, "niet-het-goede-wachtwoord")
    unknown = sign_in(unknown_client, "niemand@nergens.example", "niet-het-goede-wachtwoord")

    assert wrong.status_code == unknown.status_code == 401
    assert WRONG_CREDENTIALS in alert(wrong)
    assert alert(wrong) == alert(unknown)  # nothing tells the two apart
    assert row_counts(app, ignore=("audit_event", "login_failure")) == before  # no session, no user
    assert is_anonymous(wrong_client) and is_anonymous(unknown_client)

    failed = events(app, "auth.sign_in_failed")
    assert [e.details for e in failed] == [
        {"email": ADMIN, "reason": "wrong_password"},
        {"email": "niemand@nergens.example", "reason": "unknown_email"},
    ]
    assert failed[0].actor_user_id == user(app, ADMIN).id
    assert failed[1].actor_user_id is None
    assert events(app, "auth.signed_in") == []


def test_inactive_account_cannot_sign_in(app, client, demo):
    execute(app, update(User).where(User.email == ADMIN).values(is_active=False))
    response = sign_in(client, ADMIN)
    assert response.status_code == 401
    assert WRONG_CREDENTIALS in alert(response)
    assert sessions_of(app, ADMIN) == []
    assert events(app, "auth.sign_in_failed")[-1].details["reason"] == "inactive"


def test_sign_in_redirects_only_to_a_path_on_this_site(app, demo):
    for target, expected in [("/organisatie-kiezen", "/organisatie-kiezen"),
                             ("//evil.example/", "/"), ("https://evil.example/", "/")]:
        client = app.test_client()
        token = csrf_token(client, "/inloggen")
        response = client.post("/inloggen", query_string={"next": target},
                               data={"csrf_token": token, "email": ADMIN, "password": DEMO_PASSWORD})
        assert response.status_code == 302
        assert response.headers["Location"] == expected, target


# --- 2. password hashing ----------------------------------------------------------------------


def assert_strong_argon2id(password_hash: str) -> None:
    match = ARGON2.match(password_hash)
    assert match, f"not an argon2id hash: {password_hash!r}"
    memory_cost, time_cost, parallelism = (int(group) for group in match.groups())
    assert memory_cost >= 19456
    assert time_cost >= 2
    assert parallelism >= 1


def test_passwords_are_hashed_with_argon2id_at_owasp_strength(app, demo):
    fresh = hash_password("correct horse battery staple")
    assert_strong_argon2id(fresh)
    assert "correct horse" not in fresh
    assert hash_password("correct horse battery staple") != fresh  # salted
    assert verify_password(fresh, "correct horse battery staple")
    assert not verify_password(fresh, "correct horse battery stapler")
    assert not verify_password(None, "")
    assert_strong_argon2id(user(app, ADMIN).password_hash)


def test_a_weak_hash_is_upgraded_at_sign_in(app, client, demo):
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID).hash(DEMO_PASSWORD)
    execute(app, update(User).where(User.email == ADMIN).values(password_hash=weak))
    assert sign_in(client, ADMIN).status_code == 302
    upgraded = user(app, ADMIN).password_hash
    assert upgraded != weak
    assert_strong_argon2id(upgraded)
    assert verify_password(upgraded, DEMO_PASSWORD)


# --- 3. sessions ------------------------------------------------------------------------------


def test_sign_in_renews_the_session(app, client, demo):
    client.get("/inloggen")
    anonymous_cookie = session_cookie(client)
    anonymous_contents = cookie_contents(app, anonymous_cookie)
    assert "_user_id" not in anonymous_contents

    response = sign_in(client, ADMIN)
    assert response.status_code == 302
    signed_in_cookie = session_cookie(client)
    assert signed_in_cookie != anonymous_cookie
    contents = cookie_contents(app, signed_in_cookie)
    # nothing from before sign-in survives, not even the CSRF secret
    assert "csrf_token" not in contents
    client.get("/")
    assert cookie_contents(app, session_cookie(client))["csrf_token"] != anonymous_contents["csrf_token"]
    # the cookie holds only a random id whose SHA-256 names the server-side row
    [record] = sessions_of(app, ADMIN)
    assert hashlib.sha256(contents["_user_id"].encode()).hexdigest() == record.id
    assert contents["_user_id"] != str(record.user_id)
    # the cookie is out of reach of scripts and other sites, and lives no longer than the session may
    header = response.headers["Set-Cookie"]
    assert header.startswith(f"{COOKIE}=")
    assert "HttpOnly" in header and "SameSite=Lax" in header
    expires = client.get_cookie(COOKIE, domain=HOST).expires
    assert expires - utcnow() <= timedelta(seconds=app.config["SESSION_ABSOLUTE_TIMEOUT"] + 60)


def test_every_sign_in_of_the_same_user_gets_a_new_server_side_session(app, demo):
    client = app.test_client()
    cookies = []
    for _ in range(3):
        assert sign_in(client, ADMIN).status_code == 302
        cookies.append(cookie_contents(app, session_cookie(client))["_user_id"])
        assert post_form(client, "/uitloggen", {}, form_path="/").status_code == 302
    assert len(set(cookies)) == 3
    records = sessions_of(app, ADMIN)
    assert len(records) == 3
    assert {record.id for record in records} == {hashlib.sha256(c.encode()).hexdigest() for c in cookies}


def test_sign_out_ends_the_session_so_a_replayed_cookie_is_anonymous(app, client, demo):
    assert sign_in(client, ADMIN).status_code == 302
    stolen = session_cookie(client)
    # the copy works while the session lives (so the replay below is a fair test)
    assert not is_anonymous(client_with_cookie(app, stolen))
    # signing out takes a POST with a CSRF token; anything else leaves the session alone
    assert client.get("/uitloggen").status_code == 405
    assert client.post("/uitloggen").status_code == 400
    assert not is_anonymous(client)

    response = post_form(client, "/uitloggen", {}, form_path="/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/inloggen"
    assert is_anonymous(client)

    replay = client_with_cookie(app, stolen).get("/")
    assert replay.status_code == 302
    assert replay.headers["Location"].startswith("/inloggen")
    [record] = sessions_of(app, ADMIN)
    assert record.ended_at is not None
    assert [e.actor_email for e in events(app, "auth.signed_out")] == [ADMIN]


def _move_session_back(app, email: str, **ages: timedelta) -> None:
    [record] = sessions_of(app, email)
    values = {column: getattr(record, column) - age for column, age in ages.items()}
    execute(app, update(UserSession).where(UserSession.id == record.id).values(**values))


def _assert_expired(app, client, email: str) -> None:
    assert is_anonymous(client)
    [record] = sessions_of(app, email)
    assert record.ended_at is not None
    expired = events(app, "session.expired")
    assert [e.actor_email for e in expired] == [email]
    # and it stays ended: the next request does not revive it or log it again
    assert is_anonymous(client)
    assert len(events(app, "session.expired")) == 1


def test_idle_session_expires(app, client, demo):
    assert sign_in(client, ADMIN).status_code == 302
    idle = timedelta(seconds=app.config["SESSION_IDLE_TIMEOUT"] + 60)
    _move_session_back(app, ADMIN, last_seen_at=idle, created_at=idle)
    _assert_expired(app, client, ADMIN)


def test_absolute_timeout_ends_even_an_active_session(app, client, demo):
    assert sign_in(client, ADMIN).status_code == 302
    _move_session_back(app, ADMIN, created_at=timedelta(seconds=app.config["SESSION_ABSOLUTE_TIMEOUT"] + 60))
    [record] = sessions_of(app, ADMIN)
    assert utcnow() - record.last_seen_at < timedelta(minutes=1)  # active just now
    _assert_expired(app, client, ADMIN)


def test_idle_time_counts_from_the_last_request_and_follows_the_setting(app, database_url, client, demo):
    assert sign_in(client, ADMIN).status_code == 302
    _move_session_back(app, ADMIN, last_seen_at=timedelta(minutes=5), created_at=timedelta(minutes=5))
    # five idle minutes are fine under the default (30 minutes); the request touches the session
    assert not is_anonymous(client)
    [record] = sessions_of(app, ADMIN)
    assert utcnow() - record.last_seen_at < timedelta(minutes=1)
    assert record.ended_at is None
    # with a two-minute idle timeout, five idle minutes end it
    _move_session_back(app, ADMIN, last_seen_at=timedelta(minutes=5))
    with other_app(database_url, SESSION_IDLE_TIMEOUT=120) as strict:
        _assert_expired(app, client_with_cookie(strict, session_cookie(client)), ADMIN)
    assert is_anonymous(client)


@pytest.mark.parametrize("app_config", [{"SESSION_ABSOLUTE_TIMEOUT": 600}], indirect=True)
def test_absolute_timeout_follows_the_setting(app, client, demo):
    assert sign_in(client, ADMIN).status_code == 302
    _move_session_back(app, ADMIN, created_at=timedelta(minutes=11))
    _assert_expired(app, client, ADMIN)


# --- 4. throttling ----------------------------------------------------------------------------


def _fail(client, email: str, times: int, address: str = "127.0.0.1") -> None:
    for _ in range(times):
        assert sign_in_from(client, address, email, "niet-het-goede-wachtwoord").status_code == 401


def test_too_many_wrong_passwords_refuse_even_the_right_one_until_the_window_passes(app, client, demo):
    limit = app.config["LOGIN_MAX_FAILURES"]
    assert limit == 5
    _fail(client, ADMIN, limit)
    response = sign_in(client, ADMIN)
    assert response.status_code == 429
    assert "U hebt te vaak een onjuist wachtwoord ingevuld" in alert(response)
    assert sessions_of(app, ADMIN) == []
    assert is_anonymous(client)
    [throttled] = events(app, "auth.sign_in_throttled")
    assert throttled.details == {"email": ADMIN}
    assert throttled.client == "127.0.0.1"

    window = timedelta(seconds=app.config["LOGIN_FAILURE_WINDOW"] + 60)
    execute(app, update(LoginFailure).values(at=LoginFailure.at - window))
    assert sign_in(client, ADMIN).status_code == 302


def test_throttling_one_user_does_not_lock_out_others_or_other_clients(app, demo):
    attacker = app.test_client()
    _fail(attacker, ADMIN, app.config["LOGIN_MAX_FAILURES"])
    assert sign_in(attacker, ADMIN).status_code == 429

    # a colleague signing in from the same client address is not locked out
    assert sign_in(app.test_client(), COLLEAGUE).status_code == 302
    # the same user from another client address is not locked out either
    elsewhere = app.test_client()
    assert sign_in_from(elsewhere, "10.0.0.2", ADMIN).status_code == 302
    assert not is_anonymous(elsewhere)
    assert sessions_of(app, ADMIN)[0].client == "10.0.0.2"
    # but the throttled pair stays throttled
    assert sign_in(app.test_client(), ADMIN).status_code == 429


def test_a_successful_sign_in_below_the_limit_clears_the_count(app, demo):
    limit = app.config["LOGIN_MAX_FAILURES"]
    _fail(app.test_client(), ADMIN, limit - 1)
    assert sign_in(app.test_client(), ADMIN).status_code == 302
    # success cleared the failures: another limit - 1 failures do not throttle
    _fail(app.test_client(), ADMIN, limit - 1)
    assert sign_in(app.test_client(), ADMIN).status_code == 302
    assert events(app, "auth.sign_in_throttled") == []


# --- 5. password reset ------------------------------------------------------------------------


def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(app, demo):
    known_client, unknown_client = app.test_client(), app.test_client()
    known = request_reset(known_client, ADMIN)
    unknown = request_reset(unknown_client, "niemand@nergens.example")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == "/inloggen"
    known_flash = flashes(known_client.get("/inloggen"))
    assert known_flash == flashes(unknown_client.get("/inloggen"))
    assert "Als dit e-mailadres bij ons bekend is" in known_flash

    [message] = outbox(app, ADMIN)
    assert message.subject == "Nieuw wachtwoord voor het aanbiedersportaal"
    assert RESET_LINK.search(message.body)
    assert outbox(app, "niemand@nergens.example") == []
    assert len(events(app, "auth.password_reset_requested")) == 1
    assert len(events(app, "auth.password_reset_unknown")) == 1


def test_reset_link_sets_a_new_password_once(app, signed_in):
    elsewhere = signed_in(ADMIN)  # a session that the new password must end
    request_reset(app.test_client(), ADMIN)
    older_link = reset_link(app, ADMIN)
    request_reset(app.test_client(), ADMIN)
    link = reset_link(app, ADMIN)
    assert link != older_link
    old_hash = user(app, ADMIN).password_hash

    visitor = app.test_client()
    page = visitor.get(link)
    assert page.status_code == 200
    assert ADMIN in page.get_data(as_text=True)
    response = choose_password(visitor, link)
    assert response.status_code == 302
    assert response.headers["Location"] == "/inloggen"
    assert "Uw wachtwoord is gewijzigd" in flashes(visitor.get("/inloggen"))

    new_hash = user(app, ADMIN).password_hash
    assert new_hash != old_hash
    assert_strong_argon2id(new_hash)
    assert sign_in(app.test_client(), ADMIN, NEW_PASSWORD).status_code == 302
    assert sign_in(app.test_client(), ADMIN, DEMO_PASSWORD).status_code == 401
    assert len(events(app, "auth.password_reset")) == 1
    assert is_anonymous(elsewhere)

    # the link works once, and the older link died with the old password
    before = row_counts(app)
    again = app.test_client()
    refused = again.get(link)
    assert refused.status_code == 410
    assert "Deze link is al gebruikt en werkt maar één keer." in refused.get_data(as_text=True)
    assert choose_password(again, link, "weer-een-ander-wachtwoord").status_code == 410
    assert again.get(older_link).status_code == 410
    assert user(app, ADMIN).password_hash == new_hash
    assert row_counts(app) == before
    refusals = events(app, "auth.token_refused")
    assert [e.details for e in refusals] == [{"purpose": "password-reset", "reason": "reused"}] * 3


def test_expired_reset_link_is_refused_with_410(app, database_url, demo):
    request_reset(app.test_client(), ADMIN)
    link = reset_link(app, ADMIN)
    old_hash = user(app, ADMIN).password_hash
    with other_app(database_url, PASSWORD_RESET_MAX_AGE=-1) as strict:
        visitor = strict.test_client()
        response = visitor.get(link)
        assert response.status_code == 410
        assert "Deze link is verlopen." in response.get_data(as_text=True)
        assert choose_password(visitor, link).status_code == 410
    assert user(app, ADMIN).password_hash == old_hash
    assert fetch(app, select(UsedToken)) == []
    refusals = events(app, "auth.token_refused")
    assert [e.details for e in refusals] == [{"purpose": "password-reset", "reason": "expired"}] * 2
    # the same link is still fine under the normal one-hour limit
    assert app.test_client().get(link).status_code == 200


def _forge(token: str, **payload_changes) -> str:
    """Change the payload of a signed token but keep its timestamp and signature."""
    payload, timestamp, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(payload_changes)
    forged = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return ".".join([forged, timestamp, signature])


def test_tampered_reset_links_are_refused_with_400(app, demo):
    request_reset(app.test_client(), ADMIN)
    link = reset_link(app, ADMIN)
    token = link.rsplit("/", 1)[1]
    colleague = user(app, COLLEAGUE)
    payload = {"uid": colleague.id, "jti": "nagemaakt", "pwd": "0" * 16}
    tampered = [
        _forge(token, uid=colleague.id),  # someone else's account under this signature
        token[:-6] + ("AAAAAA" if token[-6:] != "AAAAAA" else "BBBBBB"),  # broken signature
        URLSafeTimedSerializer("another-secret-key", salt="portal-password-reset").dumps(payload),
        # a genuine key but the invitation's purpose: links are not interchangeable
        URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="portal-invitation").dumps(payload),
        "geen-token",
    ]
    before = row_counts(app)
    hashes = {u.email: u.password_hash for u in fetch(app, select(User))}
    for bad in tampered:
        visitor = app.test_client()
        response = visitor.get(f"/wachtwoord-herstellen/{bad}")
        assert response.status_code == 400, bad
        assert "Deze link is ongeldig" in response.get_data(as_text=True)
        assert choose_password(visitor, f"/wachtwoord-herstellen/{bad}").status_code == 400
    assert row_counts(app) == before
    assert {u.email: u.password_hash for u in fetch(app, select(User))} == hashes
    refusals = events(app, "auth.token_refused")
    assert len(refusals) == 2 * len(tampered)
    assert {e.details["reason"] for e in refusals} == {"invalid"}
    # the genuine link still works
    assert app.test_client().get(link).status_code == 200


def test_too_weak_password_is_refused_and_the_link_stays_usable(app, demo):
    request_reset(app.test_client(), ADMIN)
    link = reset_link(app, ADMIN)
    old_hash = user(app, ADMIN).password_hash
    visitor = app.test_client()
    short = choose_password(visitor, link, "kort")
    assert short.status_code == 422
    assert "Kies een wachtwoord van minstens 12 tekens." in alert(short)
    mismatch = choose_password(visitor, link, NEW_PASSWORD, confirm=NEW_PASSWORD + "x")
    assert mismatch.status_code == 422
    assert "De twee wachtwoorden zijn niet gelijk." in alert(mismatch)
    same_as_email = choose_password(visitor, link, ADMIN)
    assert same_as_email.status_code == 422
    assert "mag niet gelijk zijn aan uw e-mailadres" in alert(same_as_email)
    assert user(app, ADMIN).password_hash == old_hash
    assert fetch(app, select(UsedToken)) == []
    # the token was not spent: the link still works
    assert choose_password(visitor, link).status_code == 302
    assert sign_in(app.test_client(), ADMIN, NEW_PASSWORD).status_code == 302


def test_a_token_id_is_spent_only_once(app):
    """The database guard behind 'works once', for two uses that pass the checks at the same time."""
    with app.test_request_context():
        tokens.spend_token(tokens.PASSWORD_RESET, "token-1")
        db.session().commit()
    with app.test_request_context():
        with pytest.raises(tokens.TokenError) as refused:
            tokens.spend_token(tokens.PASSWORD_RESET, "token-1")
        assert refused.value.reason == "reused"
    assert [row.token_id for row in fetch(app, select(UsedToken))] == ["token-1"]


# --- 6. invitations ---------------------------------------------------------------------------


def test_contract_manager_invites_a_new_person_who_accepts_once_and_signs_in(app, signed_in):
    manager = signed_in(MANAGER)
    organisation = one(app, select(Organisation).where(Organisation.name == "Thuishulp Venray"))
    invite_path = f"/organisaties/{organisation.id}/uitnodigen"
    invitee = "nieuw@thuishulp-venray.example"

    # a role that does not fit the organisation is refused, with nothing saved
    before = row_counts(app)
    wrong_role = post_form(manager, invite_path, {"name": "Nina Nieuw", "email": invitee,
                                                  "role": "contract_manager"})
    assert wrong_role.status_code == 422
    assert row_counts(app) == before

    response = post_form(manager, invite_path,
                         {"name": "Nina Nieuw", "email": invitee, "role": "provider_user"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/organisaties/{organisation.id}"
    new_user = user(app, invitee)
    assert new_user.password_hash is None
    [membership] = fetch(app, select(Membership).where(Membership.user_id == new_user.id))
    assert (membership.organisation_id, membership.role) == (organisation.id, "provider_user")
    [invited] = events(app, "user.invited")
    assert invited.actor_email == MANAGER
    assert invited.organisation_id == organisation.id

    [message] = outbox(app, invitee)
    assert message.subject == "Uitnodiging voor het aanbiedersportaal"
    assert "Thuishulp Venray" in message.body
    match = INVITATION_LINK.search(message.body)
    assert match, message.body
    link = match.group(1)

    # no password yet: nobody can sign in to the account
    assert sign_in(app.test_client(), invitee, "raden-helpt-niet-2026").status_code == 401

    visitor = app.test_client()
    page = visitor.get(link)
    assert page.status_code == 200
    assert "Welkom, Nina Nieuw" in page.get_data(as_text=True)
    accepted = choose_password(visitor, link)
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == "/inloggen"
    assert_strong_argon2id(user(app, invitee).password_hash)
    assert [e.actor_email for e in events(app, "auth.invitation_accepted")] == [invitee]

    newcomer = app.test_client()
    signed = sign_in(newcomer, invitee, NEW_PASSWORD)
    assert signed.status_code == 302
    assert signed.headers["Location"] == "/"
    home = newcomer.get("/").get_data(as_text=True)
    assert "Welkom, Nina Nieuw" in home
    assert "Thuishulp Venray" in home
    assert "Medewerker zorgaanbieder" in home

    # the link works once
    hash_after = user(app, invitee).password_hash
    again = app.test_client()
    assert again.get(link).status_code == 410
    assert choose_password(again, link, "een-ander-wachtwoord-2026").status_code == 410
    assert user(app, invitee).password_hash == hash_after
    assert {e.details["reason"] for e in events(app, "auth.token_refused")} == {"reused"}


def test_expired_invitation_is_refused_with_410(app, database_url, signed_in):
    manager = signed_in(MANAGER)
    organisation = one(app, select(Organisation).where(Organisation.name == "Thuishulp Venray"))
    post_form(manager, f"/organisaties/{organisation.id}/uitnodigen",
              {"name": "Nina Nieuw", "email": "nieuw@thuishulp-venray.example", "role": "provider_user"})
    link = INVITATION_LINK.search(outbox(app, "nieuw@thuishulp-venray.example")[0].body).group(1)
    with other_app(database_url, INVITATION_MAX_AGE=-1) as strict:
        response = strict.test_client().get(link)
        assert response.status_code == 410
        assert "Deze link is verlopen." in response.get_data(as_text=True)
    assert user(app, "nieuw@thuishulp-venray.example").password_hash is None
    assert [e.details for e in events(app, "auth.token_refused")] == [{"purpose": "invitation",
                                                                       "reason": "expired"}]


# --- 7. CSRF ----------------------------------------------------------------------------------


def test_sign_in_without_a_valid_csrf_token_is_refused(app, client, demo):
    client.get("/inloggen")
    foreign_token = csrf_token(app.test_client(), "/inloggen")  # valid, but another browser's
    before = row_counts(app)
    for data in ({"email": ADMIN, "password": DEMO_PASSWORD},
                 {"csrf_token": foreign_token, "email": ADMIN, "password": DEMO_PASSWORD}):
        response = client.post("/inloggen", data=data)
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert "Uw formulier is verlopen of ongeldig" in text
        assert "er is niets opgeslagen" in text
    assert row_counts(app) == before
    assert is_anonymous(client)
    refused = events(app, "security.csrf_refused")
    assert [e.details["path"] for e in refused] == ["/inloggen", "/inloggen"]
    assert events(app, "auth.signed_in") == []


def test_signed_in_form_without_csrf_token_changes_nothing(app, signed_in):
    admin = signed_in(ADMIN)
    before = row_counts(app)
    response = admin.post("/gebruikers/uitnodigen", data={
        "name": "Nina Nieuw", "email": "nieuw@zorggroep-maasland.example", "role": "provider_user"})
    assert response.status_code == 400
    assert "beveiligingstoken ontbreekt" in response.get_data(as_text=True)
    assert row_counts(app) == before
    [refused] = events(app, "security.csrf_refused")
    assert refused.actor_email == ADMIN


# --- 8. fields a form should not have -----------------------------------------------------------


def test_invitation_with_an_extra_field_is_refused_and_saves_nothing(app, signed_in):
    admin = signed_in(ADMIN)
    before = row_counts(app)
    response = post_form(admin, "/gebruikers/uitnodigen", {
        "name": "Nina Nieuw", "email": "nieuw@zorggroep-maasland.example", "role": "provider_user",
        "role_override": "contract_manager"})
    assert response.status_code == 400
    message = alert(response)
    assert "Het formulier bevatte velden die hier niet horen (role_override)" in message
    assert "Er is niets opgeslagen." in message
    assert row_counts(app) == before
    assert fetch(app, select(User).where(User.email == "nieuw@zorggroep-maasland.example")) == []
    [refused] = events(app, "security.unexpected_fields")
    assert refused.details == {"path": "/gebruikers/uitnodigen", "fields": ["role_override"]}
    assert refused.actor_email == ADMIN
    assert events(app, "user.invited") == []


def test_sign_in_with_an_extra_role_field_is_refused(app, client, demo):
    before = row_counts(app)
    response = sign_in(client, ADMIN, role="contract_manager")
    assert response.status_code == 400
    assert "Het formulier bevatte velden die hier niet horen (role)" in alert(response)
    assert row_counts(app) == before
    assert is_anonymous(client)
    [refused] = events(app, "security.unexpected_fields")
    assert refused.details == {"path": "/inloggen", "fields": ["role"]}


def test_provider_admin_cannot_invite_with_a_role_not_offered(app, signed_in):
    admin = signed_in(ADMIN)
    page = admin.get("/gebruikers/uitnodigen").get_data(as_text=True)
    assert 'value="provider_user"' in page
    assert 'value="contract_manager"' not in page
    before = row_counts(app)
    response = post_form(admin, "/gebruikers/uitnodigen", {
        "name": "Nina Nieuw", "email": "nieuw@zorggroep-maasland.example", "role": "contract_manager"})
    assert response.status_code == 422
    message = alert(response)
    assert "Rol: Ongeldige keuze." in message  # in Dutch, like every other message
    assert "Not a valid choice" not in message
    assert row_counts(app) == before
    assert events(app, "user.invited") == []


# --- 9. mail backends -------------------------------------------------------------------------

CAPTURED: list = []


def capture_backend(app, message) -> None:
    """A mail backend for the test below, named by its dotted path in MAIL_BACKEND."""
    CAPTURED.append((app, message.recipient, message.subject, message.body))


@pytest.mark.parametrize("app_config", [{"MAIL_BACKEND": "tests.test_accounts:capture_backend"}],
                         indirect=True)
def test_mail_backend_is_pluggable(app, demo):
    CAPTURED.clear()
    request_reset(app.test_client(), ADMIN)
    [(backend_app, recipient, subject, body)] = CAPTURED
    assert backend_app is app
    assert recipient == ADMIN
    assert subject == "Nieuw wachtwoord voor het aanbiedersportaal"
    assert RESET_LINK.search(body)
    # the message is on record in the outbox whatever the backend
    [stored] = outbox(app, ADMIN)
    assert stored.body == body


def test_default_outbox_backend_stores_the_message(app, database_url, demo, capsys):
    assert app.config["MAIL_BACKEND"] == "outbox"
    CAPTURED.clear()
    request_reset(app.test_client(), ADMIN)
    assert CAPTURED == []
    [stored] = outbox(app, ADMIN)
    assert stored.subject == "Nieuw wachtwoord voor het aanbiedersportaal"
    assert RESET_LINK.search(stored.body)
    assert stored.sent_at is None
    assert "e-mail aan" not in capsys.readouterr().err  # MAIL_ECHO is off in tests
    # in development the outbox backend also echoes the message to the console
    with other_app(database_url, MAIL_ECHO=True) as echoing:
        request_reset(echoing.test_client(), ADMIN)
    err = capsys.readouterr().err
    assert f"--- e-mail aan {ADMIN} ---" in err
    assert "/wachtwoord-herstellen/" in err
    assert len(outbox(app, ADMIN)) == 2
