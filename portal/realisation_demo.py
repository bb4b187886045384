"""Demo realisation: what the demo providers with a budget agreement (or ceiling) delivered in
January–October of the demo year, submitted through the same pipeline as a file or the API
(:func:`portal.realisation_import.submit_rows`), so every value follows from the agreed prices.

Volumes follow from the agreement: a twelfth of the yearly amount per month, spread over the
segment's standard trajectories and divided by their price, with a deterministic variation
(``random.Random`` seeded per agreement). What a line holds follows the rules of the region and
the plugins:

- the period is a month or a quarter, as the municipality's ``reporting_period`` rule asks;
- units (hours, days) where the segment is paid by the unit, place-days where the municipality
  buys places (never more than its places hold);
- every required field a plugin adds is filled in with 0; a line that a plugin's or region's check
  still refuses is left out (checked first, so nothing refused is ever recorded).

To keep loading the demo quick (the tests load it over and over), only the agreements with
``MUNICIPALITIES`` get realisation: the largest municipality (which buys places in one segment),
one that switched to places later, and the smallest.

Months 1–8 are approved by the region's contract manager (with an audit record each), later
periods stay submitted, and one report of September is rejected with a reason. Loading twice adds
nothing: a provider × municipality × segment that has realisation in the year is left alone.

A municipality with a small agreement sees months without a trajectory started: in a segment paid
per trajectory such a month is worth € 0, as it would be in reality.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from sqlalchemy import update
from sqlmodel import select

from portal import audit, roles
from portal.agreements import segment_short_label
from portal.models import Membership, Organisation, StandardTrajectory, User
from portal.models.agreements import BudgetAgreement
from portal.models.realisation import RealisationReport
from portal.realisation_context import ProviderLookups
from portal.realisation_import import submit_rows
from portal.realisation_rules import Municipality, Period, TrajectoryPrice, check_row

YEAR = 2026
MUNICIPALITIES = ("Venlo", "Horst aan de Maas", "Beesel")
MONTHS = range(1, 11)  # January–October
APPROVED_UNTIL = 8  # months up to and including August are approved
SEED = 2026
REJECTION_MONTH = 9
REJECTION_REASON = ("De aantallen lopende trajecten en cliënten sluiten niet aan op die van augustus en er "
                    "staat geen toelichting bij. Controleer de aantallen en lever een correctie aan.")


@dataclass
class _Agreement:
    provider: Organisation
    municipality: Municipality
    segment_key: str
    monthly: Decimal  # a twelfth of the yearly amount


def _periods(kind: str) -> list[Period]:
    if kind == "quarter":  # whole quarters within the months
        return [Period(YEAR, "quarter", q) for q in range(1, 5) if 3 * q <= max(MONTHS)]
    return [Period(YEAR, "month", m) for m in MONTHS]


def _whole(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _rows(agreement: _Agreement, lookups: ProviderLookups, prices: list[TrajectoryPrice],
          rng: random.Random) -> list[dict]:
    """The rows of one agreement for every period of the year so far."""
    municipality, segment_key = agreement.municipality, agreement.segment_key
    spec = lookups.spec(segment_key)
    required = {f.name: 0 for f in spec.fields if f.required}
    weights = [Decimal(rng.randint(5, 15)) for _ in prices]
    # Whole trajectories per period, carrying the fractions over, so a small municipality still
    # starts its share over the year: (expected so far, started so far) per trajectory.
    carried = [[Decimal(0), 0] for _ in prices]
    rows = []
    for period in _periods(lookups.reporting_kind(municipality, segment_key)):
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


def _agreements(region_id: int, session) -> list[_Agreement]:
    organisations = {o.id: o for o in session.exec(select(Organisation).where(Organisation.region_id == region_id))}
    found = []
    chosen = [o.id for o in organisations.values() if o.name in MUNICIPALITIES]
    for agreement in session.exec(select(BudgetAgreement).where(BudgetAgreement.region_id == region_id,
                                                                BudgetAgreement.year == YEAR,
                                                                BudgetAgreement.municipality_id.in_(chosen))
                                  .order_by(BudgetAgreement.organisation_id, BudgetAgreement.municipality_id,
                                            BudgetAgreement.segment_key)):
        org = organisations[agreement.municipality_id]
        found.append(_Agreement(organisations[agreement.organisation_id],
                                Municipality(org.id, org.municipality_code or "", org.name),
                                agreement.segment_key, Decimal(agreement.amount) / 12))
    return found


def _account(session, organisation_id: int, role: str) -> User | None:
    return session.exec(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.organisation_id == organisation_id, Membership.role == role).order_by(User.id)).first()


def _contract_manager(session, region_id: int) -> User | None:
    return session.exec(select(User).join(Membership, Membership.user_id == User.id)
                        .join(Organisation, Organisation.id == Membership.organisation_id)
                        .where(Organisation.region_id == region_id, Membership.role == roles.CONTRACT_MANAGER)
                        .order_by(User.id)).first()


def _decided_at(period: Period) -> datetime:
    """Ten days after the period's end, at ten in the morning (UTC)."""
    day = period.end + timedelta(days=10)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=timezone.utc)


def load_demo_realisation(demo) -> int:
    """Submit, approve and reject the demo realisation; returns the number of new reports.
    Commits (``submit_rows`` does, per provider)."""
    session = demo.session
    registry = current_app.extensions["portal.registry"]
    done = {tuple(row) for row in session.exec(
        select(RealisationReport.organisation_id, RealisationReport.municipality_id, RealisationReport.segment_key)
        .where(RealisationReport.region_id == demo.region.id, RealisationReport.year == YEAR))}
    by_provider: dict[int, list[_Agreement]] = {}
    for agreement in _agreements(demo.region.id, session):
        key = (agreement.provider.id, agreement.municipality.id, agreement.segment_key)
        if agreement.segment_key in registry.segments and key not in done:
            by_provider.setdefault(agreement.provider.id, []).append(agreement)

    new_reports: list[RealisationReport] = []
    for agreements in by_provider.values():
        provider = agreements[0].provider
        lookups = ProviderLookups(provider)
        rows = []
        for agreement in agreements:
            codes = session.exec(select(StandardTrajectory.code).where(
                StandardTrajectory.region_id == demo.region.id, StandardTrajectory.year == YEAR,
                StandardTrajectory.segment_key == agreement.segment_key).order_by(StandardTrajectory.code)).all()
            prices = [p for p in (lookups.price(agreement.segment_key, Period(YEAR, "month", 1), code)
                                  for code in codes) if p is not None and p.price > 0]
            # One generator per agreement: the same volumes whatever else is loaded.
            rng = random.Random(f"{SEED}/{provider.name}/{agreement.municipality.code}/{agreement.segment_key}")
            candidates = _rows(agreement, lookups, prices, rng) if prices else []
            rows.extend(row for number, row in enumerate(candidates, start=1)
                        if check_row(number, row, lookups)[0] is not None)
        if not rows:
            continue
        upload, _result = submit_rows(provider, _account(session, provider.id, roles.PROVIDER_ADMIN), rows, "api")
        if upload.state == "stored":
            new_reports.extend(session.exec(select(RealisationReport).where(
                RealisationReport.upload_id == upload.id)).all())
    if new_reports:
        _review(session, demo.region.id, new_reports)
    return len(new_reports)


def _review(session, region_id: int, reports: list[RealisationReport]) -> None:
    """Submission dates five days after each period, approvals (and the one rejection) ten days
    after it by the region's contract manager; one UPDATE per period and decision, one audit
    record per decision."""
    manager = _contract_manager(session, region_id)
    municipalities = {o.id: o.name for o in session.exec(select(Organisation).where(
        Organisation.region_id == region_id))}
    ordered = sorted(reports, key=lambda r: (r.organisation_id, r.municipality_id, r.segment_key, r.period))
    facts = [(r.id, Period(r.year, r.period_kind, r.period), r.organisation_id, r.municipality_id, r.segment_key,
              r.total_value, r.version) for r in ordered]
    rejected_id = next((f[0] for f in facts if f[1].kind == "month" and f[1].number == REJECTION_MONTH
                        and f[5] > 0), None)
    by_period: dict[Period, dict[str, list[int]]] = {}
    for report_id, period, *_rest in facts:
        decision = ("approved" if max(period.months) <= APPROVED_UNTIL
                    else "rejected" if report_id == rejected_id else "submitted")
        by_period.setdefault(period, {}).setdefault(decision, []).append(report_id)
    for period, decisions in by_period.items():
        end = datetime(period.end.year, period.end.month, period.end.day, 16, 0, tzinfo=timezone.utc)
        all_ids = [i for ids in decisions.values() for i in ids]
        session.execute(update(RealisationReport).where(RealisationReport.id.in_(all_ids))
                        .values(submitted_at=end + timedelta(days=5)))
        for decision, ids in decisions.items():
            if decision == "submitted":
                continue
            session.execute(update(RealisationReport).where(RealisationReport.id.in_(ids)).values(
                state=decision, reviewed_by=manager.id if manager else None, reviewed_at=_decided_at(period),
                lock_version=RealisationReport.lock_version + 1,
                rejection_reason=REJECTION_REASON if decision == "rejected" else None))
    for report_id, period, organisation_id, municipality_id, segment_key, total, version in facts:
        decision = "approved" if max(period.months) <= APPROVED_UNTIL else (
            "rejected" if report_id == rejected_id else None)
        if decision is None:
            continue
        label = f"{municipalities.get(municipality_id, '')}, {segment_short_label(segment_key)}, {period.label}"
        word = "goedgekeurd" if decision == "approved" else "afgewezen"
        audit.record(f"realisation.{decision}", f"Realisatie {word}: {label}", object_type="realisation_report",
                     object_id=report_id, organisation_id=organisation_id, region_id=region_id, actor=manager,
                     details={"before": {"state": "submitted"},
                              "after": {"state": decision, "total_value": str(total), "version": version,
                                        "reason": REJECTION_REASON if decision == "rejected" else None},
                              "municipality_id": municipality_id, "segment_key": segment_key,
                              "period": period.code, "demo": True})
    session.commit()
