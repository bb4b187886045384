"""Test fixtures: a migrated database (SQLite or PostgreSQL), the app, clients, demo data, browser.

Choose the database with ``--db sqlite`` (default) or ``--db postgresql``; the PostgreSQL server
comes from ``PORTAL_TEST_POSTGRES_URL`` (default: this machine's 127.0.0.1:5432). Each run creates
its own database and drops it afterwards; every test starts from empty tables.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from portal import create_app, migrate

DEMO_PASSWORD = "demo-wachtwoord-2026"
CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# The first region's plugins (ENABLED_PLUGINS): the region packs installed beside them
# (plugins/regions/) stay out, for tests that count regions or plugins; the packs have tests of their own.
FIRST_REGION_PLUGINS = ["wmo", "jeugd", "participatie"]
# Database 6 of the machine's Redis: the tests never touch another one, and remove only their keys.
DEFAULT_REDIS = "redis://127.0.0.1:6379/6"
# The job-queue tests use another (flushed before and after each of them).
QUEUE_REDIS = "redis://127.0.0.1:6379/5"


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory):
    if request.config.getoption("--db") == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.db'}"
        migrate.upgrade(url)
        yield url
        return
    server = os.environ.get("PORTAL_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    name = f"portal_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001
        pytest.exit(f"PostgreSQL is not reachable at {server} ({error.__class__.__name__}: {error}). "
                    "Start it (see README) or set PORTAL_TEST_POSTGRES_URL.", returncode=3)
    url = server.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def redis_url():
    """A Redis URL and a key prefix of this test's own: ``(url, prefix)``; the test's keys are
    deleted afterwards. Redis comes from ``PORTAL_TEST_REDIS_URL``; without it the test is skipped
    (a failure under CI=true)."""
    import redis

    url = os.environ.get("PORTAL_TEST_REDIS_URL", DEFAULT_REDIS)
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        message = f"Redis is not reachable at {url} ({error}): start it or set PORTAL_TEST_REDIS_URL."
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    prefix = f"portal-test-{uuid.uuid4().hex[:12]}"
    yield url, prefix
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session")
def redis_server_url():
    """The Redis of the job-queue tests (``PORTAL_TEST_QUEUE_REDIS_URL``, default database 5 on this
    machine). Unreachable: the tests are skipped, but under CI=true they fail: CI runs the queue
    for real, never a skip."""
    from redis import Redis
    from redis.exceptions import RedisError

    url = os.environ.get("PORTAL_TEST_QUEUE_REDIS_URL", QUEUE_REDIS)
    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except RedisError as error:
        message = (f"Redis is not reachable at {url} ({error.__class__.__name__}: {error}): start it "
                   "(apt-get install -y redis-server; redis-server --daemonize yes) or set PORTAL_TEST_QUEUE_REDIS_URL.")
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    finally:
        client.close()
    return url


@pytest.fixture
def queue_redis_url(redis_server_url):
    """An empty Redis database for one test (flushed before and after)."""
    from redis import Redis

    client = Redis.from_url(redis_server_url)
    client.flushdb()
    yield redis_server_url
    client.flushdb()
    client.close()


def _empty_tables(engine) -> None:
    """Every table empty again and every id counting from 1, as after the migrations.

    PostgreSQL: only the tables that hold rows are emptied, by DELETE with triggers and foreign-key
    checks off for the transaction (``session_replication_role = replica``, a superuser's setting;
    the audit log's append-only trigger would refuse otherwise), then every sequence restarts.
    That takes about 15 ms where a TRUNCATE of all tables took 250 ms (new files for every table
    and index), once per test. A user that may not set it gets the TRUNCATE.
    """
    tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
    if engine.dialect.name != "postgresql":
        with engine.begin() as connection:
            for name in tables:
                connection.execute(text(f'DELETE FROM "{name}"'))
        return
    with engine.begin() as connection:
        filled = _filled_tables(connection, tables)
        if connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for name in filled:
                connection.execute(text(f'DELETE FROM "{name}"'))
            # Every sequence, not only the filled tables': a rolled-back insert moves one too.
            _set_id_sequences(connection, dict.fromkeys(tables, 0))
        else:
            quoted = ", ".join(f'"{name}"' for name in tables)
            connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))


def _filled_tables(connection, tables: list[str]) -> list[str]:
    """Those of ``tables`` that hold a row, in their order: one statement."""
    probe = " UNION ALL ".join(f'SELECT {index} WHERE EXISTS (SELECT 1 FROM "{name}")' for index, name in enumerate(tables))
    return [tables[row[0]] for row in connection.execute(text(probe))]


def _set_id_sequences(connection, tops: dict[str, int]) -> None:
    """Each table's id sequence on PostgreSQL, in one statement: the next id is ``tops[table] + 1``."""
    id_tables = SQLModel.metadata.tables
    moves = [f"setval(pg_get_serial_sequence('\"{name}\"', 'id'), {max(top, 1)}, {'true' if top else 'false'})"
             for name, top in tops.items() if "id" in id_tables[name].c and isinstance(top, int)]
    if moves:
        connection.execute(text("SELECT " + ", ".join(moves)))


def make_app(database_url, **overrides):
    config = {
        "ENV": "testing",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "MAIL_ECHO": False,
        "SERVER_NAME": "portaal.test",
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app_config():
    """Extra settings for the ``app`` fixture; override in a test module to change them."""
    return {}


@pytest.fixture
def app(database_url, app_config):
    application = make_app(database_url, **app_config)
    yield application
    engine = application.extensions["portal.engine"]
    _empty_tables(engine)
    engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db_session(app):
    from portal import db

    with app.app_context():
        yield db.session()


# The demo region's rows as the first load_demo of a run made them, per database, date, settings and
# plugins: most tests start from it, and writing the rows back costs a tenth of building them anew.
_DEMO_ROWS: dict[tuple, tuple[list, dict[str, list[dict]]]] = {}
# Tables with triggers that check or add up what is inserted: a demo that fills them is built anew.
_BUILT_NOT_COPIED = ("realisation", "settlement")


def _demo_key(app, app_config) -> tuple:
    from portal import clock

    plugins = sorted(repr(plugin) for plugin in app.extensions["portal.plugins"].get_plugins())
    return (app.config["DATABASE_URL"], clock.today(), repr(sorted(app_config.items(), key=str)), tuple(plugins))


@pytest.fixture
def demo(app, app_config):
    """Load the demo region without its months of realisation; returns the demo accounts.

    The first load of a run (per database, date, ``app_config`` and plugins) builds it with
    ``load_demo``; later ones into empty tables write the same rows back. Where another fixture
    has put rows already (``demo_with_realisation``, say), ``load_demo`` adds the demo as always.
    ``tests/test_demo.py`` builds the demo anew every time.
    """
    from portal.demo import load_demo

    engine = app.extensions["portal.engine"]
    key = _demo_key(app, app_config)
    if key in _DEMO_ROWS and not _holds_rows(engine):  # else load_demo, which adds what is missing
        accounts, rows = _DEMO_ROWS[key]
        _write_rows(engine, rows)
        return list(accounts)
    with app.app_context():
        accounts, _password = load_demo(DEMO_PASSWORD, realisation=False)
    rows = _read_rows(engine)
    if not any(name.startswith(_BUILT_NOT_COPIED) for name in rows):
        _DEMO_ROWS[key] = (list(accounts), rows)
    return accounts


def _holds_rows(engine) -> bool:
    with engine.connect() as connection:
        return bool(_filled_tables(connection, [table.name for table in SQLModel.metadata.sorted_tables]))


def _read_rows(engine) -> dict[str, list[dict]]:
    """Every row of every table that has rows, parents before children."""
    rows = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            found = [dict(row._mapping) for row in connection.execute(table.select())]
            if found:
                rows[table.name] = found
    return rows


def _write_rows(engine, rows: dict[str, list[dict]]) -> None:
    """Insert ``rows`` (from :func:`_read_rows`) into the empty tables, and move the sequences past them."""
    tables = SQLModel.metadata.tables
    with engine.begin() as connection:
        for name, found in rows.items():
            connection.execute(tables[name].insert(), found)
        if engine.dialect.name == "postgresql":
            _set_id_sequences(connection, {name: max(row["id"] for row in found)
                                           for name, found in rows.items() if "id" in tables[name].c})


@pytest.fixture
def demo_with_realisation(app):
    """Load the whole demo region, realisation January–October of the current demo year included."""
    from portal.demo import load_demo

    with app.app_context():
        accounts, _password = load_demo(DEMO_PASSWORD)
    return accounts


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str) -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} (status {page.status_code})"
    return match.group(1)


def sign_in(client, email: str, password: str = DEMO_PASSWORD, **extra):
    token = csrf_token(client, "/inloggen")
    return client.post("/inloggen", data={"csrf_token": token, "email": email, "password": password, **extra})


def post_form(client, path: str, data: dict, form_path: str | None = None):
    """POST ``data`` to ``path`` with a CSRF token taken from ``form_path`` (default ``path``)."""
    token = csrf_token(client, form_path or path)
    return client.post(path, data={"csrf_token": token, **data})


@pytest.fixture
def signed_in(app, demo):
    """A factory: ``signed_in(email)`` returns a test client signed in as that demo user."""

    def factory(email: str):
        new_client = app.test_client()
        response = sign_in(new_client, email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return new_client

    return factory


# --- Browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        message = (f"Chromium not found at {CHROMIUM}: install it with 'apt-get install -y chromium' "
                   "or set PORTAL_CHROMIUM.")
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run",
                     "--disable-dev-shm-usage"]}


@pytest.fixture
def live_server(database_url):
    """The portal served on a free localhost port in a thread; yields its base URL."""
    from werkzeug.serving import make_server

    application = make_app(database_url, SERVER_NAME=None)
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    application.base_url = f"http://127.0.0.1:{server.server_port}"
    yield application
    server.shutdown()
    thread.join(timeout=5)
    engine = application.extensions["portal.engine"]
    _empty_tables(engine)
    engine.dispose()
