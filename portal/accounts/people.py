"""Who acts and who hears of it: the account behind a caller, the memberships it acts with, whether
it is a contract manager of a region, and the addresses a service mails (the active provider users
of an organisation, the contract managers of a region's purchasing office).

Services take ``user`` as the views pass it (``current_user``: a signed-in user that acts with the
one membership chosen for this session) or as a plain :class:`User` (scripts, tests, the demo),
which acts with all of its memberships.
"""
from __future__ import annotations

from sqlmodel import select

from portal import db
from portal.accounts import roles
from portal.models import Membership, Organisation, OrganisationKind, User


def account_of(user) -> User:
    """The :class:`User` behind a signed-in user, or the User itself."""
    inner = getattr(user, "user", None)
    return inner if isinstance(inner, User) else user


def memberships_of(user) -> list[tuple[Membership, Organisation]]:
    """(membership, organisation) the user acts with: the session's chosen one, or all of a User's."""
    membership = getattr(user, "membership", None)
    session = db.session()
    if membership is not None:
        organisation = session.get(Organisation, membership.organisation_id)
        return [(membership, organisation)] if organisation is not None else []
    return list(session.exec(select(Membership, Organisation).join(
        Organisation, Organisation.id == Membership.organisation_id).where(
        Membership.user_id == account_of(user).id)).all())


def is_region_manager(user, region_id: int) -> bool:
    """True for a contract manager of the region's purchasing office."""
    return any(m.role == roles.CONTRACT_MANAGER and o.region_id == region_id
               and o.kind == OrganisationKind.PURCHASING_OFFICE for m, o in memberships_of(user))


def provider_recipients(organisation_id: int) -> list[str]:
    """The e-mail addresses of the organisation's active provider users, sorted."""
    return list(db.session().exec(select(User.email).join(Membership, Membership.user_id == User.id).where(
        Membership.organisation_id == organisation_id, Membership.role.in_(roles.PROVIDER_ROLES),
        User.is_active.is_(True)).order_by(User.email)).unique().all())


def contract_manager_recipients(region_id: int) -> list[str]:
    """The e-mail addresses of the active contract managers of the region's purchasing office, sorted."""
    return list(db.session().exec(
        select(User.email).join(Membership, Membership.user_id == User.id)
        .join(Organisation, Organisation.id == Membership.organisation_id).where(
            Organisation.region_id == region_id, Organisation.kind == OrganisationKind.PURCHASING_OFFICE,
            Membership.role == roles.CONTRACT_MANAGER, User.is_active.is_(True)).order_by(User.email)).unique().all())
