"""The shared page cache (issue 14 point 4, portal/page_cache.py): an overview asked again by the
same session is served from Redis without being built, until any commit, from any process, writes
to the database; each session has its own pages; Redis down changes nothing but the speed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal import db
from portal.models import Organisation, UserSession, utcnow
from tests.conftest import make_app, sign_in
from tests.test_page_scaling import Statements

MANAGER = "contractmanager@mgr-noord-limburg.example"
PROVIDER = "beheer@zorggroep-maasland.example"
PAGES = ["/afspraken/", "/realisatie/dashboard/", "/realisatie/beoordelen/", "/afrekening/"]


@pytest.fixture
def app_config(redis_url):
    url, prefix = redis_url
    return {"REDIS_URL": url, "REDIS_KEY_PREFIX": prefix}


def _client(app, email: str):
    """Signed in, and past the first page (which gives the renewed session its CSRF token, so is
    never kept: it changes the cookie session)."""
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    assert client.get("/").status_code == 200
    return client


def _rename_first_provider(app, new_name: str) -> str:
    with app.app_context():
        session = db.session()
        provider = session.exec(select(Organisation).where(Organisation.kind == "provider")
                                .order_by(Organisation.name)).scalars().first()
        old = provider.name
        provider.name = new_name
        session.add(provider)
        session.commit()
    return old


@pytest.mark.parametrize("path", PAGES)
def test_a_second_visit_is_served_from_the_cache_without_building_the_page(app, demo, path):
    manager = _client(app, MANAGER)
    first = manager.get(path)
    assert first.status_code == 200
    with Statements(app) as sent:
        again = manager.get(path)
    assert again.status_code == 200
    assert again.get_data() == first.get_data()
    assert sent == []  # not even the sign-in check: nothing changed since the page was built
    assert again.headers["Cache-Control"] == "no-store"  # the security headers still apply


def test_a_commit_from_another_process_makes_the_page_be_built_again(app, demo, redis_url):
    manager = _client(app, MANAGER)
    before = manager.get("/afspraken/").get_data(as_text=True)
    assert "Hernoemde Zorg B.V." not in before
    url, prefix = redis_url
    other = make_app(app.config["DATABASE_URL"], REDIS_URL=url, REDIS_KEY_PREFIX=prefix)  # another app process
    old_name = _rename_first_provider(other, "Hernoemde Zorg B.V.")
    other.extensions["portal.engine"].dispose()
    assert old_name in before
    after = manager.get("/afspraken/").get_data(as_text=True)
    assert "Hernoemde Zorg B.V." in after
    assert old_name not in after


def test_reading_pages_and_signing_in_again_later_keep_the_version(app, demo, redis_url):
    import redis

    url, prefix = redis_url
    client = redis.Redis.from_url(url)
    manager = _client(app, MANAGER)
    manager.get("/afspraken/")
    version = client.get(f"{prefix}:data-version")
    for path in PAGES:
        manager.get(path)
    with app.app_context():  # the session's idle timer is written, but no page shows it
        session = db.session()
        for record in session.exec(select(UserSession)).scalars():
            record.last_seen_at = utcnow()
            session.add(record)
        session.commit()
    assert client.get(f"{prefix}:data-version") == version


def test_each_session_has_its_own_pages(app, demo):
    manager = _client(app, MANAGER)
    provider = _client(app, PROVIDER)
    managers_page = manager.get("/realisatie/dashboard/").get_data(as_text=True)
    providers_page = provider.get("/realisatie/dashboard/").get_data(as_text=True)
    assert providers_page != managers_page
    assert 'name="aanbieder"' in managers_page  # the region sees the provider filter
    assert 'name="aanbieder"' not in providers_page
    # A second session of the same user has forms with its own CSRF token: its own page.
    second = _client(app, MANAGER)
    assert second.get("/realisatie/dashboard/").get_data() != manager.get("/realisatie/dashboard/").get_data()


def test_the_query_string_and_htmx_make_another_page(app, demo):
    manager = _client(app, MANAGER)
    whole = manager.get("/afspraken/").get_data(as_text=True)
    filtered = manager.get("/afspraken/?status=beeindigd").get_data(as_text=True)
    partial = manager.get("/realisatie/beoordelen/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert filtered != whole
    assert "<html" not in partial
    assert "<html" in manager.get("/realisatie/beoordelen/").get_data(as_text=True)


def test_a_signed_out_session_is_sent_to_sign_in_not_served_its_cached_page(app, demo):
    manager = _client(app, MANAGER)
    assert manager.get("/afspraken/").status_code == 200
    from tests.conftest import post_form
    post_form(manager, "/uitloggen", {}, form_path="/afspraken/")
    answer = manager.get("/afspraken/")
    assert answer.status_code == 302
    assert "/inloggen" in answer.headers["Location"]


def test_redis_down_the_page_is_built_as_usual(database_url, demo, app):
    down = make_app(database_url, REDIS_URL="redis://127.0.0.1:1/0")
    manager = _client(down, MANAGER)
    first = manager.get("/afspraken/")
    with Statements(down) as sent:
        again = manager.get("/afspraken/")
    assert first.status_code == again.status_code == 200
    assert len(sent) > 1  # built again: nothing could be cached
    down.extensions["portal.engine"].dispose()


def test_without_redis_nothing_is_cached(database_url, demo, app):
    plain = make_app(database_url)
    assert plain.extensions["portal.page_cache"] is None
    manager = _client(plain, MANAGER)
    manager.get("/afspraken/")
    with Statements(plain) as sent:
        assert manager.get("/afspraken/").status_code == 200
    assert len(sent) > 1
    plain.extensions["portal.engine"].dispose()


def test_a_page_showing_a_flash_message_is_never_kept(app, demo):
    manager = _client(app, MANAGER)
    with manager.session_transaction() as cookie_session:
        cookie_session["_flashes"] = [("success", "Eenmalige melding")]
    assert "Eenmalige melding" in manager.get("/afspraken/").get_data(as_text=True)
    assert "Eenmalige melding" not in manager.get("/afspraken/").get_data(as_text=True)


def test_a_kept_page_checks_its_session_again_when_its_timer_is_due_and_ends_with_it(app, demo):
    import time_machine

    manager = _client(app, MANAGER)
    page = manager.get("/afspraken/").get_data()
    with time_machine.travel(utcnow() + timedelta(seconds=45), tick=False):
        with Statements(app) as sent:
            again = manager.get("/afspraken/")
        assert again.get_data() == page  # served from the cache, after the session was checked
        assert len(sent) == 2, sent  # the session (one statement) and its idle timer written
        assert "last_seen_at" in sent[1]
        with Statements(app) as sent:
            manager.get("/afspraken/")
        assert sent == []  # checked: the next 30 seconds come straight from the cache
    idle = timedelta(seconds=app.config["SESSION_IDLE_TIMEOUT"] + 60)
    with time_machine.travel(utcnow() + idle, tick=False):
        answer = manager.get("/afspraken/")
    assert answer.status_code == 302  # the idle session ended, whatever the cache holds
    assert "/inloggen" in answer.headers["Location"]


def test_moving_a_session_back_by_hand_is_a_write_like_any_other(app, demo, redis_url):
    import redis

    url, prefix = redis_url
    manager = _client(app, MANAGER)
    manager.get("/afspraken/")
    version = redis.Redis.from_url(url).get(f"{prefix}:data-version")
    with app.app_context():
        session = db.session()
        session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(hours=1),
                                                   created_at=utcnow() - timedelta(hours=1)))
        session.commit()
    assert redis.Redis.from_url(url).get(f"{prefix}:data-version") != version
