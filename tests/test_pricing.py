"""Trajectory prices, tariff periods and place conversions (pure functions)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.catalogue import pricing
from portal.catalogue.pricing import Period, PricingError, Surcharge, TrajectoryTerms

D = Decimal


def terms(**changes):
    values = dict(unit_rate=D("65.00"), unit="hour", intensity=D("2"), intensity_period="week",
                  duration_months=6)
    values.update(changes)
    return TrajectoryTerms(**values)


def test_price_per_week_uses_52_twelfths_weeks_per_month():
    # 65 × 2 × (6 × 52/12 = 26 weeks) = 3380.00
    breakdown = pricing.price_trajectory(terms())
    assert breakdown.total == D("3380.00")


def test_price_per_month():
    breakdown = pricing.price_trajectory(terms(intensity=D("3.5"), intensity_period="month", duration_months=5))
    assert breakdown.total == D("1137.50")  # 65 × 3.5 × 5


def test_surcharges_are_lines_of_the_rounded_base_and_add_up():
    breakdown = pricing.price_trajectory(terms(
        unit_rate=D("61.37"), intensity=D("1.5"), duration_months=7,
        surcharges=(Surcharge("Specialistisch", D("7.5")), Surcharge("Kleinschalig", D("2.25")))))
    base_exact = D("61.37") * D("1.5") * D(7) * D(52) / D(12)  # 2792.335
    base = breakdown.lines[0].amount
    assert base_exact == D("2792.335") and base == D("2792.34")  # exactly half a cent: half-up
    assert breakdown.lines[1].amount == D("209.43")  # 2792.34 × 7.5% = 209.4255
    assert breakdown.lines[2].amount == D("62.83")  # 2792.34 × 2.25% = 62.82765
    assert breakdown.total == base + D("209.43") + D("62.83")


@pytest.mark.parametrize("changes, field", [
    ({"intensity": D(0)}, "intensity"), ({"intensity": D("-1")}, "intensity"),
    ({"duration_months": 0}, "duration_months"), ({"duration_months": -3}, "duration_months"),
    ({"intensity_period": "dag"}, "intensity_period"), ({"unit_rate": D("-1")}, "tariff_id"),
])
def test_bad_terms_are_refused_with_the_field(changes, field):
    with pytest.raises(PricingError) as error:
        pricing.price_trajectory(terms(**changes))
    assert error.value.field == field


def test_overlapping_periods():
    a = Period(date(2022, 1, 1), date(2022, 12, 31))
    b = Period(date(2023, 1, 1), None)
    c = Period(date(2022, 12, 31), date(2023, 6, 30))
    assert pricing.find_overlap([a, b]) is None
    assert pricing.find_overlap([a, b, c]) in ((a, c), (b, c))
    assert Period(date(2024, 1, 1), None).overlaps(Period(date(2030, 1, 1), None))


def test_rate_on_a_day():
    versions = [(Period(date(2022, 1, 1), date(2022, 12, 31)), D("60.00")),
                (Period(date(2023, 1, 1), None), D("62.40"))]
    assert pricing.rate_on(versions, date(2022, 6, 1)) == D("60.00")
    assert pricing.rate_on(versions, date(2031, 1, 1)) == D("62.40")
    assert pricing.rate_on(versions, date(2021, 12, 31)) is None


def test_places_conversion_both_ways():
    # A 4-month trajectory: a place-year holds 3 trajectories (000 §8).
    assert pricing.trajectories_per_place_year(4) == 3
    assert pricing.price_per_place_year(D("3380.00"), 4) == D("10140.00")
    assert pricing.places_for_trajectories(D(9), 4) == 3
    assert pricing.trajectories_for_places(D("2.5"), 4) == D("7.5")
    # 7 months: 12/7 trajectories per place-year; converting there and back is exact to the cent.
    places = pricing.places_for_trajectories(D(10), 7)
    assert round(pricing.trajectories_for_places(places, 7), 10) == 10
    assert pricing.price_per_place_year(D("1000.00"), 7) == D("1714.29")
