"""What-if simulator of the yearly settlement: the same year under another rule or bandwidth, side by
side with today's, for contract managers, auditors and municipalities. Nothing is stored.

The comparison lives in :mod:`portal.settlement.whatif`; this view reads the choices, checks them and
renders (the results only, for htmx)."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, request
from flask_login import current_user
from sqlmodel import select

from portal import clock, db
from portal.accounts import roles, scoping
from portal.accounts.roles import roles_required
from portal.formatting import money
from portal.models.realisation import RealisationReport
from portal.registry import current_registry
from portal.settlement import engine, whatif
from portal.settlement.inputs import Overrides
from portal.settlement.runs import years_with_agreements
from portal.validators import RuleViolation
from portal.web.common import render_page_or_partial

bp = Blueprint("settlement_whatif", __name__, url_prefix="/afrekening/wat-als")

READERS = (roles.CONTRACT_MANAGER, roles.AUDITOR, roles.MUNICIPALITY_USER)
FIELD_LABELS = {"jaar": "Jaar", "buiten_band": "Regel buiten de band", "reikwijdte": "Reikwijdte van de band",
                "bandbreedte": "Bandbreedte"}



@dataclass
class Choices:
    """What the viewer asked for, as typed (so a refused value is shown again), and what it means."""

    year: int | None = None
    year_text: str = ""
    outside_band: str = ""
    band_scope: str = ""
    bandwidth_text: str = ""
    segment: str = ""
    provider_id: int | None = None
    municipality_id: int | None = None
    overrides: Overrides = field(default_factory=Overrides)
    errors: dict[str, str] = field(default_factory=dict)


def rule_choices(rule_id: str) -> dict[str, str]:
    """'' (as agreed) and the rule's own choices, as the registry declares them."""
    return {"": whatif.AS_AGREED, **current_registry().rules[rule_id].choices}


def default_year(offered: list[int]) -> int | None:
    """The latest year with approved realisation, else the current year, else the latest offered."""
    if not offered:
        return None
    approved = db.session().exec(
        select(RealisationReport.year).where(RealisationReport.region_id == current_user.region.id,
                                             RealisationReport.state == "approved",
                                             RealisationReport.year.in_(offered)).distinct()).all()
    if approved:
        return max(approved)
    return clock.today().year if clock.today().year in offered else offered[0]


def _organisation(name: str, allowed: list[tuple[int, str]]) -> int | None:
    """A chosen provider or municipality; one the viewer may not see answers 404, as everywhere."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) not in {org_id for org_id, _ in allowed}:
        abort(404)
    return int(raw)


def read_choices(offered: list[int], providers, municipalities) -> Choices:
    args = request.args
    choices = Choices(year_text=(args.get("jaar") or "").strip(), outside_band=args.get("buiten_band") or "",
                      band_scope=args.get("reikwijdte") or "", bandwidth_text=args.get("bandbreedte") or "",
                      segment=args.get("segment") or "")
    if not choices.year_text:
        choices.year = default_year(offered)
    elif choices.year_text.isdigit() and int(choices.year_text) in offered:
        choices.year = int(choices.year_text)
    else:
        choices.errors["jaar"] = "Kies een jaar met budgetafspraken uit de lijst."
    if choices.outside_band not in rule_choices("outside_band"):
        choices.errors["buiten_band"] = "Kies een regel uit de lijst."
    if choices.band_scope not in rule_choices("band_scope"):
        choices.errors["reikwijdte"] = "Kies een reikwijdte uit de lijst."
    bandwidth = None
    try:
        bandwidth = whatif.parse_bandwidth(choices.bandwidth_text)
    except RuleViolation as error:
        choices.errors[error.field] = error.message
    if choices.segment not in current_registry().segments:
        choices.segment = ""
    choices.provider_id = _organisation("aanbieder", providers)
    if current_user.role == roles.MUNICIPALITY_USER:
        choices.municipality_id = current_user.organisation.id  # always only its own agreements
    else:
        choices.municipality_id = _organisation("gemeente", municipalities)
    if not choices.errors:
        choices.overrides = Overrides(outside_band=choices.outside_band or None,
                                      band_scope=choices.band_scope or None, bandwidth=bandwidth)
    return choices


def year_options(offered: list[int], choices: Choices) -> list[tuple[str, str]]:
    options = [(str(year), str(year)) for year in offered]
    if "jaar" in choices.errors and choices.year_text:  # shown again as asked, so the message makes sense
        options.append((choices.year_text, f"{choices.year_text} (geen budgetafspraken)"))
    return options


@bp.route("/")
@roles_required(*READERS)
def index():
    providers, municipalities = scoping.filterable_organisations()
    offered = years_with_agreements(current_user.region.id)
    choices = read_choices(offered, providers, municipalities)
    comparison = rows = total = problem = None
    if not choices.errors and choices.year is not None:
        try:
            comparison = whatif.compare(current_user.region, choices.year, choices.overrides)
        except engine.ScenarioError as error:  # an agreement in the database the engine cannot settle
            problem = f"De afrekening van {choices.year} kan niet worden doorgerekend: {error}."
        else:
            rows = comparison.rows_for(choices.municipality_id, choices.provider_id, choices.segment)
            total = whatif.totals(rows)
    return render_page_or_partial(
        "settlement_whatif/index.html", "settlement_whatif/_results.html",
        choices=choices, offered=offered, rows=rows, total=total, comparison=comparison, problem=problem,
        outside_band_choices=rule_choices("outside_band"), band_scope_choices=rule_choices("band_scope"),
        segments=current_registry().segments, segment_label=current_registry().segment_short_label, providers=providers,
        municipalities=municipalities, field_labels=FIELD_LABELS, year_options=year_options(offered, choices),
        segment_options=[(key, current_registry().segment_short_label(key)) for key in current_registry().segments],
        show_municipality_filter=current_user.role != roles.MUNICIPALITY_USER,
        direction_text=lambda due: whatif.direction_text(due, money),
        difference_text=lambda difference: whatif.difference_text(difference, money),
    ), 400 if choices.errors else 422 if problem else 200
