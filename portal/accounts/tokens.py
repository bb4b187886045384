"""Signed one-time links (invitation, password reset) with itsdangerous.

A token carries the user id, a random token id and, for password resets, a fingerprint of the
current password hash. It expires after its max age, and works once: its id is recorded on use.
"""
from __future__ import annotations

import hashlib
import secrets

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from portal import db
from portal.models import UsedToken, User

INVITATION = "invitation"
PASSWORD_RESET = "password-reset"

_MAX_AGE_SETTING = {INVITATION: "INVITATION_MAX_AGE", PASSWORD_RESET: "PASSWORD_RESET_MAX_AGE"}


class TokenError(Exception):
    """The link is not valid; ``message`` says why, in Dutch."""

    def __init__(self, reason: str, message: str):
        super().__init__(reason)
        self.reason = reason
        self.message = message


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"portal-{purpose}")


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def make_token(purpose: str, user: User) -> str:
    payload = {"uid": user.id, "jti": secrets.token_urlsafe(16)}
    if purpose == PASSWORD_RESET:
        payload["pwd"] = _fingerprint(user)
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str) -> tuple[User, str]:
    """The user the token is for and its token id; raises :class:`TokenError` if unusable."""
    max_age = current_app.config[_MAX_AGE_SETTING[purpose]]
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError("expired", "Deze link is verlopen. Vraag een nieuwe link aan.") from None
    except BadSignature:
        raise TokenError("invalid", "Deze link is ongeldig. Controleer of u de hele link hebt gebruikt.") from None
    session = db.session()
    user = session.get(User, payload.get("uid"))
    used = session.exec(select(UsedToken).where(UsedToken.token_id == payload.get("jti"))).first()
    if used is not None:
        raise TokenError("reused", "Deze link is al gebruikt en werkt maar één keer.")
    if user is None or not user.is_active:
        raise TokenError("invalid", "Deze link is ongeldig.")
    if purpose == PASSWORD_RESET and payload.get("pwd") != _fingerprint(user):
        raise TokenError("reused", "Deze link is al gebruikt en werkt maar één keer.")
    if purpose == INVITATION and user.password_hash is not None:
        raise TokenError("reused", "Deze uitnodiging is al aanvaard. U kunt inloggen.")
    return user, payload["jti"]


def spend_token(purpose: str, token_id: str) -> None:
    """Mark the token used, in the caller's transaction; a concurrent second use fails."""
    session = db.session()
    session.add(UsedToken(token_id=token_id, purpose=purpose))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise TokenError("reused", "Deze link is al gebruikt en werkt maar één keer.") from None
