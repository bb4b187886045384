"""The catalogue as the rest of the portal uses it: the unit rate of a year, the surcharges a
provider qualifies for, and the computed price of a standard trajectory."""
from __future__ import annotations

from datetime import date

from sqlmodel import select

from portal import db, formatting
from portal.catalogue import pricing
from portal.models import StandardTrajectory, Surcharge, SurchargeQualification, Tariff, TariffVersion
from portal.registry import current_registry
from portal.validators import RuleViolation


def price_date(year: int) -> date:
    """Prices of a catalogue year use the tariff versions valid on 1 January of that year."""
    return date(year, 1, 1)


def versions_of(tariff_id: int, memo: dict | None = None) -> list[TariffVersion]:
    if memo is not None and ("versions", tariff_id) in memo:
        return memo[("versions", tariff_id)]
    return list(db.session().exec(
        select(TariffVersion).where(TariffVersion.tariff_id == tariff_id).order_by(TariffVersion.valid_from)))


def unit_rate(tariff: Tariff, year: int, memo: dict | None = None):
    """The tariff's unit rate for the catalogue year; refused when no version covers 1 January."""
    versions = [(pricing.Period(v.valid_from, v.valid_until), v.unit_rate) for v in versions_of(tariff.id, memo)]
    rate = pricing.rate_on(versions, price_date(year))
    if rate is None:
        raise RuleViolation("tariff_id", f"Er is geen tarief '{tariff.name}' geldig op 1 januari {year}. "
                                         f"Voeg eerst een tariefversie voor {year} toe.")
    return rate


def below_floor(segment_key: str, unit: str, care_form: str | None, rate) -> str | None:
    """The Dutch refusal when ``rate`` lies below the region's minimum tariff for this segment,
    unit and care form (``portal_tariff_floors``); None when it does not."""
    registry = current_registry()
    floor = registry.tariff_floor(segment_key, unit, care_form)
    if floor is None or rate is None or rate >= floor.amount:
        return None
    return (f"Het tarief ligt onder het minimumtarief van {formatting.money(floor.amount)}{floor.unit_text} "
            f"voor {registry.segment_short_label(segment_key)}.")


def surcharges_allowed(region_code: str, segment_key: str | None = None) -> bool:
    """Whether the region (for this segment) has surcharges at all (the rule ``surcharges``)."""
    return current_registry().rule("surcharges", region_code, segment=segment_key).value != "not_allowed"


def _qualified_surcharges(region_id: int, provider_id: int) -> list[Surcharge]:
    """Every surcharge of the region the provider qualifies for, by code."""
    return list(db.session().exec(
        select(Surcharge).join(SurchargeQualification, SurchargeQualification.surcharge_id == Surcharge.id)
        .where(Surcharge.region_id == region_id, SurchargeQualification.organisation_id == provider_id)
        .order_by(Surcharge.code)))


def surcharges_for(region_id: int, segment_key: str, provider_id: int | None, on: date,
                   memo: dict | None = None) -> tuple[pricing.Surcharge, ...]:
    """The surcharges a provider qualifies for on a date (none for the plain catalogue price)."""
    if provider_id is None:
        return ()
    key = ("qualified", region_id, provider_id)
    rows = memo.get(key) if memo is not None else None
    if rows is None:
        rows = _qualified_surcharges(region_id, provider_id)
    return tuple(pricing.Surcharge(s.name, s.percentage) for s in rows
                 if s.valid_from <= on and (s.valid_until is None or s.valid_until >= on)
                 and (s.segment_key is None or s.segment_key == segment_key))


def prefetch_terms(memo: dict, region_id: int, provider_id: int | None) -> dict:
    """Fill a :func:`trajectory_terms` memo with every tariff version of the region and the
    surcharges the provider qualifies for, in two queries: pricing many trajectories then reads
    nothing more for them (a realisation import prices a whole catalogue). Returns ``memo``."""
    for version in db.session().exec(
            select(TariffVersion).join(Tariff, Tariff.id == TariffVersion.tariff_id)
            .where(Tariff.region_id == region_id).order_by(TariffVersion.tariff_id, TariffVersion.valid_from)):
        memo.setdefault(("versions", version.tariff_id), []).append(version)
    for tariff_id in db.session().exec(select(Tariff.id).where(Tariff.region_id == region_id)):
        memo.setdefault(("versions", tariff_id), [])
    if provider_id is not None:
        memo[("qualified", region_id, provider_id)] = _qualified_surcharges(region_id, provider_id)
    return memo


def trajectory_terms(trajectory: StandardTrajectory, provider_id: int | None = None, *, memo: dict | None = None,
                     **changes) -> pricing.TrajectoryTerms:
    """The pricing terms of a trajectory; ``changes`` overrides intensity, duration and the like
    (for previews and custom trajectories). ``memo``, a dict the caller keeps while it prices many
    trajectories at once (a realisation import), remembers each tariff's rate per year and the
    surcharges per segment and date, so they are read once instead of per trajectory."""
    session = db.session()
    tariff = session.get(Tariff, changes.pop("tariff_id", trajectory.tariff_id))
    year = changes.pop("year", trajectory.year)
    on = price_date(year)
    if memo is None:
        rate = unit_rate(tariff, year)
        surcharges = surcharges_for(trajectory.region_id, trajectory.segment_key, provider_id, on)
    else:
        rate_key = ("rate", tariff.id, year)
        if rate_key not in memo:
            try:
                memo[rate_key] = unit_rate(tariff, year, memo)
            except RuleViolation as refused:
                memo[rate_key] = refused
        if isinstance(memo[rate_key], RuleViolation):
            raise memo[rate_key]
        rate = memo[rate_key]
        surcharge_key = ("surcharges", trajectory.region_id, trajectory.segment_key, provider_id, on)
        if surcharge_key not in memo:
            memo[surcharge_key] = surcharges_for(trajectory.region_id, trajectory.segment_key, provider_id, on, memo)
        surcharges = memo[surcharge_key]
    values = {
        "unit_rate": rate,
        "unit": tariff.unit,
        "intensity": trajectory.intensity,
        "intensity_period": trajectory.intensity_period,
        "duration_months": trajectory.duration_months,
        "surcharges": surcharges,
        "extra": dict(trajectory.extra or {}),
    }
    values.update(changes)
    return pricing.TrajectoryTerms(**values)


def trajectory_price(trajectory: StandardTrajectory, provider_id: int | None = None, **changes) -> pricing.PriceBreakdown:
    """The computed price of a trajectory (for a provider: with the surcharges it qualifies for)."""
    terms = trajectory_terms(trajectory, provider_id, **changes)
    return pricing.price_trajectory(terms, current_registry().pricing.get(trajectory.segment_key))
