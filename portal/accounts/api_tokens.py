"""Bearer tokens for the JSON API: create (the plain token is shown once), revoke, list, and
authenticate a request's ``Authorization: Bearer …`` header.

A token acts for one membership (organisation and role) of one user, so the API sees exactly what
that user sees on the screens: the request loader below hands the token's user and membership to
flask-login as ``current_user``, and :mod:`portal.accounts.scoping` does the rest. Only the SHA-256 of a
token is stored. The API never reads or writes the cookie session (see :mod:`portal.api`), and
the screens never accept a bearer token.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import has_request_context, request
from sqlmodel import select

from portal import audit, db
from portal.accounts import roles
from portal.accounts.sessions import SignedIn, memberships_of
from portal.models import ApiToken, Membership, Organisation, Region, User, utcnow
from portal.validators import RuleViolation

# Every path under this prefix belongs to the JSON API (all versions).
API_PATH_PREFIX = "/api/"
# Recognisable in logs and by secret scanners; the rest is 256 bits from the OS's CSPRNG.
TOKEN_PREFIX = "pp_"
# last_used_at is written at most this often, to spare the database a write per API call.
_TOUCH_INTERVAL = timedelta(seconds=30)
# A fingerprint (the first hex digits of the hash) names a token in lists without revealing it.
FINGERPRINT_LENGTH = 12
MIN_FINGERPRINT_PREFIX = 6


def is_api_request() -> bool:
    return has_request_context() and request.path.startswith(API_PATH_PREFIX)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def fingerprint(token: ApiToken) -> str:
    return token.token_hash[:FINGERPRINT_LENGTH]


# --- Services --------------------------------------------------------------------------------


def _snapshot(token: ApiToken, user: User, organisation: Organisation, membership: Membership) -> dict:
    """What the audit log keeps of a token (never the token itself)."""
    return {
        "fingerprint": fingerprint(token),
        "label": token.label,
        "user": user.email,
        "organisation": organisation.name,
        "role": membership.role,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


def membership_for(user: User, organisation_name: str | None = None) -> Membership:
    """The membership a new token of ``user`` acts for: the only one, or the one at the named
    organisation. Raises :class:`RuleViolation` when there is none or it is ambiguous."""
    memberships = memberships_of(user)
    if organisation_name:
        wanted = organisation_name.strip().casefold()
        matches = [m for m, o in memberships if o.name.casefold() == wanted]
        if not matches:
            names = ", ".join(o.name for _m, o in memberships) or "geen"
            raise RuleViolation("organisation", f"{user.email} werkt niet voor '{organisation_name}' "
                                                f"(wel voor: {names}).")
        return matches[0]
    if not memberships:
        raise RuleViolation("organisation", f"{user.email} werkt voor geen enkele (actieve) organisatie; "
                                            "een API-sleutel hoort bij een organisatie.")
    if len(memberships) > 1:
        names = ", ".join(f"'{o.name}'" for _m, o in memberships)
        raise RuleViolation("organisation", f"{user.email} werkt voor meer organisaties ({names}); "
                                            "kies er één met --organisation.")
    return memberships[0][0]


def create_token(user: User, membership: Membership, label: str = "", *, actor: User | None = None,
                 via: str = "scherm") -> tuple[ApiToken, str]:
    """Create a token for ``user`` acting for ``membership``; returns the row and the plain token,
    which exists only in this return value. Audited; the caller commits."""
    session = db.session()
    label = (label or "").strip()
    if not user.is_active:
        raise RuleViolation("email", f"Het account {user.email} is niet actief.")
    if membership.user_id != user.id:
        raise RuleViolation("organisation", "Deze organisatie hoort niet bij dit account.")
    if len(label) > 200:
        raise RuleViolation("label", "De omschrijving mag hoogstens 200 tekens lang zijn.")
    organisation = session.get(Organisation, membership.organisation_id)
    if organisation is None or not organisation.is_active:
        raise RuleViolation("organisation", "Deze organisatie is niet actief.")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(token_hash=hash_token(plain), user_id=user.id, membership_id=membership.id, label=label)
    session.add(token)
    session.flush()
    audit.record("api_token.created",
                 f"API-sleutel {fingerprint(token)} gemaakt voor {user.email} bij {organisation.name} "
                 f"({roles.LABELS[membership.role]}), via {via}",
                 object_type="api_token", object_id=token.id, organisation_id=organisation.id,
                 region_id=organisation.region_id, actor=actor,
                 details={"after": _snapshot(token, user, organisation, membership)})
    return token, plain


def revoke_token(token: ApiToken, *, actor: User | None = None, via: str = "scherm",
                 reason: str = "") -> None:
    """Revoke ``token``: it stops working at once and stays on record. Audited; the caller commits."""
    if token.revoked_at is not None:
        raise RuleViolation("token", "Deze API-sleutel is al ingetrokken.")
    session = db.session()
    user = session.get(User, token.user_id)
    membership = session.get(Membership, token.membership_id)
    organisation = session.get(Organisation, membership.organisation_id)
    before = _snapshot(token, user, organisation, membership)
    token.revoked_at = utcnow()
    session.add(token)
    audit.record("api_token.revoked",
                 f"API-sleutel {fingerprint(token)} van {user.email} bij {organisation.name} ingetrokken, "
                 f"via {via}{f' ({reason})' if reason else ''}",
                 object_type="api_token", object_id=token.id, organisation_id=organisation.id,
                 region_id=organisation.region_id, actor=actor,
                 details={"before": before, "after": _snapshot(token, user, organisation, membership)})


def forget_tokens_of_membership(membership: Membership) -> None:
    """Before a membership is deleted: revoke its live tokens (audited) and remove its token rows,
    which would otherwise point at a membership that no longer exists. The audit log keeps them."""
    session = db.session()
    for token in session.exec(select(ApiToken).where(ApiToken.membership_id == membership.id)).all():
        if token.revoked_at is None:
            revoke_token(token, reason="toegang tot de organisatie ingetrokken")
        session.delete(token)
    session.flush()


@dataclass
class TokenRow:
    token: ApiToken
    user: User
    organisation: Organisation
    role: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.token)


def list_tokens(user: User | None = None) -> list[TokenRow]:
    """Tokens, newest first: of one user, or (``None``, for the command line) of everybody."""
    statement = (select(ApiToken, User, Membership, Organisation)
                 .join(User, User.id == ApiToken.user_id)
                 .join(Membership, Membership.id == ApiToken.membership_id)
                 .join(Organisation, Organisation.id == Membership.organisation_id)
                 .order_by(ApiToken.id.desc()))
    if user is not None:
        statement = statement.where(ApiToken.user_id == user.id)
    return [TokenRow(t, u, o, m.role) for t, u, m, o in db.session().exec(statement).all()]


def find_token(identifier: str) -> ApiToken:
    """A token by id, by the plain token itself, or by a prefix of its fingerprint (as
    ``token list`` shows it). Raises :class:`RuleViolation` when none or several match."""
    session = db.session()
    identifier = (identifier or "").strip()
    if identifier.isdigit():
        token = session.get(ApiToken, int(identifier))
        if token is not None:
            return token
    if identifier.startswith(TOKEN_PREFIX):
        token = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(identifier))).first()
        if token is None:
            raise RuleViolation("token", "Deze API-sleutel is onbekend.")
        return token
    prefix = identifier.lower()
    if len(prefix) < MIN_FINGERPRINT_PREFIX or any(ch not in "0123456789abcdef" for ch in prefix):
        raise RuleViolation("token", f"Geen API-sleutel met nummer of kenmerk '{identifier}'. Geef het "
                                     f"nummer of minstens {MIN_FINGERPRINT_PREFIX} tekens van het "
                                     "kenmerk uit 'token list'.")
    matches = session.exec(select(ApiToken).where(ApiToken.token_hash.startswith(prefix)).limit(2)).all()
    if not matches:
        raise RuleViolation("token", f"Geen API-sleutel met kenmerk '{identifier}'.")
    if len(matches) > 1:
        raise RuleViolation("token", f"Meer API-sleutels hebben een kenmerk dat begint met '{identifier}'; "
                                     "geef meer tekens of het nummer.")
    return matches[0]


# --- Authentication --------------------------------------------------------------------------


class TokenUser(SignedIn):
    """``current_user`` on an API request: the token's account and membership. It has no
    server-side session record and never signs anybody in with a cookie."""

    def __init__(self, api_token: ApiToken, user: User, membership: Membership,
                 organisation: Organisation, region: Region | None):
        super().__init__(token="", record=None, user=user, membership=membership,
                         organisation=organisation, region=region)
        self.api_token = api_token

    def get_id(self) -> str:
        raise RuntimeError("An API token user is never stored in a cookie session.")


def bearer_token_from_header(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate(plain: str | None) -> TokenUser | None:
    """The user a live token acts for, or None (unknown, revoked, or its account, membership or
    organisation no longer active). Records when the token was last used."""
    if not plain:
        return None
    session = db.session()
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(plain))).first()
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    membership = session.get(Membership, token.membership_id)
    if user is None or not user.is_active or membership is None or membership.user_id != user.id:
        return None
    organisation = session.get(Organisation, membership.organisation_id)
    if organisation is None or not organisation.is_active:
        return None
    region = session.get(Region, organisation.region_id)
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_INTERVAL:
        token.last_used_at = now
        session.add(token)
        session.commit()
    return TokenUser(token, user, membership, organisation, region)


def user_from_request(_request) -> TokenUser | None:
    """flask-login's request loader: only API requests, only the bearer header."""
    if not is_api_request():
        return None
    return authenticate(bearer_token_from_header(request.headers.get("Authorization")))

