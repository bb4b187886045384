"""Account services: invitations, role changes and removal, password changes."""
from __future__ import annotations

from flask import url_for
from sqlmodel import select

from portal import audit, db, mail
from portal.accounts import api_tokens, roles, sessions, tokens
from portal.accounts.passwords import hash_password
from portal.models import Membership, Organisation, User, UserSession, utcnow


class AccountError(Exception):
    """A request the rules refuse; ``field`` names the form field, ``message`` says why in Dutch."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def invite(name: str, email: str, organisation: Organisation, role: str) -> Membership:
    """Give ``email`` the ``role`` at ``organisation``; a new person gets an invitation link."""
    if role not in roles.roles_for_kind(organisation.kind):
        raise AccountError("role", "Deze rol past niet bij dit soort organisatie.")
    session = db.session()
    user = session.exec(select(User).where(User.email == email)).first()
    new_user = user is None
    if new_user:
        user = User(email=email, name=name)
        session.add(user)
        session.flush()
    elif session.exec(select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation.id)).first():
        raise AccountError("email", "Deze persoon heeft al een account bij deze organisatie.")
    membership = Membership(user_id=user.id, organisation_id=organisation.id, role=role)
    session.add(membership)
    session.flush()
    if new_user or user.password_hash is None:
        link = url_for("auth.accept_invitation", token=tokens.make_token(tokens.INVITATION, user),
                       _external=True)
        mail.send_mail(email, "Uitnodiging voor het aanbiedersportaal",
                       f"Beste {name},\n\nU bent uitgenodigd voor het aanbiedersportaal als "
                       f"{roles.LABELS[role].lower()} bij {organisation.name}.\n"
                       f"Kies via deze link een wachtwoord (de link werkt één keer en is 7 dagen geldig):\n\n"
                       f"{link}\n")
    else:
        mail.send_mail(email, "U hebt toegang tot een extra organisatie",
                       f"Beste {user.name},\n\nU hebt nu ook toegang tot {organisation.name} als "
                       f"{roles.LABELS[role].lower()}. Na het inloggen kiest u de organisatie.\n")
    audit.record("user.invited", f"{email} uitgenodigd als {roles.LABELS[role]} bij {organisation.name}",
                 object_type="membership", object_id=membership.id, organisation_id=organisation.id,
                 region_id=organisation.region_id,
                 details={"after": {"email": email, "role": role, "organisation_id": organisation.id}})
    return membership


def change_role(membership: Membership, organisation: Organisation, role: str) -> None:
    if role not in roles.roles_for_kind(organisation.kind):
        raise AccountError("role", "Deze rol past niet bij dit soort organisatie.")
    before = membership.role
    if before == role:
        return
    _keep_one_admin(membership, organisation, leaving=before == roles.PROVIDER_ADMIN)
    membership.role = role
    db.session().add(membership)
    audit.record("membership.role_changed", f"Rol gewijzigd van {roles.LABELS[before]} naar {roles.LABELS[role]}",
                 object_type="membership", object_id=membership.id, organisation_id=organisation.id,
                 region_id=organisation.region_id,
                 details={"before": {"role": before}, "after": {"role": role}})


def remove_membership(membership: Membership, organisation: Organisation) -> None:
    _keep_one_admin(membership, organisation, leaving=membership.role == roles.PROVIDER_ADMIN)
    session = db.session()
    user = session.get(User, membership.user_id)
    audit.record("membership.removed", f"Toegang van {user.email} tot {organisation.name} ingetrokken",
                 object_type="membership", object_id=membership.id, organisation_id=organisation.id,
                 region_id=organisation.region_id,
                 details={"before": {"email": user.email, "role": membership.role}})
    for record in session.exec(select(UserSession).where(
            UserSession.membership_id == membership.id)):
        record.ended_at = record.ended_at or utcnow()
        record.membership_id = None
        session.add(record)
    api_tokens.forget_tokens_of_membership(membership)
    session.delete(membership)


def _keep_one_admin(membership: Membership, organisation: Organisation, leaving: bool) -> None:
    if not leaving:
        return
    admins = db.session().exec(select(Membership).where(
        Membership.organisation_id == organisation.id, Membership.role == roles.PROVIDER_ADMIN,
        Membership.id != membership.id)).all()
    if not admins:
        raise AccountError("role", "Een zorgaanbieder houdt minstens één beheerder.")


def set_password(user: User, password: str) -> None:
    """Store a new password hash and end every session of the user (the caller commits)."""
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    db.session().add(user)
    sessions.end_all_sessions(user)
