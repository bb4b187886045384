"""The demo region at the size of the real one (``flask demo --size region``): the first region with
the yearly volumes its domain plugins give (``DemoContext.volumes``; for Noord-Limburg the 2019
volumes of DOMAIN.md §11) — some €96 million and ~22,000 trajectories a year — over the
demo's five years, for page benchmarks (``bench/pages.py``) and for trying the screens at scale.

On top of the ordinary demo (:func:`portal.demo.load_demo`) it adds :data:`PROVIDERS` providers
that hold the rest of each segment's 2019 volume (the demo's own providers hold only part of it),
with framework agreements covering the five years and budget agreements or ceilings where the
municipality's funding form asks for one; then realisation for every provider × municipality ×
segment of every year up to last month, reviewed as the ordinary demo reviews it (approved up to
two months back, the last month still submitted); then a draft settlement of every ended year.

The rows are made as the import makes them: the ordinary demo's row generator
(:func:`portal.realisation.demo.demo_rows`), checked and valued by the import's own
:func:`~portal.realisation.rules.check_row` and summed per report by its
:class:`~portal.realisation.importing.GroupSummary`; only the writing differs: reports and lines
go in with bulk inserts (one statement per table and batch), not one upload per provider. The
database's triggers keep the year totals as they do for the import. Idempotent like the rest of
the demo: a provider × municipality × segment × year that has realisation is left alone.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import insert
from sqlmodel import select

from portal import audit, clock
from portal.demo_loader import DemoLoader
from portal.models import Organisation, OrganisationKind, StandardTrajectory
from portal.models.agreements import BudgetAgreement, MunicipalChoice
from portal.models.realisation import RealisationLine, RealisationReport, RealisationUpload
from portal.money import split_by_weights
from portal.realisation.demo import (
    DemoAgreement,
    contract_manager,
    decided_at,
    decision,
    demo_rows,
    realisation_months,
)
from portal.realisation.importing import GroupSummary, checked_line
from portal.realisation.lookups import ProviderLookups
from portal.realisation.rules import Municipality, Period, check_row
from portal.registry import current_registry
from portal.settlement import runs as settlement_runs

SEED = 2019
PROVIDERS = 60
BATCH = 5000
# The funding forms under which a provider holds a budget agreement (or a ceiling) per municipality.
AGREEMENT_KINDS = {"budget_agreement": "budget", "budget_ceiling": "ceiling"}


@dataclass
class RegionSize:
    """What :func:`load_region_size` added."""

    providers: int = 0
    budget_agreements: int = 0
    reports: int = 0
    lines: int = 0
    trajectories_started: dict[int, int] = field(default_factory=dict)  # per year
    settlement_runs: int = 0


def _provider_name(number: int) -> str:
    return f"Zorgaanbieder Noord-Limburg {number:02d}"


def _segments_by_domain(volumes: dict[str, Decimal]) -> dict[str, list[str]]:
    """The segments with a volume (``DemoContext.volumes``, set by the domain plugins) per domain."""
    registry = current_registry()
    found: dict[str, list[str]] = {}
    for key in sorted(volumes):
        if key in registry.segments:
            found.setdefault(registry.segments[key].domain, []).append(key)
    return found


def _providers(demo, rng: random.Random) -> dict[str, tuple[str, list[str]]]:
    """The added providers: name → (domain, segments), made or updated in the demo region."""
    by_domain = _segments_by_domain(demo.volumes)
    # the domains by their volume, largest first
    domains = sorted(by_domain, key=lambda domain: -sum(demo.volumes[key] for key in by_domain[domain]))
    plan = {}
    for number in range(1, PROVIDERS + 1):
        # every tenth provider works in the last domain, the others alternate over the first two
        domain = domains[-1] if number % 10 == 0 else domains[(number + 1) % 2 % len(domains)]
        segments = by_domain[domain]
        chosen = sorted(rng.sample(segments, min(len(segments), rng.randint(1, 3))))
        name = _provider_name(number)
        demo.organisation(name, OrganisationKind.PROVIDER, kvk_number=f"7{number:07d}",
                          agb_code=f"7373{number:04d}")
        plan[name] = (domain, chosen)
    return plan


def _frameworks(loader: DemoLoader, plan: dict[str, tuple[str, list[str]]]) -> None:
    """Regional framework agreements covering every demo year: each uses all its extensions, and a
    successor starts the year after it ends (as after a new tender)."""
    registry = current_registry()
    last = loader.years[-1]
    for name, (domain, segments) in plan.items():
        schemes: dict[str, list[str]] = {}
        for key in segments:
            schemes.setdefault(registry.segments[key].contract_duration, []).append(key)
        for number, (scheme, keys) in enumerate(sorted(schemes.items()), 1):
            start = loader.years[0]
            options = len(scheme.split("+")) - 1
            while start <= last:
                reference = f"RS-{domain.upper()[:3]}-{start}-{name[-2:]}{number}"
                agreement = loader.framework(name, reference, domain, "regional", "c", keys,
                                             extensions_used=options, start=date(start, 1, 1))
                start = loader._end(agreement).year + 1


def _choices_in(session, region_id: int, year: int) -> dict[tuple[int, str], MunicipalChoice]:
    """The municipal choice in force on 1 January of ``year`` per (municipality, segment)."""
    found: dict[tuple[int, str], MunicipalChoice] = {}
    for choice in session.exec(select(MunicipalChoice).where(MunicipalChoice.region_id == region_id)
                               .order_by(MunicipalChoice.effective_from)):
        if choice.effective_from <= date(year, 1, 1):
            found[(choice.municipality_id, choice.segment_key)] = choice
    return found


def _shares(plan, rng: random.Random) -> dict[str, dict[str, Decimal]]:
    """Per segment, each added provider's share of the segment's 2019 volume that the demo's own
    providers do not hold (45%: the rest is their share and providers outside the portal)."""
    by_segment: dict[str, list[str]] = {}
    for name, (_domain, segments) in plan.items():
        for key in segments:
            by_segment.setdefault(key, []).append(name)
    shares = {}
    for key, names in by_segment.items():
        weights = [Decimal(rng.randint(1, 10)) for _ in names]
        total = sum(weights)
        shares[key] = {name: Decimal("0.45") * weight / total for name, weight in zip(names, weights)}
    return shares


def _agreements(loader: DemoLoader, plan, shares, municipalities: list[Organisation]) -> None:
    """Budget agreements or ceilings where every joining municipality funds the segment so in the
    first demo year (a municipality that buys the segment only locally does not join)."""
    choices = _choices_in(loader.session, loader.region.id, loader.years[0])
    for key, providers in shares.items():
        joining = [m for m in municipalities if (m.id, key) in choices
                   and "regional" in choices[(m.id, key)].lots]
        kinds = {AGREEMENT_KINDS.get(choices[(m.id, key)].funding_form) for m in joining}
        if len(kinds) != 1 or None in kinds:
            continue  # realisation only (population, pxq, result or a mixed region)
        kind = kinds.pop()
        for name, share in providers.items():
            loader.budget_agreements(name, key, kind, loader.demo.volumes[key] * share, joining,
                                     bandwidth={year: "5" for year in loader.years},
                                     installments=12 if kind == "budget" else None)


def _yearly_amounts(session, region_id: int, plan, shares, municipalities, years,
                    volumes: dict[str, Decimal]) -> dict[tuple, Decimal]:
    """What each provider delivers per (provider id, municipality id, segment, year): its budget
    agreement or ceiling where it has one, else its share of the segment split by residents over the
    municipalities that buy the segment regionally (3% more each year)."""
    amounts: dict[tuple, Decimal] = {}
    for agreement in session.exec(select(BudgetAgreement).where(BudgetAgreement.region_id == region_id)):
        amounts[(agreement.organisation_id, agreement.municipality_id, agreement.segment_key,
                 agreement.year)] = Decimal(agreement.amount)
    providers = {o.name: o for o in session.exec(select(Organisation).where(
        Organisation.region_id == region_id, Organisation.kind == OrganisationKind.PROVIDER))}
    for year_index, year in enumerate(years):
        choices = _choices_in(session, region_id, year)
        for key, by_provider in shares.items():
            joining = [m for m in municipalities if (m.id, key) in choices and "regional" in choices[(m.id, key)].lots]
            if not joining:
                continue
            for name, share in by_provider.items():
                provider = providers[name]
                if any((provider.id, m.id, key, year) in amounts for m in joining):
                    continue
                total = volumes[key] * share * Decimal("1.03") ** year_index
                parts = split_by_weights(total.quantize(Decimal("0.01")), [Decimal(m.residents or 1) for m in joining])
                for municipality, part in zip(joining, parts):
                    amounts[(provider.id, municipality.id, key, year)] = part
    return amounts


def _realisation(demo, amounts: dict[tuple, Decimal], size: RegionSize) -> None:
    """Rows per provider through the import's checks, then reports and lines in bulk."""
    session = demo.session
    region_id = demo.region.id
    today = demo.today
    months = {year: 12 for year in demo.years if year < today.year} | realisation_months(today)
    months = {year: month for year, month in months.items() if year in demo.years}
    done = set(session.exec(select(RealisationReport.organisation_id, RealisationReport.municipality_id,
                                   RealisationReport.segment_key, RealisationReport.year)
                            .where(RealisationReport.region_id == region_id).distinct()).all())
    organisations = {o.id: o for o in session.exec(select(Organisation).where(Organisation.region_id == region_id))}
    codes: dict[tuple[str, int], list[str]] = {}
    for code, key, year in session.exec(select(StandardTrajectory.code, StandardTrajectory.segment_key,
                                               StandardTrajectory.year)
                                        .where(StandardTrajectory.region_id == region_id)
                                        .order_by(StandardTrajectory.code)):
        codes.setdefault((key, year), []).append(code)
    manager = contract_manager(session, region_id)
    registry = current_registry()
    latest = clock.now() - timedelta(hours=1)
    by_provider: dict[int, list[tuple]] = {}
    for key, amount in sorted(amounts.items()):
        provider_id, _m, segment_key, year = key
        if year in months and key not in done and segment_key in registry.segments and amount > 0:
            by_provider.setdefault(provider_id, []).append(key)

    for provider_id, keys in by_provider.items():
        provider = organisations[provider_id]
        lookups = ProviderLookups(provider, today=today)
        groups: dict[tuple, GroupSummary] = {}
        lines: dict[tuple, list[dict]] = {}
        for key in keys:
            _p, municipality_id, segment_key, year = key
            org = organisations[municipality_id]
            agreement = DemoAgreement(provider, Municipality(org.id, org.municipality_code or "", org.name),
                                   segment_key, year, amounts[key] / 12)
            prices = [p for p in (lookups.price(segment_key, Period(year, "month", 1), code)
                                  for code in codes.get((segment_key, year), [])) if p is not None and p.price > 0]
            if not prices:
                continue
            rng = random.Random(f"{SEED}/{year}/{provider.name}/{org.municipality_code}/{segment_key}")
            for number, raw in enumerate(demo_rows(agreement, lookups, prices, rng, months[year]), start=1):
                valued, _errors = check_row(number, raw, lookups)
                if valued is None:
                    continue  # a plugin's or the region's check refuses it: left out, as in the demo
                line = valued.line
                groups.setdefault(valued.group, GroupSummary()).add(checked_line(valued))
                lines.setdefault(valued.group, []).append({
                    "trajectory_code": line.trajectory_code, "started": line.started, "running": line.running,
                    "ended": line.ended, "clients": line.clients, "units": line.units,
                    "place_days": line.place_days, "unit_price": valued.unit_price, "value": valued.value,
                    "extra": {k: str(v) for k, v in line.extra.items()} or None, "source_row": number})
                size.trajectories_started[year] = size.trajectories_started.get(year, 0) + line.started
        if not groups:
            continue
        upload_id = session.execute(insert(RealisationUpload).returning(RealisationUpload.id), [{
            "region_id": region_id, "organisation_id": provider_id, "source": "api",
            "original_name": "demo-regio", "sha256": f"demo-regio-{provider_id}", "state": "stored",
            "rows_total": sum(len(found) for found in lines.values()),
            "rows_done": sum(len(found) for found in lines.values()), "report_count": len(groups),
            "created_at": latest, "finished_at": latest}]).scalar_one()
        report_rows = []
        ordered = sorted(groups, key=lambda g: (g[0], g[1], g[2].year, g[2].kind, g[2].number))
        for municipality_id, segment_key, period in ordered:
            summary = groups[(municipality_id, segment_key, period)]
            state = "approved" if decision(period, today) == "approved" else "submitted"
            end = datetime(period.end.year, period.end.month, period.end.day, 16, 0, tzinfo=timezone.utc)
            report_rows.append({
                "region_id": region_id, "organisation_id": provider_id, "municipality_id": municipality_id,
                "segment_key": segment_key, "year": period.year, "period_kind": period.kind,
                "period": period.number, "version": 1, "state": state, "upload_id": upload_id,
                "total_value": summary.total, "line_count": summary.lines, "warnings": summary.warnings or None,
                "place_days_total": summary.place_days, "ended_total": summary.ended,
                "figures": summary.figures_json, "lock_version": 2 if state == "approved" else 1,
                "submitted_at": min(end + timedelta(days=5), latest),
                "reviewed_by": manager.id if manager and state == "approved" else None,
                "reviewed_at": decided_at(period) if state == "approved" else None})
        ids = session.execute(insert(RealisationReport).returning(RealisationReport.id, sort_by_parameter_order=True),
                              report_rows).scalars().all()
        batch: list[dict] = []
        for report_id, group in zip(ids, ordered):
            for line in lines[group]:
                batch.append({"report_id": report_id, **line})
            if len(batch) >= BATCH:
                session.execute(insert(RealisationLine), batch)
                size.lines += len(batch)
                batch = []
        if batch:
            session.execute(insert(RealisationLine), batch)
            size.lines += len(batch)
        size.reports += len(ids)
        session.commit()


def load_region_size(demo) -> RegionSize:
    """Add the region-size data to the loaded demo region (``demo`` as :func:`portal.demo.load_demo`
    builds it); commits. Returns what was added."""

    session = demo.session
    rng = random.Random(SEED)
    size = RegionSize()
    plan = _providers(demo, rng)
    size.providers = len(plan)
    municipalities = sorted((o for o in session.exec(select(Organisation).where(
        Organisation.region_id == demo.region.id, Organisation.kind == OrganisationKind.MUNICIPALITY))),
        key=lambda o: o.name)
    loader = DemoLoader(demo, "regio")
    _frameworks(loader, plan)
    shares = _shares(plan, rng)
    _agreements(loader, plan, shares, municipalities)
    loader.finish()
    size.budget_agreements = loader.added["BudgetAgreement"]
    session.commit()
    amounts = _yearly_amounts(session, demo.region.id, plan, shares, municipalities, demo.years, demo.volumes)
    _realisation(demo, amounts, size)

    manager = contract_manager(session, demo.region.id)
    if manager is not None:
        for year in demo.years:
            if year >= demo.today.year or settlement_runs.latest(demo.region.id, year) is not None:
                continue
            settlement_runs.run_settlement(demo.region, year, manager, "0", "0", "Demo op regiogrootte")
            session.commit()
            size.settlement_runs += 1
    audit.record("demo.region_size", f"Demoregio {demo.region.name} op regiogrootte: {size.reports} rapportages, "
                 f"{size.lines} regels", region_id=demo.region.id, object_type="region", object_id=demo.region.id)
    session.commit()
    return size
