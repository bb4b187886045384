"""Schema only through Alembic: an empty database upgrades to head, and models match migrations."""
from __future__ import annotations

import json

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


def test_report_totals_are_filled_from_the_lines_of_existing_reports(database_url, tmp_path, request):
    """Revision f9052080b07f adds each report's place-days, trajectories ended and result figures
    (what the settlement reads) and fills them for the reports already there from their lines."""
    from sqlalchemy import text

    if request.config.getoption("--db") == "sqlite":
        url = f"sqlite:///{tmp_path / 'before.db'}"
        migrate.upgrade(url, "8e5f50c9bbd8")
    else:
        url = database_url
        migrate.downgrade(url, "8e5f50c9bbd8")
    engine = create_engine(url)
    now = "2026-01-01 00:00:00"
    with engine.begin() as connection:
        region = connection.execute(text("INSERT INTO region (code, name) VALUES ('m', 'M') RETURNING id")).scalar()
        org = connection.execute(text(
            "INSERT INTO organisation (region_id, kind, name, is_active, created_at) "
            "VALUES (:r, 'provider', 'A', true, :now) RETURNING id"), {"r": region, "now": now}).scalar()
        reports = [connection.execute(text(
            "INSERT INTO realisation_report (region_id, organisation_id, municipality_id, segment_key, year, "
            "period_kind, period, version, state, total_value, line_count, lock_version, submitted_at) "
            "VALUES (:r, :o, :o, 'x.S1', 2026, 'month', :p, 1, 'approved', '10.00', 2, 1, :now) RETURNING id"),
            {"r": region, "o": org, "p": period, "now": now}).scalar() for period in (1, 2)]
        for report, place_days, ended, extra in ((reports[0], 10, 1, '{"resultaat_behaald": "1"}'),
                                                 (reports[0], None, 2, '{"resultaat_behaald": "2.5", "x": true}'),
                                                 (reports[1], None, 0, "null")):
            connection.execute(text(
                "INSERT INTO realisation_line (report_id, trajectory_code, started, running, ended, clients, "
                "place_days, unit_price, value, extra) VALUES (:rep, 'T', 0, 0, :e, 0, :pd, '1.00', '5.00', :x)"),
                {"rep": report, "e": ended, "pd": place_days, "x": extra})
    migrate.upgrade(url)
    try:
        with engine.begin() as connection:
            rows = connection.execute(text(
                "SELECT place_days_total, ended_total, figures FROM realisation_report ORDER BY period")).all()
            totals = [(row[0], row[1], json.loads(row[2]) if isinstance(row[2], str) else row[2]) for row in rows]
            assert totals == [(10, 3, {"resultaat_behaald": "3.5"}), (0, 0, None)]
    finally:
        with engine.begin() as connection:  # leave the shared test database as the fixture made it
            for table in ("realisation_line", "realisation_report", "realisation_year_total", "organisation", "region"):
                connection.execute(text(f"DELETE FROM {table}"))
        engine.dispose()
