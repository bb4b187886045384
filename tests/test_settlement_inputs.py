"""What a region's year brings to the settlement engine (portal.settlement.inputs.gather): every
kind mapped as the module documents it (ceiling, budget with its bandwidth, population under the
municipality's choice on 1 January, places shared by budget), only approved realisation counted,
rules from the registry (a municipality's local rule through a throwaway plugin) and the what-if
overrides, the result figures for the plugins' rules (the Jeugd bonus–malus in a run's
explanation) and the same totals from PostgreSQL's GROUP BY as from the Python sum.

Realisation is made through the import pipeline (``submit_rows``) and approved as a contract
manager does, for last year (``YEAR``, the demo's fourth year: it has ended, so every month may be
reported): the demo here is loaded without realisation, so every figure is ours.
"""
from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from portal import db, hookimpl
from portal.models import BudgetAgreement, MunicipalChoice, Organisation, Region, User
from portal.models.realisation import RealisationLine, RealisationReport
from portal.money import to_cents
from portal.realisation import review
from portal.realisation.importing import submit_rows
from portal.registry import LocalRule
from portal.settlement import engine
from portal.settlement.inputs import Overrides, Totals, gather, inputs_of, realisation_totals
from tests import dates
from tests.conftest import DEMO_PASSWORD, make_app
from tests.dates import demo_year, month, this_year

PROVIDER = "beheer@zorggroep-maasland.example"
MANAGER = "contractmanager@mgr-noord-limburg.example"
ZORGGROEP = "Zorggroep Maasland"
STICHTING = "Stichting Jeugdhulp Peel en Maas"
WERKBEDRIJF = "Werkbedrijf Noord-Limburg"
YEAR = dates.YEAR - 1  # last year: it has ended and has budget agreements; the demo here has no realisation
PLACES = {("Venlo", "jeugd.S3"): Decimal(50), ("Horst aan de Maas", "jeugd.S4"): Decimal(380)}


class World:
    """The demo region inside one app context, with helpers to report and approve realisation."""

    def __init__(self):
        self.session = db.session()
        self.region = self.session.exec(select(Region).where(Region.code == "noord-limburg")).one()
        self.orgs = {o.name: o for o in self.session.exec(select(Organisation)).all()}
        self.users = {u.email: u for u in self.session.exec(select(User)).all()}

    def org(self, name: str) -> Organisation:
        return self.orgs[name]

    def user(self, email: str) -> User:
        return self.users[email]

    def submit(self, provider: str, *rows) -> list[RealisationReport]:
        user = self.user(PROVIDER) if provider == ZORGGROEP else None
        upload, result = submit_rows(self.org(provider), user, list(rows), "api")
        assert upload.state == "stored", [(e.row, e.column, e.message) for e in result.errors] or upload.message
        return list(self.session.exec(select(RealisationReport).where(RealisationReport.upload_id == upload.id)
                                      .order_by(RealisationReport.id)).all())

    def approve(self, *reports: RealisationReport) -> None:
        for report in reports:
            review.approve(report, self.user(MANAGER), report.lock_version)
        self.session.commit()

    def submit_and_approve(self, provider: str, *rows) -> list[RealisationReport]:
        reports = self.submit(provider, *rows)
        self.approve(*reports)
        return reports

    def agreement(self, provider: str, municipality: str, segment: str, year: int = YEAR) -> BudgetAgreement:
        return self.session.exec(select(BudgetAgreement).where(
            BudgetAgreement.organisation_id == self.org(provider).id,
            BudgetAgreement.municipality_id == self.org(municipality).id,
            BudgetAgreement.segment_key == segment, BudgetAgreement.year == year)).one()

    def add_agreement(self, provider: str, municipality: str, segment: str, amount: str, year: int = YEAR,
                      kind: str = "budget", bandwidth: str | None = None) -> BudgetAgreement:
        """A budget agreement the demo does not have, under the provider's framework for the segment."""
        from portal.models import FrameworkAgreement, FrameworkSegment

        framework = self.session.exec(select(FrameworkAgreement).join(
            FrameworkSegment, FrameworkSegment.framework_agreement_id == FrameworkAgreement.id).where(
            FrameworkAgreement.organisation_id == self.org(provider).id,
            FrameworkSegment.segment_key == segment)).first()
        row = BudgetAgreement(region_id=self.region.id, organisation_id=self.org(provider).id,
                              municipality_id=self.org(municipality).id, framework_agreement_id=framework.id,
                              segment_key=segment, year=year, kind=kind, amount=Decimal(amount),
                              bandwidth_percentage=None if bandwidth is None else Decimal(bandwidth))
        self.session.add(row)
        self.session.commit()
        return row

    def choose(self, municipality: str, segment: str, effective_from: date, funding_form: str,
               volume_basis: str = "trajectories", details: dict | None = None) -> MunicipalChoice:
        choice = MunicipalChoice(region_id=self.region.id, municipality_id=self.org(municipality).id,
                                 segment_key=segment, effective_from=effective_from, lots=["regional"],
                                 volume_basis=volume_basis, funding_form=funding_form, details=details)
        self.session.add(choice)
        self.session.commit()
        return choice

    def source(self, prepared, agreement: BudgetAgreement):
        [found] = [s for s in prepared.sources if s.budget_agreement_id == agreement.id]
        return found

    def value(self, *reports: RealisationReport) -> Decimal:
        self.session.expire_all()
        return sum((self.session.get(RealisationReport, r.id).total_value for r in reports), Decimal("0.00"))


@pytest.fixture
def world(app, demo, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with app.app_context():
        yield World()


def s4_row(municipality: str = "0983", period: str = month(11, YEAR), **changes) -> dict:
    return {"gemeente": municipality, "segment": "jeugd.S4", "periode": period, "traject": "S4-BEG-6",
            "gestart": 3, "lopend": 5, "beeindigd": 1, "clienten": 5, **changes}


def s1a_row(municipality: str = "0983", period: str = month(11, YEAR), **changes) -> dict:
    return {"gemeente": municipality, "segment": "wmo.S1a", "periode": period, "traject": "S1A-BEG-9",
            "gestart": 2, "lopend": 2, **changes}


def s3_places_row(period: str, place_days: int, municipality: str = "0983") -> dict:
    return {"gemeente": municipality, "segment": "jeugd.S3", "periode": period, "traject": "S3-DAGB-4",
            "plekdagen": place_days}


def s1_row(period: str, ended: int, achieved: int, municipality: str = "0983") -> dict:
    return {"gemeente": municipality, "segment": "jeugd.S1", "periode": period, "traject": "S1-BMV-3",
            "gestart": 1, "lopend": ended + 1, "beeindigd": ended, "resultaat_behaald": achieved}


# --- Kinds ---------------------------------------------------------------------------------------


def test_every_agreement_of_the_year_in_order_with_its_documented_kind(world):
    rows = world.session.exec(select(BudgetAgreement).where(BudgetAgreement.year == YEAR)).all()
    prepared = gather(world.region, YEAR)
    assert prepared.year == YEAR and prepared.region.id == world.region.id
    assert [s.budget_agreement_id for s in prepared.sources] == [
        r.id for r in sorted(rows, key=lambda r: (r.organisation_id, r.segment_key, r.municipality_id))]
    names = {o.id: name for name, o in world.orgs.items()}
    for row, source in ((r, world.source(prepared, r)) for r in rows):
        a = source.agreement
        assert (source.organisation_id, source.municipality_id) == (row.organisation_id, row.municipality_id)
        assert (a.id, a.provider, a.municipality, a.segment) == (
            str(row.id), names[row.organisation_id], names[row.municipality_id], row.segment_key)
        assert a.realisation == 0 and source.results == {"beeindigd": 0}
        if row.kind == "ceiling":
            assert (a.kind, a.ceiling, a.payments_made, a.advances_paid) == ("ceiling", row.amount, 0, 0)
        elif (names[row.municipality_id], row.segment_key) in PLACES:
            assert a.kind == "places" and a.advances_paid == row.amount and a.occupied_place_days == 0
        else:
            assert (a.kind, a.budget, a.advances_paid) == ("budget", row.amount, row.amount)
            assert a.bandwidth == (row.bandwidth_percentage or 0) / 100
        assert inputs_of(source)["kind"] == a.kind
    kinds = {s.agreement.kind for s in prepared.sources}
    assert kinds == {"ceiling", "budget", "places"}
    # Horst aan de Maas buys places in Jeugd S4 from the demo's third year on: in its second year
    # its agreements are budgets.
    before_places = demo_year(1)
    horst_before = world.source(gather(world.region, before_places), world.agreement(
        ZORGGROEP, "Horst aan de Maas", "jeugd.S4", before_places))
    assert horst_before.agreement.kind == "budget"
    assert gather(world.region, dates.YEAR + 1).sources == []  # next year has no agreements yet


def test_a_budget_without_agreed_bandwidth_has_bandwidth_zero(world):
    row = world.agreement(ZORGGROEP, "Venlo", "jeugd.S4")
    assert row.bandwidth_percentage == Decimal("5.00")
    assert world.source(gather(world.region, YEAR), row).agreement.bandwidth == Decimal("0.05")
    row.bandwidth_percentage = None
    world.session.add(row)
    world.session.commit()
    source = world.source(gather(world.region, YEAR), row)
    assert source.agreement.kind == "budget" and source.agreement.bandwidth == 0
    assert inputs_of(source)["bandwidth"] == "0"


def test_ceiling_pays_the_approved_realisation_and_settles_at_most_the_ceiling(world):
    row = world.agreement(ZORGGROEP, "Venlo", "wmo.S1a")
    approved = world.submit_and_approve(ZORGGROEP, s1a_row(period=month(10, YEAR)), s1a_row(period=month(11, YEAR)))
    realised = world.value(*approved)
    assert realised > 0
    world.submit(ZORGGROEP, s1a_row(period=month(12, YEAR), gestart=7, lopend=7))  # submitted only: not counted
    source = world.source(gather(world.region, YEAR), row)
    a = source.agreement
    assert (a.kind, a.realisation, a.payments_made, a.ceiling) == ("ceiling", realised, realised, row.amount)
    assert inputs_of(source) == {"kind": "ceiling", "realisation": str(realised), "ceiling": str(row.amount),
                                 "payments_made": str(realised),
                                 "rules": {"outside_band": "full", "band_scope": "municipality"},
                                 "results": {"beeindigd": "0"}}
    settled = engine.settle_one(a, source.rules, YEAR)
    assert settled.settled_value == realised and settled.due == 0

    # Above the ceiling: settled at the ceiling, the rest repaid.
    row.amount = (realised / 2).quantize(Decimal("0.01"))
    world.session.add(row)
    world.session.commit()
    prepared = gather(world.region, YEAR)
    settlement = prepared.settle().settlements[prepared.sources.index(world.source(prepared, row))]
    assert settlement.settled_value == row.amount and settlement.paid == realised
    assert settlement.due == row.amount - realised < 0
    assert any("Het plafond is bereikt" in line for line in settlement.explanation)


def test_only_approved_realisation_counts(world):
    row = world.agreement(ZORGGROEP, "Venlo", "jeugd.S4")
    [approved] = world.submit_and_approve(ZORGGROEP, s4_row(period=month(6, YEAR)))
    [submitted] = world.submit(ZORGGROEP, s4_row(period=month(7, YEAR), gestart=4))
    [rejected] = world.submit(ZORGGROEP, s4_row(period=month(8, YEAR), gestart=2))
    review.reject(rejected, world.user(MANAGER), rejected.lock_version, "De aantallen kloppen niet met de toewijzing.")
    world.session.commit()
    [old] = world.submit(ZORGGROEP, s4_row(period=month(9, YEAR), gestart=5))
    [correction] = world.submit_and_approve(ZORGGROEP, s4_row(period=month(9, YEAR), gestart=1))
    states = {r.id: world.session.get(RealisationReport, r.id).state for r in (approved, submitted, rejected, old)}
    assert states == {approved.id: "approved", submitted.id: "submitted", rejected.id: "rejected",
                      old.id: "superseded"}
    expected = world.value(approved, correction)
    assert world.value(submitted, rejected, old) > 0
    prepared = gather(world.region, YEAR)
    source = world.source(prepared, row)
    assert source.agreement.realisation == expected
    assert source.results["beeindigd"] == 2  # one ended trajectory in each approved period
    assert prepared.realisation_by_municipality == {world.org("Venlo").id: expected}
    # Another provider's or municipality's agreement in the same segment sees none of it.
    for other in (world.agreement(STICHTING, "Venlo", "jeugd.S4"), world.agreement(ZORGGROEP, "Beesel", "jeugd.S4")):
        assert world.source(prepared, other).agreement.realisation == 0


# --- Population and places ---------------------------------------------------------------------------


def test_population_funding_by_the_choice_in_force_on_1_january(world):
    beesel = world.agreement(WERKBEDRIJF, "Beesel", "participatie.S1")
    bergen = world.agreement(WERKBEDRIJF, "Bergen (L)", "participatie.S1")
    world.choose("Beesel", "participatie.S1", date(YEAR, 1, 1), "population")
    world.choose("Bergen (L)", "participatie.S1", date(YEAR, 1, 2), "population")  # not yet on 1 January
    beesel.bandwidth_percentage = None
    world.session.add(beesel)
    world.session.commit()
    prepared = gather(world.region, YEAR)
    a = world.source(prepared, beesel).agreement
    assert (a.kind, a.budget, a.advances_paid, a.threshold) == ("population", beesel.amount, beesel.amount,
                                                               Decimal("0.10"))
    assert set(inputs_of(world.source(prepared, beesel))) >= {"budget", "advances_paid", "threshold"}
    assert world.source(prepared, bergen).agreement.kind == "budget"
    assert world.source(gather(world.region, YEAR - 1), world.agreement(
        WERKBEDRIJF, "Beesel", "participatie.S1", YEAR - 1)).agreement.kind == "budget"
    bergen_next = world.agreement(WERKBEDRIJF, "Bergen (L)", "participatie.S1", YEAR + 1)
    assert world.source(gather(world.region, YEAR + 1), bergen_next).agreement.kind == "population"

    beesel.bandwidth_percentage = Decimal("3.00")  # the agreed bandwidth is the threshold
    world.session.add(beesel)
    world.session.commit()
    a = world.source(gather(world.region, YEAR), beesel).agreement
    assert a.kind == "population" and a.threshold == Decimal("0.03")
    settlement = engine.settle_one(replace(a, realisation=a.budget * Decimal("0.98")), engine.Rules(), YEAR)
    assert settlement.settled_value == a.budget  # 2% under: inside the 3% threshold
    assert settlement.explanation[0].startswith("Populatiebekostiging met drempel")


def places_agreements(world, municipality, segment, year=YEAR):
    return [row for row in world.session.exec(select(BudgetAgreement).where(
        BudgetAgreement.municipality_id == world.org(municipality).id, BudgetAgreement.segment_key == segment,
        BudgetAgreement.year == year, BudgetAgreement.kind == "budget")).all()]


def check_places_shared_by_budget(world, prepared, municipality, segment):
    rows = places_agreements(world, municipality, segment)
    places = PLACES[(municipality, segment)]
    assert len(rows) == 2
    together = sum(r.amount for r in rows)
    shares = []
    for row in rows:
        a = world.source(prepared, row).agreement
        share = (places * row.amount / together).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert (a.kind, a.places, a.advances_paid) == ("places", share, row.amount)
        assert a.price_per_place_year == (row.amount / share).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        # Full occupancy settles exactly the budget: the advances paid.
        full = engine.settle_one(replace(a, occupied_place_days=a.places * engine.days_in_year(YEAR)),
                                 engine.Rules(), YEAR)
        assert full.settled_value == row.amount and full.due == 0
        shares.append(share)
    assert abs(sum(shares) - places) <= Decimal("0.01") * len(rows)


def test_places_shared_over_the_providers_by_budget(world):
    prepared = gather(world.region, YEAR)
    check_places_shared_by_budget(world, prepared, "Venlo", "jeugd.S3")
    check_places_shared_by_budget(world, prepared, "Horst aan de Maas", "jeugd.S4")


def test_places_full_occupancy_of_approved_place_days_settles_exactly_the_budget(world):
    ours, theirs = (world.agreement(ZORGGROEP, "Venlo", "jeugd.S3"), world.agreement(STICHTING, "Venlo", "jeugd.S3"))
    ours.amount, theirs.amount = Decimal("300000.00"), Decimal("200000.00")  # 30 and 20 of Venlo's 50 places
    world.session.add_all([ours, theirs])
    world.session.commit()
    months = [(month(number, YEAR), 30 * calendar.monthrange(YEAR, number)[1]) for number in range(1, 13)]
    days = engine.days_in_year(YEAR)
    world.submit_and_approve(ZORGGROEP, *[s3_places_row(period, place_days) for period, place_days in months])
    world.submit(STICHTING, s3_places_row(month(3, YEAR), 600))  # submitted only
    prepared = gather(world.region, YEAR)
    source = world.source(prepared, ours)
    a = source.agreement
    assert (a.places, a.price_per_place_year, a.occupied_place_days) == (30, Decimal("10000"), 30 * days)
    assert world.source(prepared, theirs).agreement.occupied_place_days == 0
    result = prepared.settle()
    settlement = result.settlements[prepared.sources.index(source)]
    assert settlement.settled_value == ours.amount and settlement.due == 0
    empty = result.settlements[prepared.sources.index(world.source(prepared, theirs))]
    assert empty.settled_value == 0 and empty.due == -theirs.amount  # no place-day used: all repaid
    empty_days = f"{20 * days:,}".replace(",", ".")  # all of Stichting's 20 places, every day of the year
    assert any(f"Lege plekdagen: {empty_days} ×" in line for line in empty.explanation)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.decimals(min_value=1_000, max_value=5_000_000, places=2),
       st.decimals(min_value=1_000, max_value=5_000_000, places=2))
def test_property_places_shares_add_up_and_full_occupancy_settles_the_budget(world, first, second):
    # (A budget so small that its share rounds to 0,00 places gets no place at all; not drawn here.)
    rows = places_agreements(world, "Horst aan de Maas", "jeugd.S4")
    rows[0].amount, rows[1].amount = first, second
    world.session.add_all(rows)
    world.session.flush()
    try:
        check_places_shared_by_budget(world, gather(world.region, YEAR), "Horst aan de Maas", "jeugd.S4")
    finally:
        world.session.rollback()


# --- Rules and overrides --------------------------------------------------------------------------------


class LocalRulesPlugin:
    """Venlo settles outside the band only beyond the band's edge; participatie.S1 applies the
    band to the provider's regional total."""

    @hookimpl
    def portal_local_rules(self):
        return [LocalRule("outside_band", "excess", "noord-limburg", municipality="0983", reason="Venlo"),
                LocalRule("band_scope", "region", "noord-limburg", segment="participatie.S1")]


def test_rules_come_from_the_registry_with_a_municipality_plugin(app, database_url, tmp_path):
    # An app of its own with the plugin; ``app`` is asked for so that its teardown empties the tables.
    own = make_app(database_url, EXTRA_PLUGINS=[LocalRulesPlugin()])
    own.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    try:
        with own.app_context():
            from portal.demo import load_demo

            load_demo(DEMO_PASSWORD, realisation=False)
            world = World()
            prepared = gather(world.region, YEAR)
            venlo = world.org("Venlo").id
            for source in prepared.sources:
                expected = ("excess" if source.municipality_id == venlo else "full",
                            "region" if source.agreement.segment == "participatie.S1" else "municipality")
                assert (source.rules.outside_band, source.rules.band_scope) == expected, source.agreement
                assert inputs_of(source)["rules"] == dict(zip(("outside_band", "band_scope"), expected))
            # The rule takes effect: Venlo's S4 budget with little realisation settles beyond the edge only.
            world.submit_and_approve(ZORGGROEP, s4_row())
            prepared = gather(world.region, YEAR)
            row = world.agreement(ZORGGROEP, "Venlo", "jeugd.S4")
            source = world.source(prepared, row)
            settlement = prepared.settle().settlements[prepared.sources.index(source)]
            a = source.agreement
            band_edge = to_cents(a.realisation + a.bandwidth * a.budget)
            assert any("alleen het deel voorbij de rand" in line and engine.euro(band_edge) in line
                       for line in settlement.explanation)
            regional = [s for s, source in zip(prepared.settle().settlements, prepared.sources)
                        if source.agreement.segment == "participatie.S1"]
            assert regional and all(s.explanation[0].startswith("Bandbreedte op regioniveau") for s in regional)

            # A what-if overrides the rules and the bandwidth of budgets for the whole year.
            what_if = gather(world.region, YEAR, Overrides("full", "municipality", Decimal("0.2")))
            assert not Overrides("full").empty and Overrides().empty
            for plain, changed in zip(prepared.sources, what_if.sources):
                assert (changed.rules.outside_band, changed.rules.band_scope) == ("full", "municipality")
                if plain.agreement.kind in ("budget", "population"):
                    assert changed.agreement.bandwidth == changed.agreement.threshold == Decimal("0.2")
                else:
                    assert changed.agreement == plain.agreement
    finally:
        own.extensions["portal.engine"].dispose()


# --- Result figures and the plugins' rules ---------------------------------------------------------------


def test_result_figures_are_summed_from_approved_lines_and_drive_the_bonus_malus(world):
    from portal.settlement import runs

    row = world.add_agreement(STICHTING, "Venlo", "jeugd.S1", "100000.00")
    approved = world.submit_and_approve(STICHTING, s1_row(month(10, YEAR), 4, 3), s1_row(month(11, YEAR), 4, 4))
    world.submit(STICHTING, s1_row(month(12, YEAR), 5, 0))  # submitted only: would turn the bonus into a malus
    prepared = gather(world.region, YEAR)
    source = world.source(prepared, row)
    assert source.results == {"beeindigd": 8, "resultaat_behaald": 7}
    assert inputs_of(source)["results"] == {"beeindigd": "8", "resultaat_behaald": "7"}
    realised = world.value(*approved)
    assert source.agreement.realisation == realised and 0 < realised < row.amount
    settlement = prepared.settle().settlements[prepared.sources.index(source)]
    bonus = to_cents(realised * Decimal("0.02"))  # 7 of 8 = 87,5%: at least 75%, a bonus of 2%
    assert settlement.settled_value == realised + bonus
    assert any(line.startswith("Bonus–malus: 7 van 8 beëindigde trajecten") and "87,5%" in line
               and "Bonus 2%" in line for line in settlement.explanation)

    run = runs.run_settlement(world.region, YEAR, world.user(MANAGER))
    world.session.commit()
    line = next(l for l in runs.lines_of(run) if l.budget_agreement_id == row.id)
    assert line.settled_value == realised + bonus
    assert any(text.startswith("Bonus–malus: 7 van 8") for text in line.explanation)
    assert line.inputs["results"] == {"beeindigd": "8", "resultaat_behaald": "7"}
    # The shared saving of Jeugd S3/S4 budgets is in the run too.
    s4 = next(l for l in runs.lines_of(run) if l.budget_agreement_id ==
              world.agreement(ZORGGROEP, "Venlo", "jeugd.S4").id)
    assert any(text.startswith("Gedeelde besparing") for text in s4.explanation)


# --- Both databases ---------------------------------------------------------------------------------


def python_totals(session, region_id: int, year: int) -> dict:
    """The year's approved realisation summed from the ORM's rows, the slow and obvious way."""
    found: dict = {}
    rows = session.exec(select(RealisationReport, RealisationLine).join(
        RealisationLine, RealisationLine.report_id == RealisationReport.id).where(
        RealisationReport.region_id == region_id, RealisationReport.year == year,
        RealisationReport.state == "approved")).all()
    for report, line in rows:
        totals = found.setdefault((report.organisation_id, report.municipality_id, report.segment_key), Totals())
        totals.value += Decimal(line.value)
        totals.place_days += line.place_days or 0
        totals.ended += line.ended or 0
        for name, value in (line.extra or {}).items():
            if not isinstance(value, bool) and isinstance(value, (int, float, str, Decimal)):
                totals.extra[name] = totals.extra.get(name, Decimal(0)) + Decimal(str(value))
    return found


@pytest.mark.date_sensitive
def test_totals_are_the_same_on_either_path_and_database(app, demo_with_realisation, monkeypatch):
    # The demo's realisation of last year: it has ended, so it is there (and mostly approved) on any date.
    year = this_year() - 1
    with app.app_context():
        session = db.session()
        region = session.exec(select(Region).where(Region.code == "noord-limburg")).one()
        expected = python_totals(session, region.id, year)
        assert len(expected) >= 10 and any(t.place_days for t in expected.values())
        assert any(t.extra for t in expected.values()) and any(t.ended for t in expected.values())
        assert realisation_totals(region.id, year) == expected
        prepared = gather(region, year)
        by_municipality: dict = {}
        for (_provider, municipality, _segment), totals in expected.items():
            by_municipality[municipality] = by_municipality.get(municipality, 0) + totals.value
        assert prepared.realisation_by_municipality == by_municipality
        assert sum((s.agreement.realisation for s in prepared.sources), Decimal(0)) > 0
        dialect = session.get_bind().dialect
        if dialect.name == "postgresql":  # the Python path (SQLite's) on the same PostgreSQL rows
            monkeypatch.setattr(dialect, "name", "sqlite")
            assert realisation_totals(region.id, year) == expected


def test_a_municipality_without_any_realisation_keeps_nothing_of_its_budget(app, demo_with_realisation):
    """The demo gives Venray no realisation: its Jeugd S3 budget agreement of last year settles at
    € 0 and the advances come back in full. Shared savings used to leave half the budget (€ 72.638)
    with the provider for nothing delivered (docs/settlement.md)."""
    year = this_year() - 1
    with app.app_context():
        session = db.session()
        region = session.exec(select(Region).where(Region.code == "noord-limburg")).one()
        venray = session.exec(select(Organisation).where(Organisation.name == "Venray")).one()
        prepared = gather(region, year)
        settlements = {s.agreement.id: s for s in prepared.settle().settlements}
        found = [settlements[source.agreement.id] for source in prepared.sources
                 if source.municipality_id == venray.id and source.agreement.segment == "jeugd.S3"
                 and source.agreement.kind == "budget"]
        assert found
        for settlement in found:
            assert settlement.agreement.realisation == 0 and settlement.agreement.budget > 0
            assert settlement.settled_value == Decimal("0.00")
            assert settlement.due == -settlement.agreement.advances_paid
            assert any("er is niets gerealiseerd" in line for line in settlement.explanation)


def test_values_the_engine_would_refuse_are_named_before_settling(app, demo):
    """gather() lets the engine skip its own check (settle(validated=True)), so it tests the values
    that can be wrong itself: a year whose credits exceed its declarations, or a what-if outside the
    choices, is refused naming the agreement and the field."""
    from portal.models import BudgetAgreement
    from portal.settlement.engine import ScenarioError

    with app.app_context():
        session = db.session()
        region = session.exec(select(Region).where(Region.code == "noord-limburg")).one()
        agreement = session.exec(select(BudgetAgreement).where(
            BudgetAgreement.region_id == region.id, BudgetAgreement.year == YEAR,
            BudgetAgreement.kind == "budget")).first()
        with pytest.raises(ScenarioError) as refused:
            gather(region, YEAR, Overrides(outside_band="half"))
        assert refused.value.field == "outside_band"
        with pytest.raises(ScenarioError) as refused:
            gather(region, YEAR, Overrides(bandwidth=Decimal("1.5")))
        assert refused.value.field == "bandwidth" and refused.value.agreement_id.isdigit()
        session.add(RealisationReport(
            region_id=region.id, organisation_id=agreement.organisation_id, municipality_id=agreement.municipality_id,
            segment_key=agreement.segment_key, year=YEAR, period_kind="month", period=1, state="approved",
            total_value=Decimal("-125.00")))  # a credit with nothing to set it against
        session.commit()
        with pytest.raises(ScenarioError) as refused:
            gather(region, YEAR)
        assert (refused.value.agreement_id, refused.value.field) == (str(agreement.id), "realisation")
