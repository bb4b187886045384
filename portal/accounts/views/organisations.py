"""Organisations of the region: contract managers keep them, auditors read them."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from portal import audit, db
from portal.accounts import roles
from portal.accounts import service as accounts
from portal.accounts.forms import InviteForm, OrganisationForm
from portal.accounts.roles import REGION_READERS, roles_required
from portal.accounts.scoping import get_scoped_or_404, scoped
from portal.models import Membership, Organisation, OrganisationKind, User
from portal.pagination import paginate
from portal.web.common import page_number, rejected_status, render_page_or_partial

bp = Blueprint("organisations", __name__, url_prefix="/organisaties")

FIELDS = ("name", "kind", "kvk_number", "agb_code", "residents", "municipality_code", "is_active")


@bp.route("/")
@roles_required(*REGION_READERS)
def list_organisations():
    kind = request.args.get("soort", "")
    query = request.args.get("zoek", "").strip()
    statement = scoped(select(Organisation), Organisation).order_by(Organisation.name)
    if kind in OrganisationKind.ALL:
        statement = statement.where(Organisation.kind == kind)
    if query:
        statement = statement.where(Organisation.name.ilike(f"%{query}%"))
    page = paginate(statement, page_number())
    return render_page_or_partial("organisations/list.html", "organisations/_results.html",
                                  page=page, kind=kind, query=query)


@bp.route("/<int:organisation_id>")
@roles_required(*REGION_READERS)
def detail(organisation_id):
    organisation = get_scoped_or_404(Organisation, organisation_id)
    members = db.session().exec(
        select(Membership, User).join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id == organisation.id).order_by(User.name)).all()
    return render_template("organisations/detail.html", organisation=organisation, members=members)


def _organisation_form(organisation: Organisation | None):
    form = OrganisationForm(obj=organisation)
    form.kind.choices = [(kind, OrganisationKind.LABELS[kind]) for kind in OrganisationKind.ALL]
    return form


def _snapshot(organisation: Organisation) -> dict:
    return {field: getattr(organisation, field) for field in FIELDS}


@bp.route("/nieuw", methods=["GET", "POST"])
@roles_required(roles.CONTRACT_MANAGER)
def create():
    form = _organisation_form(None)
    return _save(form, None)


@bp.route("/<int:organisation_id>/bewerken", methods=["GET", "POST"])
@roles_required(roles.CONTRACT_MANAGER)
def edit(organisation_id):
    organisation = get_scoped_or_404(Organisation, organisation_id)
    form = _organisation_form(organisation)
    return _save(form, organisation)


def _save(form, organisation: Organisation | None):
    template = "organisations/form.html"
    if request.method != "POST":
        return render_template(template, form=form, organisation=organisation)
    status = rejected_status(form)
    if status:
        return render_template(template, form=form, organisation=organisation), status
    session = db.session()
    if organisation is not None and form.kind.data != organisation.kind and session.exec(
            select(Membership).where(Membership.organisation_id == organisation.id)).first():
        form.kind.errors = ["De soort kan niet veranderen zolang de organisatie gebruikers heeft."]
        return render_template(template, form=form, organisation=organisation), 422
    before = _snapshot(organisation) if organisation else None
    target = organisation or Organisation(region_id=current_user.region.id, kind=form.kind.data, name="")
    for field in FIELDS:
        value = getattr(form, field).data
        setattr(target, field, value.strip() if isinstance(value, str) else value)
    for field in ("kvk_number", "agb_code", "municipality_code"):
        setattr(target, field, getattr(target, field) or None)
    session.add(target)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        form.name.errors = ["Er is al een organisatie met deze naam in de regio."]
        return render_template(template, form=form, organisation=organisation), 422
    action = "organisation.created" if organisation is None else "organisation.changed"
    audit.record(action, f"Organisatie {target.name} {'aangemaakt' if organisation is None else 'gewijzigd'}",
                 object_type="organisation", object_id=target.id, organisation_id=target.id,
                 region_id=target.region_id, details={"before": before, "after": _snapshot(target)})
    session.commit()
    flash(f"Organisatie {target.name} is opgeslagen.", "success")
    return redirect(url_for("organisations.detail", organisation_id=target.id))


@bp.route("/<int:organisation_id>/uitnodigen", methods=["GET", "POST"])
@roles_required(roles.CONTRACT_MANAGER)
def invite(organisation_id):
    organisation = get_scoped_or_404(Organisation, organisation_id)
    form = InviteForm()
    form.role.choices = [(role, roles.LABELS[role]) for role in roles.roles_for_kind(organisation.kind)]
    return invite_into(form, organisation, "organisations/invite.html",
                       url_for("organisations.detail", organisation_id=organisation.id))


def invite_into(form, organisation, template, done_url):
    """Shared by contract managers (any organisation of the region) and provider admins (their own)."""
    if request.method != "POST":
        return render_template(template, form=form, organisation=organisation)
    status = rejected_status(form)
    if status:
        return render_template(template, form=form, organisation=organisation), status
    try:
        accounts.invite(form.name.data.strip(), form.email.data, organisation, form.role.data)
    except accounts.AccountError as error:
        db.session().rollback()
        getattr(form, error.field).errors = [error.message]
        return render_template(template, form=form, organisation=organisation), 422
    db.session().commit()
    flash(f"Uitnodiging verstuurd naar {form.email.data}.", "success")
    return redirect(done_url)
