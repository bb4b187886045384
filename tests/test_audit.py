"""The audit trail is append-only: the application inserts rows and never changes them."""
from __future__ import annotations

import pytest
from sqlmodel import select

from portal import audit, db
from portal.models import AuditEvent


def test_audit_rows_cannot_be_changed_or_deleted(app):
    with app.app_context():
        session = db.session()
        audit.record("test.event", "Iets gebeurde", details={"before": {"a": 1}, "after": {"a": 2}})
        session.commit()
        event = session.exec(select(AuditEvent)).one()
        event.summary = "Iets anders"
        with pytest.raises(audit.AuditLogIsAppendOnly):
            session.commit()
        session.rollback()
        session.delete(session.exec(select(AuditEvent)).one())
        with pytest.raises(audit.AuditLogIsAppendOnly):
            session.commit()
        session.rollback()
        assert session.exec(select(AuditEvent.summary)).one() == "Iets gebeurde"


def test_audit_log_page_lists_events_newest_first(signed_in):
    client = signed_in("contractmanager@mgr-noord-limburg.example")
    body = client.get("/logboek/").get_data(as_text=True)
    assert body.index("contractmanager@mgr-noord-limburg.example ingelogd") < body.index("Demoregio Noord-Limburg geladen")
    filtered = client.get("/logboek/?actie=demo.").get_data(as_text=True)
    assert "Demoregio Noord-Limburg geladen" in filtered and " ingelogd" not in filtered


def test_database_refuses_updates_of_audit_rows(app, request):
    """Even SQL that bypasses the application cannot rewrite history."""
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    with app.app_context():
        session = db.session()
        audit.record("test.event", "Origineel")
        session.commit()
        engine = db.engine()
        with pytest.raises(DatabaseError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text("UPDATE audit_event SET summary = 'vervalst'"))
        if request.config.getoption("--db") == "postgresql":
            with pytest.raises(DatabaseError, match="append-only"):
                with engine.begin() as connection:
                    connection.execute(text("DELETE FROM audit_event"))
        assert session.exec(select(AuditEvent.summary)).all() == ["Origineel"]
