"""What the what-if screen shows: the choices it offers (years, rules, segments), the viewer's
choices checked (a refused value is kept as typed, with a Dutch message on its field), and the
outcome of :func:`portal.settlement.whatif.compare` filtered to the rows the viewer asked for.

The caller has read the choices from the request and checked that the viewer may see the provider
and municipality chosen."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from sqlmodel import select

from portal import clock, db
from portal.formatting import money
from portal.models import Region
from portal.models.realisation import RealisationReport
from portal.registry import current_registry
from portal.settlement import engine, whatif
from portal.settlement.inputs import Overrides
from portal.settlement.runs import years_with_agreements
from portal.validators import RuleViolation

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


def default_year(region_id: int, offered: list[int]) -> int | None:
    """The latest year with approved realisation, else the current year, else the latest offered."""
    if not offered:
        return None
    approved = db.session().exec(
        select(RealisationReport.year).where(RealisationReport.region_id == region_id,
                                             RealisationReport.state == "approved",
                                             RealisationReport.year.in_(offered)).distinct()).all()
    if approved:
        return max(approved)
    return clock.today().year if clock.today().year in offered else offered[0]


def checked(region_id: int, asked: Choices, offered: list[int]) -> Choices:
    """The choices as asked, with the year they mean, a message per refused field, and (without
    messages) the overrides to settle with. An unknown segment is no filter."""
    choices = replace(asked, errors={}, overrides=Overrides())
    if not choices.year_text:
        choices.year = default_year(region_id, offered)
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
    if not choices.errors:
        choices.overrides = Overrides(outside_band=choices.outside_band or None,
                                      band_scope=choices.band_scope or None, bandwidth=bandwidth)
    return choices


def year_options(offered: list[int], choices: Choices) -> list[tuple[str, str]]:
    """The years to choose from; a refused year is offered again as asked, so the message makes sense."""
    options = [(str(year), str(year)) for year in offered]
    if "jaar" in choices.errors and choices.year_text:
        options.append((choices.year_text, f"{choices.year_text} (geen budgetafspraken)"))
    return options


def segment_options() -> list[tuple[str, str]]:
    """Every segment of the registry as (key, short label)."""
    registry = current_registry()
    return [(key, registry.segment_short_label(key)) for key in registry.segments]


def direction_text(due: Decimal) -> str:
    """A balance in words, the amount in nl-NL money (:func:`portal.settlement.whatif.direction_text`)."""
    return whatif.direction_text(due, money)


def difference_text(difference: Decimal) -> str:
    """A difference in words, the amount in nl-NL money (:func:`portal.settlement.whatif.difference_text`)."""
    return whatif.difference_text(difference, money)


@dataclass(frozen=True)
class Screen:
    """Everything the what-if screen shows. ``comparison`` is None when nothing was settled (refused
    choices, no agreements, or ``problem``: a year the engine cannot settle)."""

    choices: Choices
    offered: list[int]
    comparison: whatif.Comparison | None
    rows: list[whatif.Row] | None
    total: whatif.Totals | None
    problem: str | None
    outside_band_choices: dict[str, str]
    band_scope_choices: dict[str, str]
    year_options: list[tuple[str, str]]
    segment_options: list[tuple[str, str]]


def screen(region: Region, asked: Choices) -> Screen:
    """The region's year settled as agreed and under the choices, with the rows the viewer asked for."""
    offered = years_with_agreements(region.id)
    choices = checked(region.id, asked, offered)
    comparison = rows = total = problem = None
    if not choices.errors and choices.year is not None:
        try:
            comparison = whatif.compare(region, choices.year, choices.overrides)
        except engine.ScenarioError as error:  # an agreement in the database the engine cannot settle
            problem = f"De afrekening van {choices.year} kan niet worden doorgerekend: {error}."
        else:
            rows = comparison.rows_for(choices.municipality_id, choices.provider_id, choices.segment)
            total = whatif.totals(rows)
    return Screen(choices, offered, comparison, rows, total, problem, rule_choices("outside_band"),
                  rule_choices("band_scope"), year_options(offered, choices), segment_options())
