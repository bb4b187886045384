"""Demo realisation: submitted through the pipeline for the providers with budget agreements, the
whole of last year and this year up to last month; everything but the last two months approved,
last month submitted, one report of the month before rejected; values follow from the prices;
local rules and checks of the region are respected; loading twice adds nothing. The demo follows
the clock, so the main tests run in the date matrix."""
from __future__ import annotations

import pytest
from sqlmodel import func, select

from portal import db
from portal.catalogue import service as catalogue
from portal.demo import load_demo
from portal.hookspecs import hookimpl
from portal.models import AuditEvent, Organisation, StandardTrajectory, User
from portal.models.agreements import BudgetAgreement
from portal.models.realisation import RealisationLine, RealisationReport, RealisationUpload
from portal.realisation.demo import MUNICIPALITIES
from portal.realisation.rules import Period
from portal.registry import LocalRule
from tests.conftest import DEMO_PASSWORD, _empty_tables, make_app
from tests.dates import today


def reported_months() -> dict[int, int]:
    """Year → the last month with realisation: last year in full, this year up to last month."""
    day = today()
    return {day.year - 1: 12} | ({day.year: day.month - 1} if day.month > 1 else {})


def age_in_months(year: int, month: int) -> int:
    """How many months before last month ``month`` of ``year`` lies (0: last month itself)."""
    day = today()
    return (day.year * 12 + day.month - 1) - (year * 12 + month)


def _org(name):
    return db.session().exec(select(Organisation).where(Organisation.name == name)).one()


def _reports(**where):
    statement = select(RealisationReport)
    for name, value in where.items():
        statement = statement.where(getattr(RealisationReport, name) == value)
    return db.session().exec(statement).all()


def _counts():
    session = db.session()
    return tuple(session.exec(select(func.count()).select_from(model)).one()
                 for model in (RealisationReport, RealisationLine, RealisationUpload))


@pytest.mark.date_sensitive
def test_demo_realisation_for_zorggroep_maasland(app, demo_with_realisation):
    months = reported_months()
    with app.app_context():
        session = db.session()
        zorggroep = _org("Zorggroep Maasland")
        reports = _reports(organisation_id=zorggroep.id)
        chosen = [_org(name).id for name in MUNICIPALITIES]
        for year in months:
            agreements = session.exec(select(BudgetAgreement).where(
                BudgetAgreement.organisation_id == zorggroep.id, BudgetAgreement.year == year,
                BudgetAgreement.municipality_id.in_(chosen))).all()
            assert len(agreements) == 12  # jeugd S3, S4 and wmo S1a, S1b in three municipalities
            of_year = [r for r in reports if r.year == year]
            assert {(r.municipality_id, r.segment_key) for r in of_year} == {
                (a.municipality_id, a.segment_key) for a in agreements}
            assert {r.period for r in of_year} == set(range(1, months[year] + 1))
        assert {r.segment_key for r in reports} == {"jeugd.S3", "jeugd.S4", "wmo.S1a", "wmo.S1b"}
        assert {(r.year, r.period_kind) for r in reports} == {(year, "month") for year in months}
        manager = session.exec(select(User).where(User.email == "contractmanager@mgr-noord-limburg.example")).one()
        approved = [r for r in reports if r.state == "approved"]
        assert approved and approved == [r for r in reports if age_in_months(r.year, r.period) >= 2]
        assert all(r.reviewed_by == manager.id and r.reviewed_at is not None for r in approved)
        assert all(r.reviewed_at.date() < today() and r.submitted_at.date() <= today() for r in approved)
        assert {r.state for r in reports if age_in_months(r.year, r.period) == 1} <= {"submitted", "rejected"}
        assert {r.state for r in reports if age_in_months(r.year, r.period) == 0} == {"submitted"}
        # Every approval is audited, by the contract manager.
        audited = session.exec(select(AuditEvent).where(AuditEvent.action == "realisation.approved",
                                                        AuditEvent.organisation_id == zorggroep.id)).all()
        assert sorted(int(e.object_id) for e in audited) == sorted(r.id for r in approved)
        assert {e.actor_user_id for e in audited} == {manager.id}

        # Values follow from the prices: a report's total is the sum of its lines, and a line in a
        # segment paid per trajectory is trajectories started × the catalogue price of its year.
        beesel = _org("Beesel")
        last_year = today().year - 1
        report = _reports(organisation_id=zorggroep.id, municipality_id=beesel.id, segment_key="jeugd.S4",
                          year=last_year, period=3)[0]
        lines = session.exec(select(RealisationLine).where(RealisationLine.report_id == report.id)).all()
        assert report.total_value == sum(line.value for line in lines) > 0
        for line in lines:
            trajectory = session.exec(select(StandardTrajectory).where(
                StandardTrajectory.code == line.trajectory_code, StandardTrajectory.year == last_year)).one()
            price = catalogue.trajectory_price(trajectory, zorggroep.id).total
            assert line.value == line.started * price
            assert line.started <= line.running and line.ended <= line.running
        # Venlo buys places in jeugd.S3: place-days, valued per place-day.
        venlo = _org("Venlo")
        venlo_s3 = _reports(organisation_id=zorggroep.id, municipality_id=venlo.id, segment_key="jeugd.S3")
        venlo_lines = session.exec(select(RealisationLine).where(
            RealisationLine.report_id.in_([r.id for r in venlo_s3]))).all()
        assert venlo_lines and all(line.place_days and line.value == line.place_days * line.unit_price
                                   for line in venlo_lines)


@pytest.mark.date_sensitive
def test_one_report_is_rejected_with_a_reason(app, demo_with_realisation):
    with app.app_context():
        rejected = _reports(state="rejected")
        assert len(rejected) == 1
        day = today()
        before = (day.month - 4) % 12 + 1  # the month before the rejected one (three before this month)
        assert rejected[0].rejection_reason.startswith("De aantallen lopende trajecten en cliënten sluiten niet aan "
                                                       f"op die van {Period(2000, 'month', before).label[:-5]} en")
        assert age_in_months(rejected[0].year, rejected[0].period) == 1  # the month before last month
        assert rejected[0].total_value > 0 and rejected[0].reviewed_at is not None
        assert db.session().exec(select(AuditEvent).where(AuditEvent.action == "realisation.rejected",
                                                          AuditEvent.object_id == str(rejected[0].id))).one()


def test_loading_twice_adds_nothing(app, demo_with_realisation):
    with app.app_context():
        before = _counts()
        assert before[0] == 21 * sum(reported_months().values())  # 21 agreements a year × their months
        audits = db.session().exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("realisation.%"))).one()
        load_demo(DEMO_PASSWORD)
        assert _counts() == before
        assert db.session().exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("realisation.%"))).one() == audits


class QuarterlyVenlo:
    """A region plugin: Venlo wants realisation per quarter, and refuses lines of more than 30
    clients in Beesel."""

    @hookimpl
    def portal_local_rules(self):
        return [LocalRule("reporting_period", "quarter", region="noord-limburg", municipality="0983")]

    @hookimpl
    def portal_realisation_checks(self):
        return [beesel_at_most_30]


def beesel_at_most_30(line, _context):
    if line.municipality.code == "0889" and line.clients > 30:
        return [("clienten", "Beesel: hoogstens 30 cliënten per regel.")]
    return []


@pytest.mark.clock_on(11, 16)  # last month is October: this year's quarters 1–3 have ended
def test_demo_follows_the_reporting_period_and_the_region_checks(database_url):
    app = make_app(database_url, EXTRA_PLUGINS=[QuarterlyVenlo()])
    year = today().year
    try:
        with app.app_context():
            load_demo(DEMO_PASSWORD)
            venlo, beesel = _org("Venlo"), _org("Beesel")
            quarters = _reports(municipality_id=venlo.id)
            assert quarters and {(r.year, r.period_kind, r.period) for r in quarters} == {
                *((year - 1, "quarter", q) for q in (1, 2, 3, 4)), *((year, "quarter", q) for q in (1, 2, 3))}
            assert {r.state for r in quarters if (r.year, r.period) != (year, 3)} == {"approved"}
            assert {r.state for r in quarters if (r.year, r.period) == (year, 3)} <= {"submitted", "rejected"}
            assert {r.period_kind for r in _reports(municipality_id=beesel.id)} == {"month"}
            beesel_lines = db.session().exec(select(RealisationLine).join(
                RealisationReport, RealisationReport.id == RealisationLine.report_id).where(
                RealisationReport.municipality_id == beesel.id)).all()
            assert beesel_lines and max(line.clients for line in beesel_lines) <= 30
            # Lines the check would refuse are left out beforehand: no refused upload on record.
            assert {u.state for u in db.session().exec(select(RealisationUpload))} == {"stored"}
    finally:
        engine = app.extensions["portal.engine"]
        _empty_tables(engine)
        engine.dispose()
