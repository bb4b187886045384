"""Security headers on every response; production transport settings; no stack traces."""
from __future__ import annotations

import pytest

from tests.conftest import CSRF_RE, DEMO_PASSWORD, make_app, sign_in

STRONG_KEY = "0123456789abcdef0123456789abcdef0123456789"


@pytest.mark.parametrize("path", ["/inloggen", "/", "/bestaat-niet", "/static/portal.css", "/gezond"])
def test_headers_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # only in production


def test_no_inline_script_in_pages(client):
    body = client.get("/inloggen").get_data(as_text=True)
    assert "<script>" not in body and "<script type" not in body
    assert 'src="/static/htmx.min.js"' in body
    assert " style=" not in body


def test_production_sets_hsts_and_secure_cookies(database_url, demo):
    app = make_app(database_url, ENV="production", SECRET_KEY=STRONG_KEY)
    client = app.test_client()
    response = client.get("/inloggen", base_url="https://portaal.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    token = CSRF_RE.search(response.get_data(as_text=True)).group(1)
    response = client.post("/inloggen", base_url="https://portaal.test",
                           headers={"Referer": "https://portaal.test/inloggen"}, data={
        "csrf_token": token, "email": "medewerker@venlo.example", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_development_cookie_is_httponly_and_samesite(app, demo):
    client = app.test_client()
    cookie = sign_in(client, "medewerker@venlo.example").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_unexpected_error_shows_no_stack_trace(app):
    @app.route("/kapot")
    def broken():
        raise RuntimeError("geheime details uit de code")

    response = app.test_client().get("/kapot")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Er ging iets mis" in body
    assert "Traceback" not in body and "geheime details" not in body
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_health_check_answers_ok_without_database_or_session(client, app):
    """The bare route of the page bench and the load balancers: 200 "ok" as plain text, and no SQL."""
    from sqlalchemy import event

    from portal import db
    statements = []
    with app.app_context():
        engine = db.engine()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get("/gezond")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    assert response.get_data(as_text=True).strip() == "ok"
    assert response.mimetype == "text/plain"
    assert statements == []
    assert "Set-Cookie" not in response.headers
