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
  always integer or decimal; :func:`result_figures`). A value counts when it is written as a
  decimal number (``NUMBER``); a figure no line of the agreement reported is absent, not 0. Other
  keys (none that the import writes) are not result figures.

The sums come from what the database keeps as reports are approved, not from a year's lines: the
realisation import writes each report's total value, place-days, trajectories ended and result
figures with its lines (``RealisationReport.total_value``, ``place_days_total``, ``ended_total``,
``figures``), and triggers on ``realisation_report`` keep a running total per provider ×
municipality × segment × year of the reports that are approved (``RealisationYearTotal``, in cents;
approved reports are locked, and the triggers take a report off again should it change or go). So a
national year of a million lines is settled from 50,000 ready totals plus the few reports that carry
result figures. tests/test_settlement_inputs.py checks that they equal the sums of the approved
lines, tests/test_realisation_year_total.py the triggers. On PostgreSQL one statement brings the
whole year (:func:`_year_rows`): the totals, with the figures summed from the reports that have
them, in a ``FULL OUTER JOIN`` with the year's budget agreements, so that agreements and their
realisation arrive together and realisation without an agreement still counts for
:attr:`Year.realisation_by_municipality`. On SQLite the same rows are put together in Python.

Every value the engine's check would refuse (a year whose credits exceed its declarations, a
bandwidth outside 0–100%, a rule outside its choices) is tested here, per agreement, and named with
the engine's own :class:`~portal.settlement.engine.ScenarioError`; the engine then settles with
``validated=True`` and does not check 50,000 agreements a second time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Row
from sqlmodel import select

from portal import db
from portal.collector import collector_paused  # noqa: F401  (also imported from here)
from portal.models import BudgetAgreement, MunicipalChoice, Organisation, Region
from portal.models.realisation import RealisationReport, RealisationYearTotal
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
        registry = current_registry(self.region.code)
        codes = dict(self.municipality_codes)
        results = {source.agreement.id: source.results for source in self.sources}
        bound: dict[tuple, list] = {}
        own_adjustments = []
        for source in self.sources:
            key = (source.agreement.segment, source.municipality_id)
            found = bound.get(key)
            if found is None:
                if source.municipality_id not in codes:
                    codes[source.municipality_id] = db.session().get(Organisation,
                                                                     source.municipality_id).municipality_code
                found = bound[key] = registry.settlement_adjustments(key[0], self.region.code,
                                                                     codes[source.municipality_id], results)
            own_adjustments.append(found)
        with collector_paused():
            return engine.settle(self.year, [s.agreement for s in self.sources], [s.rules for s in self.sources],
                                 own_adjustments, validated=True)


# --- Reading the database ----------------------------------------------------------------------

# A result figure's value counts when it is a number written as a decimal number (a JSON number, or
# text as the realisation import writes it: "3", "2.50"); anything else (true, "", a list) adds
# nothing. The same test on both databases: this pattern in SQL on PostgreSQL, in Python on SQLite.
NUMBER = r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$"
_NUMBER = re.compile(NUMBER)


def result_figures(registry) -> dict[str, tuple[str, ...]]:
    """Segment key → the names of its result figures: the extra columns its realisation spec
    declares (:class:`portal.registry.RealisationSpec` ``fields``; always integer or decimal)."""
    return {key: tuple(f.name for f in spec.fields) for key, spec in registry.realisation_specs.items() if spec.fields}


# The approved realisation of a region's year per provider × municipality × segment: the running
# totals the database keeps (``realisation_year_total``, in cents), with one sum per declared result
# figure (``%(figure_N)s``) over the few approved reports that hold figures.
_REALISED_SQL = """
SELECT t.organisation_id, t.municipality_id, t.segment_key,
       CAST(CAST(t.value_cents AS NUMERIC) / 100 AS NUMERIC(16, 2)) AS value, t.place_days, t.ended{figures}
FROM realisation_year_total t{figure_join}
WHERE t.region_id = %(region)s AND t.year = %(year)s AND t.reports > 0
"""
_FIGURES_SQL = """
LEFT JOIN (
    SELECT r.organisation_id, r.municipality_id, r.segment_key{sums}
    FROM realisation_report r
    WHERE r.region_id = %(region)s AND r.year = %(year)s AND r.state = 'approved' AND r.figures IS NOT NULL
      AND r.figures::text <> 'null'
    GROUP BY r.organisation_id, r.municipality_id, r.segment_key) f
  ON f.organisation_id = t.organisation_id AND f.municipality_id = t.municipality_id
 AND f.segment_key = t.segment_key"""
_FIGURE_SQL = (",\n           SUM(CASE WHEN (r.figures ->> %(figure_{n})s::text) ~ %(number)s "
               "THEN CAST(r.figures ->> %(figure_{n})s::text AS NUMERIC) END) AS figure_{n}")
# Every budget agreement of the year next to its realisation, and the realisation without an
# agreement (agreement columns NULL, last), in one round trip; agreements in the order of
# Year.sources.
_YEAR_SQL = """
SELECT b.id, COALESCE(b.organisation_id, t.organisation_id), COALESCE(b.municipality_id, t.municipality_id),
       COALESCE(b.segment_key, t.segment_key), b.kind, b.amount, b.bandwidth_percentage,
       t.value, t.place_days, t.ended{figures}
FROM (SELECT id, organisation_id, municipality_id, segment_key, kind, amount, bandwidth_percentage
      FROM budget_agreement WHERE region_id = %(region)s AND year = %(year)s) b
FULL OUTER JOIN ({realised}) t
  ON t.organisation_id = b.organisation_id AND t.municipality_id = b.municipality_id
 AND t.segment_key = b.segment_key
ORDER BY b.organisation_id, b.segment_key COLLATE "C", b.municipality_id
"""
# work_mem for these statements: with PostgreSQL's default (4MB) a national year's groups spill to
# disk (bench/settlement.py: Batches 5). Set for the statement only (see _postgresql_rows).
WORK_MEM = "64MB"


def _postgresql_rows(region_id: int, year: int, names: tuple[str, ...], with_agreements: bool) -> list[tuple]:
    """Run the year's query on the session's own connection (psycopg's cursor: plain tuples, no
    ORM rows; numeric arrives as ``Decimal``)."""
    parameters = {"region": region_id, "year": year, "number": NUMBER,
                  **{f"figure_{n}": name for n, name in enumerate(names)}}
    realised = _REALISED_SQL.format(
        figures="".join(f", f.figure_{n}" for n in range(len(names))),
        figure_join=_FIGURES_SQL.format(sums="".join(_FIGURE_SQL.format(n=n) for n in range(len(names))))
        if names else "")
    sql = _YEAR_SQL.format(figures="".join(f", t.figure_{n}" for n in range(len(names))), realised=realised) \
        if with_agreements else realised
    cursor = db.session().connection().connection.cursor()
    try:
        # For this statement only (then back as they were, in the same transaction): no JIT, which
        # would compile for ~0.1 s because the estimated cost is high; room to aggregate a national
        # year's groups in memory instead of spilling them to disk; and no parallel workers: a year
        # has a few reports per group, and handing partial numeric sums from the workers to the
        # leader cost more than the workers saved (bench/settlement.py: 0.38 s parallel, 0.29 s
        # serial). Segment keys sort byte by byte (COLLATE "C"), as SQLite sorts them.
        cursor.execute("SELECT current_setting('jit'), current_setting('work_mem'), "
                       "current_setting('max_parallel_workers_per_gather'), "
                       "set_config('jit', 'off', true), set_config('work_mem', %s, true), "
                       "set_config('max_parallel_workers_per_gather', '0', true)", (WORK_MEM,))
        jit, work_mem, parallel = cursor.fetchone()[:3]
        cursor.execute(sql, parameters)
        rows = cursor.fetchall()
        cursor.execute("SELECT set_config('jit', %s, true), set_config('work_mem', %s, true), "
                       "set_config('max_parallel_workers_per_gather', %s, true)", (jit, work_mem, parallel))
        return rows
    finally:
        cursor.close()


def _number(value) -> Decimal | None:
    """A result figure's value as a ``Decimal`` (see ``NUMBER``), or None when it is not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    text = str(value)
    return Decimal(text) if _NUMBER.match(text) else None


def realisation_totals(region_id: int, year: int) -> dict[tuple[int, int, str], Totals]:
    """Approved realisation of the year per (provider id, municipality id, segment key), with the
    segment's result figures (:func:`result_figures`) that any of its lines reported."""
    session = db.session()
    declared = result_figures(current_registry(session.get(Region, region_id).code))
    totals: dict[tuple[int, int, str], Totals] = {}
    if session.get_bind().dialect.name == "postgresql":
        names = tuple(sorted({name for figures in declared.values() for name in figures}))
        for provider, municipality, segment, value, place_days, ended, *sums in \
                _postgresql_rows(region_id, year, names, with_agreements=False):
            totals[(provider, municipality, segment)] = Totals(
                value, place_days, ended, _figures(names, sums, declared.get(segment, ())))
        return totals
    for provider, municipality, segment, cents, place_days, ended in session.exec(
            select(RealisationYearTotal.organisation_id, RealisationYearTotal.municipality_id,
                   RealisationYearTotal.segment_key, RealisationYearTotal.value_cents, RealisationYearTotal.place_days,
                   RealisationYearTotal.ended)
            .where(RealisationYearTotal.region_id == region_id, RealisationYearTotal.year == year,
                   RealisationYearTotal.reports > 0)):
        totals[(provider, municipality, segment)] = Totals(Decimal(cents).scaleb(-2), int(place_days), int(ended))
    for provider, municipality, segment, figures in session.exec(
            select(RealisationReport.organisation_id, RealisationReport.municipality_id,
                   RealisationReport.segment_key, RealisationReport.figures)
            .where(RealisationReport.region_id == region_id, RealisationReport.year == year,
                   RealisationReport.state == "approved", RealisationReport.figures.is_not(None))):
        found = totals.get((provider, municipality, segment))
        if found is None or not figures:
            continue
        for name in declared.get(segment, ()):
            number = _number(figures.get(name))
            if number is not None:
                found.extra[name] = found.extra.get(name, Decimal(0)) + number
    return totals


def _figures(names: tuple[str, ...], sums: list, wanted: tuple[str, ...]) -> dict[str, Decimal]:
    """The sums of a PostgreSQL row (one per name, NULL where no line reported it) that the segment
    declares."""
    return {name: total for name, total in zip(names, sums) if total is not None and name in wanted}


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

    Reads the year in one statement on PostgreSQL (:func:`_year_rows`: plain tuples from the
    driver, no ORM rows), looks rules, places and funding form up once per municipality × segment
    and pauses the cyclic garbage collector: a national year has tens of thousands of agreements
    (bench/settlement.py)."""
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
    rows = _year_rows(region.id, year, result_figures(registry))
    choices = choices_on(region.id, date(year, 1, 1))
    places_of = {key: places for key, choice in choices.items() if (places := _places_of(choice)) is not None}
    population = {key for key, choice in choices.items() if choice.funding_form == "population"}
    budgets_for_places: dict[tuple[int, str], Decimal] = {}
    if places_of:
        for agreement_id, _provider, municipality_id, segment_key, kind, amount, *_rest in rows:
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
    by_municipality: dict[int, Decimal] = {}
    for (agreement_id, provider_id, municipality_id, segment_key, kind, amount, bandwidth_percentage,
         value, place_days, ended, figures) in rows:
        if value is not None:
            by_municipality[municipality_id] = by_municipality.get(municipality_id, ZERO) + value
        if agreement_id is None:  # realisation without an agreement: only in the municipality's total
            continue
        if value is None:
            value, place_days, ended = ZERO, 0, 0
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


def _year_rows(region_id: int, year: int, declared: dict[str, tuple[str, ...]]) -> list[tuple]:
    """The year's budget agreements in the order of ``Year.sources``, each with its approved
    realisation, then the realisation without an agreement, as tuples ``(agreement id, provider id,
    municipality id, segment key, kind, amount, bandwidth percentage, value, place-days, ended,
    result figures)``: agreement columns None without an agreement, realisation columns None
    without realisation, result figures a dict or None. One statement on PostgreSQL; on SQLite the
    agreements and :func:`realisation_totals` put together."""
    session = db.session()
    if session.get_bind().dialect.name == "postgresql":
        names = tuple(sorted({name for figures in declared.values() for name in figures}))
        width = len(names)
        rows = []
        for row in _postgresql_rows(region_id, year, names, with_agreements=True):
            sums = row[10:]
            figures = None
            if sums.count(None) != width:
                figures = _figures(names, sums, declared.get(row[3], ())) or None
            rows.append((*row[:10], figures))
        return rows
    agreements = session.exec(
        select(BudgetAgreement.id, BudgetAgreement.organisation_id, BudgetAgreement.municipality_id,
               BudgetAgreement.segment_key, BudgetAgreement.kind, BudgetAgreement.amount,
               BudgetAgreement.bandwidth_percentage)
        .where(BudgetAgreement.region_id == region_id, BudgetAgreement.year == year)
        .order_by(BudgetAgreement.organisation_id, BudgetAgreement.segment_key, BudgetAgreement.municipality_id))
    totals = realisation_totals(region_id, year)
    rows = []
    for agreement_id, provider_id, municipality_id, segment_key, kind, amount, bandwidth_percentage in agreements:
        found = totals.pop((provider_id, municipality_id, segment_key), None)
        realised = (None, None, None, None) if found is None else \
            (found.value, found.place_days, found.ended, found.extra or None)
        rows.append((agreement_id, provider_id, municipality_id, segment_key, kind, amount, bandwidth_percentage,
                     *realised))
    for (provider_id, municipality_id, segment_key), found in totals.items():
        rows.append((None, provider_id, municipality_id, segment_key, None, None, None, found.value,
                     found.place_days, found.ended, found.extra or None))
    return rows


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
