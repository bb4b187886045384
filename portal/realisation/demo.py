"""Demo realisation: what the demo providers with a budget agreement (or ceiling) delivered in the
whole of last year and this year up to last month (the months before the demo's ``today``),
submitted through the same pipeline as a file or the API
(:func:`portal.realisation.importing.submit_rows`), so every value follows from the agreed prices.

Volumes follow from the agreement: a twelfth of the yearly amount per month, spread over the
segment's standard trajectories and divided by their price, with a deterministic variation
(``random.Random`` seeded per agreement and year). What a line holds follows the rules of the
region and the plugins:

- the period is a month or a quarter, as the municipality's ``reporting_period`` rule asks (a
  quarter only once all its months have passed);
- units (hours, days) where the segment is paid by the unit, place-days where the municipality
  buys places (never more than its places hold);
- every required field a plugin adds is filled in with 0; a line that a plugin's or region's check
  still refuses is left out (checked first, so nothing refused is ever recorded).

To keep loading the demo quick (the tests load it over and over), only the agreements with
``MUNICIPALITIES`` get realisation: the largest municipality (which buys places in one segment),
one that switched to places later, and the smallest.

Review follows the calendar: the last month before today is still submitted, in the month before
it one report is rejected with a reason (the others wait), and everything earlier is approved by
the region's contract manager (with an audit record each). So last year, which has ended, is
approved in full from March on and can be settled. Loading twice adds nothing: a provider ×
municipality × segment that has realisation in a year is left alone.

A municipality with a small agreement sees months without a trajectory started: in a segment paid
per trajectory such a month is worth € 0, as it would be in reality.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import update
from sqlmodel import select

from portal import audit, clock
from portal.accounts import roles
from portal.models import Membership, Organisation, StandardTrajectory, User
from portal.models.agreements import BudgetAgreement
from portal.models.realisation import RealisationReport
from portal.realisation.importing import submit_rows
from portal.realisation.lookups import ProviderLookups
from portal.realisation.rules import MONTHS, Municipality, Period, TrajectoryPrice, check_row
from portal.registry import current_registry

MUNICIPALITIES = ("Venlo", "Horst aan de Maas", "Beesel")
SEED = 2026
def rejection_reason(period: Period) -> str:
    """Why the demo's one rejected report (a month) was rejected, naming the month before it."""
    month = MONTHS[period.number - 2]  # index -1 (December) for a rejected January
    return (f"De aantallen lopende trajecten en cliënten sluiten niet aan op die van {month} en er staat geen "
            "toelichting bij. Controleer de aantallen en lever een correctie aan.")


@dataclass
class DemoAgreement:
    provider: Organisation
    municipality: Municipality
    segment_key: str
    year: int
    monthly: Decimal  # a twelfth of the yearly amount


def last_month(today: date) -> tuple[int, int]:
    """(year, month) of the last month that has ended before ``today``."""
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


def realisation_months(today: date) -> dict[int, int]:
    """The demo's realisation: year → the last month reported in it (last year in full, this
    year up to last month; in January only last year)."""
    year, month = last_month(today)
    return {today.year - 1: 12} | ({year: month} if year == today.year else {})


def decision(period: Period, today: date) -> str:
    """What the region decided on a report of ``period``: "approved", "waiting" (the month
    before last month: one report of it is rejected, the others wait) or "submitted"."""
    year, month = last_month(today)
    age = (year * 12 + month) - (period.year * 12 + max(period.months))
    return "approved" if age >= 2 else "waiting" if age == 1 else "submitted"


def _periods(kind: str, year: int, until: int) -> list[Period]:
    if kind == "quarter":  # whole quarters within the months
        return [Period(year, "quarter", q) for q in range(1, 5) if 3 * q <= until]
    return [Period(year, "month", m) for m in range(1, until + 1)]


def _whole(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def demo_rows(agreement: DemoAgreement, lookups: ProviderLookups, prices: list[TrajectoryPrice],
          rng: random.Random, until: int) -> list[dict]:
    """The rows of one agreement for every period of its year up to month ``until``."""
    municipality, segment_key = agreement.municipality, agreement.segment_key
    spec = lookups.spec(segment_key)
    required = {f.name: 0 for f in spec.fields if f.required}
    weights = [Decimal(rng.randint(5, 15)) for _ in prices]
    # Whole trajectories per period, carrying the fractions over, so a small municipality still
    # starts its share over the year: (expected so far, started so far) per trajectory.
    carried = [[Decimal(0), 0] for _ in prices]
    rows = []
    for period in _periods(lookups.reporting_kind(municipality, segment_key), agreement.year, until):
        if period.start > lookups.today:
            continue
        months = len(period.months)
        buys_places, places = lookups.buys_places(municipality, segment_key, period.start)
        for price, weight, carry in zip(prices, weights, carried):
            variation = Decimal(rng.randint(85, 115)) / 100
            share = agreement.monthly * weight / sum(weights) * variation
            started_per_month = share / price.price
            carry[0] += started_per_month * months
            started = _whole(carry[0]) - carry[1]
            carry[1] += started
            running = max(started, _whole(started_per_month * (price.duration_months + months - 1)))
            if running == 0:
                continue
            ended = min(running, _whole(started_per_month * months * Decimal(rng.randint(80, 110)) / 100))
            clients = max(1, running - rng.randint(0, running // 10))
            row = {"gemeente": municipality.code, "segment": segment_key, "periode": period.code,
                   "traject": price.code, "gestart": started, "lopend": running, "beeindigd": ended,
                   "clienten": clients, **required}
            if buys_places:
                place_days = _whole(running * period.days * Decimal(rng.randint(85, 100)) / 100)
                if places is not None:
                    place_days = min(place_days, _whole(places * period.days))
                row["plekdagen"] = place_days
            elif spec.basis == "units" and price.unit_price > 0:
                # A running trajectory takes its price over its duration: that many units a month.
                per_month = price.price / price.duration_months / price.unit_price
                row["eenheden"] = max(1, _whole(running * per_month * months * Decimal(rng.randint(90, 100)) / 100))
            rows.append(row)
    return rows


def _agreements(region_id: int, session, year: int) -> list[DemoAgreement]:
    organisations = {o.id: o for o in session.exec(select(Organisation).where(Organisation.region_id == region_id))}
    found = []
    chosen = [o.id for o in organisations.values() if o.name in MUNICIPALITIES]
    for agreement in session.exec(select(BudgetAgreement).where(BudgetAgreement.region_id == region_id,
                                                                BudgetAgreement.year == year,
                                                                BudgetAgreement.municipality_id.in_(chosen))
                                  .order_by(BudgetAgreement.organisation_id, BudgetAgreement.municipality_id,
                                            BudgetAgreement.segment_key)):
        org = organisations[agreement.municipality_id]
        found.append(DemoAgreement(organisations[agreement.organisation_id],
                                Municipality(org.id, org.municipality_code or "", org.name),
                                agreement.segment_key, year, Decimal(agreement.amount) / 12))
    return found


def _account(session, organisation_id: int, role: str) -> User | None:
    return session.exec(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.organisation_id == organisation_id, Membership.role == role).order_by(User.id)).first()


def contract_manager(session, region_id: int) -> User | None:
    return session.exec(select(User).join(Membership, Membership.user_id == User.id)
                        .join(Organisation, Organisation.id == Membership.organisation_id)
                        .where(Organisation.region_id == region_id, Membership.role == roles.CONTRACT_MANAGER)
                        .order_by(User.id)).first()


def decided_at(period: Period) -> datetime:
    """Ten days after the period's end, at ten in the morning (UTC)."""
    day = period.end + timedelta(days=10)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=timezone.utc)


def load_demo_realisation(demo) -> int:
    """Submit, approve and reject the demo realisation up to the month before ``demo.today``;
    returns the number of new reports. Commits (``submit_rows`` does, per provider)."""
    session = demo.session
    registry = current_registry()
    months = realisation_months(demo.today)
    done = {tuple(row) for row in session.exec(
        select(RealisationReport.organisation_id, RealisationReport.municipality_id, RealisationReport.segment_key,
               RealisationReport.year)
        .where(RealisationReport.region_id == demo.region.id, RealisationReport.year.in_(list(months))))}
    by_provider: dict[int, list[DemoAgreement]] = {}
    for year in months:
        for agreement in _agreements(demo.region.id, session, year):
            key = (agreement.provider.id, agreement.municipality.id, agreement.segment_key, year)
            if agreement.segment_key in registry.segments and key not in done:
                by_provider.setdefault(agreement.provider.id, []).append(agreement)

    new_reports: list[RealisationReport] = []
    for agreements in by_provider.values():
        provider = agreements[0].provider
        lookups = ProviderLookups(provider, today=demo.today)
        rows = []
        for agreement in agreements:
            codes = session.exec(select(StandardTrajectory.code).where(
                StandardTrajectory.region_id == demo.region.id, StandardTrajectory.year == agreement.year,
                StandardTrajectory.segment_key == agreement.segment_key).order_by(StandardTrajectory.code)).all()
            prices = [p for p in (lookups.price(agreement.segment_key, Period(agreement.year, "month", 1), code)
                                  for code in codes) if p is not None and p.price > 0]
            # One generator per agreement and year: the same volumes whatever else is loaded.
            rng = random.Random(f"{SEED}/{agreement.year}/{provider.name}/{agreement.municipality.code}/"
                                f"{agreement.segment_key}")
            candidates = demo_rows(agreement, lookups, prices, rng, months[agreement.year]) if prices else []
            rows.extend(row for number, row in enumerate(candidates, start=1)
                        if check_row(number, row, lookups)[0] is not None)
        if not rows:
            continue
        upload, _result = submit_rows(provider, _account(session, provider.id, roles.PROVIDER_ADMIN), rows, "api")
        if upload.state == "stored":
            new_reports.extend(session.exec(select(RealisationReport).where(
                RealisationReport.upload_id == upload.id)).all())
    if new_reports:
        _review(session, demo.region.id, new_reports, demo.today)
    return len(new_reports)


def _review(session, region_id: int, reports: list[RealisationReport], today: date) -> None:
    """Submission dates five days after each period (never after now), approvals (and the one
    rejection) ten days after it by the region's contract manager; one UPDATE per period and
    decision, one audit record per decision."""
    manager = contract_manager(session, region_id)
    municipalities = {o.id: o.name for o in session.exec(select(Organisation).where(
        Organisation.region_id == region_id))}
    ordered = sorted(reports, key=lambda r: (r.organisation_id, r.municipality_id, r.segment_key, r.year, r.period))
    facts = [(r.id, Period(r.year, r.period_kind, r.period), r.organisation_id, r.municipality_id, r.segment_key,
              r.total_value, r.version) for r in ordered]
    rejected_id = next((f[0] for f in facts if f[1].kind == "month" and decision(f[1], today) == "waiting"
                        and f[5] > 0), None)
    decided: dict[int, str] = {}
    by_period: dict[Period, dict[str, list[int]]] = {}
    for report_id, period, *_rest in facts:
        found = decision(period, today)
        decided[report_id] = ("rejected" if report_id == rejected_id
                              else "submitted" if found == "waiting" else found)
        by_period.setdefault(period, {}).setdefault(decided[report_id], []).append(report_id)
    latest = clock.now() - timedelta(hours=1)
    for period, decisions in by_period.items():
        end = datetime(period.end.year, period.end.month, period.end.day, 16, 0, tzinfo=timezone.utc)
        all_ids = [i for ids in decisions.values() for i in ids]
        session.execute(update(RealisationReport).where(RealisationReport.id.in_(all_ids))
                        .values(submitted_at=min(end + timedelta(days=5), latest)))
        for outcome, ids in decisions.items():
            if outcome == "submitted":
                continue
            session.execute(update(RealisationReport).where(RealisationReport.id.in_(ids)).values(
                state=outcome, reviewed_by=manager.id if manager else None, reviewed_at=decided_at(period),
                lock_version=RealisationReport.lock_version + 1,
                rejection_reason=rejection_reason(period) if outcome == "rejected" else None))
    for report_id, period, organisation_id, municipality_id, segment_key, total, version in facts:
        outcome = decided[report_id]
        if outcome == "submitted":
            continue
        label = f"{municipalities.get(municipality_id, '')}, {current_registry().segment_short_label(segment_key)}, {period.label}"
        word = "goedgekeurd" if outcome == "approved" else "afgewezen"
        audit.record(f"realisation.{outcome}", f"Realisatie {word}: {label}", object_type="realisation_report",
                     object_id=report_id, organisation_id=organisation_id, region_id=region_id, actor=manager,
                     details={"before": {"state": "submitted"},
                              "after": {"state": outcome, "total_value": str(total), "version": version,
                                        "reason": rejection_reason(period) if outcome == "rejected" else None},
                              "municipality_id": municipality_id, "segment_key": segment_key,
                              "period": period.code, "demo": True})
    session.commit()
