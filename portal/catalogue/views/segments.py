"""The domains and segments the plugins registered, with their contract and funding."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from portal.registry import current_registry

bp = Blueprint("segments", __name__, url_prefix="/segmenten")


@bp.route("/")
@login_required
def list_segments():
    registry = current_registry()
    return render_template("segments/list.html", domains=list(registry.domains.values()))
