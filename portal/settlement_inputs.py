"""What a region's year brings to the settlement engine: every budget agreement and ceiling of the
year as an engine :class:`~portal.settlement_engine.Agreement`, with the approved realisation, the
rules in force for it and its result figures for the plugins' rules.

How an agreement in the database becomes an engine agreement (docs/rounding.md, rule 9):

- Only **approved** realisation counts (reports in state ``approved``), summed per provider ×
  municipality × segment over the year's periods.
- A **ceiling** (budget agreement of kind ``ceiling``) settles as ``ceiling``; it has no advances,
  and the payments made are the approved realisation (each approved declaration is paid), so a
  realisation above the ceiling is repaid down to it.
- A **budget agreement** settles as ``budget`` with its bandwidth (0% when none was agreed); the
  advances paid are the budget (the advance schedule adds up to it and is paid by year end).
  Where the municipality's choice for the segment in force on 1 January of the year is
  **population funding**, it settles as ``population`` with the agreed bandwidth as threshold
  (10% when none was agreed). Where the municipality buys **places** (its choice names a number of
  places), it settles as ``places``: the municipality's places are shared over the providers with a
  budget agreement for that municipality and segment by their budget (to 0,01 place), the price of
  a place-year is the provider's budget ÷ its places (to a millionth of a euro, so that full
  occupancy settles exactly the budget: the advances paid), and the occupied place-days are the
  approved place-days.
- The rules ``outside_band`` and ``band_scope`` are the region's (or a municipality's or segment's
  own, from a plugin: :meth:`portal.registry.Registry.rule`); a what-if may override them for the
  whole year (:class:`Overrides`).
- Result figures for the plugins' rules: ``beeindigd`` (trajectories ended) and every numeric extra
  column of the approved lines, summed over the year.

On PostgreSQL the sums are one ``GROUP BY``; on SQLite, where decimals are text, they are added up in
Python.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from sqlalchemy import Row, func
from sqlmodel import select

from portal import db
from portal import settlement_engine as engine
from portal.models import BudgetAgreement, MunicipalChoice, Organisation, Region
from portal.models.realisation import RealisationLine, RealisationReport

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
PLACE = Decimal("0.01")
PRICE = Decimal("0.000001")  # a place-year's price: fine enough that full occupancy settles the budget
ENDED = "beeindigd"


@dataclass(frozen=True)
class Overrides:
    """A what-if: other rules or another bandwidth for every agreement of the year (None: as agreed)."""

    outside_band: str | None = None
    band_scope: str | None = None
    bandwidth: Decimal | None = None  # a fraction; replaces the bandwidth or threshold of budgets

    @property
    def empty(self) -> bool:
        return self.outside_band is None and self.band_scope is None and self.bandwidth is None


@dataclass
class Totals:
    """The approved realisation of one provider × municipality × segment in the year."""

    value: Decimal = ZERO
    place_days: int = 0
    ended: int = 0
    extra: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Source:
    """One budget agreement as the engine sees it, with where it came from."""

    budget_agreement_id: int
    organisation_id: int
    municipality_id: int
    agreement: engine.Agreement
    rules: engine.Rules
    results: dict[str, Decimal]


@dataclass
class Year:
    """A region's year ready to settle."""

    region: Region
    year: int
    sources: list[Source]
    realisation_by_municipality: dict[int, Decimal]  # all approved realisation, every segment
    names: dict[int, str]  # organisation id -> name
    municipality_codes: dict[int, str | None] = field(default_factory=dict)  # organisation id -> CBS code

    def settle(self) -> engine.Result:
        registry = current_app.extensions["portal.registry"]
        by_id = {source.agreement.id: source for source in self.sources}
        codes = dict(self.municipality_codes)
        bound: dict[tuple, list] = {}
        results = {source.agreement.id: source.results for source in self.sources}

        def adjustments(agreement: engine.Agreement):
            source = by_id[agreement.id]
            key = (agreement.segment, source.municipality_id)
            found = bound.get(key)
            if found is None:
                if source.municipality_id not in codes:
                    codes[source.municipality_id] = db.session().get(Organisation, source.municipality_id).municipality_code
                found = bound[key] = registry.settlement_adjustments(agreement.segment, self.region.code,
                                                                     codes[source.municipality_id], results)
            return found

        with collector_paused():
            return engine.settle(self.year, [s.agreement for s in self.sources],
                                 lambda agreement: by_id[agreement.id].rules, adjustments)


@contextmanager
def collector_paused():
    """Run the block without CPython's cyclic garbage collector, and switch it back on after (if it
    was on). Settling a year builds hundreds of thousands of small objects (agreements, results,
    settlements) and no reference cycles; on each growth of the heap by a quarter the collector
    would walk every object again, which took half the time of a national year (bench/settlement.py:
    seven full collections, 1.1 s of 2.2 s). Objects freed in between are freed as always (by
    reference counting); only the search for cycles waits until the block ends. The collector is
    process-wide: another thread settling at the same time may switch it back on a moment early,
    which costs time, never correctness."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- Reading the database ----------------------------------------------------------------------


def realisation_totals(region_id: int, year: int) -> dict[tuple[int, int, str], Totals]:
    """Approved realisation of the year per (provider id, municipality id, segment key)."""
    session = db.session()
    key_columns = (RealisationReport.organisation_id, RealisationReport.municipality_id, RealisationReport.segment_key)
    approved = (RealisationReport.region_id == region_id, RealisationReport.year == year,
                RealisationReport.state == "approved")
    totals: dict[tuple[int, int, str], Totals] = {}
    if session.get_bind().dialect.name == "postgresql":
        rows = session.exec(
            select(*key_columns, func.sum(RealisationLine.value), func.coalesce(func.sum(RealisationLine.place_days), 0),
                   func.sum(RealisationLine.ended))
            .join(RealisationReport, RealisationReport.id == RealisationLine.report_id)
            .where(*approved).group_by(*key_columns))
        for provider, municipality, segment, value, place_days, ended in rows:
            totals[(provider, municipality, segment)] = Totals(Decimal(value or 0), int(place_days or 0), int(ended or 0))
        # Only the lines with result figures: a line without them holds SQL NULL or JSON null (what
        # the import writes for "none"), which adds nothing. (One json_agg in the GROUP BY above
        # would read the lines once, but json_agg cannot be computed in parallel, and the two
        # queries together are faster.)
        extras = session.exec(
            select(*key_columns, RealisationLine.extra)
            .join(RealisationReport, RealisationReport.id == RealisationLine.report_id)
            .where(*approved, func.json_typeof(RealisationLine.extra) != "null"))
        for provider, municipality, segment, extra in extras:
            _add_extra(totals.setdefault((provider, municipality, segment), Totals()), extra)
        return totals
    rows = session.exec(
        select(*key_columns, RealisationLine.value, RealisationLine.place_days, RealisationLine.ended,
               RealisationLine.extra)
        .join(RealisationReport, RealisationReport.id == RealisationLine.report_id)
        .where(*approved))
    for provider, municipality, segment, value, place_days, ended, extra in rows:
        found = totals.setdefault((provider, municipality, segment), Totals())
        found.value += Decimal(value)
        found.place_days += int(place_days or 0)
        found.ended += int(ended or 0)
        _add_extra(found, extra)
    return totals


def _add_extra(totals: Totals, extra) -> None:
    for name, value in (extra or {}).items():
        if isinstance(value, bool):
            continue
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            continue
        if number.is_finite():
            totals.extra[name] = totals.extra.get(name, Decimal(0)) + number


def choices_on(region_id: int, on: date) -> dict[tuple[int, str], Row]:
    """(municipality id, segment key) → the municipality's choice in force on ``on``: a row with
    ``volume_basis``, ``funding_form`` and ``details`` (columns, not entities: a national region has
    thousands)."""
    rows = db.session().exec(
        select(MunicipalChoice.municipality_id, MunicipalChoice.segment_key, MunicipalChoice.volume_basis,
               MunicipalChoice.funding_form, MunicipalChoice.details)
        .where(MunicipalChoice.region_id == region_id, MunicipalChoice.effective_from <= on)
        .order_by(MunicipalChoice.effective_from))
    return {(row.municipality_id, row.segment_key): row for row in rows}  # later versions win


def gather(region: Region, year: int, overrides: Overrides | None = None) -> Year:
    """Every budget agreement and ceiling of the region's year as engine agreements.

    Reads columns rather than ORM entities, looks rules up once per municipality × segment and
    pauses the cyclic garbage collector: a national year has tens of thousands of agreements
    (bench/settlement.py)."""
    with collector_paused():
        return _gather(region, year, overrides)


def _gather(region: Region, year: int, overrides: Overrides | None) -> Year:
    session = db.session()
    registry = current_app.extensions["portal.registry"]
    overrides = overrides or Overrides()
    agreements = session.exec(
        select(BudgetAgreement.id, BudgetAgreement.organisation_id, BudgetAgreement.municipality_id,
               BudgetAgreement.segment_key, BudgetAgreement.kind, BudgetAgreement.amount,
               BudgetAgreement.bandwidth_percentage)
        .where(BudgetAgreement.region_id == region.id, BudgetAgreement.year == year)
        .order_by(BudgetAgreement.organisation_id, BudgetAgreement.segment_key, BudgetAgreement.municipality_id)).all()
    names: dict[int, str] = {}
    municipality_codes: dict[int, str | None] = {}
    for organisation_id, name, code in session.exec(
            select(Organisation.id, Organisation.name, Organisation.municipality_code)
            .where(Organisation.region_id == region.id)):
        names[organisation_id] = name
        municipality_codes[organisation_id] = code
    totals = realisation_totals(region.id, year)
    choices = choices_on(region.id, date(year, 1, 1))
    places_of = {key: _places_of(choice) for key, choice in choices.items()}
    budgets_for_places: dict[tuple[int, str], Decimal] = {}
    for _id, _provider, municipality_id, segment_key, kind, amount, _bandwidth in agreements:
        key = (municipality_id, segment_key)
        if kind == "budget" and places_of.get(key) is not None:
            budgets_for_places[key] = budgets_for_places.get(key, ZERO) + amount
    rules_cache: dict[tuple[str | None, str], engine.Rules] = {}
    nothing = Totals()
    sources = []
    for agreement_id, provider_id, municipality_id, segment_key, kind, amount, bandwidth_percentage in agreements:
        key = (municipality_id, segment_key)
        found = totals.get((provider_id, municipality_id, segment_key), nothing)
        choice = choices.get(key)
        rules_key = (municipality_codes[municipality_id], segment_key)
        rules = rules_cache.get(rules_key)
        if rules is None:
            rules = rules_cache[rules_key] = engine.Rules(
                overrides.outside_band or registry.rule("outside_band", region.code, *rules_key).value,
                overrides.band_scope or registry.rule("band_scope", region.code, *rules_key).value)
        base = dict(id=str(agreement_id), provider=names[provider_id], municipality=names[municipality_id],
                    segment=segment_key, realisation=found.value)
        bandwidth = (bandwidth_percentage or Decimal(0)) / HUNDRED
        places = places_of.get(key)
        if kind == "ceiling":
            agreement = engine.Agreement(**base, kind="ceiling", ceiling=amount, payments_made=found.value)
        elif places is not None:
            together = budgets_for_places[key]
            share = (places * amount / together).quantize(PLACE, rounding=ROUND_HALF_UP) if together else Decimal(0)
            price = (amount / share).quantize(PRICE, rounding=ROUND_HALF_UP) if share else ZERO
            agreement = engine.Agreement(**base, kind="places", places=share, price_per_place_year=price,
                                         occupied_place_days=Decimal(found.place_days), advances_paid=amount)
        elif choice is not None and choice.funding_form == "population":
            threshold = bandwidth if bandwidth_percentage is not None else engine.DEFAULT_THRESHOLD
            agreement = engine.Agreement(**base, kind="population", budget=amount, advances_paid=amount,
                                         threshold=threshold)
        else:
            agreement = engine.Agreement(**base, kind="budget", budget=amount, advances_paid=amount,
                                         bandwidth=bandwidth)
        if overrides.bandwidth is not None and agreement.kind in ("budget", "population"):
            agreement = replace(agreement, bandwidth=overrides.bandwidth, threshold=overrides.bandwidth)
        results = {ENDED: Decimal(found.ended), **found.extra}
        sources.append(Source(agreement_id, provider_id, municipality_id, agreement, rules, results))
    by_municipality: dict[int, Decimal] = {}
    for (_provider, municipality_id, _segment), found in totals.items():
        by_municipality[municipality_id] = by_municipality.get(municipality_id, ZERO) + found.value
    return Year(region, year, sources, by_municipality, names, municipality_codes)


def _places_of(choice: Row | None) -> Decimal | None:
    """The places a municipality buys under its choice, or None when it buys trajectories."""
    if choice is None or choice.volume_basis != "places":
        return None
    volume = (choice.details or {}).get("volume")
    if volume in (None, ""):
        return None
    places = Decimal(str(volume))
    return places if places > 0 else None


def inputs_of(source: Source) -> dict:
    """What the engine was given, as JSON (amounts as strings), stored with each settlement line."""
    a = source.agreement
    fields = {"budget": a.budget, "advances_paid": a.advances_paid, "bandwidth": a.bandwidth, "ceiling": a.ceiling,
              "payments_made": a.payments_made, "threshold": a.threshold, "places": a.places,
              "price_per_place_year": a.price_per_place_year, "occupied_place_days": a.occupied_place_days}
    used = {"budget": ("budget", "advances_paid", "bandwidth"), "ceiling": ("ceiling", "payments_made"),
            "population": ("budget", "advances_paid", "threshold"),
            "places": ("places", "price_per_place_year", "occupied_place_days", "advances_paid")}[a.kind]
    return {"kind": a.kind, "realisation": str(a.realisation), **{name: str(fields[name]) for name in used},
            "rules": {"outside_band": source.rules.outside_band, "band_scope": source.rules.band_scope},
            "results": {name: str(value) for name, value in source.results.items()}}
