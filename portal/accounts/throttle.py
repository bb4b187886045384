"""Sign-in throttling: slow down guessing without locking other users out.

Failures are counted per e-mail address *and* client address together, so an attacker guessing a
colleague's password from elsewhere does not block the colleague; a second, higher limit per
client address catches one client trying many addresses.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func
from sqlmodel import select

from portal import db
from portal.models import LoginFailure, utcnow


def email_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def is_throttled(email: str, client: str) -> bool:
    config = current_app.config
    since = utcnow() - timedelta(seconds=config["LOGIN_FAILURE_WINDOW"])
    session = db.session()
    pair = session.exec(
        select(func.count()).select_from(LoginFailure).where(
            LoginFailure.email_key == email_key(email),
            LoginFailure.client == client,
            LoginFailure.at >= since,
        )
    ).one()
    if pair >= config["LOGIN_MAX_FAILURES"]:
        return True
    per_client = session.exec(
        select(func.count()).select_from(LoginFailure).where(
            LoginFailure.client == client, LoginFailure.at >= since
        )
    ).one()
    return per_client >= config["LOGIN_MAX_FAILURES_PER_CLIENT"]


def record_failure(email: str, client: str) -> None:
    db.session().add(LoginFailure(email_key=email_key(email), client=client))


def clear_failures(email: str, client: str) -> None:
    db.session().exec(
        delete(LoginFailure).where(
            LoginFailure.email_key == email_key(email), LoginFailure.client == client
        )
    )
