"""A provider admin manages the accounts of its own organisation."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select

from portal import db
from portal.accounts import roles
from portal.accounts import service as accounts
from portal.accounts.forms import InviteForm, RoleForm
from portal.accounts.roles import roles_required
from portal.accounts.scoping import get_scoped_or_404, scoped
from portal.accounts.views.organisations import invite_into
from portal.forms import ConfirmForm
from portal.models import Membership, User
from portal.web.common import rejected_status

bp = Blueprint("users", __name__, url_prefix="/gebruikers")

ADMIN = roles.PROVIDER_ADMIN


def _role_choices():
    return [(role, roles.LABELS[role]) for role in roles.roles_for_kind(current_user.organisation.kind)]


@bp.route("/")
@roles_required(ADMIN)
def list_users():
    members = db.session().exec(
        scoped(select(Membership, User), Membership).join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id == current_user.organisation.id).order_by(User.name)).all()
    return render_template("users/list.html", members=members)


@bp.route("/uitnodigen", methods=["GET", "POST"])
@roles_required(ADMIN)
def invite():
    form = InviteForm()
    form.role.choices = _role_choices()
    return invite_into(form, current_user.organisation, "users/invite.html", url_for("users.list_users"))


@bp.route("/<int:membership_id>/rol", methods=["GET", "POST"])
@roles_required(ADMIN)
def change_role(membership_id):
    membership = get_scoped_or_404(Membership, membership_id)
    member = db.session().get(User, membership.user_id)
    form = RoleForm(obj=membership)
    form.role.choices = _role_choices()
    template = "users/role.html"
    if request.method == "POST":
        status = rejected_status(form)
        if status:
            return render_template(template, form=form, member=member), status
        try:
            accounts.change_role(membership, current_user.organisation, form.role.data)
        except accounts.AccountError as error:
            db.session().rollback()
            form.role.errors = [error.message]
            return render_template(template, form=form, member=member), 422
        db.session().commit()
        flash(f"De rol van {member.name} is nu {roles.LABELS[form.role.data].lower()}.", "success")
        return redirect(url_for("users.list_users"))
    return render_template(template, form=form, member=member)


@bp.route("/<int:membership_id>/verwijderen", methods=["GET", "POST"])
@roles_required(ADMIN)
def remove(membership_id):
    """Ask first (GET), then take the person's access to this organisation away (POST)."""
    membership = get_scoped_or_404(Membership, membership_id)
    member = db.session().get(User, membership.user_id)
    form = ConfirmForm()
    template = "users/remove.html"
    if request.method == "POST":
        status = rejected_status(form)
        if status:
            return render_template(template, form=form, member=member), status
        try:
            accounts.remove_membership(membership, current_user.organisation)
        except accounts.AccountError as error:
            db.session().rollback()
            form.form_errors.append(error.message)
            return render_template(template, form=form, member=member), 422
        db.session().commit()
        flash(f"{member.name} heeft geen toegang meer tot {current_user.organisation.name}.", "success")
        return redirect(url_for("users.list_users"))
    return render_template(template, form=form, member=member)
