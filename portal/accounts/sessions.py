"""Signed-in sessions kept on the server.

The session cookie holds only a random session id; its SHA-256 names a ``user_session`` row that
decides whether the session lives. Sign-in creates a new id (the session is renewed), sign-out
ends the row (a replayed old cookie is anonymous again), and the idle and absolute timeouts are
checked on every request.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask import session as cookie_session
from flask_login import UserMixin, login_user, logout_user
from sqlmodel import select

from portal import audit, db
from portal.models import Membership, Organisation, Region, User, UserSession, utcnow

# last_seen_at is written at most this often, to spare the database a write per request
_TOUCH_INTERVAL = timedelta(seconds=30)


class SignedIn(UserMixin):
    """The signed-in user as the views see it: account, active membership, organisation, region."""

    def __init__(self, token: str, record: UserSession, user: User,
                 membership: Membership | None, organisation: Organisation | None,
                 region: Region | None):
        self.token = token
        self.record = record
        self.user = user
        self.membership = membership
        self.organisation = organisation
        self.region = region

    def get_id(self) -> str:
        return self.token

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None

    def recheck_at(self):
        """Until when a page kept for this session (portal/page_cache.py) may be served without
        loading the session again: its absolute or idle timeout, or the moment its idle timer is
        due to be written (:data:`_TOUCH_INTERVAL`), whichever comes first."""
        config = current_app.config
        record = self.record
        return min(record.created_at + timedelta(seconds=config["SESSION_ABSOLUTE_TIMEOUT"]),
                   record.last_seen_at + timedelta(seconds=config["SESSION_IDLE_TIMEOUT"]),
                   record.last_seen_at + _TOUCH_INTERVAL)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _expired(record: UserSession) -> bool:
    config = current_app.config
    now = utcnow()
    if now - record.created_at > timedelta(seconds=config["SESSION_ABSOLUTE_TIMEOUT"]):
        return True
    return now - record.last_seen_at > timedelta(seconds=config["SESSION_IDLE_TIMEOUT"])


def load_signed_in(token: str) -> SignedIn | None:
    session = db.session()
    # One round trip for the session, its user, membership, organisation and region: this runs
    # on every request, also for a page served from the page cache.
    found = session.exec(
        select(UserSession, User, Membership, Organisation, Region)
        .join(User, User.id == UserSession.user_id)
        .outerjoin(Membership, Membership.id == UserSession.membership_id)
        .outerjoin(Organisation, Organisation.id == Membership.organisation_id)
        .outerjoin(Region, Region.id == Organisation.region_id)
        .where(UserSession.id == _hash(token))
    ).first()
    if found is None:
        return None
    record, user, membership, organisation, region = found
    if record.ended_at is not None or not user.is_active:
        return None
    if _expired(record):
        record.ended_at = utcnow()
        session.add(record)
        audit.record("session.expired", f"Sessie van {user.email} verlopen", actor=user,
                     object_type="user", object_id=user.id)
        session.commit()
        return None
    if record.membership_id is not None:
        if membership is None or membership.user_id != user.id:
            return None
        if organisation is None or not organisation.is_active:
            return None
    else:
        membership = organisation = region = None
    if utcnow() - record.last_seen_at > _TOUCH_INTERVAL:
        record.last_seen_at = utcnow()
        session.add(record)
        session.commit()
    return SignedIn(token, record, user, membership, organisation, region)


def acting_for(user_id: int, membership_id: int) -> SignedIn | None:
    """The user of a membership as a job sees them (a worker has no session cookie): the same
    account, role, organisation and region, so scoped queries answer as in the request that queued
    the job. None when the account, the membership or the organisation is no longer active."""
    session = db.session()
    user = session.get(User, user_id)
    membership = session.get(Membership, membership_id)
    if user is None or not user.is_active or membership is None or membership.user_id != user.id:
        return None
    organisation = session.get(Organisation, membership.organisation_id)
    if organisation is None or not organisation.is_active:
        return None
    return SignedIn("", None, user, membership, organisation, session.get(Region, organisation.region_id))


def memberships_of(user: User) -> list[tuple[Membership, Organisation]]:
    session = db.session()
    rows = session.exec(
        select(Membership, Organisation)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id == user.id, Organisation.is_active == True)  # noqa: E712
        .order_by(Organisation.name)
    ).all()
    return list(rows)


def start_session(user: User, client: str | None) -> SignedIn:
    """Sign ``user`` in with a brand-new session id; picks the membership if there is only one."""
    cookie_session.clear()  # nothing from before sign-in survives: the session is renewed
    token = secrets.token_urlsafe(32)
    memberships = memberships_of(user)
    record = UserSession(id=_hash(token), user_id=user.id, client=client,
                         membership_id=memberships[0][0].id if len(memberships) == 1 else None)
    session = db.session()
    session.add(record)
    session.commit()
    signed_in = load_signed_in(token)
    login_user(signed_in, remember=False)
    cookie_session.permanent = True
    return signed_in


def choose_membership(signed_in: SignedIn, membership_id: int) -> bool:
    session = db.session()
    membership = session.get(Membership, membership_id)
    if membership is None or membership.user_id != signed_in.user.id:
        return False
    signed_in.record.membership_id = membership.id
    session.add(signed_in.record)
    session.commit()
    return True


def end_session(signed_in: SignedIn) -> None:
    session = db.session()
    signed_in.record.ended_at = utcnow()
    session.add(signed_in.record)
    session.commit()
    logout_user()
    cookie_session.clear()


def end_all_sessions(user: User) -> None:
    """End every live session of ``user`` (after a password change); the caller commits."""
    session = db.session()
    for record in session.exec(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at == None)  # noqa: E711
    ):
        record.ended_at = utcnow()
        session.add(record)
