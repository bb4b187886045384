"""Demo realisation: submitted through the pipeline for the providers with budget agreements,
January–August approved, September–October submitted, one report rejected; values follow from
the prices; local rules and checks of the region are respected; loading twice adds nothing."""
from __future__ import annotations

from sqlmodel import func, select

from portal import catalogue, db
from portal.demo import load_demo
from portal.hookspecs import hookimpl
from portal.models import AuditEvent, Organisation, StandardTrajectory, User
from portal.models.agreements import BudgetAgreement
from portal.models.realisation import RealisationLine, RealisationReport, RealisationUpload
from portal.realisation_demo import MUNICIPALITIES, REJECTION_REASON
from portal.registry import LocalRule
from tests.conftest import DEMO_PASSWORD, _empty_tables, make_app


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


def test_demo_realisation_for_zorggroep_maasland(app, demo_with_realisation):
    with app.app_context():
        session = db.session()
        zorggroep = _org("Zorggroep Maasland")
        reports = _reports(organisation_id=zorggroep.id)
        chosen = [_org(name).id for name in MUNICIPALITIES]
        agreements = session.exec(select(BudgetAgreement).where(BudgetAgreement.organisation_id == zorggroep.id,
                                                                BudgetAgreement.year == 2026,
                                                                BudgetAgreement.municipality_id.in_(chosen))).all()
        assert len(agreements) == 12  # jeugd S3, S4 and wmo S1a, S1b in three municipalities
        assert {(r.municipality_id, r.segment_key) for r in reports} == {
            (a.municipality_id, a.segment_key) for a in agreements}
        assert {r.segment_key for r in reports} == {"jeugd.S3", "jeugd.S4", "wmo.S1a", "wmo.S1b"}
        assert {(r.year, r.period_kind) for r in reports} == {(2026, "month")}
        assert {r.period for r in reports} == set(range(1, 11))
        manager = session.exec(select(User).where(User.email == "contractmanager@mgr-noord-limburg.example")).one()
        approved = [r for r in reports if r.state == "approved"]
        assert approved and {r.period for r in approved} == set(range(1, 9))
        assert all(r.reviewed_by == manager.id and r.reviewed_at is not None for r in approved)
        assert {r.state for r in reports if r.period > 8} <= {"submitted", "rejected"}
        # Every approval is audited, by the contract manager.
        audited = session.exec(select(AuditEvent).where(AuditEvent.action == "realisation.approved",
                                                        AuditEvent.organisation_id == zorggroep.id)).all()
        assert sorted(int(e.object_id) for e in audited) == sorted(r.id for r in approved)
        assert {e.actor_user_id for e in audited} == {manager.id}

        # Values follow from the prices: a report's total is the sum of its lines, and a line in a
        # segment paid per trajectory is trajectories started × the catalogue price.
        beesel = _org("Beesel")
        report = _reports(organisation_id=zorggroep.id, municipality_id=beesel.id, segment_key="jeugd.S4",
                          period=3)[0]
        lines = session.exec(select(RealisationLine).where(RealisationLine.report_id == report.id)).all()
        assert report.total_value == sum(line.value for line in lines) > 0
        for line in lines:
            trajectory = session.exec(select(StandardTrajectory).where(
                StandardTrajectory.code == line.trajectory_code, StandardTrajectory.year == 2026)).one()
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


def test_one_report_is_rejected_with_a_reason(app, demo_with_realisation):
    with app.app_context():
        rejected = _reports(state="rejected")
        assert len(rejected) == 1
        assert rejected[0].rejection_reason == REJECTION_REASON and rejected[0].period == 9
        assert rejected[0].total_value > 0 and rejected[0].reviewed_at is not None
        assert db.session().exec(select(AuditEvent).where(AuditEvent.action == "realisation.rejected",
                                                          AuditEvent.object_id == str(rejected[0].id))).one()


def test_loading_twice_adds_nothing(app, demo_with_realisation):
    with app.app_context():
        before = _counts()
        assert before[0] == 210  # 21 agreements × 10 months
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


def test_demo_follows_the_reporting_period_and_the_region_checks(database_url):
    app = make_app(database_url, EXTRA_PLUGINS=[QuarterlyVenlo()])
    try:
        with app.app_context():
            load_demo(DEMO_PASSWORD)
            venlo, beesel = _org("Venlo"), _org("Beesel")
            quarters = _reports(municipality_id=venlo.id)
            assert quarters and {(r.period_kind, r.period) for r in quarters} == {
                ("quarter", 1), ("quarter", 2), ("quarter", 3)}
            assert {r.state for r in quarters if r.period <= 2} == {"approved"}
            assert {r.state for r in quarters if r.period == 3} <= {"submitted", "rejected"}
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
