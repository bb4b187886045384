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
            for table in ("realisation_line", "realisation_report", "realisation_year_figure", "realisation_year_total",
                          "organisation", "region"):
                connection.execute(text(f"DELETE FROM {table}"))
        engine.dispose()


def test_result_figures_are_filled_from_the_approved_reports(database_url, tmp_path, request):
    """Revision d8b3f6a2c915 keeps the result figures of approved realisation as running totals
    (realisation_year_figure) and fills them from the reports approved before it."""
    from sqlalchemy import text

    if request.config.getoption("--db") == "sqlite":
        url = f"sqlite:///{tmp_path / 'before.db'}"
        migrate.upgrade(url, "c3f1a9e07d52")
    else:
        url = database_url
        migrate.downgrade(url, "c3f1a9e07d52")
    engine = create_engine(url)
    now = "2026-01-01 00:00:00"
    with engine.begin() as connection:
        region = connection.execute(text("INSERT INTO region (code, name) VALUES ('m', 'M') RETURNING id")).scalar()
        org = connection.execute(text(
            "INSERT INTO organisation (region_id, kind, name, is_active, created_at) "
            "VALUES (:r, 'provider', 'A', true, :now) RETURNING id"), {"r": region, "now": now}).scalar()
        for period, state, figures in ((1, "approved", '{"resultaat_behaald": "1", "uren": "2.5", "x": true}'),
                                       (2, "approved", '{"resultaat_behaald": "2", "uren": "0.25"}'),
                                       (3, "submitted", '{"resultaat_behaald": "40"}'),
                                       (4, "approved", None)):
            connection.execute(text(
                "INSERT INTO realisation_report (region_id, organisation_id, municipality_id, segment_key, year, "
                "period_kind, period, version, state, total_value, line_count, lock_version, submitted_at, figures) "
                "VALUES (:r, :o, :o, 'x.S1', 2026, 'month', :p, 1, :s, '10.00', 2, 1, :now, :f)"),
                {"r": region, "o": org, "p": period, "s": state, "now": now, "f": figures})
    migrate.upgrade(url)
    try:
        with engine.begin() as connection:
            rows = connection.execute(text(
                "SELECT name, hundredths, scale, reports FROM realisation_year_figure ORDER BY name")).all()
            assert [tuple(row) for row in rows] == [("resultaat_behaald", 300, 0, 2), ("uren", 275, 2, 2)]
    finally:
        with engine.begin() as connection:  # leave the shared test database as the fixture made it
            for table in ("realisation_year_figure", "realisation_report", "realisation_year_total",
                          "organisation", "region"):
                connection.execute(text(f"DELETE FROM {table}"))
        engine.dispose()
