"""Schema only through Alembic: an empty database upgrades to head, and models match migrations."""
from __future__ import annotations

from sqlalchemy import create_engine, inspect

from portal import migrate


def test_models_and_migrations_agree(database_url):
    # database_url was created empty and upgraded to head by the fixture
    assert migrate.model_differences(database_url) == []


def test_downgrade_to_base_and_upgrade_again(database_url, tmp_path, request):
    if request.config.getoption("--db") == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        url = database_url
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(url)
    engine = create_engine(url)
    assert {"organisation", "user", "membership", "audit_event"} <= set(inspect(engine).get_table_names())
    engine.dispose()
    assert migrate.model_differences(url) == []
