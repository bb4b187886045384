"""API-sleutels: a signed-in user lists, creates and revokes their own API tokens.

A token belongs to its user: another user's token answers 404, whatever the role. A new token
acts for the organisation and role the user works for now, and is shown once, on the page that
answers the form (it is never put in the session or a redirect).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select

from portal import db
from portal.accounts import api_tokens, roles
from portal.accounts.forms import ApiTokenForm
from portal.accounts.roles import roles_required
from portal.forms import ConfirmForm
from portal.models import ApiToken
from portal.validators import RuleViolation
from portal.web.common import rejected_status

bp = Blueprint("api_keys", __name__, url_prefix="/api-sleutels")

EVERY_ROLE = roles.ALL_ROLES


def _own_token_or_404(token_id: int) -> ApiToken:
    token = db.session().exec(select(ApiToken).where(
        ApiToken.id == token_id, ApiToken.user_id == current_user.user.id)).first()
    if token is None:
        abort(404)
    return token


@bp.route("/")
@roles_required(*EVERY_ROLE)
def list_tokens():
    rows = api_tokens.list_tokens(current_user.user)
    return render_template("api_keys/list.html", rows=rows)


@bp.route("/nieuw", methods=["GET", "POST"])
@roles_required(*EVERY_ROLE)
def create():
    form = ApiTokenForm()
    template = "api_keys/create.html"
    if request.method == "POST":
        status = rejected_status(form)
        if status:
            return render_template(template, form=form), status
        try:
            token, plain = api_tokens.create_token(current_user.user, current_user.membership, form.label.data)
        except RuleViolation as error:
            db.session().rollback()
            if error.field == "label":
                form.label.errors = [error.message]
            else:
                form.form_errors.append(error.message)
            return render_template(template, form=form), 422
        db.session().commit()
        return render_template("api_keys/created.html", token=token, plain=plain), 201
    return render_template(template, form=form)


@bp.route("/<int:token_id>/intrekken", methods=["GET", "POST"])
@roles_required(*EVERY_ROLE)
def revoke(token_id: int):
    """Ask first (GET), then revoke (POST)."""
    token = _own_token_or_404(token_id)
    form = ConfirmForm()
    template = "api_keys/revoke.html"
    if request.method == "POST":
        status = rejected_status(form)
        if status:
            return render_template(template, form=form, token=token), status
        try:
            api_tokens.revoke_token(token)
        except RuleViolation as error:
            db.session().rollback()
            form.form_errors.append(error.message)
            return render_template(template, form=form, token=token), 422
        db.session().commit()
        flash(f"De API-sleutel '{token.label or api_tokens.fingerprint(token)}' is ingetrokken en werkt niet meer.",
              "success")
        return redirect(url_for("api_keys.list_tokens"))
    return render_template(template, form=form, token=token)
