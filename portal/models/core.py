"""Core tables: regions, organisations, accounts, sessions, mail, one-time tokens and audit.

The schema is created and changed only by the Alembic revisions in ``migrations/``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal import clock


def utcnow() -> datetime:
    """This moment in UTC, from the portal's one clock (:mod:`portal.clock`)."""
    return clock.now()


class OrganisationKind:
    PROVIDER = "provider"
    MUNICIPALITY = "municipality"
    PURCHASING_OFFICE = "purchasing_office"
    AUDITOR = "auditor"

    ALL = (PROVIDER, MUNICIPALITY, PURCHASING_OFFICE, AUDITOR)
    LABELS = {
        PROVIDER: "Zorgaanbieder",
        MUNICIPALITY: "Gemeente",
        PURCHASING_OFFICE: "Inkooporganisatie",
        AUDITOR: "Accountant",
    }


class Region(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)


class Organisation(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("region_id", "name", name="uq_organisation_region_name"),)

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    kind: str = Field(max_length=32, index=True)
    name: str = Field(max_length=200)
    # Providers: Chamber of Commerce number (8 digits) and Vektis AGB code (8 digits).
    kvk_number: str | None = Field(default=None, max_length=8)
    agb_code: str | None = Field(default=None, max_length=8)
    # Municipalities: residents (population key) and CBS municipality code (4 digits).
    residents: int | None = Field(default=None)
    municipality_code: str | None = Field(default=None, max_length=4)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    name: str = Field(max_length=200)
    # None until the invitation is accepted and a password chosen.
    password_hash: str | None = Field(default=None, max_length=255)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    password_changed_at: datetime | None = Field(default=None)


class Membership(SQLModel, table=True):
    __scope__ = "organisation_id"
    __table_args__ = (
        UniqueConstraint("user_id", "organisation_id", name="uq_membership_user_organisation"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    role: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow)


class UserSession(SQLModel, table=True):
    """A signed-in browser session; the cookie holds only the random id, this row decides."""

    __tablename__ = "user_session"

    id: str = Field(primary_key=True, max_length=64)  # SHA-256 of the cookie's session id
    user_id: int = Field(foreign_key="user.id", index=True)
    membership_id: int | None = Field(default=None, foreign_key="membership.id")
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = Field(default=None)
    client: str | None = Field(default=None, max_length=64)


class MailMessage(SQLModel, table=True):
    """The outbox: every message the portal sends, whatever backend delivers it."""

    __tablename__ = "mail_message"

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=254, index=True)
    subject: str = Field(max_length=300)
    body: str
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = Field(default=None)


class UsedToken(SQLModel, table=True):
    """One-time links that have been used; a second use is refused."""

    __tablename__ = "used_token"

    id: int | None = Field(default=None, primary_key=True)
    token_id: str = Field(max_length=64, unique=True)
    purpose: str = Field(max_length=32)
    used_at: datetime = Field(default_factory=utcnow)


class LoginFailure(SQLModel, table=True):
    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_client_at", "client", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    email_key: str = Field(max_length=64, index=True)  # SHA-256 of the lower-cased address
    client: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """Append-only log of what happened: the application inserts rows, never changes them."""

    __tablename__ = "audit_event"
    __scope__ = "region_id"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    action: str = Field(max_length=64, index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="user.id")
    actor_email: str | None = Field(default=None, max_length=254)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    region_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    object_type: str | None = Field(default=None, max_length=64)
    object_id: str | None = Field(default=None, max_length=64)
    summary: str = Field(max_length=500)
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    client: str | None = Field(default=None, max_length=64)
