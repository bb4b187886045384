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
from sqlalchemy import false, or_, select as sa_select

from portal import db, roles
from portal.models import Organisation

REGION_WIDE_ROLES = frozenset({roles.CONTRACT_MANAGER, roles.AUDITOR})


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
    from sqlmodel import select

    obj = db.session().exec(scoped(select(model), model).where(model.id == object_id)).first()
    if obj is None:
        abort(404)
    return obj
