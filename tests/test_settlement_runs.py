"""Settlement runs (portal.settlement.runs): who may run, publish and finalise; lines equal to the
engine's; cost shares that add up; bad amounts refused on their field; versions (superseded,
final stays final, what changed); publish, answer and finalise with every legal and illegal step,
mails and audit; the guard that keeps a final run unchanged; two managers at once (one wins, on
both databases); and a property over the amounts.

The year is last year (``YEAR`` of tests/test_settlement_inputs.py): the demo has budget agreements
in it and is loaded without realisation, so the realisation the tests approve is all there is;
``TODAY`` is the run's date, when last year has ended and this year has not. The tests about when a
run may become final follow the clock (``date_sensitive``).
"""
from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.accounts import roles
from portal.accounts.sessions import SignedIn
from portal.formatting import money
from portal.models import AuditEvent, MailMessage, Membership, Organisation, Region, User
from portal.models.settlement import SettlementCostShare, SettlementLine, SettlementResponse, SettlementRun
from portal.settlement import runs
from portal.settlement.cost_allocation import allocate, population_key
from portal.settlement.inputs import gather, inputs_of
from portal.settlement.population import municipalities
from portal.settlement.runs import FinalSettlementIsImmutable, SettlementRefused
from portal.validators import RuleViolation
from tests import dates
from tests.dates import month, this_year, today
from tests.test_settlement_inputs import (
    MANAGER,
    PROVIDER,
    STICHTING,
    WERKBEDRIJF,
    YEAR,
    ZORGGROEP,
    World,
    s1a_row,
    s4_row,
)

MANAGER2 = "contractmanager2@mgr-noord-limburg.example"
PROVIDER_USER = "medewerker@zorggroep-maasland.example"
MUNICIPALITY = "medewerker@venlo.example"
AUDITOR = "auditor@accountant-noord-limburg.example"
TODAY = dates.RUN_DATE  # YEAR (last year) has ended, this year has not
REASON = "De realisatie van november ontbreekt nog in deze afrekening."


@pytest.fixture
def world(app, demo, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with app.app_context():
        yield World()


@pytest.fixture
def realised(world):
    """Approved realisation of last year's November for Venlo (Jeugd S4, Wmo S1a) and Beesel (Wmo
    S1a). Last year by the clock: ``YEAR``, or the one before a matrix date."""
    november = month(11, this_year() - 1)
    world.submit_and_approve(ZORGGROEP, s4_row(period=november), s1a_row(period=november),
                             s1a_row("0889", period=november))
    return world


def signed(world: World, email: str, organisation: str | None = None) -> SignedIn:
    """The user as the views pass it: signed in with one membership (of ``organisation``)."""
    user = world.user(email)
    memberships = world.session.exec(select(Membership).where(Membership.user_id == user.id)).all()
    membership = next(m for m in memberships if organisation is None or m.organisation_id == world.org(organisation).id)
    chosen = world.session.get(Organisation, membership.organisation_id)
    return SignedIn("t", None, user, membership, chosen, world.session.get(Region, chosen.region_id))


def add_user(world: World, email: str, organisation: Organisation, role: str) -> User:
    user = User(email=email, name=email.split("@")[0])
    world.session.add(user)
    world.session.flush()
    world.session.add(Membership(user_id=user.id, organisation_id=organisation.id, role=role))
    world.session.commit()
    world.users[email] = user
    return user


def stranger(world: World) -> User:
    """A contract manager of another region."""
    region = Region(code="elders", name="Elders")
    world.session.add(region)
    world.session.flush()
    office = Organisation(region_id=region.id, name="Inkoop Elders", kind="purchasing_office")
    world.session.add(office)
    world.session.flush()
    return add_user(world, "cm@elders.example", office, roles.CONTRACT_MANAGER)


def count(world: World, model, *where) -> int:
    world.session.rollback()
    return world.session.exec(select(func.count()).select_from(model).where(*where)).one()


def events(world: World, action: str, run: SettlementRun | None = None) -> list[AuditEvent]:
    statement = select(AuditEvent).where(AuditEvent.action == action)
    if run is not None:
        statement = statement.where(AuditEvent.object_type == "settlement_run", AuditEvent.object_id == str(run.id))
    return list(world.session.exec(statement.order_by(AuditEvent.id)).all())


def reload(world: World, run: SettlementRun) -> SettlementRun:
    world.session.expire_all()
    return world.session.get(SettlementRun, run.id)


def run_year(world: World, year: int = YEAR, email: str = MANAGER, **values) -> SettlementRun:
    run = runs.run_settlement(world.region, year, world.user(email), **values)
    world.session.commit()
    return run


def published(world: World, year: int = YEAR, **values) -> SettlementRun:
    run = run_year(world, year, **values)
    runs.publish(run, world.user(MANAGER), run.lock_version)
    world.session.commit()
    return run


def accept_all(world: World, run: SettlementRun) -> None:
    for provider_id in runs.provider_ids(run):
        user = provider_user(world, provider_id)
        runs.respond(run, user, provider_id, True, lock_version=run.lock_version)
        world.session.commit()


def provider_user(world: World, provider_id: int) -> SignedIn:
    """A signed-in provider user of the provider (made when the demo has none)."""
    organisation = world.session.get(Organisation, provider_id)
    membership = world.session.exec(select(Membership).where(
        Membership.organisation_id == provider_id, Membership.role.in_(roles.PROVIDER_ROLES))).first()
    if membership is None:
        add_user(world, f"beheer-{provider_id}@aanbieder.example", organisation, roles.PROVIDER_ADMIN)
        membership = world.session.exec(select(Membership).where(Membership.organisation_id == provider_id)).one()
    user = world.session.get(User, membership.user_id)
    return SignedIn("t", None, user, membership, organisation, world.session.get(Region, organisation.region_id))


# --- Who may run -----------------------------------------------------------------------------------


def test_only_a_contract_manager_of_the_region_runs_publishes_and_finalises(world):
    outsiders = [world.user(PROVIDER), world.user(MUNICIPALITY), world.user(AUDITOR), stranger(world),
                 signed(world, PROVIDER), signed(world, AUDITOR)]
    for user in outsiders:
        with pytest.raises(SettlementRefused, match="Alleen een contractmanager van de regio"):
            runs.run_settlement(world.region, YEAR, user)
        world.session.rollback()
    assert count(world, SettlementRun) == 0 and count(world, SettlementLine) == 0
    run = run_year(world, email=MANAGER2)  # either contract manager of the region
    assert run.created_by == world.user(MANAGER2).id
    for user in outsiders:
        with pytest.raises(SettlementRefused, match="Alleen een contractmanager"):
            runs.publish(run, user, run.lock_version)
        world.session.rollback()
    runs.publish(run, signed(world, MANAGER), run.lock_version)
    world.session.commit()
    lock = run.lock_version
    for user in outsiders:
        with pytest.raises(SettlementRefused, match="Alleen een contractmanager"):
            runs.finalise(run, user, lock, REASON, today=TODAY)
        world.session.rollback()
    assert (reload(world, run).state, reload(world, run).lock_version) == ("published", lock)


@pytest.mark.date_sensitive
def test_a_year_without_agreements_is_refused_on_year(world):
    next_year = this_year() + 1  # the demo's agreements run up to and including this year
    with pytest.raises(RuleViolation) as refused:
        runs.run_settlement(world.region, next_year, world.user(MANAGER))
    assert refused.value.field == "year" and str(next_year) in refused.value.message
    world.session.rollback()
    assert count(world, SettlementRun) == 0
    assert runs.years_with_agreements(world.region.id) == list(range(this_year(), this_year() - 5, -1))


# --- The run -----------------------------------------------------------------------------------------


def test_lines_are_the_engines_cost_shares_add_up_and_the_run_is_audited(realised):
    world = realised
    run = run_year(world, shared_costs="12.345,67", program_costs="100000", note="  Eerste berekening  ")
    assert (run.state, run.version, run.previous_id, run.lock_version) == ("draft", 1, None, 1)
    assert (run.shared_costs, run.program_costs, run.note) == (Decimal("12345.67"), Decimal("100000.00"),
                                                               "Eerste berekening")
    assert runs.changes(run) is None and runs.latest(world.region.id, YEAR).id == run.id
    assert [r.id for r in runs.runs(world.region.id, YEAR)] == [run.id]

    prepared = gather(world.region, YEAR)
    result = prepared.settle()
    lines = {line.budget_agreement_id: line for line in runs.lines_of(run)}
    assert len(lines) == len(prepared.sources) == runs.count_lines(run) == 46
    for source, settlement in zip(prepared.sources, result.settlements):
        line = lines[source.budget_agreement_id]
        assert (line.organisation_id, line.municipality_id, line.segment_key, line.kind) == (
            source.organisation_id, source.municipality_id, source.agreement.segment, source.agreement.kind)
        assert (line.realisation, line.settled_value, line.paid, line.due) == (
            source.agreement.realisation, settlement.settled_value, settlement.paid, settlement.due)
        assert line.due == line.settled_value - line.paid
        assert line.inputs == inputs_of(source) and line.explanation == list(settlement.explanation)
    assert sum(1 for line in lines.values() if line.realisation > 0) == 3
    summed = runs.totals(list(lines.values()))
    assert vars(summed) == result.totals
    assert runs.provider_ids(run) == sorted({world.org(n).id for n in (ZORGGROEP, STICHTING, WERKBEDRIJF)})
    venlo = world.org("Venlo").id
    assert {l.municipality_id for l in runs.lines_of(run, municipality_id=venlo)} == {venlo}
    assert {l.organisation_id for l in runs.lines_of(run, organisation_id=world.org(STICHTING).id)} == {
        world.org(STICHTING).id}

    # Shared costs by realisation, program costs by the population key: each adds up exactly.
    shares = runs.cost_shares(run)
    towns = municipalities(world.region.id)
    assert [s.municipality_id for s in shares] == sorted(m.id for m in towns)
    realised_by = prepared.realisation_by_municipality
    assert {s.municipality_id: s.realisation for s in shares} == {m.id: realised_by.get(m.id, 0) for m in towns}
    assert sum(s.shared_costs for s in shares) == Decimal("12345.67")
    everything = sum(realised_by.values())
    for share in shares:
        exact = Decimal("12345.67") * share.realisation / everything
        assert abs(share.shared_costs - exact) < Decimal("0.01")
        assert (share.shared_costs > 0) == (share.realisation > 0)
    assert sum(s.shared_costs > 0 for s in shares) == 2  # Venlo and Beesel
    assert sum(s.program_costs for s in shares) == Decimal("100000.00")
    names = {m.id: m.name for m in towns}
    key = population_key({m.name: m.residents for m in towns})
    parts = {p.name: p.amount for p in allocate(Decimal("100000"), {m.name: m.residents for m in towns}, "exact").parts}
    for share in shares:
        assert share.population_share == key[names[share.municipality_id]]
        assert share.program_costs == parts[names[share.municipality_id]]
        assert share.residents == next(m.residents for m in towns if m.id == share.municipality_id)

    [event] = events(world, "settlement.run", run)
    assert event.actor_user_id == world.user(MANAGER).id and event.region_id == world.region.id
    assert event.details["totals"] == {name: str(value) for name, value in result.totals.items()}
    assert (event.details["shared_costs"], event.details["program_costs"]) == ("12345.67", "100000.00")
    assert event.details["previous_id"] is None and event.details["year"] == YEAR
    assert event.details["before"] is None
    assert event.details["after"] == {"state": "draft", "version": 1, "lock_version": 1}
    assert "46 afspraken" in event.summary


def test_shared_costs_without_realisation_are_refused(world):
    with pytest.raises(RuleViolation) as refused:
        runs.run_settlement(world.region, YEAR, world.user(MANAGER), shared_costs="1000")
    assert refused.value.field == "shared_costs" and "geen goedgekeurde realisatie" in refused.value.message
    world.session.rollback()
    assert count(world, SettlementRun) == 0 and count(world, SettlementCostShare) == 0
    run = run_year(world, program_costs="999,99")
    shares = runs.cost_shares(run)
    assert len(shares) == 7 and all(s.shared_costs == 0 and s.realisation == 0 for s in shares)
    assert sum(s.program_costs for s in shares) == Decimal("999.99")


BAD_AMOUNTS = ["abc", "-5", "1,234", "0,001", "12.5.5", "1e3", "NaN", "Infinity", "1.000.000.000.000",
               "€ -1", Decimal("-1"), Decimal("0.001"), Decimal("NaN")]


@pytest.mark.parametrize("name", ["shared_costs", "program_costs"])
def test_bad_amounts_are_refused_naming_the_field(realised, name):
    world = realised
    for value in BAD_AMOUNTS:
        with pytest.raises(RuleViolation) as refused:
            runs.run_settlement(world.region, YEAR, world.user(MANAGER), **{name: value})
        assert refused.value.field == name, value
        assert refused.value.message.startswith("Vul een bedrag"), value
        world.session.rollback()
    with pytest.raises(RuleViolation) as refused:
        runs.run_settlement(world.region, YEAR, world.user(MANAGER), note="x" * 10_001)
    assert refused.value.field == "note"
    world.session.rollback()
    assert count(world, SettlementRun) == 0
    for typed, amount in (("1.234", "1234.00"), ("12.500,00", "12500.00"), ("€ 7,5", "7.50"), ("", "0.00"),
                          (None, "0.00")):
        run = runs.run_settlement(world.region, YEAR, world.user(MANAGER), **{name: typed})
        assert getattr(run, name) == Decimal(amount)
        world.session.rollback()


# --- Versions ------------------------------------------------------------------------------------------


def test_a_rerun_is_a_new_version_and_shows_what_changed(realised):
    world = realised
    first = run_year(world)
    first_lock = first.lock_version
    venlo_s4 = world.agreement(ZORGGROEP, "Venlo", "jeugd.S4")
    beesel_s4 = world.agreement(ZORGGROEP, "Beesel", "jeugd.S4")
    world.submit_and_approve(ZORGGROEP, s4_row(period=month(12, YEAR)), s4_row("0889", period=month(12, YEAR)))
    world.submit(ZORGGROEP, s1a_row(period=month(12, YEAR)))  # submitted only: changes nothing

    second = run_year(world, note="Met december")
    first = reload(world, first)
    assert (first.state, first.lock_version) == ("superseded", first_lock + 1)
    assert (second.state, second.version, second.previous_id) == ("draft", 2, first.id)
    changed = runs.changes(second)
    assert [c.budget_agreement_id for c in changed] == sorted([venlo_s4.id, beesel_s4.id])
    for change in changed:
        assert change.after.realisation > change.before.realisation
        assert change.due_difference == change.after.due - change.before.due
    assert [r.version for r in runs.runs(world.region.id, YEAR)] == [2, 1]
    [event] = events(world, "settlement.run", second)
    assert event.details["previous_id"] == first.id
    assert event.details["before"] == {"id": first.id, "state": "draft", "version": 1, "lock_version": first_lock}
    assert event.details["after"] == {"state": "draft", "version": 2, "lock_version": 1}
    [replaced] = events(world, "settlement.superseded", first)
    assert replaced.details["before"]["state"] == "draft" and replaced.details["after"]["state"] == "superseded"
    assert replaced.details["superseded_by"] == second.id
    with pytest.raises(SettlementRefused, match="Alleen een concept"):
        runs.publish(first, world.user(MANAGER), first.lock_version)
    world.session.rollback()

    runs.publish(second, world.user(MANAGER), second.lock_version)
    world.session.commit()
    third = run_year(world)
    second = reload(world, second)
    assert second.state == "superseded" and third.previous_id == second.id and runs.changes(third) == []
    with pytest.raises(SettlementRefused, match="er is een nieuwe versie"):
        runs.respond(second, provider_user(world, world.org(ZORGGROEP).id), world.org(ZORGGROEP).id, True)
    world.session.rollback()

    # A final version stays final and unchanged when the year is run again.
    runs.publish(third, world.user(MANAGER), third.lock_version)
    world.session.commit()
    runs.finalise(third, world.user(MANAGER), third.lock_version, REASON, today=TODAY)
    world.session.commit()
    before = (reload(world, third).state, reload(world, third).lock_version,
              [(l.id, l.due, l.explanation) for l in runs.lines_of(third)])
    fourth = run_year(world)
    third = reload(world, third)
    assert (third.state, third.lock_version, [(l.id, l.due, l.explanation) for l in runs.lines_of(third)]) == before
    assert (fourth.version, fourth.previous_id, fourth.state, runs.changes(fourth)) == (4, third.id, "draft", [])
    assert [r.state for r in runs.runs(world.region.id, YEAR)] == ["draft", "final", "superseded", "superseded"]


# --- Publish ---------------------------------------------------------------------------------------------


def test_publish_shows_the_draft_mails_the_providers_and_is_audited(realised):
    world = realised
    run = run_year(world)
    lock = run.lock_version
    for stale in (lock - 1, lock + 1, "x", None):
        with pytest.raises(SettlementRefused, match="intussen gewijzigd"):
            runs.publish(run, world.user(MANAGER), stale)
        world.session.rollback()
    assert count(world, MailMessage, MailMessage.subject.contains("Afrekening")) == 0
    runs.publish(run, world.user(MANAGER), lock)
    world.session.commit()
    run = reload(world, run)
    assert (run.state, run.lock_version, run.published_by) == ("published", lock + 1, world.user(MANAGER).id)
    assert run.published_at is not None

    providers = runs.provider_ids(run)
    expected = set(world.session.exec(select(User.email).join(Membership, Membership.user_id == User.id).where(
        Membership.organisation_id.in_(providers), Membership.role.in_(roles.PROVIDER_ROLES),
        User.is_active.is_(True))).all())
    assert {PROVIDER, PROVIDER_USER} <= expected
    mails = world.session.exec(select(MailMessage).where(MailMessage.subject == f"Afrekening {YEAR} staat klaar")).all()
    assert sorted(m.recipient for m in mails) == sorted(expected)
    zorggroep_due = runs.totals(runs.lines_of(run, organisation_id=world.org(ZORGGROEP).id)).due
    [mail] = [m for m in mails if m.recipient == PROVIDER]
    assert money(abs(zorggroep_due)) in mail.body and "versie 1" in mail.body

    [event] = events(world, "settlement.publish", run)
    assert event.actor_user_id == world.user(MANAGER).id
    assert event.details["before"]["state"] == "draft" and event.details["after"]["state"] == "published"
    assert event.details["after"]["lock_version"] == event.details["before"]["lock_version"] + 1
    with pytest.raises(SettlementRefused, match="Alleen een concept"):
        runs.publish(run, world.user(MANAGER), run.lock_version)
    world.session.rollback()
    assert len(events(world, "settlement.publish", run)) == 1


# --- Answers -------------------------------------------------------------------------------------------------


def test_a_provider_accepts_or_disputes_its_own_statement(realised):
    world = realised
    zorggroep, stichting = world.org(ZORGGROEP).id, world.org(STICHTING).id
    provider = signed(world, PROVIDER)
    run = run_year(world)
    with pytest.raises(SettlementRefused, match="niet \\(meer\\) open"):  # not yet published
        runs.respond(run, provider, zorggroep, True, lock_version=run.lock_version)
    world.session.rollback()
    runs.publish(run, world.user(MANAGER), run.lock_version)
    world.session.commit()

    # Someone else's statement, or no statement at all, is refused.
    other = provider_user(world, stichting)
    thuishulp = world.org("Thuishulp Venray")
    add_user(world, "beheer@thuishulp.example", thuishulp, roles.PROVIDER_ADMIN)
    without_lines = signed(world, "beheer@thuishulp.example")
    for user, organisation_id, message in (
            (other, zorggroep, "Alleen de zorgaanbieder zelf"),
            (signed(world, MUNICIPALITY), zorggroep, "Alleen de zorgaanbieder zelf"),
            (signed(world, MANAGER), zorggroep, "Alleen de zorgaanbieder zelf"),
            (world.user(MANAGER), zorggroep, "Alleen de zorgaanbieder zelf"),  # not signed in: its memberships
            (world.user(PROVIDER), stichting, "Alleen de zorgaanbieder zelf"),
            (without_lines, thuishulp.id, "geen afspraken van uw organisatie")):
        with pytest.raises(SettlementRefused, match=message):
            runs.respond(run, user, organisation_id, True, lock_version=run.lock_version)
        world.session.rollback()
    assert count(world, SettlementResponse) == 0

    lock = reload(world, run).lock_version
    for reason in (None, "", "   ", "te kort", "123456789"):
        with pytest.raises(RuleViolation) as refused:
            runs.respond(run, provider, zorggroep, False, reason, lock_version=lock)
        assert refused.value.field == "reason" and "minstens 10 tekens" in refused.value.message
        world.session.rollback()
    with pytest.raises(SettlementRefused, match="intussen gewijzigd"):
        runs.respond(run, provider, zorggroep, False, REASON, lock_version=lock - 1)
    world.session.rollback()
    assert count(world, SettlementResponse) == 0

    mails_before = count(world, MailMessage)
    answer = runs.respond(run, provider, zorggroep, False, f"  {REASON}  ", lock_version=lock)
    world.session.commit()
    assert (answer.state, answer.reason, answer.responded_by) == ("disputed", REASON, world.user(PROVIDER).id)
    run = reload(world, run)
    assert run.lock_version == lock + 1
    [event] = events(world, "settlement.dispute", run)
    assert event.organisation_id == zorggroep and event.details["before"] is None
    assert event.details["after"] == {"state": "disputed", "reason": REASON}
    office_mails = world.session.exec(select(MailMessage).order_by(MailMessage.id).offset(mails_before)).all()
    assert {m.recipient for m in office_mails} == {MANAGER, MANAGER2}
    assert all("betwist" in m.subject and REASON in m.body for m in office_mails)

    # A dispute may become an acceptance; an acceptance is the last word.
    runs.respond(run, provider, zorggroep, True, lock_version=run.lock_version)
    world.session.commit()
    assert runs.responses(run)[zorggroep].state == "accepted" and runs.responses(run)[zorggroep].reason is None
    [event] = events(world, "settlement.accept", run)
    assert event.details["before"] == {"state": "disputed", "reason": REASON}
    assert event.details["after"] == {"state": "accepted", "reason": None}
    for accept, reason in ((True, None), (False, REASON)):
        with pytest.raises(SettlementRefused, match="al geaccepteerd"):
            runs.respond(run, provider, zorggroep, accept, reason, lock_version=reload(world, run).lock_version)
        world.session.rollback()
    assert runs.responses(run)[zorggroep].state == "accepted"
    assert count(world, SettlementResponse) == 1


# --- Finalise -----------------------------------------------------------------------------------------------


@pytest.mark.date_sensitive
def test_finalise_only_published_after_the_year_with_a_reason_unless_all_accepted(realised):
    # Last year (with the realisation of ``realised``) has ended by the clock; this year has not.
    world = realised
    manager = world.user(MANAGER)
    last, current, on = this_year() - 1, this_year(), today()
    run = run_year(world, last)
    with pytest.raises(SettlementRefused, match="Alleen een gepubliceerde afrekening"):
        runs.finalise(run, manager, run.lock_version, REASON, today=on)
    world.session.rollback()
    runs.publish(run, manager, run.lock_version)
    world.session.commit()

    # Not before the year has ended: not today (the clock, also when no day is given), not on 31 December.
    running = published(world, current)
    for day in (on, None, date(current, 12, 31)):
        with pytest.raises(SettlementRefused, match="pas definitief worden na afloop van het jaar"):
            runs.finalise(running, manager, running.lock_version, REASON, today=day)
        world.session.rollback()
    runs.finalise(running, manager, running.lock_version, REASON, today=date(current + 1, 1, 1))
    world.session.commit()
    assert reload(world, running).state == "final"

    # Not everyone accepted: a reason is required.
    runs.respond(run, signed(world, PROVIDER), world.org(ZORGGROEP).id, True, lock_version=run.lock_version)
    world.session.commit()
    lock = reload(world, run).lock_version
    for reason in (None, "", "kort"):
        with pytest.raises(RuleViolation) as refused:
            runs.finalise(run, manager, lock, reason, today=on)
        assert refused.value.field == "reason"
        world.session.rollback()
    with pytest.raises(SettlementRefused, match="intussen gewijzigd"):
        runs.finalise(run, manager, lock - 1, REASON, today=on)
    world.session.rollback()
    assert reload(world, run).state == "published"
    runs.finalise(run, signed(world, MANAGER), lock, f" {REASON} ")  # today by the clock: last year is over
    world.session.commit()
    run = reload(world, run)
    assert (run.state, run.final_reason, run.finalised_by, run.lock_version) == ("final", REASON, manager.id, lock + 1)
    assert run.finalised_at is not None
    [event] = events(world, "settlement.finalise", run)
    open_ = sorted({world.org(STICHTING).id, world.org(WERKBEDRIJF).id})
    assert event.details["reason"] == REASON and sorted(event.details["not_accepted"]) == open_
    assert event.details["before"]["state"] == "published" and event.details["after"]["state"] == "final"
    assert event.details["totals"]["due"] == str(runs.totals(runs.lines_of(run)).due)
    assert "2 aanbieder(s) zonder acceptatie" in event.summary
    with pytest.raises(SettlementRefused, match="Alleen een gepubliceerde"):
        runs.finalise(run, manager, run.lock_version, REASON, today=on)
    world.session.rollback()
    with pytest.raises(SettlementRefused):
        runs.respond(run, signed(world, PROVIDER), world.org(ZORGGROEP).id, True, lock_version=run.lock_version)
    world.session.rollback()

    # Everyone accepted: no reason needed.
    again = published(world, last)
    accept_all(world, again)
    again = reload(world, again)
    runs.finalise(again, manager, again.lock_version, today=on)
    world.session.commit()
    again = reload(world, again)
    assert (again.state, again.final_reason) == ("final", None)
    [event] = events(world, "settlement.finalise", again)
    assert event.details["not_accepted"] == [] and event.details["reason"] is None


# --- The guard ---------------------------------------------------------------------------------------------------


def test_a_final_run_never_changes_through_the_orm(realised):
    world = realised
    run = published(world, shared_costs="100")
    runs.respond(run, signed(world, PROVIDER), world.org(ZORGGROEP).id, True, lock_version=run.lock_version)
    world.session.commit()
    draft_line = runs.lines_of(run_year(world, YEAR - 1))[0]  # the year before's draft may change
    run = reload(world, run)
    runs.finalise(run, world.user(MANAGER), run.lock_version, REASON, today=TODAY)
    world.session.commit()

    def attempts():
        line = runs.lines_of(reload(world, run))[0]
        share = runs.cost_shares(run)[0]
        answer = runs.responses(run)[world.org(ZORGGROEP).id]
        return [
            lambda: setattr(line, "due", line.due + 1),
            lambda: setattr(line, "explanation", ["Anders."]),
            lambda: setattr(share, "shared_costs", share.shared_costs + 1),
            lambda: setattr(answer, "state", "disputed"),
            lambda: setattr(reload(world, run), "note", "Toch anders"),
            lambda: setattr(reload(world, run), "state", "published"),
            lambda: world.session.delete(runs.lines_of(reload(world, run))[0]),
            lambda: world.session.delete(runs.cost_shares(run)[0]),
            lambda: world.session.delete(runs.responses(run)[world.org(ZORGGROEP).id]),
            # Adding to a final run changes it too.
            lambda: world.session.add(SettlementLine(
                run_id=run.id, budget_agreement_id=draft_line.budget_agreement_id, organisation_id=line.organisation_id,
                municipality_id=line.municipality_id, segment_key=line.segment_key, kind=line.kind, inputs={},
                realisation=Decimal(0), settled_value=Decimal(0), paid=Decimal(0), due=Decimal(0))),
            lambda: world.session.add(SettlementResponse(run_id=run.id, organisation_id=world.org(STICHTING).id,
                                                         state="accepted")),
        ]

    before = ([(l.id, l.due, l.explanation) for l in runs.lines_of(run)],
              [(s.id, s.shared_costs) for s in runs.cost_shares(run)])
    for index in range(len(attempts())):
        world.session.rollback()
        change = attempts()[index]
        change()
        with pytest.raises(FinalSettlementIsImmutable):
            world.session.commit()
        world.session.rollback()
    # An object loaded before and expired since (a commit) is guarded as well.
    run = reload(world, run)
    world.session.commit()  # expires everything
    run.note = "Na een commit"
    with pytest.raises(FinalSettlementIsImmutable):
        world.session.commit()
    world.session.rollback()
    run = reload(world, run)
    world.session.commit()
    world.session.delete(run)
    with pytest.raises(FinalSettlementIsImmutable):
        world.session.commit()
    world.session.rollback()
    run = reload(world, run)
    assert (run.state, run.note) == ("final", "")
    assert ([(l.id, l.due, l.explanation) for l in runs.lines_of(run)],
            [(s.id, s.shared_costs) for s in runs.cost_shares(run)]) == before

    draft_line = world.session.get(SettlementLine, draft_line.id)
    draft_line.explanation = ["Een concept mag nog veranderen."]
    world.session.commit()
    world.session.expire_all()
    assert world.session.get(SettlementLine, draft_line.id).explanation == ["Een concept mag nog veranderen."]


# --- Two managers at once ----------------------------------------------------------------------------------------


def race(app, run_id: int, steps) -> dict:
    """Run each (email, step) at the same moment, each in a thread with its own app context (its
    own database session); returns what each got: "ok" or the exception."""
    barrier = threading.Barrier(len(steps))
    outcomes = {}

    def run(email, step):
        with app.app_context():
            session = db.session()
            settlement = session.get(SettlementRun, run_id)
            user = session.exec(select(User).where(User.email == email)).one()
            barrier.wait()
            try:
                step(settlement, user)
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


def test_two_managers_publishing_or_finalising_at_once_one_wins(app, realised):
    world = realised
    run = run_year(world)
    lock = run.lock_version
    world.session.close()

    def publish(settlement, user):
        runs.publish(settlement, user, lock)

    outcomes = race(app, run.id, [(MANAGER, publish), (MANAGER2, publish)])
    assert sorted("ok" if o == "ok" else type(o).__name__ for o in outcomes.values()) == ["SettlementRefused", "ok"]
    winner = next(email for email, o in outcomes.items() if o == "ok")
    run = reload(world, run)
    assert (run.state, run.lock_version, run.published_by) == ("published", lock + 1, world.user(winner).id)
    assert len(events(world, "settlement.publish", run)) == 1
    providers = world.session.exec(select(func.count()).select_from(MailMessage).where(
        MailMessage.recipient == PROVIDER, MailMessage.subject == f"Afrekening {YEAR} staat klaar")).one()
    assert providers == 1

    lock = run.lock_version
    world.session.close()

    def finalise(settlement, user):
        runs.finalise(settlement, user, lock, REASON, today=TODAY)

    outcomes = race(app, run.id, [(MANAGER, finalise), (MANAGER2, finalise)])
    assert sorted("ok" if o == "ok" else type(o).__name__ for o in outcomes.values()) == ["SettlementRefused", "ok"]
    loser = next(o for o in outcomes.values() if o != "ok")
    assert "intussen gewijzigd" in loser.message
    winner = next(email for email, o in outcomes.items() if o == "ok")
    run = reload(world, run)
    assert (run.state, run.lock_version, run.finalised_by) == ("final", lock + 1, world.user(winner).id)
    assert len(events(world, "settlement.finalise", run)) == 1


# --- A property ----------------------------------------------------------------------------------------------------


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shared=st.decimals(min_value=0, max_value=10_000_000, places=2),
       program=st.decimals(min_value=0, max_value=10_000_000, places=2))
def test_property_totals_are_the_sum_of_the_lines_and_costs_add_up(realised, shared, program):
    world = realised
    try:
        run = runs.run_settlement(world.region, YEAR, world.user(MANAGER), shared_costs=shared,
                                  program_costs=program)
        lines = runs.lines_of(run)
        assert all(line.due == line.settled_value - line.paid for line in lines)
        summed = runs.totals(lines)
        assert summed.settled_value - summed.paid == summed.due == summed.additional_payments - summed.repayments
        world.session.flush()
        [event] = events(world, "settlement.run", run)
        assert event.details["totals"] == {name: str(value) for name, value in vars(summed).items()}
        shares = runs.cost_shares(run)
        assert sum(s.shared_costs for s in shares) == shared and sum(s.program_costs for s in shares) == program
        assert all(s.shared_costs >= 0 and s.program_costs >= 0 for s in shares)
    finally:
        world.session.rollback()


def test_an_answer_and_finalising_at_the_same_moment_one_wins(app, realised):
    """A provider answering while the contract manager makes the run final: never an answer on a
    final run, never a final run that missed the answer its manager did not see."""
    world = realised
    run = published(world)
    lock, zorggroep = run.lock_version, world.org(ZORGGROEP).id
    world.session.close()

    def answer(settlement, user):
        runs.respond(settlement, user, zorggroep, True, lock_version=lock)

    def finalise(settlement, user):
        runs.finalise(settlement, user, lock, REASON, today=TODAY)

    outcomes = race(app, run.id, [(PROVIDER, answer), (MANAGER, finalise)])
    assert sorted("ok" if o == "ok" else type(o).__name__ for o in outcomes.values()) == ["SettlementRefused", "ok"]
    run = reload(world, run)
    assert run.lock_version == lock + 1
    if outcomes[PROVIDER] == "ok":
        assert run.state == "published" and runs.responses(run)[zorggroep].state == "accepted"
    else:
        assert run.state == "final" and runs.responses(run) == {}


def test_two_runs_of_one_year_at_once_the_second_is_told_and_keeps_nothing(world, monkeypatch):
    """Both managers read "no version yet" before either stored one: the second gets a Dutch refusal
    (not an integrity error), and after its rollback only the first run exists."""
    first = run_year(world)
    monkeypatch.setattr(runs, "latest", lambda region_id, year: None)  # as if read before the first was stored
    with pytest.raises(SettlementRefused, match=f"Iemand anders berekent de afrekening {YEAR}"):
        runs.run_settlement(world.region, YEAR, world.user(MANAGER2))
    world.session.rollback()
    assert count(world, SettlementRun) == 1
    assert reload(world, first).state == "draft"
    assert count(world, SettlementLine, SettlementLine.run_id != first.id) == 0


def test_the_database_itself_refuses_to_change_a_final_run(realised, request):
    """Past the application's guard (a bulk statement, another program): the triggers of migration
    b5d2e8f4a6c1 refuse changing a final run and its lines, cost shares and answers, and adding to
    them; DELETE too on PostgreSQL (SQLite keeps DELETE so a development database can be emptied)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    world = realised
    run = published(world)
    runs.finalise(run, world.user(MANAGER), run.lock_version, REASON, today=TODAY)
    world.session.commit()
    line = runs.lines_of(run)[0]
    share = runs.cost_shares(run)[0]
    statements = [
        ("UPDATE settlement_line SET due = due + 1 WHERE id = :id", {"id": line.id}),
        ("UPDATE settlement_cost_share SET shared_costs = '1.00' WHERE id = :id", {"id": share.id}),
        ("UPDATE settlement_run SET note = 'anders' WHERE id = :id", {"id": run.id}),
        ("INSERT INTO settlement_response (run_id, organisation_id, state, responded_at) "
         "VALUES (:id, :org, 'accepted', CURRENT_TIMESTAMP)", {"id": run.id, "org": world.org(WERKBEDRIJF).id}),
    ]
    if request.config.getoption("--db") == "postgresql":
        statements += [("DELETE FROM settlement_line WHERE id = :id", {"id": line.id}),
                       ("DELETE FROM settlement_run WHERE id = :id", {"id": run.id})]
    for sql, parameters in statements:
        with pytest.raises(DatabaseError, match="final"):
            world.session.execute(text(sql), parameters)
        world.session.rollback()
    assert reload(world, run).state == "final" and runs.lines_of(run)[0].due == line.due
    # A draft's lines may still change.
    draft = run_year(world, YEAR - 1)
    draft_line = runs.lines_of(draft)[0]
    world.session.execute(text("UPDATE settlement_line SET explanation = '[]' WHERE id = :id"), {"id": draft_line.id})
    world.session.commit()
