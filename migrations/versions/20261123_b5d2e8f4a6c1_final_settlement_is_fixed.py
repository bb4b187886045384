"""A final settlement run never changes, in the database itself, not only in the application.

PostgreSQL (production): triggers refuse every UPDATE and DELETE of a final settlement_run, and every
INSERT, UPDATE and DELETE of the lines, cost shares and answers of a final run.
SQLite (embedded/dev): the same for INSERT and UPDATE; DELETE stays possible there so a development
database can be emptied (as for the audit log).

Revision ID: b5d2e8f4a6c1
Revises: a7e3c1f2d9b4
Create Date: 2026-11-24 01:35:00
"""
from __future__ import annotations

from alembic import op

revision = "b5d2e8f4a6c1"
down_revision = "a7e3c1f2d9b4"
branch_labels = None
depends_on = None

CHILDREN = ("settlement_line", "settlement_cost_share", "settlement_response")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION settlement_final_is_fixed() RETURNS trigger AS $$
            DECLARE
                row_run integer;
            BEGIN
                IF TG_TABLE_NAME = 'settlement_run' THEN
                    IF OLD.state = 'final' THEN
                        RAISE EXCEPTION 'settlement_run % is final: % refused', OLD.id, TG_OP;
                    END IF;
                ELSE
                    row_run := CASE WHEN TG_OP = 'DELETE' THEN OLD.run_id ELSE NEW.run_id END;
                    IF EXISTS (SELECT 1 FROM settlement_run WHERE id = row_run AND state = 'final')
                       OR (TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM settlement_run
                                                        WHERE id = OLD.run_id AND state = 'final')) THEN
                        RAISE EXCEPTION '% of final settlement_run %: % refused', TG_TABLE_NAME, row_run, TG_OP;
                    END IF;
                END IF;
                IF TG_OP = 'DELETE' THEN
                    RETURN OLD;
                END IF;
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER settlement_final_is_fixed BEFORE UPDATE OR DELETE ON settlement_run
            FOR EACH ROW EXECUTE FUNCTION settlement_final_is_fixed()
        """)
        for table in CHILDREN:
            op.execute(f"""
                CREATE TRIGGER settlement_final_is_fixed BEFORE INSERT OR UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION settlement_final_is_fixed()
            """)
    else:
        op.execute("""
            CREATE TRIGGER settlement_run_final_is_fixed BEFORE UPDATE ON settlement_run WHEN OLD.state = 'final'
            BEGIN SELECT RAISE(ABORT, 'settlement_run is final: UPDATE refused'); END
        """)
        for table in CHILDREN:
            for operation, row in (("INSERT", "NEW"), ("UPDATE", "OLD")):
                op.execute(f"""
                    CREATE TRIGGER {table}_final_is_fixed_{operation.lower()} BEFORE {operation} ON {table}
                    WHEN EXISTS (SELECT 1 FROM settlement_run WHERE id = {row}.run_id AND state = 'final')
                    BEGIN SELECT RAISE(ABORT, '{table} of a final settlement_run: {operation} refused'); END
                """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("settlement_run", *CHILDREN):
            op.execute(f"DROP TRIGGER settlement_final_is_fixed ON {table}")
        op.execute("DROP FUNCTION settlement_final_is_fixed()")
    else:
        op.execute("DROP TRIGGER settlement_run_final_is_fixed")
        for table in CHILDREN:
            for operation in ("insert", "update"):
                op.execute(f"DROP TRIGGER {table}_final_is_fixed_{operation}")
