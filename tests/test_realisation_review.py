"""Reviewing realisation (portal.realisation.review and its screens): approve and reject with every
legal and illegal step, the reason rule, bulk approval only where safe, bulk rejection, the lock
after approval (a correction of an approved period is refused row by row), mails, audit, two
managers deciding at once (one wins, on both databases) and scoping.

Reports are made through the import pipeline (``submit_rows``) for this month and for months of the
year before last, periods the demo's own realisation (last year and this year up to last month) does
not touch; both lie within the demo's framework agreements."""
from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest
from flask import g
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.models import AuditEvent, MailMessage, Membership, MunicipalChoice, Organisation, Region, User
from portal.models.realisation import RealisationReport
from portal.realisation import review
from portal.realisation.importing import submit_rows
from portal.realisation.review import ReviewRefused, StaleReport
from portal.validators import RuleViolation
from tests.conftest import csrf_token
from tests.dates import month, this_year, today
from tests.test_realisation_screens import month_label

PROVIDER = "beheer@zorggroep-maasland.example"
PROVIDER_USER = "medewerker@zorggroep-maasland.example"
MANAGER = "contractmanager@mgr-noord-limburg.example"
MANAGER2 = "contractmanager2@mgr-noord-limburg.example"
AUDITOR = "auditor@accountant-noord-limburg.example"
MUNICIPALITY = "medewerker@venlo.example"
REASON = "De aantallen cliënten kloppen niet met onze toewijzingen."



def this_month() -> str:
    """The month that holds today: begun, and after the demo's own realisation."""
    return month(today().month, this_year())


def old_year() -> int:
    """The year before last: no demo realisation in it, but within the framework agreements."""
    return this_year() - 2


def old_month(number: int) -> str:
    return month(number, old_year())


def venlo_s4(period: str | None = None, **changes) -> list[dict]:
    period = period or this_month()
    return [{"gemeente": "0983", "segment": "jeugd.S4", "periode": period, "traject": "S4-BEG-6", "gestart": 3,
             "lopend": 5, "beeindigd": 1, "clienten": 5, **changes},
            {"gemeente": "Venlo", "segment": "jeugd.S4", "periode": period, "traject": "S4-BEH-4", "gestart": 1,
             "lopend": 2}]


def beesel_s1a() -> list[dict]:
    return [{"gemeente": "Beesel", "segment": "wmo.S1a", "periode": this_month(), "traject": "S1A-BEG-9",
             "gestart": 2, "lopend": 2}]


def beesel_s4_old() -> list[dict]:
    return [{"gemeente": "0889", "segment": "jeugd.S4", "periode": old_month(11), "traject": "S4-BEG-6",
             "gestart": 3, "lopend": 5}]


def venlo_s3_overfull(period: str | None = None, place_days: int = 90) -> list[dict]:
    """With 2 places bought: more than 2 × 31 place-days in any month, a warning."""
    return [{"gemeente": "0983", "segment": "jeugd.S3", "periode": period or this_month(), "traject": "S3-DAGB-4",
             "plekdagen": place_days}]


class World:
    """Demo accounts and the provider, inside one app context."""

    def __init__(self):
        self.session = db.session()
        self.users = {u.email: u for u in self.session.exec(select(User)).all()}
        self.zorggroep = self.session.exec(select(Organisation).where(Organisation.name == "Zorggroep Maasland")).one()

    def user(self, email) -> User:
        return self.users[email]

    def submit(self, *rows) -> list[RealisationReport]:
        upload, result = submit_rows(self.zorggroep, self.user(PROVIDER), list(rows), "api")
        assert upload.state == "stored", [e.message for e in result.errors] or upload.message
        return list(self.session.exec(select(RealisationReport).where(RealisationReport.upload_id == upload.id)
                                      .order_by(RealisationReport.id)).all())

    def reload(self, report) -> RealisationReport:
        self.session.expire_all()
        return self.session.get(RealisationReport, report.id)

    def count(self, model, *where) -> int:
        self.session.rollback()
        return self.session.exec(select(func.count()).select_from(model).where(*where)).one()

    def events(self, action) -> list[AuditEvent]:
        return list(self.session.exec(select(AuditEvent).where(AuditEvent.action == action)
                                      .order_by(AuditEvent.id)).all())

    def mails(self) -> list[MailMessage]:
        return list(self.session.exec(select(MailMessage).order_by(MailMessage.id)).all())

    def warn_on_places(self) -> None:
        """Venlo buys 2 places in Jeugd S3: more place-days than that gives a warning."""
        choice = self.session.exec(select(MunicipalChoice).join(Organisation, Organisation.id ==
                                                                MunicipalChoice.municipality_id).where(
            Organisation.name == "Venlo", MunicipalChoice.segment_key == "jeugd.S3")).one()
        choice.details = {**dict(choice.details or {}), "volume": 2}
        self.session.add(choice)
        self.session.commit()


@pytest.fixture
def world(app, demo_with_realisation, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with app.app_context():
        yield World()


def snapshot(world, report) -> tuple:
    fresh = world.reload(report)
    return (fresh.state, fresh.lock_version, fresh.rejection_reason, fresh.reviewed_by,
            world.count(AuditEvent, AuditEvent.object_type == "realisation_report",
                        AuditEvent.object_id == str(report.id), AuditEvent.action != "realisation.submitted"),
            world.count(MailMessage))


# --- Approve and reject ------------------------------------------------------------------------


def check_approve_locks_the_report_audits_and_mails_the_provider(world):
    [report] = world.submit(*venlo_s4())
    lock, manager = report.lock_version, world.user(MANAGER)
    mails_before = len(world.mails())
    review.approve(report.id, manager, lock)
    world.session.commit()

    report = world.reload(report)
    assert report.state == "approved" and report.lock_version == lock + 1
    assert report.reviewed_by == manager.id and report.reviewed_at is not None
    [event] = [e for e in world.events("realisation.approved") if e.object_id == str(report.id)]
    assert event.actor_user_id == manager.id and event.organisation_id == world.zorggroep.id
    assert event.details["before"]["state"] == "submitted" and event.details["after"]["state"] == "approved"
    assert event.details["after"]["total_value"] == str(report.total_value) == event.details["before"]["total_value"]
    assert event.details["after"]["reason"] is None
    mails = world.mails()[mails_before:]
    assert {m.recipient for m in mails} == {PROVIDER, PROVIDER_USER}
    assert all("goedgekeurd" in m.subject and f"Venlo, Jeugd S4, {month_label(this_month())}" in m.subject for m in mails)

    # Locked: no second decision, and no correction of the period.
    before = snapshot(world, report)
    for step in (lambda: review.approve(report, manager, report.lock_version),
                 lambda: review.reject(report, manager, report.lock_version, REASON)):
        with pytest.raises(ReviewRefused, match="al goedgekeurd en staat vast"):
            step()
        world.session.rollback()
    upload, result = submit_rows(world.zorggroep, world.user(PROVIDER), [dict(venlo_s4()[0], gestart=4)], "api")
    assert upload.state == "refused"
    assert [(e.row, e.column) for e in result.errors] == [(1, "periode")]
    assert "is al goedgekeurd en staat vast" in result.errors[0].message
    assert snapshot(world, report) == before
    assert world.count(RealisationReport, RealisationReport.upload_id == upload.id) == 0


def check_reject_needs_a_reason_of_ten_characters_and_mails_it(world):
    [report] = world.submit(*venlo_s4(old_month(10)))
    manager = world.user(MANAGER)
    before = snapshot(world, report)
    for reason in ("", "   ", "te kort", "123456789"):
        with pytest.raises(RuleViolation) as refused:
            review.reject(report, manager, report.lock_version, reason)
        assert refused.value.field == "reason" and "minstens 10 tekens" in refused.value.message
        world.session.rollback()
    assert snapshot(world, report) == before

    mails_before = len(world.mails())
    review.reject(report, manager, report.lock_version, f"  {REASON}  ")
    world.session.commit()
    report = world.reload(report)
    assert report.state == "rejected" and report.rejection_reason == REASON and report.reviewed_by == manager.id
    [event] = [e for e in world.events("realisation.rejected") if e.object_id == str(report.id)]
    assert event.details["after"] == {**event.details["before"], "state": "rejected", "reason": REASON,
                                      "lock_version": event.details["before"]["lock_version"] + 1}
    mails = world.mails()[mails_before:]
    assert {m.recipient for m in mails} == {PROVIDER, PROVIDER_USER}
    assert all("afgewezen" in m.subject and f"Reden: {REASON}" in m.body for m in mails)

    # A rejected version is not decided again; the provider's correction is a new version.
    with pytest.raises(ReviewRefused, match="al afgewezen"):
        review.approve(report, manager, report.lock_version)
    world.session.rollback()
    [correction] = world.submit(*venlo_s4(old_month(10), clienten=4))
    assert correction.version == 2 and correction.state == "submitted"
    old = world.reload(report)
    assert old.state == "superseded"
    with pytest.raises(ReviewRefused, match="vervangen door een correctie"):
        review.approve(old, manager, old.lock_version)
    world.session.rollback()
    review.approve(correction, manager, correction.lock_version)
    world.session.commit()
    assert world.reload(correction).state == "approved"


def check_only_contract_managers_of_the_region_decide(world):
    [report] = world.submit(*venlo_s4(old_month(9)))
    other_region = Region(code="elders", name="Elders")
    world.session.add(other_region)
    world.session.flush()
    office = Organisation(region_id=other_region.id, name="Inkoop Elders", kind="purchasing_office")
    stranger = User(email="cm@elders.example", name="Elders")
    world.session.add_all([office, stranger])
    world.session.flush()
    world.session.add(Membership(user_id=stranger.id, organisation_id=office.id, role="contract_manager"))
    world.session.commit()
    before = snapshot(world, report)
    for user in (world.user(PROVIDER), world.user(AUDITOR), world.user(MUNICIPALITY), stranger):
        with pytest.raises(ReviewRefused, match="Alleen een contractmanager van de regio"):
            review.approve(report, user, report.lock_version)
        world.session.rollback()
        with pytest.raises(ReviewRefused):
            review.reject(report, user, report.lock_version, REASON)
        world.session.rollback()
    for user in (world.user(PROVIDER), world.user(AUDITOR)):
        with pytest.raises(ReviewRefused):
            review.bulk_approve([report.id], user)
        world.session.rollback()
    outcome = review.bulk_approve([report.id], stranger)  # a manager, but of another region
    assert outcome.decided == [] and [report_id for report_id, _ in outcome.refused] == [report.id]
    world.session.rollback()
    assert snapshot(world, report) == before


def check_a_decision_on_an_older_view_is_refused_as_changed(world):
    [report] = world.submit(*venlo_s4(old_month(8)))
    manager, seen = world.user(MANAGER), report.lock_version
    # The provider corrects the period while the manager has the page open.
    [correction] = world.submit(*venlo_s4(old_month(8), gestart=2))
    old = world.reload(report)
    assert old.state == "superseded" and old.lock_version == seen + 1
    with pytest.raises(ReviewRefused):
        review.approve(old, manager, seen)
    world.session.rollback()
    for lock in (seen, "x", None):  # the new version, with a lock version it never had
        with pytest.raises(StaleReport, match="intussen gewijzigd"):
            review.approve(correction, manager, lock if lock != seen else correction.lock_version - 1)
        world.session.rollback()
    assert world.reload(correction).state == "submitted"


def test_decisions_every_legal_and_illegal_step(world):
    """One demo load for the four stories (each on a period of its own)."""
    check_approve_locks_the_report_audits_and_mails_the_provider(world)
    check_reject_needs_a_reason_of_ten_characters_and_mails_it(world)
    check_only_contract_managers_of_the_region_decide(world)
    check_a_decision_on_an_older_view_is_refused_as_changed(world)


# --- In bulk -----------------------------------------------------------------------------------


def check_bulk_approve_only_where_safe_skips_warned_and_decided_reports(world):
    by_segment = {r.segment_key: r for r in world.submit(*venlo_s4(), *beesel_s1a(), *venlo_s3_overfull())}
    s4, s1a, s3 = by_segment["jeugd.S4"], by_segment["wmo.S1a"], by_segment["jeugd.S3"]
    assert s3.segment_key == "jeugd.S3" and s3.warnings and not s4.warnings
    approved = world.session.exec(select(RealisationReport).where(RealisationReport.state == "approved")).first()
    mails_before = len(world.mails())

    outcome = review.bulk_approve([s4.id, f"{s1a.id}:{s1a.lock_version}", s3.id,
                                   approved.id], world.user(MANAGER))
    world.session.commit()
    assert sorted(r.id for r in outcome.decided) == sorted([s4.id, s1a.id])
    skipped = {report.id: message for report, message in outcome.skipped}
    assert skipped[s3.id].endswith("beoordeel deze afzonderlijk.")
    assert "al goedgekeurd" in skipped[approved.id]
    assert [world.reload(r).state for r in (s4, s1a, s3)] == ["approved", "approved", "submitted"]
    assert {e.object_id for e in world.events("realisation.approved")} >= {str(s4.id), str(s1a.id)}
    assert str(s3.id) not in {e.object_id for e in world.events("realisation.approved")}
    mails = world.mails()[mails_before:]  # one mail per provider user, naming both reports
    assert sorted(m.recipient for m in mails) == [PROVIDER, PROVIDER_USER]
    assert all(m.subject == "2 realisatierapportages goedgekeurd" and "Beesel, Wmo S1a" in m.body
               and "Venlo, Jeugd S4" in m.body for m in mails)

    # The warned report is approved on its own.
    review.approve(s3, world.user(MANAGER), world.reload(s3).lock_version)
    world.session.commit()
    assert world.reload(s3).state == "approved"


def check_bulk_reject_with_one_reason_leaves_changed_reports_alone(world):
    overfull = venlo_s3_overfull(old_month(7), place_days=80)
    reports = world.submit(*venlo_s4(old_month(7)), *overfull, *beesel_s4_old())
    manager = world.user(MANAGER)
    before = [snapshot(world, r) for r in reports]
    with pytest.raises(RuleViolation, match="minstens 10 tekens"):
        review.bulk_reject([r.id for r in reports], manager, "nee")
    world.session.rollback()
    assert [snapshot(world, r) for r in reports] == before

    stale = reports[-1]
    choices = [(r.id, r.lock_version) for r in reports[:-1]] + [(stale.id, stale.lock_version - 1)]
    outcome = review.bulk_reject(choices, manager, REASON)
    world.session.commit()
    assert sorted(r.id for r in outcome.decided) == sorted(r.id for r in reports[:-1])  # warnings do not matter
    assert [(r.id, m) for r, m in outcome.skipped] == [(stale.id, review.STALE_MESSAGE)]
    assert [world.reload(r).state for r in reports] == ["rejected"] * (len(reports) - 1) + ["submitted"]
    assert all(world.reload(r).rejection_reason == REASON for r in reports[:-1])
    assert len([e for e in world.events("realisation.rejected") if e.details["after"]["reason"] == REASON]) == 2
    assert any(r.warnings for r in reports[:-1])


def test_bulk_decisions(world):
    world.warn_on_places()
    check_bulk_approve_only_where_safe_skips_warned_and_decided_reports(world)
    check_bulk_reject_with_one_reason_leaves_changed_reports_alone(world)


# --- Two managers at once ----------------------------------------------------------------------


def race(app, report_id, lock, steps):
    """Run each (email, step) at the same moment, each in a thread with its own app context (its
    own database session); returns what each got: "ok" or the exception."""
    barrier = threading.Barrier(len(steps))
    outcomes = {}

    def run(email, step):
        with app.app_context():
            session = db.session()
            report = session.get(RealisationReport, report_id)
            user = session.exec(select(User).where(User.email == email)).one()
            barrier.wait()
            try:
                step(report, user, lock)
                session.commit()
                outcomes[email] = "ok"
            except Exception as error:  # noqa: BLE001 - the outcome is what we assert on
                session.rollback()
                outcomes[email] = error

    threads = [threading.Thread(target=run, args=step) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_managers_deciding_at_once_one_wins_the_other_is_told_it_changed(app, world):
    for second, period in (("approve", this_month()), ("reject", old_month(11))):
        check_race(app, world, second, period)


def check_race(app, world, second, period):
    [report] = world.submit(*venlo_s4(period))
    lock = report.lock_version
    world.session.close()

    def approve(r, user, lock_version):
        review.approve(r, user, lock_version)

    def reject(r, user, lock_version):
        review.reject(r, user, lock_version, REASON)

    outcomes = race(app, report.id, lock, [(MANAGER, approve), (MANAGER2, approve if second == "approve" else reject)])
    assert sorted("ok" if o == "ok" else type(o).__name__ for o in outcomes.values()) == ["StaleReport", "ok"]
    loser = next(o for o in outcomes.values() if o != "ok")
    assert "intussen gewijzigd" in loser.message
    winner = next(email for email, o in outcomes.items() if o == "ok")
    report = world.reload(report)
    assert report.lock_version == lock + 1 and report.reviewed_by == world.user(winner).id
    decisions = [e for e in world.events("realisation.approved") + world.events("realisation.rejected")
                 if e.object_id == str(report.id)]
    assert len(decisions) == 1


# --- Reading: queue and versions -----------------------------------------------------------------


def signed_in_as(world, email):
    from portal.accounts.sessions import SignedIn

    user = world.user(email)
    membership = world.session.exec(select(Membership).where(Membership.user_id == user.id)).first()
    organisation = world.session.get(Organisation, membership.organisation_id)
    g._login_user = SignedIn("t", None, user, membership, organisation,
                             world.session.get(Region, organisation.region_id))


@pytest.mark.date_sensitive
def test_queue_and_versions(app, world):
    check_queue_oldest_first_filters_totals_and_scoping(app, world)
    check_changes_between_versions_per_trajectory(world)


def check_queue_oldest_first_filters_totals_and_scoping(app, world):
    first = world.submit(*beesel_s4_old())[0]
    by_segment = {r.segment_key: r for r in world.submit(*venlo_s4(), *beesel_s1a())}
    second, third = sorted(by_segment.values(), key=lambda r: (r.submitted_at, r.id))
    with app.test_request_context():
        signed_in_as(world, MANAGER)
        queue = world.session.exec(review.queue_statement({})).all()
        assert all(r.state == "submitted" for r in queue) is False  # default "" shows every state ...
        assert all(r.state != "superseded" for r in queue)  # ... but superseded versions
        submitted = world.session.exec(review.queue_statement({"state": "submitted"})).all()
        assert [r.submitted_at for r in submitted] == sorted(r.submitted_at for r in submitted)
        assert [r.id for r in submitted][-3:] == [first.id, second.id, third.id]
        assert [r.id for r in world.session.exec(review.queue_statement({"year": old_year()})).all()] == [first.id]
        venlo = world.session.exec(select(Organisation).where(Organisation.name == "Venlo")).one()
        only = {"year": this_year(), "municipality_id": venlo.id, "segment": "jeugd.S4", "state": "submitted",
                "provider_id": world.zorggroep.id}
        found = world.session.exec(review.queue_statement(only)).all()  # the demo's own ones too
        assert by_segment["jeugd.S4"].id in {r.id for r in found} and by_segment["wmo.S1a"] not in found
        assert {(r.year, r.municipality_id, r.segment_key, r.state, r.organisation_id) for r in found} == {
            (this_year(), venlo.id, "jeugd.S4", "submitted", world.zorggroep.id)}
        count, value = review.queue_totals({"year": old_year()})
        assert (count, value) == (1, first.total_value)
        counts = review.state_counts()
        assert set(counts) == set(review.STATE_LABELS) and counts["submitted"] >= 3
    with app.test_request_context():
        signed_in_as(world, "beheer@thuishulp-venray.example")  # another provider sees none of these
        ids = {r.id for r in world.session.exec(review.queue_statement({})).all()}
        assert not ids & {first.id, second.id, third.id}


def check_changes_between_versions_per_trajectory(world):
    [first] = world.submit(*venlo_s4(old_month(6)))
    [second] = world.submit(venlo_s4(old_month(6), gestart=4, lopend=6)[0],
                            {"gemeente": "0983", "segment": "jeugd.S4", "periode": old_month(6),
                             "traject": "S4-SGGZ-9", "gestart": 1, "lopend": 1})
    assert [v.id for v in review.versions(second)] == [first.id, second.id]
    assert review.changes(None, first) is None
    change = review.changes(first, second)
    assert change.total_before == first.total_value and change.total_after == second.total_value
    assert change.total_difference == Decimal(second.total_value) - Decimal(first.total_value)
    by_code = {t.code: t for t in change.trajectories}
    assert set(by_code) == {"S4-BEG-6", "S4-BEH-4", "S4-SGGZ-9"}
    assert by_code["S4-BEH-4"].kind == "removed" and by_code["S4-SGGZ-9"].kind == "added"
    changed = {name: (before, after) for name, _label, before, after in by_code["S4-BEG-6"].fields}
    assert changed["started"] == (3, 4) and changed["running"] == (5, 6) and "clients" not in changed
    assert changed["value"][1] > changed["value"][0]


# --- Screens -----------------------------------------------------------------------------------


def _report_ids(app, rows):
    with app.app_context():
        world = World()
        return [(r.id, r.lock_version) for r in world.submit(*rows)]


def test_screens_queue_detail_approve_and_reject(app, demo, signed_in, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    [(report_id, lock)] = _report_ids(app, venlo_s4())
    [(other_id, other_lock)] = _report_ids(app, beesel_s4_old())
    manager = signed_in(MANAGER)
    page = manager.get(f"/realisatie/beoordelen/?jaar={old_year()}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Beesel" in body and f'value="{other_id}:{other_lock}"' in body
    assert "1 rapportage, samen" in body
    partial = manager.get(f"/realisatie/beoordelen/?jaar={old_year()}", headers={"HX-Request": "true"})
    assert "<html" not in partial.get_data(as_text=True) and "Beesel" in partial.get_data(as_text=True)

    detail = manager.get(f"/realisatie/beoordelen/{report_id}").get_data(as_text=True)
    assert "S4-BEG-6" in detail and "S4-BEH-4" in detail and "Realisatie goedkeuren" in detail
    assert detail.count(f'<input type="hidden" name="lock_version" value="{lock}">') == 2  # approve and reject
    assert detail.count('id="csrf_token"') <= 1  # no repeated ids

    # Reject without a reason: the form says why, nothing changes.
    path = f"/realisatie/beoordelen/{report_id}"
    token = csrf_token(manager, path)
    refused = manager.post(f"{path}/afwijzen", data={"csrf_token": token, "lock_version": lock, "reason": "kort"})
    assert refused.status_code == 422 and "minstens 10 tekens" in refused.get_data(as_text=True)
    # A stale page: refused as changed.
    stale = manager.post(f"{path}/goedkeuren", data={"csrf_token": token, "lock_version": lock - 1})
    assert stale.status_code == 409 and "intussen gewijzigd" in stale.get_data(as_text=True)
    done = manager.post(f"{path}/goedkeuren", data={"csrf_token": token, "lock_version": lock})
    assert done.status_code == 303
    after = manager.get(path).get_data(as_text=True)
    assert "goedgekeurd en staat nu vast" in after and "Realisatie goedkeuren" not in after
    again = manager.post(f"{path}/afwijzen", data={"csrf_token": token, "lock_version": lock + 1, "reason": REASON})
    assert again.status_code == 422 and "al goedgekeurd" in again.get_data(as_text=True)

    # Auditors read, without forms, and may not decide.
    auditor = signed_in(AUDITOR)
    other = auditor.get(f"/realisatie/beoordelen/{other_id}").get_data(as_text=True)
    assert "Beesel" in other and "Realisatie goedkeuren" not in other
    assert 'method="post"' not in other.split("<main", 1)[-1]  # the auditor reads only
    assert "Gekozen rapportages" not in auditor.get("/realisatie/beoordelen/").get_data(as_text=True)
    assert auditor.post(f"/realisatie/beoordelen/{other_id}/goedkeuren",
                        data={"csrf_token": csrf_token(auditor, "/realisatie/beoordelen/"),
                              "lock_version": other_lock}).status_code == 403
    # Providers and municipalities do not see the review screens.
    for email in (PROVIDER, MUNICIPALITY):
        assert signed_in(email).get(f"/realisatie/beoordelen/{other_id}").status_code == 403


def test_screens_bulk_and_scoping(app, demo, signed_in, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with app.app_context():
        world = World()
        world.warn_on_places()
        reports = [(r.id, r.lock_version, bool(r.warnings)) for r in world.submit(*venlo_s4(), *venlo_s3_overfull())]
        other_region = Region(code="elders", name="Elders")
        world.session.add(other_region)
        world.session.flush()
        provider = Organisation(region_id=other_region.id, name="Zorg Elders", kind="provider")
        town = Organisation(region_id=other_region.id, name="Ergens", kind="municipality", municipality_code="9999")
        world.session.add_all([provider, town])
        world.session.flush()
        foreign = RealisationReport(region_id=other_region.id, organisation_id=provider.id, municipality_id=town.id,
                                    segment_key="jeugd.S4", year=2026, period_kind="month", period=11,
                                    total_value=Decimal("10.00"))
        world.session.add(foreign)
        world.session.commit()
        foreign_id, foreign_lock = foreign.id, foreign.lock_version
    manager = signed_in(MANAGER)
    assert manager.get(f"/realisatie/beoordelen/{foreign_id}").status_code == 404
    assert f"{foreign_id}:" not in manager.get("/realisatie/beoordelen/?status=alle").get_data(as_text=True)
    token = csrf_token(manager, "/realisatie/beoordelen/")
    selected = [f"{report_id}:{lock}" for report_id, lock, _warned in reports] + [f"{foreign_id}:{foreign_lock}"]
    none_chosen = manager.post("/realisatie/beoordelen/in-een-keer", data={"csrf_token": token, "action": "approve"})
    assert none_chosen.status_code == 422 and "Kies minstens één rapportage" in none_chosen.get_data(as_text=True)
    # filters changed through htmx live in the address bar: back to the queue as last seen
    nothing = manager.post("/realisatie/beoordelen/in-een-keer?status=submitted",
                           data={"csrf_token": token, "action": "reject", "selected": [f"{foreign_id}:{foreign_lock}"],
                                 "reason": "Buiten de regio, dit telt niet."},
                           headers={"Referer": "http://portaal.test/realisatie/beoordelen/?segment=jeugd.S3&status=alle"})
    assert nothing.status_code == 303
    assert nothing.headers["Location"].endswith("/realisatie/beoordelen/?segment=jeugd.S3&status=alle")
    short = manager.post("/realisatie/beoordelen/in-een-keer",
                         data={"csrf_token": token, "action": "reject", "selected": selected, "reason": "nee"})
    assert short.status_code == 422 and "minstens 10 tekens" in short.get_data(as_text=True)
    answer = manager.post("/realisatie/beoordelen/in-een-keer?status=alle",
                          data={"csrf_token": token, "action": "approve", "selected": selected})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/realisatie/beoordelen/?status=alle")
    page = manager.get("/realisatie/beoordelen/").get_data(as_text=True)
    assert "1 rapportage goedgekeurd." in page
    assert re.search(rf"Niet goedgekeurd: Venlo, Jeugd S3, {month_label(this_month())} \(versie 1\) — "
                     r".*beoordeel deze afzonderlijk", page)
    with app.app_context():
        states = {r.id: r.state for r in db.session().exec(select(RealisationReport).where(
            RealisationReport.id.in_([report_id for report_id, _l, _w in reports] + [foreign_id]))).all()}
    assert states == {**{report_id: ("submitted" if warned else "approved") for report_id, _l, warned in reports},
                      foreign_id: "submitted"}
