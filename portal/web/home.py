"""The home page of each role, choosing an organisation, and the health check."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func
from sqlmodel import select

from portal import audit, db
from portal.accounts import roles, sessions
from portal.accounts.forms import ChooseMembershipForm
from portal.models import Organisation, OrganisationKind
from portal.registry import current_registry
from portal.web.common import rejected_status

bp = Blueprint("home", __name__)

HOME_TEMPLATES = {
    roles.PROVIDER_ADMIN: "home/provider.html",
    roles.PROVIDER_USER: "home/provider.html",
    roles.CONTRACT_MANAGER: "home/region.html",
    roles.AUDITOR: "home/region.html",
    roles.MUNICIPALITY_USER: "home/municipality.html",
}

_WITHOUT_MEMBERSHIP = {"home.choose_organisation", "auth.sign_out", "static", "home.health"}


@bp.before_app_request
def _require_chosen_organisation():
    # The endpoint first: /gezond (and the others) never load the signed-in user.
    if (request.endpoint not in _WITHOUT_MEMBERSHIP and current_user.is_authenticated
            and current_user.membership is None):
        return redirect(url_for("home.choose_organisation"))
    return None


@bp.route("/gezond")
def health():
    """Liveness for load balancers and the page bench's bare route: 200 "ok", no database, no
    session (the same answer as the ops health check)."""
    return Response("ok", mimetype="text/plain")


@bp.route("/")
@login_required
def index():
    registry = current_registry()
    organisation = current_user.organisation
    region = current_user.region
    role = current_user.role
    next_steps = [item for item in registry.menu_for(role)
                  if item.endpoint != "home.index" and item.place != "account"]
    context = {"organisation": organisation, "region": region, "next_steps": next_steps}
    session = db.session()
    if role in (roles.CONTRACT_MANAGER, roles.AUDITOR):
        counts = dict(session.exec(
            select(Organisation.kind, func.count()).where(Organisation.region_id == region.id)
            .group_by(Organisation.kind)).all())
        context["counts"] = [(OrganisationKind.LABELS[kind], counts.get(kind, 0)) for kind in OrganisationKind.ALL]
    if role == roles.MUNICIPALITY_USER:
        total = session.exec(select(func.sum(Organisation.residents)).where(
            Organisation.region_id == region.id, Organisation.kind == OrganisationKind.MUNICIPALITY,
            Organisation.is_active == True)).one() or 0  # noqa: E712
        context["population_share"] = (organisation.residents or 0) / total * 100 if total else None
        context["rules"] = [registry.rule(rule_id, region.code, organisation.municipality_code)
                            for rule_id in registry.rules]
    context["memberships"] = sessions.memberships_of(current_user.user)
    return render_template(HOME_TEMPLATES[role], **context)


@bp.route("/organisatie-kiezen", methods=["GET", "POST"])
@login_required
def choose_organisation():
    memberships = sessions.memberships_of(current_user.user)
    form = ChooseMembershipForm()
    form.membership.choices = [
        (membership.id, f"{organisation.name} — {roles.LABELS[membership.role]}")
        for membership, organisation in memberships
    ]
    if request.method == "POST":
        status = rejected_status(form)
        if status:
            return render_template("home/choose_organisation.html", form=form), status
        sessions.choose_membership(current_user._get_current_object(), form.membership.data)
        chosen = dict((m.id, o) for m, o in memberships)[form.membership.data]
        audit.record("auth.organisation_chosen", f"{current_user.email} werkt nu voor {chosen.name}",
                     organisation_id=chosen.id, region_id=chosen.region_id)
        db.session().commit()
        flash(f"U werkt nu voor {chosen.name}.", "success")
        return redirect(url_for("home.index"))
    return render_template("home/choose_organisation.html", form=form)
