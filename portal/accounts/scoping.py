"""Scoping: every query runs within what the signed-in organisation may see.

Providers and municipalities see their own organisation only; contract managers and auditors see
the organisations of their region. A model opts in by naming how it reaches an organisation:
``__scope__ = "organisation_id"`` (a column holding an organisation id), a tuple of such
columns (visible when any of them is, e.g. a provider's agreement with a municipality), or
``"region_id"`` (region-wide data such as the catalogue).
For :class:`Organisation` itself the id is the organisation. Anything outside the scope answers 404.
"""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import false, or_
from sqlalchemy import select as sa_select
from sqlmodel import select

from portal import db
from portal.accounts import roles
from portal.models import Organisation, OrganisationKind
from portal.models.agreements import BudgetAgreement
from portal.models.realisation import RealisationReport

REGION_WIDE_ROLES = roles.REGION_READERS


def visible_organisation_ids():
    """A subquery of the organisation ids the signed-in membership may see."""
    if not current_user.is_authenticated or current_user.organisation is None:
        return sa_select(Organisation.id).where(false())
    if current_user.role in REGION_WIDE_ROLES:
        return sa_select(Organisation.id).where(Organisation.region_id == current_user.region.id)
    return sa_select(Organisation.id).where(Organisation.id == current_user.organisation.id)


def scoped(statement, model):
    """Restrict a select over ``model`` to what the signed-in organisation may see."""
    if model is Organisation:
        return statement.where(Organisation.id.in_(visible_organisation_ids()))
    scope = getattr(model, "__scope__", None)
    if isinstance(scope, tuple):
        visible = visible_organisation_ids()
        return statement.where(or_(*(getattr(model, column).in_(visible) for column in scope)))
    if scope in ("organisation_id", "municipality_id"):
        return statement.where(getattr(model, scope).in_(visible_organisation_ids()))
    if scope == "region_id":
        if not current_user.is_authenticated or current_user.region is None:
            return statement.where(false())
        return statement.where(model.region_id == current_user.region.id)
    raise TypeError(f"{model.__name__} has no __scope__; it cannot be queried through scoped().")


def get_scoped_or_404(model, object_id):
    """The object with this id if the signed-in organisation may see it, else 404."""
    obj = db.session().exec(scoped(select(model), model).where(model.id == object_id)).first()
    if obj is None:
        abort(404)
    return obj


def organisation_names(ids) -> dict[int, str]:
    """Organisation names by id, for ids that came out of scoped queries."""
    ids = {i for i in ids if i}
    if not ids:
        return {}
    rows = db.session().exec(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))
    return {row[0]: row[1] for row in rows}


def _ids_in_data(column: str) -> set[int]:
    """Organisation ids in the budget agreements and realisation reports the signed-in
    organisation sees: the counterparts a provider or a municipality has."""
    session = db.session()
    found = set(session.exec(scoped(select(getattr(BudgetAgreement, column)), BudgetAgreement).distinct()))
    found |= set(session.exec(scoped(select(getattr(RealisationReport, column)), RealisationReport).distinct()))
    return found


def filterable_organisations() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The providers and municipalities the signed-in organisation may filter on (id, name), by
    name: the region's for contract managers and auditors, otherwise itself and its counterparts."""
    role = current_user.role
    own = current_user.organisation
    if role in REGION_WIDE_ROLES:
        rows = db.session().exec(scoped(select(Organisation), Organisation).where(
            Organisation.kind.in_((OrganisationKind.PROVIDER, OrganisationKind.MUNICIPALITY)))
            .order_by(Organisation.name)).all()
        return ([(o.id, o.name) for o in rows if o.kind == OrganisationKind.PROVIDER],
                [(o.id, o.name) for o in rows if o.kind == OrganisationKind.MUNICIPALITY])
    if role in roles.PROVIDER_ROLES:
        municipalities = organisation_names(_ids_in_data("municipality_id"))
        return [(own.id, own.name)], sorted(municipalities.items(), key=lambda item: item[1].lower())
    providers = organisation_names(_ids_in_data("organisation_id"))
    return sorted(providers.items(), key=lambda item: item[1].lower()), [(own.id, own.name)]
