"""The app factory's settings: defaults, PORTAL_* environment, and the production checks."""
from __future__ import annotations

import pytest

from portal import create_app
from portal.config import DEFAULT_SECRET_KEY, ConfigurationError

STRONG_KEY = "0123456789abcdef0123456789abcdef0123456789"


def test_defaults_use_a_sqlite_file_in_instance(monkeypatch):
    monkeypatch.delenv("PORTAL_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["DATABASE_URL"].startswith("sqlite:///")
    assert app.config["DATABASE_URL"].endswith("/instance/portal.db")
    assert app.config["ENV"] == "development"


def test_settings_come_from_the_portal_environment(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'elders.db'}"
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    monkeypatch.setenv("PORTAL_SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("PORTAL_SESSION_IDLE_TIMEOUT", "120")
    monkeypatch.setenv("PORTAL_ENABLED_PLUGINS", "wmo,jeugd")
    app = create_app()
    assert app.config["DATABASE_URL"] == url
    assert app.config["SECRET_KEY"] == STRONG_KEY
    assert app.config["SESSION_IDLE_TIMEOUT"] == 120
    assert set(app.extensions["portal.registry"].domains) == {"wmo", "jeugd"}


def test_explicit_config_wins_over_environment(monkeypatch):
    monkeypatch.setenv("PORTAL_SESSION_IDLE_TIMEOUT", "120")
    app = create_app({"SESSION_IDLE_TIMEOUT": 60})
    assert app.config["SESSION_IDLE_TIMEOUT"] == 60


def test_postgresql_url_is_accepted(database_url):
    app = create_app({"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test"})
    assert app.extensions["portal.engine"].dialect.name == "postgresql"


@pytest.mark.parametrize("key", [DEFAULT_SECRET_KEY, "", "te-kort"])
def test_production_refuses_a_default_or_weak_secret_key(key):
    with pytest.raises(ConfigurationError, match="(?i)secret"):
        create_app({"ENV": "production", "SECRET_KEY": key})


def test_production_refuses_default_key_from_environment(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError):
        create_app()


def test_unknown_environment_name_is_refused():
    with pytest.raises(ConfigurationError, match="onbekend"):
        create_app({"ENV": "staging"})
