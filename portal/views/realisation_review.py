"""Realisatie beoordelen (skeleton; filled in by issue 5 work)."""
from __future__ import annotations

from flask import Blueprint, render_template

from portal import roles
from portal.roles import roles_required

bp = Blueprint("realisation_review", __name__, url_prefix="/realisatie/beoordelen")


@bp.route("/")
@roles_required(roles.CONTRACT_MANAGER, roles.AUDITOR)
def queue():
    return render_template("realisation_review/index.html")
