"""What-if simulator of the yearly settlement: the same year under another rule or bandwidth, side by
side with today's, for contract managers, auditors and municipalities. Nothing is stored.

The comparison lives in :mod:`portal.settlement.whatif` and what the screen shows in
:mod:`portal.settlement.whatif_screen`; this view reads the choices and renders (the results only,
for htmx)."""
from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user

from portal.accounts import roles, scoping
from portal.accounts.roles import roles_required
from portal.registry import current_registry
from portal.settlement import glossary, whatif_screen
from portal.settlement.whatif_screen import Choices
from portal.web.common import render_page_or_partial

bp = Blueprint("settlement_whatif", __name__, url_prefix="/afrekening/wat-als")

bp.context_processor(glossary.context)  # the settlement's words in plain Dutch, beside the figures

READERS = (roles.CONTRACT_MANAGER, roles.AUDITOR, roles.MUNICIPALITY_USER)


def _organisation(name: str, allowed: list[tuple[int, str]]) -> int | None:
    """A chosen provider or municipality; one the viewer may not see answers 404, as everywhere."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) not in {org_id for org_id, _ in allowed}:
        abort(404)
    return int(raw)


def read_choices(providers, municipalities) -> Choices:
    """The choices as typed in the query string; a municipality always sees only its own agreements."""
    args = request.args
    choices = Choices(year_text=(args.get("jaar") or "").strip(), outside_band=args.get("buiten_band") or "",
                      band_scope=args.get("reikwijdte") or "", bandwidth_text=args.get("bandbreedte") or "",
                      segment=args.get("segment") or "", provider_id=_organisation("aanbieder", providers))
    if current_user.role == roles.MUNICIPALITY_USER:
        choices.municipality_id = current_user.organisation.id  # always only its own agreements
    else:
        choices.municipality_id = _organisation("gemeente", municipalities)
    return choices


@bp.route("/")
@roles_required(*READERS)
def index():
    """The what-if form and its results (the results only for htmx); 400 on a refused choice."""
    providers, municipalities = scoping.filterable_organisations()
    screen = whatif_screen.screen(current_user.region, read_choices(providers, municipalities))
    registry = current_registry()
    return render_page_or_partial(
        "settlement_whatif/index.html", "settlement_whatif/_results.html",
        choices=screen.choices, offered=screen.offered, rows=screen.rows, total=screen.total,
        comparison=screen.comparison, problem=screen.problem,
        outside_band_choices=screen.outside_band_choices, band_scope_choices=screen.band_scope_choices,
        segments=registry.segments, segment_label=registry.segment_short_label, providers=providers,
        municipalities=municipalities, field_labels=whatif_screen.FIELD_LABELS,
        year_options=screen.year_options, segment_options=screen.segment_options,
        show_municipality_filter=current_user.role != roles.MUNICIPALITY_USER,
        direction_text=whatif_screen.direction_text, difference_text=whatif_screen.difference_text,
    ), 400 if screen.choices.errors else 422 if screen.problem else 200
