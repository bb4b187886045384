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


def test_event_detail_shows_before_and_after(app, signed_in):
    with app.app_context():
        audit.record("test.changed", "Budget gewijzigd", region_id=db.session().exec(
            select(AuditEvent.region_id).where(AuditEvent.action == "demo.loaded")).first(),
            details={"before": {"amount": "100.00", "year": 2024}, "after": {"amount": "125.50", "year": 2024}})
        db.session().commit()
        event_id = db.session().exec(select(AuditEvent.id).where(AuditEvent.action == "test.changed")).one()
    client = signed_in("auditor@accountant-noord-limburg.example")
    body = client.get(f"/logboek/{event_id}").get_data(as_text=True)
    assert "Budget gewijzigd" in body and "100.00" in body and "125.50" in body
    assert body.count(">Ja<") == 1  # only the amount changed
    assert f'href="/logboek/{event_id}"' in client.get("/logboek/").get_data(as_text=True)
    provider = signed_in("beheer@zorggroep-maasland.example")
    assert provider.get(f"/logboek/{event_id}").status_code == 403
