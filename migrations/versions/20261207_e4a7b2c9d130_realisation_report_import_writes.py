"""realisation reports cost less to write (issue 14: an import writes thousands at once).

1. Fillfactor 50 (PostgreSQL): an import writes each report as soon as its first line is met (its
   lines refer to it) and its sums once all lines are checked, in one UPDATE of every report of the
   upload. The sums are in no index, so with room on the page PostgreSQL updates each row in place
   (a HOT update) instead of adding an entry to each of the table's indexes. New pages only;
   existing ones keep their layout until rewritten.
2. Two indexes that others cover are dropped: ``ix_realisation_report_key`` (organisation,
   municipality, segment, year) and ``ix_realisation_report_organisation_id`` are both leading
   columns of the unique ``uq_realisation_report_version``, which serves the same lookups.
3. The triggers that keep ``realisation_year_total`` and ``realisation_year_figure`` (revisions
   a7e3c1f2d9b4 and d8b3f6a2c915) fire only for a row that is or was approved (a ``WHEN``
   condition per event, PostgreSQL): the functions did nothing for any other row, but were called
   for each. SQLite's triggers already carry that condition in their statements.

Revision ID: e4a7b2c9d130
Revises: d8b3f6a2c915
Create Date: 2026-12-07 06:30:00
"""
from __future__ import annotations

from alembic import op

revision = "e4a7b2c9d130"
down_revision = "d8b3f6a2c915"
branch_labels = None
depends_on = None

_TRIGGERS = ("realisation_year_total_change", "realisation_year_figure_change")
_WHEN = {"INSERT": "NEW.state = 'approved'", "UPDATE": "OLD.state = 'approved' OR NEW.state = 'approved'",
         "DELETE": "OLD.state = 'approved'"}


def upgrade() -> None:
    with op.batch_alter_table("realisation_report", schema=None) as batch_op:
        batch_op.drop_index("ix_realisation_report_key")
        batch_op.drop_index("ix_realisation_report_organisation_id")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE realisation_report SET (fillfactor = 50)")
    for function in _TRIGGERS:
        op.execute(f"DROP TRIGGER {function} ON realisation_report")
        for event, condition in _WHEN.items():
            op.execute(f"CREATE TRIGGER {function}_{event.lower()} AFTER {event} ON realisation_report "
                       f"FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION {function}()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for function in _TRIGGERS:
            for event in _WHEN:
                op.execute(f"DROP TRIGGER {function}_{event.lower()} ON realisation_report")
            op.execute(f"CREATE TRIGGER {function} AFTER INSERT OR UPDATE OR DELETE ON realisation_report "
                       f"FOR EACH ROW EXECUTE FUNCTION {function}()")
        op.execute("ALTER TABLE realisation_report RESET (fillfactor)")
    with op.batch_alter_table("realisation_report", schema=None) as batch_op:
        batch_op.create_index("ix_realisation_report_organisation_id", ["organisation_id"], unique=False)
        batch_op.create_index("ix_realisation_report_key", ["organisation_id", "municipality_id", "segment_key",
                                                            "year"], unique=False)
