"""Budgetdashboard (skeleton; filled in by issue 5 work)."""
from __future__ import annotations

from flask import Blueprint, render_template

from portal import roles
from portal.roles import roles_required

bp = Blueprint("realisation_dashboard", __name__, url_prefix="/realisatie/dashboard")


@bp.route("/")
@roles_required(*roles.ALL_ROLES)
def index():
    return render_template("realisation_dashboard/index.html")
