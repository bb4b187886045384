"""Realisatie aanleveren (skeleton; filled in by issue 5 work)."""
from __future__ import annotations

from flask import Blueprint, render_template

from portal import roles
from portal.roles import roles_required

bp = Blueprint("realisation", __name__, url_prefix="/realisatie")


@bp.route("/")
@roles_required(*roles.PROVIDER_ROLES)
def index():
    return render_template("realisation/index.html")
