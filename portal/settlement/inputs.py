"""What a region's year brings to the settlement engine: every budget agreement and ceiling of the
year as an engine :class:`~portal.settlement.engine.Agreement`, with the approved realisation, the
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
- Result figures for the plugins' rules: ``beeindigd`` (trajectories ended) and **the declared
  numeric extra columns** of the approved lines, summed over the year: the columns the plugin's
  realisation spec declares for the segment (:class:`portal.registry.RealisationSpec` ``fields``,
  always integer or decimal, two decimals at most; :func:`result_figures`). A value counts when
  it is written as a decimal number (``NUMBER``; on SQLite without an exponent, which the import
  never writes); a figure no line of the agreement reported is absent, not 0. Other keys (none
  that the import writes) are not result figures.

The sums come from what the database keeps as reports are approved, not from a year's lines: the
realisation import writes each report's total value, place-days, trajectories ended and result
figures with its lines (``RealisationReport.total_value``, ``place_days_total``, ``ended_total``,
``figures``), and triggers on ``realisation_report`` keep running totals per provider ×
municipality × segment × year of the reports that are approved: the value (in cents), place-days
and trajectories ended (``RealisationYearTotal``) and each result figure (``RealisationYearFigure``,
in hundredths with the figure's decimals; approved reports are locked, and the triggers take a
report off again should it change or go). So a national year of a million lines is settled from
50,000 ready totals and the figures of the few that have them. tests/test_settlement_inputs.py
checks that they equal the sums of the approved lines, tests/test_realisation_year_total.py the
triggers. Three plain statements bring the year (:func:`_year_rows`): the budget agreements in the
order of :attr:`Year.sources`, the totals and the figures; agreements and realisation meet in a
dictionary, and realisation without an agreement still counts for
:attr:`Year.realisation_by_municipality`. The same on both databases (plain tuples from psycopg's
cursor on PostgreSQL, ORM columns on SQLite).

Every value the engine's check would refuse (a year whose credits exceed its declarations, a
bandwidth outside 0–100%, a rule outside its choices) is tested here, per agreement, and named with
the engine's own :class:`~portal.settlement.engine.ScenarioError`; the engine then settles with
``validated=True`` and does not check 50,000 agreements a second time (nor their ids: the budget
agreements' own keys).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter

from sqlalchemy import Row
from sqlmodel import select

from portal import db
from portal.collector import collector_paused
from portal.models import BudgetAgreement, MunicipalChoice, Organisation, Region
from portal.models.realisation import RealisationYearFigure, RealisationYearTotal
from portal.registry import current_registry
from portal.settlement import engine

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


@dataclass(slots=True)
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
        """Settle the year: each agreement with its rules and its segment's settlement rules, bound
        once per segment × municipality (results in the order of :attr:`sources`)."""
        region_code = self.region.code
        registry = current_registry(region_code)
        codes = dict(self.municipality_codes)
        # Agreement id -> result figures, for the plugins' rules: only the agreements that have a
        # rule (filled while binding; the bound rules read it when called, after this loop).
        results: dict[str, dict[str, Decimal]] = {}
        bound: dict[tuple, list] = {}
        own_adjustments = []
        append = own_adjustments.append
        for source in self.sources:
            agreement = source.agreement
            key = (agreement.segment, source.municipality_id)
            found = bound.get(key)
            if found is None:
                if source.municipality_id not in codes:
                    codes[source.municipality_id] = db.session().get(Organisation,
                                                                     source.municipality_id).municipality_code
                found = bound[key] = registry.settlement_adjustments(key[0], region_code,
                                                                     codes[source.municipality_id], results)
            if found:
                results[agreement.id] = source.results
            append(found)
        with collector_paused():
            return engine.settle(self.year, [s.agreement for s in self.sources], [s.rules for s in self.sources],
                                 own_adjustments, validated=True)


# --- Reading the database ----------------------------------------------------------------------

# A result figure's value counts when it is a number written as a decimal number (a JSON number, or
# text as the realisation import writes it: "3", "2.50"); anything else (true, "", a list) adds
# nothing. The triggers of realisation_year_figure apply it as reports are approved (migration
# d8b3f6a2c915; on SQLite without the exponent, which the import never writes).
NUMBER = r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$"


def result_figures(registry) -> dict[str, tuple[str, ...]]:
    """Segment key → the names of its result figures: the extra columns its realisation spec
    declares (:class:`portal.registry.RealisationSpec` ``fields``; always integer or decimal)."""
    return {key: tuple(f.name for f in spec.fields) for key, spec in registry.realisation_specs.items() if spec.fields}


# The year's budget agreements in the order of Year.sources (segment keys byte by byte, COLLATE "C",
# as SQLite sorts them), and the running totals the database keeps of its approved realisation: per
# provider × municipality × segment (realisation_year_total, in cents) and per result figure
# (realisation_year_figure, in hundredths with the figure's decimals). Three plain statements, no
# join: the agreements and their realisation meet in a dictionary (:func:`_gather`), which costs
# less than the database's join and sort of the two (bench/settlement.py).
_AGREEMENTS_SQL = """
SELECT id, organisation_id, municipality_id, segment_key, kind, amount, bandwidth_percentage
FROM budget_agreement WHERE region_id = %(region)s AND year = %(year)s
ORDER BY organisation_id, segment_key COLLATE "C", municipality_id
"""
_TOTALS_SQL = """
SELECT organisation_id, municipality_id, segment_key, CAST(CAST(value_cents AS NUMERIC) / 100 AS NUMERIC(16, 2)),
       place_days, ended
FROM realisation_year_total WHERE region_id = %(region)s AND year = %(year)s AND reports > 0
"""
_FIGURES_SQL = """
SELECT organisation_id, municipality_id, segment_key, name, ROUND(CAST(hundredths AS NUMERIC) / 100, scale)
FROM realisation_year_figure WHERE region_id = %(region)s AND year = %(year)s AND reports > 0
"""
# work_mem for the agreements' sort: with PostgreSQL's default (4MB) a national year's 50,000
# agreements are sorted on disk. Set for the statement only (see _postgresql_rows).
WORK_MEM = "64MB"


def _postgresql_rows(region_id: int, year: int) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The agreements, totals and figures of the year on the session's own connection (psycopg's
    cursor: plain tuples, no ORM rows; numeric arrives as ``Decimal``)."""
    parameters = {"region": region_id, "year": year}
    cursor = db.session().connection().connection.cursor()
    try:
        # For these statements only (then back as it was, in the same transaction): room to sort a
        # national year's agreements in memory.
        cursor.execute("SELECT current_setting('work_mem'), set_config('work_mem', %s, true)", (WORK_MEM,))
        work_mem = cursor.fetchone()[0]
        agreements = cursor.execute(_AGREEMENTS_SQL, parameters).fetchall()
        cursor.execute("SELECT set_config('work_mem', %s, true)", (work_mem,))
        totals = cursor.execute(_TOTALS_SQL, parameters).fetchall()
        figures = cursor.execute(_FIGURES_SQL, parameters).fetchall()
        return agreements, totals, figures
    finally:
        cursor.close()


def _sqlite_rows(region_id: int, year: int) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """As :func:`_postgresql_rows`, through the ORM's columns (amounts in cents and hundredths made
    ``Decimal`` here)."""
    session = db.session()
    agreements = [tuple(row) for row in session.exec(
        select(BudgetAgreement.id, BudgetAgreement.organisation_id, BudgetAgreement.municipality_id,
               BudgetAgreement.segment_key, BudgetAgreement.kind, BudgetAgreement.amount,
               BudgetAgreement.bandwidth_percentage)
        .where(BudgetAgreement.region_id == region_id, BudgetAgreement.year == year)
        .order_by(BudgetAgreement.organisation_id, BudgetAgreement.segment_key, BudgetAgreement.municipality_id))]
    totals = [(provider, municipality, segment, Decimal(cents).scaleb(-2), int(place_days), int(ended))
              for provider, municipality, segment, cents, place_days, ended in session.exec(
                  select(RealisationYearTotal.organisation_id, RealisationYearTotal.municipality_id,
                         RealisationYearTotal.segment_key, RealisationYearTotal.value_cents,
                         RealisationYearTotal.place_days, RealisationYearTotal.ended)
                  .where(RealisationYearTotal.region_id == region_id, RealisationYearTotal.year == year,
                         RealisationYearTotal.reports > 0))]
    figures = [(provider, municipality, segment, name, Decimal(hundredths).scaleb(-2).quantize(Decimal(1).scaleb(-scale)))
               for provider, municipality, segment, name, hundredths, scale in session.exec(
                   select(RealisationYearFigure.organisation_id, RealisationYearFigure.municipality_id,
                          RealisationYearFigure.segment_key, RealisationYearFigure.name,
                          RealisationYearFigure.hundredths, RealisationYearFigure.scale)
                   .where(RealisationYearFigure.region_id == region_id, RealisationYearFigure.year == year,
                          RealisationYearFigure.reports > 0))]
    return agreements, totals, figures


def _year_rows(region_id: int, year: int, declared: dict[str, tuple[str, ...]]
               ) -> tuple[list[tuple], dict[tuple[int, int, str], list], dict[int, Decimal]]:
    """The year as :func:`_gather` reads it: the budget agreements in the order of
    ``Year.sources`` as tuples ``(agreement id, provider id, municipality id, segment key, kind,
    amount, bandwidth percentage)``; the approved realisation per (provider id, municipality id,
    segment key) as ``[value, place-days, ended, result figures or None]`` (only the figures the
    segment declares, by name); and all approved realisation per municipality, with or without an
    agreement."""
    if db.session().get_bind().dialect.name == "postgresql":
        agreements, totals, figures = _postgresql_rows(region_id, year)
    else:
        agreements, totals, figures = _sqlite_rows(region_id, year)
    realised: dict[tuple[int, int, str], list] = {}
    by_municipality: dict[int, Decimal] = {}
    for provider, municipality, segment, value, place_days, ended in totals:
        realised[(provider, municipality, segment)] = [value, place_days, ended, None]
        by_municipality[municipality] = by_municipality.get(municipality, ZERO) + value
    for provider, municipality, segment, name, total in sorted(figures, key=itemgetter(3)) if figures else ():
        found = realised.get((provider, municipality, segment))
        if found is not None and name in declared.get(segment, ()):
            if found[3] is None:
                found[3] = {name: total}
            else:
                found[3][name] = total
    return agreements, realised, by_municipality


def realisation_totals(region_id: int, year: int) -> dict[tuple[int, int, str], Totals]:
    """Approved realisation of the year per (provider id, municipality id, segment key), with the
    segment's result figures (:func:`result_figures`) that any of its lines reported."""
    declared = result_figures(current_registry(db.session().get(Region, region_id).code))
    _agreements, realised, _by_municipality = _year_rows(region_id, year, declared)
    return {key: Totals(value, place_days, ended, figures or {})
            for key, (value, place_days, ended, figures) in realised.items()}


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

    Reads the year's agreements and running totals in three statements (:func:`_year_rows`:
    plain tuples from the driver on PostgreSQL, no ORM rows), looks rules, places and funding form
    up once per municipality × segment and pauses the cyclic garbage collector: a national year has
    tens of thousands of agreements (bench/settlement.py)."""
    with collector_paused():
        return _gather(region, year, overrides)


def _gather(region: Region, year: int, overrides: Overrides | None) -> Year:
    session = db.session()
    registry = current_registry(region.code)
    overrides = overrides or Overrides()
    names: dict[int, str] = {}
    municipality_codes: dict[int, str | None] = {}
    for organisation_id, name, code in session.connection().execute(
            select(Organisation.id, Organisation.name, Organisation.municipality_code)
            .where(Organisation.region_id == region.id)):
        names[organisation_id] = name
        municipality_codes[organisation_id] = code
    rows, realised, by_municipality = _year_rows(region.id, year, result_figures(registry))
    choices = choices_on(region.id, date(year, 1, 1))
    places_of = {key: places for key, choice in choices.items() if (places := _places_of(choice)) is not None}
    population = {key for key, choice in choices.items() if choice.funding_form == "population"}
    budgets_for_places: dict[tuple[int, str], Decimal] = {}
    if places_of:
        for _agreement_id, _provider, municipality_id, segment_key, kind, amount, _bandwidth in rows:
            key = (municipality_id, segment_key)
            if kind == "budget" and key in places_of:
                budgets_for_places[key] = budgets_for_places.get(key, ZERO) + amount
    what_if_bandwidth = overrides.bandwidth
    Agreement = engine.Agreement
    rules_cache: dict[tuple[str | None, str], engine.Rules] = {}
    # Per municipality × segment, looked up once: (rules, places bought or None, population
    # funding?, municipality name).
    scopes: dict[tuple[int, str], tuple] = {}
    sources = []
    append = sources.append
    find_realised = realised.get
    nothing_realised = (ZERO, 0, 0, None)
    for agreement_id, provider_id, municipality_id, segment_key, kind, amount, bandwidth_percentage in rows:
        value, place_days, ended, figures = find_realised((provider_id, municipality_id, segment_key),
                                                          nothing_realised)
        key = (municipality_id, segment_key)
        scope = scopes.get(key)
        if scope is None:
            rules_key = (municipality_codes[municipality_id], segment_key)
            rules = rules_cache.get(rules_key)
            if rules is None:
                rules = rules_cache[rules_key] = engine.Rules(
                    overrides.outside_band or registry.rule("outside_band", region.code, *rules_key).value,
                    overrides.band_scope or registry.rule("band_scope", region.code, *rules_key).value)
                if rules.outside_band not in engine.OUTSIDE_BAND or rules.band_scope not in engine.BAND_SCOPES:
                    engine.check(Agreement(str(agreement_id), "", "", segment_key, "budget"), rules)
            scope = scopes[key] = (rules, places_of.get(key), key in population, names[municipality_id])
        rules, places, population_funding, municipality_name = scope
        identity = (str(agreement_id), names[provider_id], municipality_name, segment_key)
        if kind == "ceiling":
            agreement = Agreement(*identity, "ceiling", value, ceiling=amount, payments_made=value)
        elif places is not None:
            together = budgets_for_places[key]
            share = (places * amount / together).quantize(PLACE, rounding=ROUND_HALF_UP) if together else Decimal(0)
            price = (amount / share).quantize(PRICE, rounding=ROUND_HALF_UP) if share else ZERO
            agreement = Agreement(*identity, "places", value, places=share, price_per_place_year=price,
                                  occupied_place_days=Decimal(place_days), advances_paid=amount)
        elif population_funding:
            if what_if_bandwidth is not None:
                threshold = what_if_bandwidth
            elif bandwidth_percentage is not None:
                threshold = (bandwidth_percentage or Decimal(0)) / HUNDRED  # as a budget's bandwidth
            else:
                threshold = engine.DEFAULT_THRESHOLD
            agreement = Agreement(*identity, "population", value, budget=amount, advances_paid=amount,
                                  threshold=threshold,
                                  bandwidth=what_if_bandwidth if what_if_bandwidth is not None else Decimal(0))
        else:
            bandwidth = what_if_bandwidth if what_if_bandwidth is not None else \
                (bandwidth_percentage or Decimal(0)) / HUNDRED
            agreement = Agreement(*identity, "budget", value, budget=amount, advances_paid=amount,
                                  bandwidth=bandwidth,
                                  threshold=what_if_bandwidth if what_if_bandwidth is not None
                                  else engine.DEFAULT_THRESHOLD)
        # What settle(validated=True) relies on, tested where it can go wrong (a year's credits
        # exceeding its declarations, an amount or bandwidth typed wrong outside the portal); the
        # engine's own check names the field.
        if value < 0 or amount < 0 or place_days < 0 or not (0 <= agreement.bandwidth <= 1 and
                                                              0 <= agreement.threshold <= 1):
            engine.check(agreement, rules)
        results = {ENDED: Decimal(ended), **figures} if figures else {ENDED: Decimal(ended)}
        append(Source(agreement_id, provider_id, municipality_id, agreement, rules, results))
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
