"""The five roles, which kind of organisation each belongs to, and the access decorators."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from portal.models import OrganisationKind

PROVIDER_ADMIN = "provider_admin"
PROVIDER_USER = "provider_user"
CONTRACT_MANAGER = "contract_manager"
MUNICIPALITY_USER = "municipality_user"
AUDITOR = "auditor"

ALL_ROLES = (PROVIDER_ADMIN, PROVIDER_USER, CONTRACT_MANAGER, MUNICIPALITY_USER, AUDITOR)
PROVIDER_ROLES = frozenset({PROVIDER_ADMIN, PROVIDER_USER})
REGION_READERS = frozenset({CONTRACT_MANAGER, AUDITOR})  # the roles that read the whole region

LABELS = {
    PROVIDER_ADMIN: "Beheerder zorgaanbieder",
    PROVIDER_USER: "Medewerker zorgaanbieder",
    CONTRACT_MANAGER: "Contractmanager",
    MUNICIPALITY_USER: "Medewerker gemeente",
    AUDITOR: "Accountant (alleen lezen)",
}

ORGANISATION_KIND = {
    PROVIDER_ADMIN: OrganisationKind.PROVIDER,
    PROVIDER_USER: OrganisationKind.PROVIDER,
    CONTRACT_MANAGER: OrganisationKind.PURCHASING_OFFICE,
    MUNICIPALITY_USER: OrganisationKind.MUNICIPALITY,
    AUDITOR: OrganisationKind.AUDITOR,
}


def roles_for_kind(kind: str) -> list[str]:
    return [role for role in ALL_ROLES if ORGANISATION_KIND[role] == kind]


def roles_required(*roles: str):
    """Only signed-in users whose active membership has one of ``roles``; others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
