"""The services of custom trajectory proposals (portal.proposals.service): every transition, every bad input
of the issue, double submit, four eyes, the custom trajectory approval creates, audit and mail,
the plugin hooks, the review queue and two reviewers racing on one version (on both databases)."""
from __future__ import annotations

import io
import threading
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from flask import g
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.catalogue.service import trajectory_price
from portal.contracts.service import term_of
from portal.hookspecs import hookimpl
from portal.models import (
    AuditEvent,
    CustomTrajectory,
    FrameworkAgreement,
    MailMessage,
    Membership,
    Organisation,
    Proposal,
    ProposalApproval,
    ProposalAttachment,
    ProposalVersion,
    StandardTrajectory,
    User,
)
from portal.proposals import service as proposals
from portal.proposals import states
from portal.proposals.service import StaleProposal
from portal.proposals.states import TransitionRefused
from portal.validators import RuleViolation
from tests.dates import this_year, today

PROVIDER = "beheer@zorggroep-maasland.example"
LOCAL_PROVIDER = "beheer@thuishulp-venray.example"
MANAGER = "contractmanager@mgr-noord-limburg.example"
MANAGER2 = "contractmanager2@mgr-noord-limburg.example"
MODELS = (Proposal, ProposalVersion, ProposalApproval, ProposalAttachment, CustomTrajectory, AuditEvent,
          MailMessage)
SUBSTANTIATION = ("Onze cliënten met een licht verstandelijke beperking hebben meer contactmomenten "
                  "nodig om de doelen te halen; dat blijkt uit onze evaluatie van 2025.")

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def office_file(part: str) -> bytes:
    """A minimal XLSX ("xl") or DOCX ("word") package."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml",
                         f'<?xml version="1.0"?><Types><Override PartName="/{part}/document.xml"/></Types>')
        archive.writestr(f"{part}/document.xml", "<x/>")
    return buffer.getvalue()


def values(**changes):
    result = {"intensity": Decimal("3"), "intensity_period": "week", "duration_months": 8,
              "expected_per_year": 10, "extra": {}, "substantiation": SUBSTANTIATION}
    result.update(changes)
    return result


class World:
    """Demo accounts and trajectories, inside one app context."""

    def __init__(self):
        session = db.session()
        self.session = session
        self.users = {u.email: u for u in session.exec(select(User)).all()}
        self.zorggroep = session.exec(select(Organisation).where(Organisation.name == "Zorggroep Maasland")).one()
        self.thuishulp = session.exec(select(Organisation).where(Organisation.name == "Thuishulp Venray")).one()
        self.s1b = self.trajectory("wmo.S1b", "S1B-BEG-6")
        self.s4 = self.trajectory("jeugd.S4", "S4-BEG-6")

    def trajectory(self, segment_key, code) -> StandardTrajectory:
        return self.session.exec(select(StandardTrajectory).where(
            StandardTrajectory.segment_key == segment_key, StandardTrajectory.code == code)
            .order_by(StandardTrajectory.year.desc())).first()

    def user(self, email) -> User:
        return self.users[email]

    def start(self, key="key-1", trajectory=None, **changes) -> Proposal:
        proposal = proposals.start_proposal(self.zorggroep, self.user(PROVIDER), (trajectory or self.s1b).id,
                                            "Langere begeleiding LVB", values(**changes), key)
        self.session.commit()
        return proposal

    def counts(self) -> dict:
        self.session.rollback()
        return {model.__name__: self.session.exec(select(func.count()).select_from(model)).one() for model in MODELS}

    def reload(self, proposal) -> Proposal:
        self.session.expire_all()
        return self.session.get(Proposal, proposal.id)


@pytest.fixture
def world(app, demo, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with app.app_context():
        yield World()


def in_state(world, state: str) -> Proposal:
    """A proposal brought into ``state`` through the services."""
    proposal = world.start(key=f"key-{state}")
    provider, manager = world.user(PROVIDER), world.user(MANAGER)
    if state == states.DRAFT:
        return proposal
    if state == states.WITHDRAWN:
        proposals.withdraw(proposal, provider, proposal.lock_version)
        world.session.commit()
        return proposal
    proposals.submit(proposal, provider, proposal.lock_version)
    if state == states.IN_NEGOTIATION:
        proposals.counter(proposal, manager, values(intensity=Decimal("2.5")), "Iets minder intensief.",
                          proposal.lock_version)
    elif state == states.APPROVED:
        proposals.approve(proposal, manager, proposal.lock_version)
    elif state == states.REJECTED:
        proposals.reject(proposal, manager, "Niet voldoende onderbouwd.", proposal.lock_version)
    world.session.commit()
    assert proposal.state == state
    return proposal


def act(world, proposal, action, side, lock=None):
    user = world.user(PROVIDER if side == "provider" else MANAGER)
    lock = proposal.lock_version if lock is None else lock
    if action == "edit_draft":
        return proposals.update_draft(proposal, user, values(duration_months=7), lock)
    if action == "revise":
        return proposals.revise(proposal, user, values(duration_months=7), lock)
    if action == "counter":
        return proposals.counter(proposal, user, values(duration_months=7), "Korter graag.", lock)
    if action == "reject":
        return proposals.reject(proposal, user, "Past niet in het beleid.", lock)
    return getattr(proposals, action)(proposal, user, lock)


def snapshot(world, proposal) -> tuple:
    p = world.reload(proposal)
    return (p.state, p.current_version, p.lock_version, p.rejection_reason, tuple(world.counts().items()))


# --- Legal transitions -----------------------------------------------------------------------


def test_start_makes_a_draft_version_1_with_audit_and_no_mail(world):
    before = world.counts()
    proposal = world.start()
    assert (proposal.state, proposal.current_version, proposal.lock_version) == ("draft", 1, 1)
    assert proposal.segment_key == "wmo.S1b"
    agreement = world.session.get(FrameworkAgreement, proposal.framework_agreement_id)
    assert agreement.lot == "regional" and agreement.organisation_id == world.zorggroep.id
    [version] = proposals.versions(proposal)
    assert (version.number, version.side, version.intensity, version.duration_months) == (1, "provider", Decimal("3.00"), 8)
    after = world.counts()
    assert after["Proposal"] == before["Proposal"] + 1 and after["AuditEvent"] == before["AuditEvent"] + 1
    assert after["MailMessage"] == before["MailMessage"]  # a draft is the provider's own
    event = world.session.exec(select(AuditEvent).where(AuditEvent.action == "proposal.started")).one()
    assert event.details["after"]["version"]["intensity"] == "3.00"
    assert event.actor_email == PROVIDER


def test_double_submit_with_the_same_key_creates_one_proposal(world):
    first = world.start(key="same-key")
    second = world.start(key="same-key", duration_months=9)
    assert second.id == first.id
    assert world.counts()["Proposal"] == 1 and world.counts()["ProposalVersion"] == 1


def test_update_draft_changes_version_1_in_place(world):
    proposal = world.start()
    proposals.update_draft(proposal, world.user(PROVIDER), values(duration_months=9), 1)
    world.session.commit()
    proposal = world.reload(proposal)
    assert (proposal.state, proposal.current_version, proposal.lock_version) == ("draft", 1, 2)
    assert [v.duration_months for v in proposals.versions(proposal)] == [9]


def test_submit_sends_the_draft_to_the_region_and_mails_every_manager(world):
    proposal = world.start()
    mails = world.counts()["MailMessage"]
    proposals.submit(proposal, world.user(PROVIDER), 1)
    world.session.commit()
    proposal = world.reload(proposal)
    assert (proposal.state, proposal.lock_version) == ("submitted", 2) and proposal.submitted_at is not None
    recipients = set(world.session.exec(select(MailMessage.recipient).order_by(MailMessage.id).offset(mails)).all())
    assert {MANAGER, MANAGER2} <= recipients and PROVIDER not in recipients


def test_counter_makes_version_2_by_the_region_and_mails_the_provider(world):
    proposal = in_state(world, states.SUBMITTED)
    mails = world.counts()["MailMessage"]
    proposals.counter(proposal, world.user(MANAGER), values(duration_months=6, substantiation=""),
                      "Zes maanden is genoeg.", proposal.lock_version)
    world.session.commit()
    proposal = world.reload(proposal)
    assert (proposal.state, proposal.current_version) == ("in_negotiation", 2)
    first, second = proposals.versions(proposal)
    assert (second.side, second.comment, second.author_id) == ("region", "Zes maanden is genoeg.",
                                                                world.user(MANAGER).id)
    assert second.substantiation == first.substantiation  # the provider's reasoning stays
    changes = proposals.changes(first, second)
    assert changes[0] == ("Doorlooptijd", "8 maanden", "6 maanden")
    assert [label for label, _before, _after in changes] == ["Doorlooptijd", "Prijs per traject"]  # issue 15
    recipients = set(world.session.exec(select(MailMessage.recipient).order_by(MailMessage.id).offset(mails)).all())
    assert PROVIDER in recipients and MANAGER not in recipients


def test_accept_counter_sends_the_same_version_back_for_approval(world):
    proposal = in_state(world, states.IN_NEGOTIATION)
    proposals.accept_counter(proposal, world.user(PROVIDER), proposal.lock_version)
    world.session.commit()
    proposal = world.reload(proposal)
    assert (proposal.state, proposal.current_version) == ("submitted", 2)
    assert proposals.versions(proposal)[-1].accepted_by_provider is True


def test_revise_makes_a_new_provider_version(world):
    proposal = in_state(world, states.IN_NEGOTIATION)
    proposals.revise(proposal, world.user(PROVIDER), values(intensity=Decimal("2.75")), proposal.lock_version)
    world.session.commit()
    proposal = world.reload(proposal)
    assert (proposal.state, proposal.current_version) == ("submitted", 3)
    assert [v.side for v in proposals.versions(proposal)] == ["provider", "region", "provider"]
    changes = proposals.changes(*proposals.versions(proposal)[1:])
    assert changes[0] == ("Intensiteit", "2,5 per week", "2,75 per week")
    assert [label for label, _before, _after in changes] == ["Intensiteit", "Prijs per traject"]  # issue 15


@pytest.mark.date_sensitive
def test_approve_below_threshold_creates_the_custom_trajectory_with_its_dates(world):
    year = this_year()  # the demo's Wmo agreements run up to the end of this year
    proposal = in_state(world, states.SUBMITTED)
    mails = world.counts()["MailMessage"]
    proposals.approve(proposal, world.user(MANAGER), proposal.lock_version, today=date(year, 3, 15))
    world.session.commit()
    proposal = world.reload(proposal)
    assert proposal.state == "approved" and proposal.decided_at is not None
    custom = world.session.exec(select(CustomTrajectory).where(CustomTrajectory.proposal_id == proposal.id)).one()
    agreement = world.session.get(FrameworkAgreement, proposal.framework_agreement_id)
    assert custom.code == f"S1B-BEG-6-M{proposal.id}"
    assert custom.organisation_id == world.zorggroep.id
    assert (custom.intensity, custom.intensity_period, custom.duration_months) == (Decimal("3.00"), "week", 8)
    assert custom.valid_from == date(year, 4, 1)
    assert custom.valid_until == term_of(agreement).end == date(year, 12, 31)
    assert PROVIDER in world.session.exec(select(MailMessage.recipient).order_by(MailMessage.id).offset(mails)).all()
    created = world.session.exec(select(AuditEvent).where(AuditEvent.action == "custom_trajectory.created")).one()
    assert created.details["after"]["valid_from"] == f"{year}-04-01"


@pytest.mark.date_sensitive
def test_custom_trajectory_starts_no_earlier_than_the_agreement(world):
    year = this_year()
    proposal = in_state(world, states.SUBMITTED)
    agreement = world.session.get(FrameworkAgreement, proposal.framework_agreement_id)
    assert proposals.first_of_next_month(date(year, 12, 5)) == date(year + 1, 1, 1)
    with pytest.raises(RuleViolation, match=f"eindigt op 31-12-{year}"):
        proposals.approve(proposal, world.user(MANAGER), proposal.lock_version, today=date(year, 12, 5))
    world.session.rollback()
    assert world.reload(proposal).state == "submitted"
    assert max(proposals.first_of_next_month(date(year - 5, 5, 3)), agreement.start_date) == agreement.start_date


@pytest.mark.date_sensitive
def test_approved_today_it_starts_next_month_unless_the_agreement_ends_first(world):
    """Approved on the clock's today: the custom trajectory starts on the first of next month, or,
    in the agreement's last month, the approval is refused and nothing changes."""
    proposal = in_state(world, states.SUBMITTED)
    agreement = world.session.get(FrameworkAgreement, proposal.framework_agreement_id)
    starts = proposals.first_of_next_month(today())
    end = term_of(agreement).end
    if starts > end:
        before = snapshot(world, proposal)
        with pytest.raises(RuleViolation, match=f"eindigt op {end:%d-%m-%Y}"):
            proposals.approve(proposal, world.user(MANAGER), proposal.lock_version)
        world.session.rollback()
        assert snapshot(world, proposal) == before
        return
    proposals.approve(proposal, world.user(MANAGER), proposal.lock_version)
    world.session.commit()
    custom = world.session.exec(select(CustomTrajectory).where(CustomTrajectory.proposal_id == proposal.id)).one()
    assert (custom.valid_from, custom.valid_until) == (starts, end)


def test_reject_needs_a_reason_and_records_it(world):
    proposal = in_state(world, states.IN_NEGOTIATION)
    before = snapshot(world, proposal)
    with pytest.raises(RuleViolation) as refused:
        proposals.reject(proposal, world.user(MANAGER), "  ", proposal.lock_version)
    assert refused.value.field == "reason" and "reden" in refused.value.message
    world.session.rollback()
    assert snapshot(world, proposal) == before
    proposals.reject(proposal, world.user(MANAGER), "Past niet binnen het budget.", proposal.lock_version)
    world.session.commit()
    proposal = world.reload(proposal)
    assert (proposal.state, proposal.rejection_reason) == ("rejected", "Past niet binnen het budget.")


@pytest.mark.parametrize("state", [states.DRAFT, states.SUBMITTED, states.IN_NEGOTIATION])
def test_withdraw_from_every_open_state(world, state):
    proposal = in_state(world, state)
    mails = world.counts()["MailMessage"]
    proposals.withdraw(proposal, world.user(PROVIDER), proposal.lock_version)
    world.session.commit()
    assert world.reload(proposal).state == "withdrawn"
    sent = world.counts()["MailMessage"] - mails
    assert sent == (0 if state == states.DRAFT else 2)  # both contract managers, not for a draft


# --- Illegal transitions: refused, nothing changed ---------------------------------------------

ALL_STATES = [states.DRAFT, states.SUBMITTED, states.IN_NEGOTIATION, states.APPROVED, states.REJECTED,
              states.WITHDRAWN]
ILLEGAL = {state: [(action, side) for action in states.TRANSITIONS for side in ("provider", "region")
                   if action not in states.allowed_actions(state, side)] for state in ALL_STATES}


@pytest.mark.parametrize("state", ALL_STATES)
@pytest.mark.clock_on(6, 15)  # approves today: a day the Wmo agreement has months left
def test_every_illegal_step_is_refused_and_changes_nothing(world, state):
    """Each (action, side) the state machine does not allow from ``state``: refused, nothing changed."""
    proposal = in_state(world, state)
    before = snapshot(world, proposal)
    assert len(ILLEGAL[state]) >= 8
    for action, side in ILLEGAL[state]:
        proposal = world.reload(proposal)
        with pytest.raises(TransitionRefused) as refused:
            act(world, proposal, action, side)
        assert refused.value.message, (action, side)
        world.session.rollback()
        assert snapshot(world, proposal) == before, (action, side)


def test_an_outsider_can_take_no_step(world):
    proposal = in_state(world, states.SUBMITTED)
    before = snapshot(world, proposal)
    with pytest.raises(TransitionRefused, match="geen rol"):
        proposals.approve(proposal, world.user(LOCAL_PROVIDER), proposal.lock_version)
    with pytest.raises(TransitionRefused, match="geen rol"):
        proposals.withdraw(proposal, world.user("medewerker@venlo.example"), proposal.lock_version)
    world.session.rollback()
    assert snapshot(world, proposal) == before


# --- Bad input: refused with a Dutch message, nothing saved -----------------------------------


@pytest.mark.parametrize("changes,field,message", [
    ({"substantiation": "   "}, "substantiation", "onderbouwing"),
    ({"duration_months": 12}, "duration_months", "tussen 1 en 9 maanden"),
    ({"duration_months": 0}, "duration_months", "tussen 1 en 9 maanden"),
    ({"intensity": Decimal("7")}, "intensity", "tot en met 6"),
    ({"intensity": Decimal("25"), "intensity_period": "month"}, "intensity", "tot en met 24"),
    ({"intensity": Decimal("0")}, "intensity", "boven 0"),
    ({"expected_per_year": 0}, "expected_per_year", "ten minste één"),
    ({"intensity": Decimal("2"), "duration_months": 6}, "duration_months", "wijkt niet af"),
])
def test_bad_values_are_refused_and_nothing_is_saved(world, changes, field, message):
    before = world.counts()
    with pytest.raises(RuleViolation) as refused:
        world.start(**changes)
    assert refused.value.field == field and message in refused.value.message
    assert world.counts() == before


def test_bad_values_in_draft_change_revision_and_counter_are_refused(world):
    draft = in_state(world, states.DRAFT)
    before = snapshot(world, draft)
    with pytest.raises(RuleViolation, match="onderbouwing"):
        proposals.update_draft(draft, world.user(PROVIDER), values(substantiation=""), draft.lock_version)
    world.session.rollback()
    assert snapshot(world, draft) == before
    negotiating = in_state(world, states.IN_NEGOTIATION)
    before = snapshot(world, negotiating)
    with pytest.raises(RuleViolation, match="tussen 1 en 9"):
        proposals.revise(negotiating, world.user(PROVIDER), values(duration_months=10), negotiating.lock_version)
    world.session.rollback()
    assert snapshot(world, negotiating) == before
    submitted = in_state(world, states.SUBMITTED)
    before = snapshot(world, submitted)
    with pytest.raises(RuleViolation) as refused:
        proposals.counter(submitted, world.user(MANAGER), values(), "", submitted.lock_version)
    assert refused.value.field == "comment"
    with pytest.raises(RuleViolation, match="tot en met 6"):
        proposals.counter(submitted, world.user(MANAGER), values(intensity=Decimal(9)), "Meer!", submitted.lock_version)
    world.session.rollback()
    assert snapshot(world, submitted) == before


def test_a_local_lot_provider_is_refused(world):
    before = world.counts()
    with pytest.raises(RuleViolation) as refused:
        proposals.start_proposal(world.thuishulp, world.user(LOCAL_PROVIDER), world.s1b.id, "Maatwerk",
                                 values(), "local-key")
    assert refused.value.field == "standard_trajectory_id"
    assert "Alleen aanbieders in het regionale perceel" in refused.value.message
    assert "lokale perceel" in refused.value.message
    assert world.counts() == before


def test_a_segment_without_a_regional_agreement_and_a_missing_title_are_refused(world):
    before = world.counts()
    s3b = world.trajectory("wmo.S3b", "S3B-LOG-6")
    with pytest.raises(RuleViolation, match="geen lopende raamovereenkomst"):
        world.start(trajectory=s3b)
    with pytest.raises(RuleViolation) as refused:
        proposals.start_proposal(world.zorggroep, world.user(PROVIDER), world.s1b.id, " ", values(), "k-title")
    assert refused.value.field == "title"
    with pytest.raises(RuleViolation) as refused:
        proposals.start_proposal(world.zorggroep, world.user(PROVIDER), 999999, "T", values(), "k-none")
    assert refused.value.field == "standard_trajectory_id"
    assert world.counts() == before


# --- Stale versions ----------------------------------------------------------------------------


@pytest.mark.parametrize("state,action,side", [
    (states.DRAFT, "edit_draft", "provider"), (states.DRAFT, "submit", "provider"),
    (states.SUBMITTED, "counter", "region"), (states.SUBMITTED, "approve", "region"),
    (states.SUBMITTED, "reject", "region"), (states.IN_NEGOTIATION, "accept_counter", "provider"),
    (states.IN_NEGOTIATION, "revise", "provider"), (states.IN_NEGOTIATION, "withdraw", "provider"),
])
def test_a_stale_lock_version_is_refused_and_changes_nothing(world, state, action, side):
    proposal = in_state(world, state)
    before = snapshot(world, proposal)
    proposal = world.reload(proposal)
    with pytest.raises(StaleProposal) as refused:
        act(world, proposal, action, side, lock=proposal.lock_version - 1)
    assert refused.value.field is None
    assert refused.value.message == ("Dit voorstel is intussen gewijzigd door iemand anders. Bekijk de nieuwe "
                                      "versie en probeer het opnieuw.")
    world.session.rollback()
    assert snapshot(world, proposal) == before


def test_the_database_refuses_a_stale_version_even_when_the_object_in_memory_is_old(world):
    proposal = in_state(world, states.SUBMITTED)
    lock = proposal.lock_version
    world.session.execute(Proposal.__table__.update().where(Proposal.__table__.c.id == proposal.id)
                          .values(lock_version=lock + 1))  # someone else acted meanwhile
    world.session.commit()
    with pytest.raises(StaleProposal):
        proposals.reject(proposal, world.user(MANAGER), "Te laat", lock)  # proposal still says ``lock``
    world.session.rollback()
    assert world.reload(proposal).state == "submitted"


# --- Four eyes ---------------------------------------------------------------------------------


def yearly(world, proposal):
    version = proposals.versions(proposal)[-1]
    return proposals.yearly_value(proposals.price(proposal, {
        "intensity": version.intensity, "intensity_period": version.intensity_period,
        "duration_months": version.duration_months, "extra": version.extra}, world.zorggroep.id),
        version.expected_per_year)


@pytest.mark.clock_on(6, 15)  # approves today: a day the Wmo agreement has months left
def test_above_the_threshold_two_different_managers_must_approve(app, world):
    proposal = in_state(world, states.SUBMITTED)
    app.config["FOUR_EYES_THRESHOLD"] = yearly(world, proposal) - Decimal("0.01")
    mails = world.counts()["MailMessage"]
    proposals.approve(proposal, world.user(MANAGER), proposal.lock_version)
    world.session.commit()
    proposal = world.reload(proposal)
    assert proposal.state == "submitted" and world.counts()["CustomTrajectory"] == 0
    assert set(world.session.exec(select(MailMessage.recipient).order_by(MailMessage.id).offset(mails)).all()) == {MANAGER2}
    before = snapshot(world, proposal)
    with pytest.raises(TransitionRefused, match="al goedgekeurd"):
        proposals.approve(proposal, world.user(MANAGER), proposal.lock_version)
    world.session.rollback()
    assert snapshot(world, proposal) == before
    proposals.approve(proposal, world.user(MANAGER2), world.reload(proposal).lock_version)
    world.session.commit()
    assert world.reload(proposal).state == "approved" and world.counts()["CustomTrajectory"] == 1
    approvers = world.session.exec(select(ProposalApproval.user_id)).all()
    assert sorted(approvers) == sorted([world.user(MANAGER).id, world.user(MANAGER2).id])


@pytest.mark.clock_on(6, 15)  # approves today: a day the Wmo agreement has months left
def test_at_the_threshold_one_approval_is_enough(app, world):
    proposal = in_state(world, states.SUBMITTED)
    app.config["FOUR_EYES_THRESHOLD"] = yearly(world, proposal)
    proposals.approve(proposal, world.user(MANAGER2), proposal.lock_version)
    world.session.commit()
    assert world.reload(proposal).state == "approved"


@pytest.mark.clock_on(6, 15)  # approves today: a day the Wmo agreement has months left
def test_the_counter_author_cannot_approve_the_accepted_counter_another_manager_completes_it(app, world):
    app.config["FOUR_EYES_THRESHOLD"] = Decimal("1.00")  # everything needs four eyes
    proposal = in_state(world, states.IN_NEGOTIATION)  # countered by MANAGER
    proposals.accept_counter(proposal, world.user(PROVIDER), proposal.lock_version)
    world.session.commit()
    before = snapshot(world, proposal)
    with pytest.raises(TransitionRefused, match="eigen tegenvoorstel"):
        proposals.approve(proposal, world.user(MANAGER), world.reload(proposal).lock_version)
    world.session.rollback()
    assert snapshot(world, proposal) == before
    proposals.approve(proposal, world.user(MANAGER2), world.reload(proposal).lock_version)
    world.session.commit()
    proposal = world.reload(proposal)
    assert proposal.state == "approved"
    custom = world.session.exec(select(CustomTrajectory)).one()
    assert custom.intensity == Decimal("2.50")  # the counter's values


# --- A whole negotiation: audit and mail at every step ------------------------------------------


def test_every_step_is_audited_and_every_state_change_mails_the_other_side(app, world):
    app.config["FOUR_EYES_THRESHOLD"] = Decimal("1.00")
    provider, manager, manager2 = world.user(PROVIDER), world.user(MANAGER), world.user(MANAGER2)
    proposal = world.start()
    steps = [
        (lambda: proposals.submit(proposal, provider, proposal.lock_version), "proposal.submitted", "manager"),
        (lambda: proposals.counter(proposal, manager, values(duration_months=6), "Korter.", proposal.lock_version),
         "proposal.countered", "provider"),
        (lambda: proposals.revise(proposal, provider, values(duration_months=7), proposal.lock_version),
         "proposal.revised", "manager"),
        (lambda: proposals.counter(proposal, manager, values(duration_months=6), "Toch 6.", proposal.lock_version),
         "proposal.countered", "provider"),
        (lambda: proposals.accept_counter(proposal, provider, proposal.lock_version), "proposal.counter_accepted",
         "manager"),
        (lambda: proposals.approve(proposal, manager2, proposal.lock_version, today=date(this_year(), 6, 1)),
         "proposal.approved", "provider"),
    ]
    for step, action, recipient in steps:
        audits, mails = world.counts()["AuditEvent"], world.counts()["MailMessage"]
        proposal = world.reload(proposal)
        step()
        world.session.commit()
        new_events = world.session.exec(select(AuditEvent).order_by(AuditEvent.id).offset(audits)).all()
        assert action in [e.action for e in new_events]
        event = next(e for e in new_events if e.action == action)
        assert event.object_type == "proposal" and event.object_id == str(proposal.id)
        assert event.organisation_id == world.zorggroep.id and "before" in event.details
        assert event.details["before"]["state"] != event.details["after"]["state"] or action == "proposal.revised"
        recipients = world.session.exec(select(MailMessage.recipient).order_by(MailMessage.id).offset(mails)).all()
        assert recipients, f"no mail after {action}"
        if recipient == "provider":
            assert set(recipients) == {PROVIDER, "medewerker@zorggroep-maasland.example"}
        else:
            assert MANAGER2 in recipients and PROVIDER not in recipients
    proposal = world.reload(proposal)
    assert (proposal.state, proposal.current_version) == ("approved", 4)
    actions = world.session.exec(select(AuditEvent.action).where(AuditEvent.object_id == str(proposal.id),
                                                                 AuditEvent.object_type == "proposal")).all()
    assert actions == ["proposal.started", "proposal.submitted", "proposal.countered", "proposal.revised",
                       "proposal.countered", "proposal.counter_accepted", "proposal.approved"]


# --- Attachments -------------------------------------------------------------------------------


@pytest.mark.parametrize("name,data,content_type", [
    ("onderbouwing.pdf", PDF, "application/pdf"),
    ("begroting.xlsx", office_file("xl"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("../../Plan van aanpak.DOCX", office_file("word"),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
])
def test_an_attachment_is_stored_under_a_generated_name(app, world, name, data, content_type):
    proposal = in_state(world, states.DRAFT)
    attachment = proposals.add_attachment(proposal, world.user(PROVIDER), name, data)
    world.session.commit()
    assert attachment.content_type == content_type and attachment.size == len(data)
    assert attachment.original_name == name.rsplit("/", 1)[-1]
    assert len(attachment.stored_name) == 32 and attachment.stored_name not in name
    path = proposals.attachment_file(attachment)
    assert path.parent == proposals.upload_folder() and path.read_bytes() == data
    assert str(path).startswith(app.config["UPLOAD_FOLDER"])
    assert world.session.exec(select(AuditEvent).where(AuditEvent.action == "proposal.attachment_added")).one()


@pytest.mark.parametrize("name,data,message", [
    ("onderbouwing.pdf", PNG, "geen echt PDF-bestand"),
    ("begroting.xlsx", office_file("word"), "geen echt Excel (XLSX)-bestand"),
    ("begroting.xlsx", b"PK\x03\x04 not really a zip", "geen echt Excel (XLSX)-bestand"),
    ("foto.png", PNG, "niet aangenomen"),
    ("script.exe", b"MZ\x90\x00", "niet aangenomen"),
    ("leeg.pdf", b"", "leeg"),
])
def test_a_wrong_file_is_refused_and_nothing_is_saved(world, name, data, message):
    proposal = in_state(world, states.DRAFT)
    before = world.counts()
    with pytest.raises(RuleViolation) as refused:
        proposals.add_attachment(proposal, world.user(PROVIDER), name, data)
    assert refused.value.field == "attachment" and message in refused.value.message
    assert world.counts() == before
    assert not proposals.upload_folder().exists() or not any(proposals.upload_folder().iterdir())


def test_an_oversized_file_is_refused_and_nothing_is_saved(app, world):
    assert app.config["MAX_ATTACHMENT_BYTES"] == 10 * 1024 * 1024  # the default
    app.config["MAX_ATTACHMENT_BYTES"] = 1024
    proposal = in_state(world, states.DRAFT)
    before = world.counts()
    with pytest.raises(RuleViolation) as refused:
        proposals.add_attachment(proposal, world.user(PROVIDER), "groot.pdf", PDF + b"0" * 2000)
    assert refused.value.field == "attachment" and "te groot" in refused.value.message
    assert world.counts() == before
    assert not proposals.upload_folder().exists() or not any(proposals.upload_folder().iterdir())


def test_no_attachments_on_a_closed_proposal_or_by_the_region(world):
    proposal = in_state(world, states.REJECTED)
    with pytest.raises(TransitionRefused):
        proposals.add_attachment(proposal, world.user(PROVIDER), "a.pdf", PDF)
    open_one = in_state(world, states.SUBMITTED)
    with pytest.raises(TransitionRefused):
        proposals.add_attachment(open_one, world.user(MANAGER), "a.pdf", PDF)


# --- Prices ------------------------------------------------------------------------------------


def test_price_comes_from_the_catalogue_tariffs_and_the_yearly_value_multiplies(world):
    proposal = world.start()
    breakdown = proposals.price(proposal, values(), world.zorggroep.id)
    expected = trajectory_price(world.s1b, world.zorggroep.id, intensity=Decimal("3"), intensity_period="week",
                                duration_months=8, extra={})
    assert breakdown.total == expected.total > 0
    standard = proposals.price(world.s1b, {"intensity": world.s1b.intensity, "intensity_period": "week",
                                           "duration_months": world.s1b.duration_months}, world.zorggroep.id)
    assert standard.total == trajectory_price(world.s1b, world.zorggroep.id).total < breakdown.total
    assert proposals.yearly_value(breakdown, 10) == breakdown.total * 10


# --- Plugin fields, ranges and checks -----------------------------------------------------------


def test_domain_plugins_register_rules_with_a_field_of_their_own(app):
    rules = app.extensions["portal.registry"].proposal_rules
    assert rules["wmo.S1a"].fields[0].label == "Aantal cliënten per groep"
    assert rules["jeugd.S4"].fields[0].label == "Inzet gedragswetenschapper (uren per maand)"
    assert rules["participatie.S1"].fields[0].label == "Verwachte uitstroom naar werk (%)"
    default = app.extensions["portal.registry"].rules_for_proposal("wmo.S3b")
    assert (default.min_duration, default.max_duration, default.max_intensity) == (1, 36, 40)


def test_jeugd_field_is_validated_and_stored(world):
    with pytest.raises(RuleViolation) as refused:
        world.start(key="j1", trajectory=world.s4, intensity=Decimal("2"),
                    extra={"behavioural_scientist_hours": "41"})
    assert refused.value.field == "behavioural_scientist_hours" and "hoogstens 40" in refused.value.message
    with pytest.raises(RuleViolation, match="niet groter zijn dan de zorg zelf"):
        world.start(key="j2", trajectory=world.s4, intensity=Decimal("2"),
                    extra={"behavioural_scientist_hours": "10"})
    with pytest.raises(RuleViolation, match="tussen 1 en 24"):
        world.start(key="j3", trajectory=world.s4, duration_months=30, extra={"behavioural_scientist_hours": "1"})
    with pytest.raises(RuleViolation, match="dit veld is verplicht"):
        world.start(key="j5", trajectory=world.s4, intensity=Decimal("2"))
    assert world.counts()["Proposal"] == 0
    proposal = world.start(key="j4", trajectory=world.s4, intensity=Decimal("2"),
                           extra={"behavioural_scientist_hours": "4,5", "unknown": "x"})
    assert proposals.versions(proposal)[0].extra == {"behavioural_scientist_hours": "4.5"}


def test_wmo_and_participatie_checks():
    from plugins.participatie.proposal_rules import check_outflow
    from plugins.wmo.proposal_rules import check_group_size

    assert check_group_size({"intensity": Decimal(4), "intensity_period": "week",
                             "extra": {"clients_per_group": "10"}})[0][0] == "clients_per_group"
    assert check_group_size({"intensity": Decimal(2), "intensity_period": "week",
                             "extra": {"clients_per_group": "10"}}) == []
    assert check_outflow({"duration_months": 6, "extra": {"expected_outflow_percentage": "60"}})
    assert check_outflow({"duration_months": 12, "extra": {"expected_outflow_percentage": "60"}}) == []


class RegionCheckPlugin:
    """A throwaway region plugin: no proposal may expect more than 50 trajectories a year in
    Noord-Limburg."""

    def __init__(self):
        self.contexts = []

    @hookimpl
    def portal_proposal_checks(self):
        def at_most_fifty(values, context):
            self.contexts.append(context)
            if context["region"] == "noord-limburg" and values["expected_per_year"] > 50:
                return [("expected_per_year", "In Noord-Limburg hoogstens 50 trajecten per jaar per voorstel.")]
            return []
        return [at_most_fifty]


REGION_PLUGIN = RegionCheckPlugin()


@pytest.mark.parametrize("app_config", [{"EXTRA_PLUGINS": [REGION_PLUGIN]}])
def test_a_region_plugin_adds_an_extra_check(world):
    before = world.counts()
    with pytest.raises(RuleViolation) as refused:
        world.start(expected_per_year=51)
    assert refused.value.field == "expected_per_year" and "hoogstens 50" in refused.value.message
    assert world.counts() == before
    context = REGION_PLUGIN.contexts[-1]
    assert context["segment_key"] == "wmo.S1b" and context["provider"].name == "Zorggroep Maasland"
    assert world.start(expected_per_year=50).state == "draft"


def test_duplicate_proposal_rules_stop_start_up(database_url):
    from portal.registry import PluginConflict, ProposalRules
    from tests.conftest import make_app

    class Twin:
        @hookimpl
        def portal_proposal_rules(self):
            return [ProposalRules("wmo.S1a")]

    with pytest.raises(PluginConflict, match="proposal rules twice"):
        make_app(database_url, EXTRA_PLUGINS=[Twin()])

    class Unknown:
        @hookimpl
        def portal_proposal_rules(self):
            return [ProposalRules("wmo.S9")]

    with pytest.raises(PluginConflict, match="unknown segment"):
        make_app(database_url, EXTRA_PLUGINS=[Unknown()])


# --- Review queue ----------------------------------------------------------------------------


def signed_in_as(world, email):
    """Make ``email`` the signed-in user of this request context (for scoped queries)."""
    from portal.accounts.sessions import SignedIn
    from portal.models import Region

    user = world.user(email)
    membership = world.session.exec(select(Membership).where(Membership.user_id == user.id)).first()
    organisation = world.session.get(Organisation, membership.organisation_id)
    g._login_user = SignedIn("t", None, user, membership, organisation,
                             world.session.get(Region, organisation.region_id))


def test_review_queue_filters_counts_and_oldest_first(app, world):
    first = in_state(world, states.SUBMITTED)
    second = in_state(world, states.IN_NEGOTIATION)
    in_state(world, states.DRAFT)
    rejected = in_state(world, states.REJECTED)
    jeugd = world.start(key="jeugd", trajectory=world.s4, intensity=Decimal("2"),
                        extra={"behavioural_scientist_hours": "2"})
    proposals.submit(jeugd, world.user(PROVIDER), jeugd.lock_version)
    world.session.commit()
    with app.test_request_context():
        signed_in_as(world, MANAGER)
        queue = proposals.review_queue({})
        assert [p.id for p in queue][:3] == [first.id, second.id, jeugd.id]  # open ones, oldest first
        assert rejected.id in [p.id for p in queue] and all(p.state != "draft" for p in queue)
        assert [p.id for p in proposals.review_queue({"domain": "jeugd"})] == [jeugd.id]
        assert [p.id for p in proposals.review_queue({"segment": "wmo.S1b", "state": "submitted"})] == [first.id]
        assert len(proposals.review_queue({"provider_id": world.zorggroep.id})) == 4
        assert proposals.review_queue({"provider_id": world.thuishulp.id}) == []
        assert proposals.review_queue({"min_age_days": 3}) == []
        assert proposals.queue_counts() == {"draft": 1, "submitted": 2, "in_negotiation": 1, "approved": 0,
                                            "rejected": 1, "withdrawn": 0}
    with app.test_request_context():
        signed_in_as(world, LOCAL_PROVIDER)  # another provider sees none of them
        assert proposals.review_queue({}) == [] and sum(proposals.queue_counts().values()) == 0


# --- Two reviewers at once ---------------------------------------------------------------------


def race(app, proposal_id, lock, emails, step):
    """Run ``step`` for each manager at the same moment, each in a thread with its own app context
    (own database session); returns what each got: "ok" or the exception."""
    barrier = threading.Barrier(len(emails))
    outcomes = {}

    def run(email):
        with app.app_context():
            session = db.session()
            proposal = session.get(Proposal, proposal_id)
            user = session.exec(select(User).where(User.email == email)).one()
            barrier.wait()
            try:
                step(proposal, user, lock)
                session.commit()
                outcomes[email] = "ok"
            except Exception as error:  # noqa: BLE001 - the outcome is what we assert on
                session.rollback()
                outcomes[email] = error

    threads = [threading.Thread(target=run, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("step", ["approve", "counter"])
@pytest.mark.clock_on(6, 15)  # approves today: a day the Wmo agreement has months left
def test_two_reviewers_on_the_same_version_one_wins_the_other_is_told_it_changed(app, world, step):
    app.config["FOUR_EYES_THRESHOLD"] = Decimal("1.00")  # both approvals would be legitimate
    proposal = in_state(world, states.SUBMITTED)
    lock = proposal.lock_version
    world.session.close()

    def approve(p, user, lock_version):
        proposals.approve(p, user, lock_version)

    def counter(p, user, lock_version):
        proposals.counter(p, user, values(duration_months=6), f"Tegenvoorstel van {user.email}", lock_version)

    outcomes = race(app, proposal.id, lock, [MANAGER, MANAGER2], approve if step == "approve" else counter)
    assert sorted(type(o).__name__ if o != "ok" else "ok" for o in outcomes.values()) == ["StaleProposal", "ok"]
    loser = next(o for o in outcomes.values() if o != "ok")
    assert loser.message.startswith("Dit voorstel is intussen gewijzigd")
    proposal = world.reload(proposal)
    assert proposal.lock_version == lock + 1
    if step == "approve":
        assert world.counts()["ProposalApproval"] == 1 and proposal.state == "submitted"
    else:
        assert proposal.current_version == 2 and world.counts()["ProposalVersion"] == 2
