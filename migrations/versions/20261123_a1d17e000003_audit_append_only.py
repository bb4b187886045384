"""Audit trail append-only in the database itself, not only in the application.

PostgreSQL (production): a trigger refuses every UPDATE and DELETE of audit_event rows.
SQLite (embedded/dev): a trigger refuses UPDATE; DELETE stays possible there so a development
database can be emptied.

Revision ID: a1d17e000003
Revises: 26024f2d0707
Create Date: 2026-11-23 19:00:00
"""
from __future__ import annotations

from alembic import op

revision = "a1d17e000003"
down_revision = "26024f2d0707"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_event_is_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP;
            END;
            $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
            FOR EACH ROW EXECUTE FUNCTION audit_event_is_append_only()
        """)
    else:
        op.execute("""
            CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event
            BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION audit_event_is_append_only()")
    else:
        op.execute("DROP TRIGGER audit_event_append_only")
