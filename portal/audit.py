"""The audit trail: one call records who did what, to which object, with before and after.

Rows are only ever inserted; a guard refuses any update or delete of an audit row by the ORM.
"""
from __future__ import annotations

import json
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import event, insert
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from portal import db
from portal.models import AuditEvent, utcnow


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(OrmSession, "before_flush")
def _refuse_audit_changes(session, _context, _instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise AuditLogIsAppendOnly("Audit events are never changed or deleted.")


def client_address() -> str | None:
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:64] or None


def _values(action: str, summary: str, *, object_type: str | None = None, object_id=None,
            organisation_id: int | None = None, region_id: int | None = None,
            details: dict[str, Any] | None = None, actor=None) -> dict[str, Any]:
    """An audit row's values (all but ``id`` and ``at``)."""
    actor_user_id = actor_email = None
    if actor is not None:
        actor_user_id, actor_email = actor.id, actor.email
    elif has_request_context() and current_user and current_user.is_authenticated:
        actor_user_id, actor_email = current_user.user.id, current_user.user.email
        if region_id is None and current_user.region is not None:
            region_id = current_user.region.id
    return dict(
        action=action,
        summary=summary[:500],
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        organisation_id=organisation_id,
        region_id=region_id,
        details=details,
        actor_user_id=actor_user_id,
        actor_email=actor_email,
        client=client_address(),
    )


def _build(action: str, summary: str, **kwargs) -> AuditEvent:
    return AuditEvent(**_values(action, summary, **kwargs))


def record(action: str, summary: str, **kwargs) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits).

    Keyword arguments: object_type, object_id, organisation_id, region_id, details (a dict, for
    example ``{"before": ..., "after": ...}``) and actor (a User; default the signed-in user).
    """
    entry = _build(action, summary, **kwargs)
    db.session().add(entry)
    return entry


def record_many(entries: list[tuple[str, str, dict[str, Any]]]) -> int:
    """Add many audit events to the current transaction at once, each given as ``(action, summary,
    keyword arguments of :func:`record`)``: the same rows as :func:`record` makes, written in bulk
    (``COPY`` on PostgreSQL, one executemany elsewhere) instead of one object each; an import
    records one event per report. Returns the number."""
    return write_many(prepare_many(entries))


def prepare_many(entries: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The rows :func:`record_many` writes, made without touching the database (a caller may make
    them while its connection is busy, then :func:`write_many` them)."""
    at = utcnow()
    # The values record() gives an AuditEvent, without making one: a model object costs more
    # than its row.
    return [_values(action, summary, **kwargs) | {"at": at} for action, summary, kwargs in entries]


def copy_text(rows: list[dict[str, Any]]) -> tuple[str, tuple[str, ...], str]:
    """Rows of :func:`prepare_many` as the table, its columns and the COPY text (PostgreSQL) that
    :func:`write_many` would write, for a caller that sends them itself (the realisation import's
    writer, after its last lines)."""
    table = AuditEvent.__table__
    columns = tuple(column.name for column in table.columns if column.name != "id")
    return table.name, columns, "".join(
        db.copy_line([json.dumps(row[name]) if name == "details" else row[name] for name in columns]) for row in rows)


def write_many(rows: list[dict[str, Any]]) -> int:
    """Write rows of :func:`prepare_many` into the current transaction. Returns the number."""
    table = AuditEvent.__table__
    columns = tuple(column.name for column in table.columns if column.name != "id")
    session = db.session()
    if session.get_bind().dialect.name == "postgresql":
        db.copy_rows(session, table.name, columns,
                     [tuple(json.dumps(row[name]) if name == "details" else row[name] for name in columns)
                      for row in rows])
    elif rows:
        session.execute(insert(table), rows)
    return len(rows)


def record_now(action: str, summary: str, **kwargs) -> None:
    """Record and commit at once in a session of its own: for refused requests, whose own
    transaction is rolled back."""
    with Session(db.engine()) as own_session:
        own_session.add(_build(action, summary, **kwargs))
        own_session.commit()
