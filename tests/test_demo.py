"""The demo region command: migrates, loads Noord-Limburg idempotently, prints and writes accounts."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.accounts import roles
from portal.models import Membership, Organisation, Region, User
from tests.conftest import FIRST_REGION_PLUGINS, make_app, sign_in

PASSWORD = "een-ander-demo-wachtwoord"


@pytest.fixture
def app_config(tmp_path):
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "ENABLED_PLUGINS": FIRST_REGION_PLUGINS}


def _counts(app):
    with app.app_context():
        session = db.session()
        return {model.__name__: session.exec(select(func.count()).select_from(model)).one()
                for model in (Region, Organisation, User, Membership)}


def test_demo_loads_the_region_and_is_idempotent(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    first = _counts(app)
    result = runner.invoke(args=["demo", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert _counts(app) == first
    # The first region and every installed region pack's (plugins/regions/*).
    assert first["Region"] == 1 + len(app.extensions["portal.registry"].packs)

    with app.app_context():
        session = db.session()
        region = session.exec(select(Region).where(Region.code == "noord-limburg")).one()
        municipalities = session.exec(select(Organisation).where(Organisation.kind == "municipality",
                                                                 Organisation.region_id == region.id)).all()
        residents = {m.name: m.residents for m in municipalities}
        assert residents == {"Beesel": 13_483, "Bergen (L)": 13_085, "Gennep": 16_935,
                             "Horst aan de Maas": 42_407, "Peel en Maas": 43_430, "Venray": 43_596,
                             "Venlo": 101_797}
        kinds = dict(session.exec(select(Organisation.kind, func.count()).where(Organisation.region_id == region.id)
                                  .group_by(Organisation.kind)).all())
        assert kinds["purchasing_office"] == 1 and kinds["auditor"] == 1 and kinds["provider"] >= 6

    accounts = json.loads((tmp_path / "instance" / "demo-accounts.json").read_text(encoding="utf-8"))
    assert all(set(entry) == {"email", "role", "organisation"} for entry in accounts)
    assert {entry["role"] for entry in accounts} == set(roles.ALL_ROLES)
    provider_orgs = {e["organisation"] for e in accounts if e["role"] in roles.PROVIDER_ROLES}
    assert len(provider_orgs) >= 2
    for entry in accounts:
        assert entry["email"] in result.output
    assert PASSWORD in result.output

    # Every printed account signs in with the password given, and lands on its own organisation.
    for entry in accounts:
        client = app.test_client()
        assert sign_in(client, entry["email"], PASSWORD).status_code == 302, entry
        home = client.get("/").get_data(as_text=True)
        assert entry["organisation"] in home


def test_demo_without_password_keeps_existing_passwords(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "--password", PASSWORD])
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "niet gewijzigd" in result.output
    client = app.test_client()
    assert sign_in(client, "medewerker@venlo.example", PASSWORD).status_code == 302


def test_demo_refuses_a_short_password(app):
    result = app.test_cli_runner().invoke(args=["demo", "--password", "kort"])
    assert result.exit_code == 2
    assert "12 tekens" in result.output
    assert _counts(app)["User"] == 0


def test_demo_migrates_an_empty_sqlite_file(tmp_path):
    """The README's start command: a fresh SQLite file, migrated and loaded by ``demo``."""
    app = make_app(f"sqlite:///{tmp_path / 'leeg.db'}", INSTANCE_PATH=str(tmp_path / "instance"))
    result = app.test_cli_runner().invoke(args=["demo", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert _counts(app)["Organisation"] >= 15
    app.extensions["portal.engine"].dispose()
