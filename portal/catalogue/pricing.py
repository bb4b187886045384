"""Trajectory prices and place conversions: pure functions on ``Decimal`` values.

price = unit rate × intensity × periods in the duration × (1 + surcharges), built as lines that
are each rounded to the cent (rules in :mod:`portal.money` and docs/rounding.md). A domain plugin
adds lines and fields for its segments through ``portal_segment_pricing``.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Callable

from portal import formatting
from portal.money import to_cents

WEEKS_PER_MONTH = Decimal(52) / Decimal(12)
PERIODS = {"week": "per week", "month": "per maand"}
UNITS = {"hour": ("uur", "uren"), "contact": ("contact", "contacten"), "day": ("dag", "dagen")}


class PricingError(ValueError):
    """A value the price cannot be computed from; ``field`` names the form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class PriceLine:
    label: str
    amount: Decimal
    # "price": part of the price; "info": shown, not added; "conditional": paid only when a
    # condition is met (a reward), shown next to the price, not in it.
    kind: str = "price"


@dataclass(frozen=True)
class PriceBreakdown:
    lines: tuple[PriceLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind == "price"), Decimal("0.00"))

    def line(self, label_start: str) -> PriceLine | None:
        return next((line for line in self.lines if line.label.startswith(label_start)), None)


@dataclass(frozen=True)
class Surcharge:
    name: str
    percentage: Decimal


@dataclass(frozen=True)
class TrajectoryTerms:
    unit_rate: Decimal
    unit: str  # hour | contact | day
    intensity: Decimal
    intensity_period: str  # week | month
    duration_months: int
    surcharges: tuple[Surcharge, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def periods(self) -> Decimal:
        return periods_in(self.duration_months, self.intensity_period)

    @property
    def surcharge_factor(self) -> Decimal:
        return 1 + sum((s.percentage for s in self.surcharges), Decimal(0)) / 100


@dataclass(frozen=True)
class ExtraField:
    """A field a domain plugin adds to the trajectories of a segment (a decimal number)."""

    name: str
    label: str
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    required: bool = True
    help: str = ""


@dataclass(frozen=True)
class SegmentPricing:
    """What a plugin adds to the price of a segment's trajectories.

    ``extra_lines(terms, base)`` returns price lines (amounts may be unrounded; the core rounds
    them), ``check(terms)`` returns ``(field, Dutch message)`` pairs for values it refuses.
    """

    segment_key: str
    fields: tuple[ExtraField, ...] = ()
    extra_lines: Callable[[TrajectoryTerms, Decimal], list[PriceLine]] | None = None
    check: Callable[[TrajectoryTerms], list[tuple[str, str]]] | None = None


def periods_in(duration_months: int, period: str) -> Decimal:
    if period == "month":
        return Decimal(duration_months)
    if period == "week":
        return Decimal(duration_months) * WEEKS_PER_MONTH
    raise PricingError("intensity_period", "Kies of de intensiteit per week of per maand geldt.")


def validate_terms(terms: TrajectoryTerms, pricing: SegmentPricing | None = None) -> list[tuple[str, str]]:
    """Every problem with these terms as (field, Dutch message); empty when a price can be made."""
    problems = []
    if terms.intensity is None or terms.intensity <= 0:
        problems.append(("intensity", "De intensiteit moet groter zijn dan 0."))
    if terms.duration_months is None or terms.duration_months <= 0:
        problems.append(("duration_months", "De doorlooptijd moet minstens 1 maand zijn."))
    elif terms.duration_months > 120:
        problems.append(("duration_months", "De doorlooptijd mag hoogstens 120 maanden zijn."))
    if terms.intensity_period not in PERIODS:
        problems.append(("intensity_period", "Kies of de intensiteit per week of per maand geldt."))
    if terms.unit_rate is None or terms.unit_rate < 0:
        problems.append(("tariff_id", "Het tarief mag niet negatief zijn."))
    if pricing is not None:
        problems.extend(validate_extra(pricing.fields, terms.extra))
        if pricing.check is not None and not problems:
            problems.extend(pricing.check(terms))
    return problems


def validate_extra(fields: tuple[ExtraField, ...], values: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    for extra in fields:
        value = values.get(extra.name)
        if value in (None, ""):
            if extra.required:
                problems.append((extra.name, f"{extra.label}: dit veld is verplicht."))
            continue
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            problems.append((extra.name, f"{extra.label}: vul een getal in."))
            continue
        if extra.minimum is not None and number < extra.minimum:
            problems.append((extra.name, f"{extra.label}: minstens {extra.minimum}."))
        if extra.maximum is not None and number > extra.maximum:
            problems.append((extra.name, f"{extra.label}: hoogstens {extra.maximum}."))
    return problems


def price_trajectory(terms: TrajectoryTerms, pricing: SegmentPricing | None = None) -> PriceBreakdown:
    """The price of one trajectory as rounded lines; raises :class:`PricingError` on bad terms."""
    problems = validate_terms(terms, pricing)
    if problems:
        raise PricingError(*problems[0])
    singular, plural = UNITS.get(terms.unit, (terms.unit, terms.unit))
    base_exact = terms.unit_rate * terms.intensity * terms.periods
    base = to_cents(base_exact)
    lines = [PriceLine(
        f"Basisprijs: {format_number(terms.intensity)} {plural} {PERIODS[terms.intensity_period]} × "
        f"{terms.duration_months} maanden × {format_number(terms.unit_rate)} per {singular}", base)]
    for surcharge in terms.surcharges:
        lines.append(PriceLine(f"Opslag {surcharge.name} ({format_number(surcharge.percentage)}%)",
                               to_cents(base * surcharge.percentage / 100)))
    if pricing is not None and pricing.extra_lines is not None:
        for line in pricing.extra_lines(terms, base):
            lines.append(PriceLine(line.label, to_cents(line.amount), line.kind))
    return PriceBreakdown(tuple(lines))


def format_number(value: Decimal) -> str:
    """Dutch notation for a plain number in a label (1.234,5)."""
    return _format_number(str(value))


@functools.lru_cache(maxsize=4096)
def _format_number(text: str) -> str:
    # By the number's exact text (1.5 and 1.50 are equal Decimals but not the same label): a
    # catalogue prices thousands of trajectories with a handful of rates and intensities.
    value = Decimal(text)
    return formatting.number(value.normalize() if value == value.to_integral() else value)


# --- Tariff versions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    valid_from: date
    valid_until: date | None  # inclusive; None is open-ended

    def overlaps(self, other: "Period") -> bool:
        self_end = self.valid_until or date.max
        other_end = other.valid_until or date.max
        return self.valid_from <= other_end and other.valid_from <= self_end


def find_overlap(periods: list[Period]) -> tuple[Period, Period] | None:
    for i, first in enumerate(periods):
        for second in periods[i + 1:]:
            if first.overlaps(second):
                return first, second
    return None


def rate_on(versions: list[tuple[Period, Decimal]], day: date) -> Decimal | None:
    """The unit rate valid on ``day``, or None when no version covers it."""
    for period, rate in versions:
        if period.valid_from <= day <= (period.valid_until or date.max):
            return rate
    return None


# --- Places ------------------------------------------------------------------------------------


def trajectories_per_place_year(duration_months: int) -> Decimal:
    """One place-year holds 12 / duration trajectories (000 §8)."""
    if duration_months <= 0:
        raise PricingError("duration_months", "De doorlooptijd moet minstens 1 maand zijn.")
    return Decimal(12) / Decimal(duration_months)


def price_per_place_year(trajectory_price: Decimal, duration_months: int) -> Decimal:
    return to_cents(trajectory_price * trajectories_per_place_year(duration_months))


def places_for_trajectories(trajectories: Decimal, duration_months: int) -> Decimal:
    return Decimal(trajectories) / trajectories_per_place_year(duration_months)


def trajectories_for_places(places: Decimal, duration_months: int) -> Decimal:
    return Decimal(places) * trajectories_per_place_year(duration_months)
