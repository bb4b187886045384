"""Running the portal on several processes and machines: the health probes, the request id and
JSON logs, the throttle's counts in Redis, and the settings behind a proxy (issue 14, point 3).

The two-process test itself is in tests/test_processes.py.
"""
from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func
from sqlmodel import select

from portal import clock, logs
from portal.config import ConfigurationError
from portal.models import LoginFailure
from tests.conftest import DEMO_PASSWORD, make_app, sign_in

ADMIN = "beheer@zorggroep-maasland.example"
COLLEAGUE = "medewerker@zorggroep-maasland.example"
WRONG = "niet-het-goede-wachtwoord"

# --- health probes ----------------------------------------------------------------------------


def test_liveness_answers_ok_without_database_session_or_cookie(database_url):
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/nothing")  # a database that never answers
    response = app.test_client().get("/gezond")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"
    assert response.mimetype == "text/plain"
    assert "Set-Cookie" not in response.headers


def test_liveness_with_a_session_cookie_does_not_load_the_user(signed_in, app, monkeypatch):
    client = signed_in(ADMIN)
    from portal.accounts import sessions

    monkeypatch.setattr(sessions, "load_signed_in", lambda token: pytest.fail("the probe loaded a user"))
    assert client.get("/gezond").status_code == 200


def test_readiness_answers_when_the_database_does(client):
    response = client.get("/gereed")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok"}}
    assert "Set-Cookie" not in response.headers


def test_readiness_names_the_database_when_it_is_down():
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    response = app.test_client().get("/gereed")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["down"] == ["database"]
    assert response.json["checks"]["database"].startswith("down (")
    assert "nobody" not in response.get_data(as_text=True)  # no connection details go out


@pytest.mark.parametrize("app_config", [{"REDIS_URL": "redis://127.0.0.1:1/0"}])
def test_readiness_with_a_bad_redis_url_is_503_naming_redis(app):
    response = app.test_client().get("/gereed")
    assert response.status_code == 503
    assert response.json["down"] == ["redis"]
    assert response.json["checks"] == {"database": "ok", "redis": "down (ConnectionError)"}


def test_readiness_pings_redis_when_it_is_set(database_url, redis_url):
    app = make_app(database_url, REDIS_URL=redis_url[0], REDIS_KEY_PREFIX=redis_url[1])
    response = app.test_client().get("/gereed")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "redis": "ok"}


def test_probes_need_no_csrf_token_or_sign_in(client):
    # HEAD is what some load balancers send; neither probe redirects to the sign-in page
    assert client.head("/gezond").status_code == 200
    assert client.head("/gereed").status_code == 200


# --- request id and JSON logs -----------------------------------------------------------------


@pytest.fixture
def json_log(database_url):
    """An app with LOG_FORMAT=json whose log lines land in a StringIO: ``(app, stream)``."""
    app = make_app(database_url, LOG_FORMAT="json")
    root = logging.getLogger()
    [handler] = [h for h in root.handlers if isinstance(h.formatter, logs.JsonFormatter)]
    stream = io.StringIO()
    handler.setStream(stream)
    previous_level = root.level
    yield app, stream
    root.removeHandler(handler)
    root.setLevel(previous_level)


def test_a_request_writes_one_parseable_json_line(json_log):
    app, stream = json_log
    response = app.test_client().get("/inloggen", headers={"X-Request-ID": "proxy-abc.123"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "proxy-abc.123"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [line] = [entry for entry in lines if entry["logger"] == "portal.request"]
    assert line["request_id"] == "proxy-abc.123"
    assert line["path"] == "/inloggen" and line["method"] == "GET" and line["status"] == 200
    assert line["level"] == "INFO" and isinstance(line["duration_ms"], float)
    assert datetime.fromisoformat(line["time"]).tzinfo is not None
    assert line["message"] == "GET /inloggen 200"


def test_an_error_logged_during_a_request_carries_its_id(json_log):
    app, stream = json_log
    with app.test_request_context("/ergens", headers={"X-Request-ID": "abc"}):
        app.preprocess_request()
        try:
            raise ValueError("kapot")
        except ValueError:
            logging.getLogger("portal").exception("Unhandled error on %s", "/ergens")
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["request_id"] == "abc" and line["path"] == "/ergens" and line["level"] == "ERROR"
    assert "ValueError: kapot" in line["exception"]


def test_a_request_id_is_made_up_when_none_or_a_strange_one_is_sent(client):
    made_up = client.get("/gezond").headers["X-Request-ID"]
    assert len(made_up) == 32
    for strange in ("x" * 200, "<script>", "a b"):
        answered = client.get("/gezond", headers={"X-Request-ID": strange}).headers["X-Request-ID"]
        assert len(answered) == 32 and answered != made_up


def test_text_logs_are_the_default_and_an_unknown_format_is_refused(database_url):
    assert make_app(database_url).config["LOG_FORMAT"] == "text"
    with pytest.raises(ConfigurationError, match="PORTAL_LOG_FORMAT"):
        make_app(database_url, LOG_FORMAT="xml")


# --- the throttle's counts in Redis -----------------------------------------------------------


@pytest.fixture
def redis_app(database_url, redis_url):
    url, prefix = redis_url
    return make_app(database_url, REDIS_URL=url, REDIS_KEY_PREFIX=prefix)


def _sign_in(app, email: str, password: str = DEMO_PASSWORD, address: str = "127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return sign_in(client, email, password)


def _rows(app) -> int:
    with app.extensions["portal.engine"].connect() as connection:
        return connection.execute(select(func.count()).select_from(LoginFailure)).scalar_one()


def test_with_redis_the_counts_live_there_and_the_window_passes(redis_app, redis_url, demo):
    import redis

    limit = redis_app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert _sign_in(redis_app, ADMIN, WRONG).status_code == 401
    refused = _sign_in(redis_app, ADMIN)
    assert refused.status_code == 429
    assert "U hebt te vaak een onjuist wachtwoord ingevuld" in refused.get_data(as_text=True)
    assert _rows(redis_app) == 0
    assert list(redis.Redis.from_url(redis_url[0]).scan_iter(match=f"{redis_url[1]}:throttle:*"))
    # another client address, and a colleague, are not locked out
    assert _sign_in(redis_app, ADMIN, address="10.0.0.2").status_code == 302
    assert _sign_in(redis_app, COLLEAGUE).status_code == 302
    # the moving window: a quarter of an hour later the failures have fallen out
    later = clock.now() + timedelta(seconds=redis_app.config["LOGIN_FAILURE_WINDOW"] + 60)
    with time_machine.travel(later, tick=True):
        assert _sign_in(redis_app, ADMIN).status_code == 302


def test_with_redis_a_success_clears_the_pair_count(redis_app, demo):
    limit = redis_app.config["LOGIN_MAX_FAILURES"]
    for _round in range(2):
        for _ in range(limit - 1):
            assert _sign_in(redis_app, ADMIN, WRONG).status_code == 401
        assert _sign_in(redis_app, ADMIN).status_code == 302


def test_with_redis_one_client_trying_many_addresses_is_throttled(database_url, redis_url, demo):
    app = make_app(database_url, REDIS_URL=redis_url[0], REDIS_KEY_PREFIX=redis_url[1],
                   LOGIN_MAX_FAILURES_PER_CLIENT=3)
    for number in range(3):
        assert _sign_in(app, f"gok{number}@nergens.example", WRONG).status_code == 401
    assert _sign_in(app, COLLEAGUE).status_code == 429
    assert _sign_in(app, COLLEAGUE, address="10.0.0.3").status_code == 302


# --- behind a proxy ---------------------------------------------------------------------------


def test_behind_trusted_proxies_the_client_address_is_the_forwarded_one(database_url, demo):
    from portal import audit

    seen = []
    for hops, expected in ((0, "10.9.9.9"), (1, "203.0.113.7")):
        app = make_app(database_url, TRUSTED_PROXIES=hops)

        @app.get("/_adres")
        def _address():
            seen.append(audit.client_address())
            return "ok"

        app.test_client().get("/_adres", headers={"X-Forwarded-For": "203.0.113.7"},
                              environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert seen[-1] == expected


def test_with_redis_down_sign_in_still_works_and_the_database_counts(database_url, demo):
    down = make_app(database_url, REDIS_URL="redis://127.0.0.1:1/0")
    limit = down.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert _sign_in(down, ADMIN, WRONG).status_code == 401
    assert _rows(down) == limit  # the fallback: the database's table holds the count
    assert _sign_in(down, ADMIN).status_code == 429
    assert _sign_in(down, ADMIN, address="10.0.0.2").status_code == 302
    down.extensions["portal.engine"].dispose()
