"""Settlement runs: a region's year settled, published to the providers, answered and made final.

States of a run (one version of a region's year)::

    draft ──publish──▶ published ──finalise──▶ final
      │                   │
      └── a re-run ───────┴──▶ superseded (the new version takes over)

- **Run** (contract manager of the region): settles every budget agreement and ceiling of the year
  on the approved realisation (:mod:`portal.settlement.inputs`, :mod:`portal.settlement.engine`)
  and splits the region's shared costs by realisation and its program costs by the population key.
  A re-run is a new version; draft and published versions it replaces become ``superseded``, a final
  version stays final and unchanged. The new version shows what changed against the one before.
- **Publish**: the providers see their statements (and get a mail); municipalities see theirs.
- **Answer** (provider): accept, or dispute with a reason of at least ten characters. A dispute may
  later become an acceptance; an acceptance is the last word.
- **Finalise** (contract manager): only after the year has ended; when a provider disputed or has
  not answered, the contract manager gives the reason for making it final anyway.
- A final run, its lines, cost shares and answers never change: the service refuses it, and an ORM
  guard refuses any update or delete that slips past it.

Every step is recorded in the audit log with the amounts behind it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import case, event, func, inspect, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import select

from portal import audit, clock, db, jobs, validators
from portal.accounts import roles
from portal.accounts.people import account_of as _account
from portal.accounts.people import (
    contract_manager_recipients,
    is_region_manager,
    memberships_of,
    provider_recipients,
)
from portal.formatting import money
from portal.mail import send_mail
from portal.models import BudgetAgreement, Organisation, Region, User, utcnow
from portal.models.settlement import SettlementCostShare, SettlementLine, SettlementResponse, SettlementRun
from portal.models.types import cents, from_cents
from portal.money import parse_amount
from portal.registry import current_registry
from portal.settlement.cost_allocation import allocate, split_by_realisation
from portal.settlement.inputs import Overrides, gather, inputs_of
from portal.settlement.overrides import Problem, inapplicable_overrides
from portal.settlement.population import municipalities
from portal.validators import RuleViolation

STATE_LABELS = {"draft": "Concept", "published": "Gepubliceerd", "final": "Definitief",
                "superseded": "Vervangen door een nieuwe versie"}
RESPONSE_LABELS = {"accepted": "Geaccepteerd", "disputed": "Betwist", None: "Nog geen antwoord"}
MIN_REASON = validators.MIN_REASON
MAX_REASON = validators.MAX_REASON
MAX_COSTS = Decimal("999999999999.99")
STALE_MESSAGE = ("Deze afrekening is intussen gewijzigd (door iemand anders of door een nieuwe versie). "
                 "Bekijk de nieuwe stand en probeer het opnieuw.")


class SettlementRefused(RuleViolation):
    """The step is not allowed (role, region, state); Dutch message."""

    def __init__(self, message: str, field_name: str | None = None):
        super().__init__(field_name, message)


class FinalSettlementIsImmutable(RuntimeError):
    pass


# --- The guard: a final run never changes --------------------------------------------------------


def _was_final(run: SettlementRun) -> bool:
    history = inspect(run).attrs.state.history
    before = history.deleted[0] if history.deleted else (history.unchanged[0] if history.unchanged else None)
    return before == "final"


@event.listens_for(OrmSession, "before_flush")
def _refuse_changes_to_final(session, _context, _instances):
    final: dict[int, bool] = {}  # run id -> final? (a new run's thousands of lines ask once)
    # session.new/dirty/deleted build a new set on every access: read each once per flush.
    new, deleted = session.new, session.deleted  # identity sets (the objects are not hashable)
    # New objects too: a line, cost share or answer added to a final run changes it as well.
    for obj in list(new) + list(session.dirty) + list(deleted):
        if isinstance(obj, SettlementRun):
            if _was_final(obj) and (obj in deleted or session.is_modified(obj)):
                raise FinalSettlementIsImmutable("A final settlement run never changes.")
        elif isinstance(obj, (SettlementLine, SettlementCostShare, SettlementResponse)):
            if obj in new or obj in deleted or session.is_modified(obj):
                if obj.run_id not in final:
                    run = session.get(SettlementRun, obj.run_id) if obj.run_id is not None else None
                    final[obj.run_id] = run is not None and run.state == "final"
                if final[obj.run_id]:
                    raise FinalSettlementIsImmutable("The lines of a final settlement run never change.")


# --- Reading ---------------------------------------------------------------------------------------


def latest(region_id: int, year: int) -> SettlementRun | None:
    """The newest version of the region's year, if any."""
    return db.session().exec(select(SettlementRun).where(
        SettlementRun.region_id == region_id, SettlementRun.year == year)
        .order_by(SettlementRun.version.desc())).first()


def lines_of(run: SettlementRun, organisation_id: int | None = None,
             municipality_id: int | None = None) -> list[SettlementLine]:
    """The lines of a run (of one provider or municipality when given), by provider, segment and
    municipality id."""
    statement = select(SettlementLine).where(SettlementLine.run_id == run.id)
    if organisation_id is not None:
        statement = statement.where(SettlementLine.organisation_id == organisation_id)
    if municipality_id is not None:
        statement = statement.where(SettlementLine.municipality_id == municipality_id)
    return list(db.session().exec(statement.order_by(
        SettlementLine.organisation_id, SettlementLine.segment_key, SettlementLine.municipality_id)))


def cost_shares(run: SettlementRun) -> list[SettlementCostShare]:
    """The municipalities' shares of the region's costs in a run."""
    return list(db.session().exec(select(SettlementCostShare).where(SettlementCostShare.run_id == run.id)
                                  .order_by(SettlementCostShare.municipality_id)))


def responses(run: SettlementRun) -> dict[int, SettlementResponse]:
    """The providers' answers to a run, by provider id."""
    return {r.organisation_id: r for r in db.session().exec(
        select(SettlementResponse).where(SettlementResponse.run_id == run.id))}


def provider_ids(run: SettlementRun) -> list[int]:
    """The providers with lines in a run."""
    return list(db.session().exec(select(SettlementLine.organisation_id).where(
        SettlementLine.run_id == run.id).distinct().order_by(SettlementLine.organisation_id)))


@dataclass(frozen=True)
class Totals:
    settled_value: Decimal
    paid: Decimal
    due: Decimal
    additional_payments: Decimal
    repayments: Decimal


def totals(lines: list[SettlementLine]) -> Totals:
    """The sums of the lines; additional payments and repayments as positive amounts."""
    zero = Decimal("0.00")
    return Totals(sum((l.settled_value for l in lines), zero), sum((l.paid for l in lines), zero),
                  sum((l.due for l in lines), zero), sum((l.due for l in lines if l.due > 0), zero),
                  sum((-l.due for l in lines if l.due < 0), zero))


@dataclass(frozen=True)
class RunSums:
    """The totals of a run's lines (of one party when asked) and how many lines there are."""

    totals: Totals
    lines: int


def sums_per_run(run_ids, organisation_id: int | None = None,
                 municipality_id: int | None = None) -> dict[int, RunSums]:
    """:func:`totals` and the number of lines of each run (of one provider or municipality when
    given), summed by the database in one statement: an overview of versions reads one row per run,
    not every line. Amounts are summed as whole cents, so the totals equal :func:`totals` exactly.
    Runs without (such) lines are left out."""
    run_ids = list(run_ids)
    if not run_ids:
        return {}
    due = cents(SettlementLine.due)
    statement = select(SettlementLine.run_id, func.count(), func.sum(cents(SettlementLine.settled_value)),
                       func.sum(cents(SettlementLine.paid)), func.sum(due),
                       func.sum(case((due > 0, due), else_=0)), func.sum(case((due < 0, -due), else_=0))
                       ).where(SettlementLine.run_id.in_(run_ids))
    if organisation_id is not None:
        statement = statement.where(SettlementLine.organisation_id == organisation_id)
    if municipality_id is not None:
        statement = statement.where(SettlementLine.municipality_id == municipality_id)
    return {run_id: RunSums(Totals(*(from_cents(v) for v in sums)), count)
            for run_id, count, *sums in db.session().exec(statement.group_by(SettlementLine.run_id))}


@dataclass(frozen=True)
class Change:
    """One agreement whose settlement differs from the version before (``before`` None: new;
    ``after`` None: no longer in the run)."""

    budget_agreement_id: int
    before: SettlementLine | None
    after: SettlementLine | None

    @property
    def due_difference(self) -> Decimal:
        return (self.after.due if self.after else Decimal(0)) - (self.before.due if self.before else Decimal(0))


def changes(run: SettlementRun) -> list[Change] | None:
    """What changed against the previous version (None for a first version)."""
    if run.previous_id is None:
        return None
    previous = db.session().get(SettlementRun, run.previous_id)
    before = {line.budget_agreement_id: line for line in lines_of(previous)}
    after = {line.budget_agreement_id: line for line in lines_of(run)}
    found = []
    for agreement_id in sorted(set(before) | set(after)):
        old, new = before.get(agreement_id), after.get(agreement_id)
        if old is None or new is None or (old.realisation, old.settled_value, old.paid, old.due, old.kind) != (
                new.realisation, new.settled_value, new.paid, new.due, new.kind):
            found.append(Change(agreement_id, old, new))
    return found


# --- Checks ----------------------------------------------------------------------------------------


def year_has_ended(year: int, on: date | None = None) -> bool:
    """True from 1 January of the next year on (``on``, default today): a run can be made final."""
    return (on or clock.today()) > date(year, 12, 31)


def year_to_show(years: list[int], asked: tuple[int | None, ...] = ()) -> int | None:
    """The year an overview shows: the first year ``asked`` among ``years``; else, as a year is
    settled after it has ended, the latest year that has; else this year; else the first of ``years``."""
    for year in asked:
        if year in years:
            return year
    ended = [year for year in years if year_has_ended(year)]
    if ended:
        return max(ended)
    current = clock.today().year
    if current in years:
        return current
    return years[0] if years else None


def shown_to_organisations(run: SettlementRun) -> bool:
    """Providers and municipalities see published and final runs, and superseded runs that had been
    published before they were replaced; never a draft."""
    return run.state in ("published", "final") or (run.state == "superseded" and run.published_at is not None)


def open_for_answer(run: SettlementRun, answer: SettlementResponse | None) -> bool:
    """A provider may answer a published run until it has accepted it."""
    return run.state == "published" and getattr(answer, "state", None) != "accepted"


def _require_manager(user, region_id: int) -> None:
    if not is_region_manager(user, region_id):
        raise SettlementRefused("Alleen een contractmanager van de regio kan afrekeningen maken, publiceren of "
                                "definitief maken.")


def clean_reason(reason, what: str) -> str:
    return validators.clean_reason(reason, f"Geef {what} in minstens {MIN_REASON} tekens.", MIN_REASON, MAX_REASON)


def clean_costs(value, field_name: str) -> Decimal:
    """A cost amount as typed ("12.500,00", "12500") or a Decimal; empty is 0."""
    if isinstance(value, Decimal):
        amount = value
    elif value is None or not str(value).strip():
        amount = Decimal("0.00")
    else:
        try:
            amount = parse_amount(str(value))
        except (ValueError, ArithmeticError) as error:
            raise RuleViolation(field_name, f"Vul een bedrag in euro's in, zoals 12.500,00 ({error}).") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_COSTS or amount != amount.quantize(Decimal("0.01")):
        raise RuleViolation(field_name, "Vul een bedrag van 0 of meer in, in hele centen.")
    return amount.quantize(Decimal("0.01"))


def _check_lock(run: SettlementRun, lock_version) -> None:
    try:
        expected = int(lock_version)
    except (TypeError, ValueError):
        raise SettlementRefused(STALE_MESSAGE) from None
    if expected != run.lock_version:
        raise SettlementRefused(STALE_MESSAGE)


def _move(run: SettlementRun, lock_version, from_state: str, **values) -> None:
    """The atomic state step: from ``from_state`` at the expected lock version, or refused."""
    _check_lock(run, lock_version)
    session = db.session()
    changed = session.execute(
        update(SettlementRun).where(SettlementRun.id == run.id, SettlementRun.lock_version == run.lock_version,
                                    SettlementRun.state == from_state)
        .values(lock_version=run.lock_version + 1, **values)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise SettlementRefused(STALE_MESSAGE)
    session.refresh(run)


def _snapshot(run: SettlementRun) -> dict:
    return {"state": run.state, "version": run.version, "lock_version": run.lock_version}


def _audit(run: SettlementRun, user, action: str, summary: str, **details) -> None:
    audit.record(action, summary, object_type="settlement_run", object_id=run.id, region_id=run.region_id,
                 actor=_account(user), details={"year": run.year, "version": run.version, **details})


def _money(amount: Decimal) -> str:
    return money(amount)


# --- Steps -------------------------------------------------------------------------------------------


def overrides_that_cannot_apply(region: Region, year: int, log: bool = False) -> list[Problem]:
    """The local rules and settlement parameters that cannot apply to the region's year (see
    :mod:`portal.settlement.overrides`); with ``log``, each as a warning in the app's log."""
    problems = inapplicable_overrides(current_registry(), db.session(), region, year)
    if log:
        for problem in problems:
            current_app.logger.warning("Settlement %s %s: %s", region.code, year, problem.message)
    return problems


def run_settlement(region: Region, year: int, user, shared_costs="0", program_costs="0",
                   note: str = "") -> SettlementRun:
    """Settle the region's year as a new version (the caller commits)."""
    _require_manager(user, region.id)
    shared = clean_costs(shared_costs, "shared_costs")
    program = clean_costs(program_costs, "program_costs")
    note = (note or "").strip()
    if len(note) > MAX_REASON:
        raise RuleViolation("note", f"De toelichting is hoogstens {MAX_REASON} tekens.")
    prepared = gather(region, year, Overrides())
    if not prepared.sources:
        raise RuleViolation("year", f"Voor {year} zijn er geen budgetafspraken of plafonds om af te rekenen.")
    overrides_that_cannot_apply(region, year, log=True)
    result = prepared.settle()
    shares = _cost_shares(region, prepared.realisation_by_municipality, shared, program)
    session = db.session()
    previous = latest(region.id, year)
    before = None if previous is None else {"id": previous.id, **_snapshot(previous)}
    run = SettlementRun(region_id=region.id, year=year, version=(previous.version + 1) if previous else 1,
                        shared_costs=shared, program_costs=program, note=note,
                        previous_id=previous.id if previous else None, created_by=_account(user).id)
    # Supersede the open versions before adding the new one: the query autoflushes, and would
    # otherwise find (and supersede) the new draft itself.
    superseded = []
    for older in session.exec(select(SettlementRun).where(
            SettlementRun.region_id == region.id, SettlementRun.year == year,
            SettlementRun.state.in_(("draft", "published")))):
        superseded.append((older, _snapshot(older)))
        older.state = "superseded"
        older.lock_version += 1
    session.add(run)
    try:
        session.flush()
    except IntegrityError:
        # Another contract manager ran the same year at the same moment and took this version
        # number; the caller rolls back, and nothing of this run is kept.
        raise SettlementRefused(f"Iemand anders berekent de afrekening {year} op dit moment ook. Bekijk de "
                                "nieuwe versie en reken zo nodig opnieuw.") from None
    for source, settlement in zip(prepared.sources, result.settlements):
        session.add(SettlementLine(
            run_id=run.id, budget_agreement_id=source.budget_agreement_id, organisation_id=source.organisation_id,
            municipality_id=source.municipality_id, segment_key=source.agreement.segment,
            kind=source.agreement.kind, inputs=inputs_of(source), realisation=source.agreement.realisation,
            settled_value=settlement.settled_value, paid=settlement.paid, due=settlement.due,
            explanation=list(settlement.explanation)))
    for share in shares:
        share.run_id = run.id
        session.add(share)
    session.flush()
    summed = result.totals
    _audit(run, user, "settlement.run",
           f"Afrekening {year} versie {run.version} berekend: {len(result.settlements)} afspraken, "
           f"afgerekend {_money(summed['settled_value'])}, per saldo {_money(summed['due'])}",
           totals={name: str(value) for name, value in summed.items()}, shared_costs=str(shared),
           program_costs=str(program), previous_id=run.previous_id, before=before, after=_snapshot(run))
    for older, was in superseded:
        _audit(older, user, "settlement.superseded",
               f"Afrekening {year} versie {older.version} vervangen door versie {run.version}",
               before=was, after=_snapshot(older), superseded_by=run.id)
    return run


@jobs.job("settlement.run")
def run_settlement_job(region_id: int, year: int, user_id: int, shared_costs: str = "0", program_costs: str = "0",
                       note: str = "") -> int:
    """The job behind "Berekenen": :func:`run_settlement` for the region's year, committed; returns
    the new run's id. A refusal (:class:`RuleViolation`) rolls back and is raised with its message."""
    session = db.session()
    region, user = session.get(Region, region_id), session.get(User, user_id)
    try:
        run = run_settlement(region, year, user, shared_costs, program_costs, note)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return run.id


def _cost_shares(region: Region, realisation: dict[int, Decimal], shared: Decimal,
                 program: Decimal) -> list[SettlementCostShare]:
    found = municipalities(region.id)
    if not found:
        return []
    by_name = {m.name: m for m in found}
    realised = {m.name: realisation.get(m.id, Decimal("0.00")) for m in found}
    if shared and sum(realised.values()) <= 0:
        raise RuleViolation("shared_costs", "Er is in dit jaar geen goedgekeurde realisatie om de gedeelde kosten "
                                            "naar te verdelen; laat het bedrag leeg of keur eerst realisatie goed.")
    shared_parts = split_by_realisation(shared, realised) if shared else {name: Decimal("0.00") for name in realised}
    missing = [m.name for m in found if m.residents is None]
    if program and missing:
        raise RuleViolation("program_costs", f"Het inwonertal ontbreekt bij {', '.join(missing)}; vul het in bij de "
                                             "organisatie voordat u programmakosten verdeelt.")
    if not missing and sum(m.residents for m in found) > 0:
        allocation = allocate(program, {m.name: m.residents for m in found}, method="exact")
        key = {part.name: (part.share, part.amount) for part in allocation.parts}
    else:
        key = {name: (None, Decimal("0.00")) for name in by_name}
    return [SettlementCostShare(run_id=0, municipality_id=by_name[name].id, residents=by_name[name].residents,
                                population_share=key[name][0], realisation=realised[name],
                                shared_costs=shared_parts[name], program_costs=Decimal(key[name][1]).quantize(Decimal("0.01")))
            for name in by_name]


def publish(run: SettlementRun, user, lock_version) -> SettlementRun:
    """Show the draft to the providers and municipalities; mail the providers (caller commits)."""
    _require_manager(user, run.region_id)
    if run.state != "draft":
        raise SettlementRefused(f"Alleen een concept kan worden gepubliceerd; deze versie is "
                                f"{STATE_LABELS[run.state].lower()}.")
    before = _snapshot(run)
    _move(run, lock_version, "draft", state="published", published_by=_account(user).id, published_at=utcnow())
    _audit(run, user, "settlement.publish", f"Afrekening {run.year} versie {run.version} gepubliceerd",
           before=before, after=_snapshot(run))
    for provider_id in provider_ids(run):
        lines = lines_of(run, organisation_id=provider_id)
        due = totals(lines).due
        word = "nabetaling aan u" if due > 0 else "terugbetaling door u" if due < 0 else "niets te betalen"
        for recipient in provider_recipients(provider_id):
            send_mail(recipient, f"Afrekening {run.year} staat klaar",
                      f"De regio heeft de afrekening over {run.year} gepubliceerd (versie {run.version}).\n"
                      f"Per saldo: {_money(abs(due))} ({word}) over {len(lines)} afspraken.\n\n"
                      "Bekijk de afrekening met de toelichting per afspraak in het aanbiedersportaal onder "
                      "Afrekening, en accepteer haar of maak bezwaar met een reden.")
    return run


def respond(run: SettlementRun, user, organisation_id: int, accept: bool, reason: str | None = None,
            lock_version=None) -> SettlementResponse:
    """A provider accepts its statement, or disputes it with a reason (caller commits)."""
    # A signed-in user answers with the membership chosen for this session; a bare User (not signed
    # in) only with a provider membership of that organisation.
    if not any(m.organisation_id == organisation_id and m.role in roles.PROVIDER_ROLES
               for m, _organisation in memberships_of(user)):
        raise SettlementRefused("Alleen de zorgaanbieder zelf kan zijn afrekening accepteren of betwisten.")
    if run.state != "published":
        raise SettlementRefused("Deze afrekening staat niet (meer) open voor een antwoord"
                                + (": er is een nieuwe versie." if run.state == "superseded" else "."))
    if lock_version is not None:
        _check_lock(run, lock_version)
    if not lines_of(run, organisation_id=organisation_id):
        raise SettlementRefused("Deze afrekening bevat geen afspraken van uw organisatie.")
    reason = None if accept else clean_reason(reason, "de reden van uw bezwaar")
    session = db.session()
    existing = session.exec(select(SettlementResponse).where(
        SettlementResponse.run_id == run.id, SettlementResponse.organisation_id == organisation_id)).first()
    if existing is not None and existing.state == "accepted":
        raise SettlementRefused("U hebt deze afrekening al geaccepteerd; dat antwoord staat vast.")
    before = None if existing is None else {"state": existing.state, "reason": existing.reason}
    response = existing or SettlementResponse(run_id=run.id, organisation_id=organisation_id, state="accepted")
    response.state = "accepted" if accept else "disputed"
    response.reason = reason
    response.responded_by = _account(user).id
    response.responded_at = utcnow()
    # Every answer moves the run's lock version on, so a contract manager finalising a stale screen
    # is told to look again; atomically (from "published" at the version read), so that an answer
    # and a finalisation at the same moment cannot both succeed.
    _move(run, run.lock_version, "published")
    session.add(response)
    session.flush()
    provider = session.get(Organisation, organisation_id)
    due = totals(lines_of(run, organisation_id=organisation_id)).due
    word = "geaccepteerd" if accept else "betwist"
    audit.record(f"settlement.{'accept' if accept else 'dispute'}",
                 f"{provider.name} heeft de afrekening {run.year} versie {run.version} {word}"
                 + ("" if accept else f": {reason[:200]}"),
                 object_type="settlement_run", object_id=run.id, organisation_id=organisation_id,
                 region_id=run.region_id, actor=_account(user),
                 details={"before": before, "after": {"state": response.state, "reason": reason},
                          "due": str(due), "year": run.year, "version": run.version})
    for recipient in contract_manager_recipients(run.region_id):
        send_mail(recipient, f"Afrekening {run.year}: {provider.name} heeft {word}",
                  f"{provider.name} heeft de afrekening over {run.year} (versie {run.version}) {word}."
                  + ("" if accept else f"\nReden: {reason}") + "\n\nBekijk de afrekening in het portaal.")
    return response


def finalise(run: SettlementRun, user, lock_version, reason: str | None = None,
             today: date | None = None) -> SettlementRun:
    """Make a published run final (caller commits). Refused before the year has ended; a reason is
    required when a provider disputed or has not answered."""
    _require_manager(user, run.region_id)
    if run.state != "published":
        raise SettlementRefused(f"Alleen een gepubliceerde afrekening kan definitief worden; deze versie is "
                                f"{STATE_LABELS[run.state].lower()}.")
    if not year_has_ended(run.year, today):
        raise SettlementRefused(f"Een afrekening over {run.year} kan pas definitief worden na afloop van het jaar.")
    answers = responses(run)
    open_ = [pid for pid in provider_ids(run) if getattr(answers.get(pid), "state", None) != "accepted"]
    if open_:
        reason = clean_reason(reason, "de reden om de afrekening definitief te maken terwijl niet alle "
                                      "zorgaanbieders haar hebben geaccepteerd")
    else:
        reason = (reason or "").strip() or None
    before = _snapshot(run)
    _move(run, lock_version, "published", state="final", final_reason=reason, finalised_by=_account(user).id,
          finalised_at=utcnow())
    _audit(run, user, "settlement.finalise", f"Afrekening {run.year} versie {run.version} definitief gemaakt"
           + (f" ({len(open_)} aanbieder(s) zonder acceptatie)" if open_ else ""),
           reason=reason, not_accepted=open_, totals={k: str(v) for k, v in vars(totals(lines_of(run))).items()},
           before=before, after=_snapshot(run))
    return run


def years_with_agreements(region_id: int) -> list[int]:
    """The years the region has budget agreements in, newest first."""
    return list(db.session().exec(select(BudgetAgreement.year).where(BudgetAgreement.region_id == region_id)
                                  .distinct().order_by(BudgetAgreement.year.desc())))


def runs(region_id: int, year: int | None = None) -> list[SettlementRun]:
    """The region's runs (of one year when given), newest year and version first."""
    statement = select(SettlementRun).where(SettlementRun.region_id == region_id)
    if year is not None:
        statement = statement.where(SettlementRun.year == year)
    return list(db.session().exec(statement.order_by(SettlementRun.year.desc(), SettlementRun.version.desc())))


def runs_shown_to_organisations(region_id: int) -> list[SettlementRun]:
    """The region's runs its providers and municipalities see (:func:`shown_to_organisations`),
    newest first."""
    return [run for run in runs(region_id) if shown_to_organisations(run)]


def count_lines(run: SettlementRun) -> int:
    """The number of lines in a run."""
    return db.session().exec(select(func.count()).select_from(SettlementLine).where(
        SettlementLine.run_id == run.id)).one()
