"""Services for custom trajectory proposals (maatwerktrajecten): a regional provider's proposal, the
negotiation with the region version by version, four-eyes approval, the custom trajectory that
approval creates, attachments, prices and the contract managers' review queue.

Every step checks everything first and raises before it writes: :class:`RuleViolation` (field,
Dutch message) for bad input, :class:`TransitionRefused` for a step that is not allowed now and
:class:`StaleProposal` when the proposal changed since the caller looked at it (optimistic locking
with one atomic ``UPDATE ... WHERE lock_version = :expected``). Every step is audited with its
before and after and mails the other side on a change of state. The caller commits (except
:func:`reject_many`, which commits each rejection on its own). The state machine itself is pure:
:mod:`portal.proposals.states`; what the screens and the API read is :mod:`portal.proposals.queries`.
"""
from __future__ import annotations

import hashlib
import io
import secrets
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask import current_app
from sqlalchemy import case, func, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import select

from portal import audit, clock, db, formatting
from portal.accounts import roles
from portal.accounts.people import account_of as _account
from portal.accounts.people import contract_manager_recipients, provider_recipients
from portal.accounts.people import memberships_of as _memberships
from portal.accounts.scoping import scoped
from portal.catalogue.pricing import PERIODS, PriceBreakdown, PricingError, validate_extra
from portal.catalogue.service import below_floor, trajectory_price, unit_rate
from portal.contracts.service import term_of
from portal.mail import send_mail
from portal.models import (
    CareForm,
    CustomTrajectory,
    FrameworkAgreement,
    FrameworkSegment,
    Organisation,
    OrganisationKind,
    Proposal,
    ProposalApproval,
    ProposalAttachment,
    ProposalVersion,
    Region,
    StandardTrajectory,
    Tariff,
    User,
    utcnow,
)
from portal.money import to_cents
from portal.proposals import states
from portal.registry import ProposalRules, current_registry
from portal.validators import RuleViolation

# Per month the intensity limits are four times the weekly ones (40 a week, 160 a month).
MONTH_FACTOR = Decimal(4)
MAX_TEXT = 10_000
MAX_TITLE = 200
OPEN_STATES = (states.SUBMITTED, states.IN_NEGOTIATION)

ATTACHMENT_TYPES = {
    "pdf": ("application/pdf", "PDF"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel (XLSX)"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word (DOCX)"),
}

STALE_MESSAGE = ("Dit voorstel is intussen gewijzigd door iemand anders. Bekijk de nieuwe versie en "
                 "probeer het opnieuw.")
INCOMPLETE_FORM = "Het formulier is onvolledig verstuurd; laad de pagina opnieuw."


class StaleProposal(RuleViolation):
    """The proposal changed since the caller read it (its ``lock_version`` moved on)."""

    def __init__(self, message: str = STALE_MESSAGE):
        super().__init__(None, message)


class SubmissionKeyTaken(RuleViolation):
    """The ``submission_key`` belongs to another provider's proposal. On a screen the form was sent
    incompletely; a face where the caller chooses the key may say so in its own words."""

    def __init__(self, message: str = INCOMPLETE_FORM):
        super().__init__("submission_key", message)


@dataclass(frozen=True)
class Proposed:
    """The outcome of :func:`propose`: the proposal, and whether this call made it (False when
    the ``submission_key`` had made it before)."""

    proposal: Proposal
    created: bool


# --- Helpers ---------------------------------------------------------------------------------



def _side(user, proposal: Proposal) -> str:
    """"provider" for a member of the proposing provider, "region" for a contract manager of the
    proposal's region; anybody else is refused."""
    for membership, organisation in _memberships(user):
        if organisation.id == proposal.organisation_id and membership.role in roles.PROVIDER_ROLES:
            return "provider"
        if (membership.role == roles.CONTRACT_MANAGER and organisation.region_id == proposal.region_id
                and organisation.kind == OrganisationKind.PURCHASING_OFFICE):
            return "region"
    raise states.TransitionRefused("U hebt geen rol bij dit voorstel: alleen de zorgaanbieder zelf en de "
                                   "contractmanagers van de regio kunnen het behandelen.")


def _text(value) -> str | None:
    return None if value is None else str(value)


def _current(proposal: Proposal) -> ProposalVersion:
    return db.session().exec(select(ProposalVersion).where(
        ProposalVersion.proposal_id == proposal.id,
        ProposalVersion.number == proposal.current_version)).one()


def _standard(proposal: Proposal) -> StandardTrajectory:
    return db.session().get(StandardTrajectory, proposal.standard_trajectory_id)


def _snapshot(proposal: Proposal, version: ProposalVersion | None = None) -> dict:
    result = {"state": proposal.state, "current_version": proposal.current_version,
              "lock_version": proposal.lock_version, "title": proposal.title,
              "rejection_reason": proposal.rejection_reason}
    if version is not None:
        result["version"] = {
            "number": version.number, "side": version.side, "intensity": _text(version.intensity),
            "intensity_period": version.intensity_period, "duration_months": version.duration_months,
            "expected_per_year": version.expected_per_year, "extra": dict(version.extra or {}),
            "accepted_by_provider": version.accepted_by_provider,
        }
    return result


def _audit(action: str, summary: str, proposal: Proposal, user, before, after, **more) -> None:
    details = {"before": before, "after": after, **more}
    audit.record(action, summary, object_type="proposal", object_id=proposal.id,
                 organisation_id=proposal.organisation_id, region_id=proposal.region_id,
                 details=details, actor=_account(user))


def _lock(proposal: Proposal, lock_version) -> None:
    """Take the proposal for this change: atomically move ``lock_version`` on from the value the
    caller saw, or raise :class:`StaleProposal`. Called after every check, before any write."""
    try:
        expected = int(lock_version)
    except (TypeError, ValueError):
        raise StaleProposal() from None
    result = db.session().execute(
        update(Proposal).where(Proposal.id == proposal.id, Proposal.lock_version == expected)
        .values(lock_version=expected + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise StaleProposal()
    set_committed_value(proposal, "lock_version", expected + 1)


def _check_lock(proposal: Proposal, lock_version) -> None:
    """Early refusal (before the value checks) when the caller saw an older version."""
    try:
        if int(lock_version) != proposal.lock_version:
            raise StaleProposal()
    except (TypeError, ValueError):
        raise StaleProposal() from None


# --- Notifications ---------------------------------------------------------------------------


def _notify(proposal: Proposal, to_side: str, what: str, extra: str = "", exclude: User | None = None) -> None:
    """Mail the other side that the proposal changed (one message per recipient)."""
    recipients = (provider_recipients(proposal.organisation_id) if to_side == "provider"
                  else contract_manager_recipients(proposal.region_id))
    provider = db.session().get(Organisation, proposal.organisation_id)
    subject = f"Maatwerkvoorstel '{proposal.title}': {what}"
    body = (f"Het maatwerkvoorstel '{proposal.title}' van {provider.name} "
            f"({current_registry().segment_short_label(proposal.segment_key)}) is {what}.\n"
            f"Status: {states.LABELS[proposal.state]}; versie {proposal.current_version}.\n"
            + (f"\n{extra}\n" if extra else "")
            + "\nBekijk het voorstel in het aanbiedersportaal onder Maatwerk.")
    for recipient in recipients:
        if exclude is not None and recipient == exclude.email:
            continue
        send_mail(recipient, subject[:300], body)


# --- Checking values ---------------------------------------------------------------------------


def proposal_rules(segment_key: str) -> ProposalRules:
    """The rules of a segment's proposals (the plugin's, or the core default)."""
    return current_registry().rules_for_proposal(segment_key)


def extra_fields(segment_key: str | None) -> tuple:
    """The fields the segment's plugin adds to a proposal (empty without rules)."""
    return tuple(proposal_rules(segment_key).fields or ())


def intensity_limits(rules: ProposalRules, period: str) -> tuple[Decimal | None, Decimal]:
    factor = MONTH_FACTOR if period == "month" else Decimal(1)
    low = None if rules.min_intensity is None else rules.min_intensity * factor
    return low, rules.max_intensity * factor


def _number(value) -> str:
    return formatting.number(value)


def _clean_values(values: dict, standard: StandardTrajectory, provider: Organisation, *,
                  need_substantiation: bool = True) -> dict:
    """Every check of a proposal's values; returns them cleaned (Decimal, int, known extra fields)."""
    registry = current_registry()
    rules = registry.rules_for_proposal(standard.segment_key)
    period = values.get("intensity_period")
    if period not in PERIODS:
        raise RuleViolation("intensity_period", "Kies of de intensiteit per week of per maand geldt.")
    try:
        intensity = Decimal(str(values.get("intensity")))
        if not intensity.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        raise RuleViolation("intensity", "Vul de intensiteit in als getal, bijvoorbeeld 2,5.") from None
    low, high = intensity_limits(rules, period)
    label = current_registry().segment_short_label(standard.segment_key)
    if intensity <= 0 or (low is not None and intensity < low) or intensity > high:
        range_text = (f"van {_number(low)}" if low is not None else "boven 0") + f" tot en met {_number(high)}"
        raise RuleViolation("intensity", f"De intensiteit {PERIODS[period]} moet in {label} {range_text} "
                                         f"liggen; u vulde {_number(intensity)} in.")
    if intensity != intensity.quantize(Decimal("0.01")):
        raise RuleViolation("intensity", "Vul de intensiteit in met hoogstens twee decimalen.")
    intensity = intensity.quantize(Decimal("0.01"))
    try:
        duration = int(values.get("duration_months"))
    except (TypeError, ValueError):
        raise RuleViolation("duration_months", "Vul de doorlooptijd in hele maanden in.") from None
    if not rules.min_duration <= duration <= rules.max_duration:
        raise RuleViolation("duration_months", f"De doorlooptijd moet in {label} tussen {rules.min_duration} en "
                                               f"{rules.max_duration} maanden liggen; u vulde {duration} in.")
    try:
        expected = int(values.get("expected_per_year"))
    except (TypeError, ValueError):
        raise RuleViolation("expected_per_year", "Vul in hoeveel trajecten per jaar u verwacht (een heel getal).") from None
    if expected < 1:
        raise RuleViolation("expected_per_year", "Verwacht ten minste één traject per jaar.")
    if expected > 100_000:
        raise RuleViolation("expected_per_year", "Dat aantal trajecten per jaar is niet aannemelijk.")
    substantiation = (values.get("substantiation") or "").strip()
    if need_substantiation and not substantiation:
        raise RuleViolation("substantiation", "Onderbouw waarom de doorlooptijd of intensiteit in uw situatie "
                                              "moet afwijken van het standaardtraject; zonder onderbouwing "
                                              "kan de regio het voorstel niet beoordelen.")
    if len(substantiation) > MAX_TEXT:
        raise RuleViolation("substantiation", f"De onderbouwing is hoogstens {MAX_TEXT} tekens.")
    given = dict(values.get("extra") or {})
    extra = {}
    for field in rules.fields:
        value = given.get(field.name)
        extra[field.name] = "" if value is None else str(value).strip().replace(",", ".")
    problems = validate_extra(tuple(rules.fields), extra)
    extra = {name: value for name, value in extra.items() if value != ""}
    cleaned = {"intensity": intensity, "intensity_period": period, "duration_months": duration,
               "expected_per_year": expected, "extra": extra, "substantiation": substantiation}
    if not problems and rules.check is not None:
        problems = list(rules.check(dict(cleaned)) or [])
    if not problems:
        context = {"region": db.session().get(Region, standard.region_id).code, "provider": provider,
                   "segment_key": standard.segment_key, "standard_trajectory": standard}
        for check in registry.proposal_checks:
            problems.extend(check(dict(cleaned), context) or [])
            if problems:
                break
    if problems:
        raise RuleViolation(*problems[0])
    price(standard, cleaned, provider.id)  # refuses values no price can be made of
    below = _tariff_below_floor(standard)
    if below:
        raise RuleViolation("tariff", below)
    return cleaned


def _tariff_below_floor(standard: StandardTrajectory) -> str | None:
    """The refusal when the trajectory's tariff lies below the region's minimum tariff (a floor set
    after the tariff was): a custom trajectory is priced on it, so it may not be agreed."""
    if not current_registry().tariff_floors:
        return None
    session = db.session()
    tariff = session.get(Tariff, standard.tariff_id)
    care_form = session.get(CareForm, standard.care_form_id)
    return below_floor(standard.segment_key, tariff.unit, care_form.code if care_form else None,
                       unit_rate(tariff, standard.year))


def _refuse_unchanged(cleaned: dict, standard: StandardTrajectory) -> None:
    if (cleaned["intensity"] == standard.intensity and cleaned["intensity_period"] == standard.intensity_period
            and cleaned["duration_months"] == standard.duration_months):
        raise RuleViolation("duration_months", "Dit voorstel wijkt niet af van het standaardtraject: kies een "
                                               "andere doorlooptijd of intensiteit.")


def _regional_agreement(provider: Organisation, segment_key: str, today: date | None = None) -> FrameworkAgreement:
    """The provider's running regional-lot framework agreement for the segment, or a refusal."""
    found = db.session().exec(select(FrameworkAgreement).join(
        FrameworkSegment, FrameworkSegment.framework_agreement_id == FrameworkAgreement.id).where(
        FrameworkAgreement.organisation_id == provider.id, FrameworkAgreement.region_id == provider.region_id,
        FrameworkSegment.segment_key == segment_key).order_by(FrameworkAgreement.start_date)).all()
    running = [a for a in found if term_of(a, today=today).status == "running"]
    regional = [a for a in running if a.lot == "regional"]
    if regional:
        return regional[-1]
    label = current_registry().segment_short_label(segment_key)
    if running:
        raise RuleViolation("standard_trajectory_id",
                            "Alleen aanbieders in het regionale perceel kunnen een maatwerktraject voorstellen; "
                            f"{provider.name} zit voor {label} in het lokale perceel en declareert realisatie "
                            "op standaardtrajecten.")
    raise RuleViolation("standard_trajectory_id",
                        "Alleen aanbieders in het regionale perceel kunnen een maatwerktraject voorstellen; "
                        f"{provider.name} heeft geen lopende raamovereenkomst voor {label}.")


def _new_version(proposal: Proposal, number: int, side: str, user, cleaned: dict, comment: str = "",
                 accepted: bool = False) -> ProposalVersion:
    version = ProposalVersion(
        proposal_id=proposal.id, number=number, side=side, author_id=_account(user).id,
        intensity=cleaned["intensity"], intensity_period=cleaned["intensity_period"],
        duration_months=cleaned["duration_months"], expected_per_year=cleaned["expected_per_year"],
        extra=dict(cleaned["extra"]), substantiation=cleaned["substantiation"], comment=comment,
        accepted_by_provider=accepted)
    db.session().add(version)
    return version


def _touch(proposal: Proposal, state: str | None = None) -> None:
    proposal.updated_at = utcnow()
    if state is not None:
        proposal.state = state
    db.session().add(proposal)


# --- Starting and changing a proposal -------------------------------------------------------


def start_proposal(provider: Organisation, user, standard_trajectory_id: int, title: str, values: dict,
                   submission_key: str) -> Proposal:
    """A new draft proposal (version 1) from a standard trajectory. The same ``submission_key``
    again returns the proposal made the first time (a double submit creates one)."""
    return _start(provider, user, standard_trajectory_id, title, values, submission_key).proposal


def _start(provider: Organisation, user, standard_trajectory_id: int, title: str, values: dict,
           submission_key: str) -> Proposed:
    session = db.session()
    key = (submission_key or "").strip()
    if not key or len(key) > 64:
        raise RuleViolation("submission_key", INCOMPLETE_FORM)
    existing = session.exec(select(Proposal).where(Proposal.submission_key == key)).first()
    if existing is not None:
        if existing.organisation_id != provider.id:
            raise SubmissionKeyTaken()
        return Proposed(existing, created=False)
    if provider is None or provider.kind != OrganisationKind.PROVIDER:
        raise RuleViolation(None, "Alleen een zorgaanbieder kan een maatwerktraject voorstellen.")
    if "provider" != _side_for_provider(user, provider):
        raise states.TransitionRefused("Alleen medewerkers van de zorgaanbieder kunnen een voorstel doen.")
    standard = session.get(StandardTrajectory, standard_trajectory_id) if standard_trajectory_id else None
    if standard is None or standard.region_id != provider.region_id:
        raise RuleViolation("standard_trajectory_id", "Kies een standaardtraject uit de catalogus van uw regio.")
    if standard.segment_key not in current_registry().segments:
        raise RuleViolation("standard_trajectory_id", "Het segment van dit standaardtraject is niet bekend.")
    agreement = _regional_agreement(provider, standard.segment_key)
    title = (title or "").strip()
    if not title:
        raise RuleViolation("title", "Geef het voorstel een titel.")
    if len(title) > MAX_TITLE:
        raise RuleViolation("title", f"Een titel is hoogstens {MAX_TITLE} tekens.")
    cleaned = _clean_values(values, standard, provider)
    _refuse_unchanged(cleaned, standard)

    proposal = Proposal(region_id=provider.region_id, organisation_id=provider.id,
                        framework_agreement_id=agreement.id, standard_trajectory_id=standard.id,
                        segment_key=standard.segment_key, state=states.DRAFT, title=title, current_version=1,
                        lock_version=1, submission_key=key, created_by=_account(user).id)
    session.add(proposal)
    session.flush()
    version = _new_version(proposal, 1, "provider", user, cleaned)
    session.flush()
    _audit("proposal.started", f"Maatwerkvoorstel '{title}' van {provider.name} als concept aangemaakt",
           proposal, user, None, _snapshot(proposal, version),
           standard_trajectory=standard.code)
    return Proposed(proposal, created=True)


def propose(provider: Organisation, user, standard_trajectory_id: int, title: str, values: dict,
            submission_key: str | None, *, submit_now: bool,
            attachment: tuple[str, bytes] | None = None) -> Proposed:
    """A provider's new proposal, as the screen and the API make it: started as a draft (or the
    one this ``submission_key`` made before; without a key a fresh one is drawn), with the
    attachment (file name, bytes) when one is given, and submitted to the region when
    ``submit_now`` and it is still a draft. Raises like :func:`start_proposal`,
    :func:`add_attachment` and :func:`submit`; the caller commits."""
    outcome = _start(provider, user, standard_trajectory_id, title, values, submission_key or secrets.token_hex(16))
    proposal = outcome.proposal
    if attachment is not None:
        add_attachment(proposal, user, *attachment)
    if submit_now and proposal.state == states.DRAFT:
        submit(proposal, user, proposal.lock_version)
    return outcome


def _side_for_provider(user, provider: Organisation) -> str | None:
    for membership, organisation in _memberships(user):
        if organisation.id == provider.id and membership.role in roles.PROVIDER_ROLES:
            return "provider"
    return None


def _step(proposal: Proposal, user, action: str, lock_version) -> tuple[str, str | None]:
    """Side and next state of ``action``; refuses a stale version, a wrong side or state."""
    side = _side(user, proposal)
    _check_lock(proposal, lock_version)
    return side, states.next_state(proposal.state, action, side)


def update_draft(proposal: Proposal, user, values: dict, lock_version) -> Proposal:
    """Change the values of a draft (still version 1; nothing is sent)."""
    _step(proposal, user, "edit_draft", lock_version)
    standard = _standard(proposal)
    provider = db.session().get(Organisation, proposal.organisation_id)
    cleaned = _clean_values(values, standard, provider)
    _refuse_unchanged(cleaned, standard)
    version = _current(proposal)
    before = _snapshot(proposal, version)
    _lock(proposal, lock_version)
    for name in ("intensity", "intensity_period", "duration_months", "expected_per_year", "substantiation"):
        setattr(version, name, cleaned[name])
    version.extra = dict(cleaned["extra"])
    db.session().add(version)
    _touch(proposal)
    db.session().flush()
    _audit("proposal.draft_changed", f"Concept van maatwerkvoorstel '{proposal.title}' gewijzigd",
           proposal, user, before, _snapshot(proposal, version))
    return proposal


def submit(proposal: Proposal, user, lock_version) -> Proposal:
    """Send the draft to the region."""
    _side_name, to_state = _step(proposal, user, "submit", lock_version)
    version = _current(proposal)
    before = _snapshot(proposal, version)
    _lock(proposal, lock_version)
    proposal.submitted_at = utcnow()
    _touch(proposal, to_state)
    db.session().flush()
    _audit("proposal.submitted", f"Maatwerkvoorstel '{proposal.title}' ingediend bij de regio",
           proposal, user, before, _snapshot(proposal, version))
    _notify(proposal, "region", "ingediend en wacht op beoordeling")
    return proposal


def counter(proposal: Proposal, manager, values: dict, comment: str, lock_version) -> Proposal:
    """A counter-proposal of the region: a new version with changed parameters and a comment."""
    _side_name, to_state = _step(proposal, manager, "counter", lock_version)
    comment = (comment or "").strip()
    if not comment:
        raise RuleViolation("comment", "Licht het tegenvoorstel toe: schrijf de zorgaanbieder waarom de "
                                       "parameters anders moeten.")
    if len(comment) > MAX_TEXT:
        raise RuleViolation("comment", f"De toelichting is hoogstens {MAX_TEXT} tekens.")
    previous = _current(proposal)
    values = dict(values)
    if not (values.get("substantiation") or "").strip():
        values["substantiation"] = previous.substantiation  # the provider's reasoning stays with it
    provider = db.session().get(Organisation, proposal.organisation_id)
    cleaned = _clean_values(values, _standard(proposal), provider)
    before = _snapshot(proposal, previous)
    _lock(proposal, lock_version)
    proposal.current_version = previous.number + 1
    version = _new_version(proposal, proposal.current_version, "region", manager, cleaned, comment)
    _touch(proposal, to_state)
    db.session().flush()
    _audit("proposal.countered", f"Tegenvoorstel (versie {version.number}) op maatwerkvoorstel "
                                 f"'{proposal.title}'", proposal, manager, before, _snapshot(proposal, version),
           comment=comment)
    _notify(proposal, "provider", "beantwoord met een tegenvoorstel", f"Toelichting van de regio: {comment}")
    return proposal


def accept_counter(proposal: Proposal, user, lock_version) -> Proposal:
    """The provider accepts the region's counter-proposal; that version goes back for approval."""
    _side_name, to_state = _step(proposal, user, "accept_counter", lock_version)
    version = _current(proposal)
    if version.side != "region":
        raise states.TransitionRefused("Er ligt geen tegenvoorstel van de regio om te aanvaarden.")
    before = _snapshot(proposal, version)
    _lock(proposal, lock_version)
    version.accepted_by_provider = True
    db.session().add(version)
    _touch(proposal, to_state)
    db.session().flush()
    _audit("proposal.counter_accepted", f"Tegenvoorstel (versie {version.number}) op '{proposal.title}' "
                                        "aanvaard door de zorgaanbieder", proposal, user, before,
           _snapshot(proposal, version))
    _notify(proposal, "region", "aanvaard: het tegenvoorstel wacht op goedkeuring door een andere contractmanager")
    return proposal


def revise(proposal: Proposal, user, values: dict, lock_version) -> Proposal:
    """The provider answers a counter-proposal with a revised proposal (a new version)."""
    _side_name, to_state = _step(proposal, user, "revise", lock_version)
    standard = _standard(proposal)
    provider = db.session().get(Organisation, proposal.organisation_id)
    cleaned = _clean_values(values, standard, provider)
    _refuse_unchanged(cleaned, standard)
    previous = _current(proposal)
    before = _snapshot(proposal, previous)
    _lock(proposal, lock_version)
    proposal.current_version = previous.number + 1
    version = _new_version(proposal, proposal.current_version, "provider", user, cleaned,
                           (values.get("comment") or "").strip()[:MAX_TEXT])
    _touch(proposal, to_state)
    db.session().flush()
    _audit("proposal.revised", f"Herzien maatwerkvoorstel (versie {version.number}) '{proposal.title}' ingediend",
           proposal, user, before, _snapshot(proposal, version))
    _notify(proposal, "region", f"herzien (versie {version.number}) en opnieuw ingediend")
    return proposal


def first_of_next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _counter_author(version: ProposalVersion) -> int | None:
    """The manager whose counter-proposal the provider accepted in this version (that counts as
    their approval); None when the provider wrote it."""
    return version.author_id if version.side == "region" and version.accepted_by_provider else None


def _four_eyes_threshold() -> Decimal:
    return Decimal(str(current_app.config["FOUR_EYES_THRESHOLD"]))


def _version_yearly(proposal: Proposal, version: ProposalVersion) -> Decimal:
    """The expected value of a year of this version; raises RuleViolation when it cannot be priced."""
    return yearly_value(price(proposal, values_of(version), proposal.organisation_id), version.expected_per_year)


def approve(proposal: Proposal, manager, lock_version, today: date | None = None) -> Proposal:
    """A contract manager's approval of the current version. Above the four-eyes threshold it
    takes two different managers (an accepted counter-proposal counts as its author's approval);
    the approval that completes it creates the custom trajectory (the additional agreement)."""
    today = today or clock.today()
    _step(proposal, manager, "approve", lock_version)
    session = db.session()
    account = _account(manager)
    version = _current(proposal)
    earlier = list(session.exec(select(ProposalApproval.user_id).where(
        ProposalApproval.proposal_id == proposal.id,
        ProposalApproval.version_number == version.number)).all())
    yearly, threshold = _version_yearly(proposal, version), _four_eyes_threshold()
    outcome = states.register_approval(account.id, earlier, yearly, threshold, _counter_author(version))
    agreement = session.get(FrameworkAgreement, proposal.framework_agreement_id)
    valid_from = valid_until = None
    if outcome.approved:
        term = term_of(agreement, today=today)
        if term.status != "running":
            raise RuleViolation(None, f"De raamovereenkomst {agreement.reference} loopt niet (meer); een "
                                      "maatwerktraject kan alleen onder een lopende raamovereenkomst.")
        valid_until = min(term.end, agreement.terminated_on) if agreement.terminated_on else term.end
        valid_from = max(first_of_next_month(today), agreement.start_date)
        if valid_from > valid_until:
            raise RuleViolation(None, f"De raamovereenkomst {agreement.reference} eindigt op {valid_until:%d-%m-%Y}, "
                                      "vóór de eerste maand waarin het maatwerktraject kan ingaan.")
    before = _snapshot(proposal, version)
    _lock(proposal, lock_version)
    session.add(ProposalApproval(proposal_id=proposal.id, version_number=version.number, user_id=account.id))
    if not outcome.approved:
        _touch(proposal)
        session.flush()
        _audit("proposal.approval_registered",
               f"Eerste goedkeuring van maatwerkvoorstel '{proposal.title}' (versie {version.number}); "
               "een tweede contractmanager moet ook goedkeuren", proposal, manager, before,
               _snapshot(proposal, version), approvals=f"{outcome.have}/{outcome.needed}",
               yearly_value=str(yearly), threshold=str(threshold))
        _notify(proposal, "region", "door één contractmanager goedgekeurd en wacht op een tweede goedkeuring",
                f"Verwachte waarde per jaar: {yearly} euro (boven de grens van {threshold} euro).", exclude=account)
        return proposal
    proposal.decided_at = utcnow()
    _touch(proposal, states.APPROVED)
    standard = _standard(proposal)
    custom = CustomTrajectory(
        region_id=proposal.region_id, organisation_id=proposal.organisation_id, proposal_id=proposal.id,
        standard_trajectory_id=standard.id, segment_key=proposal.segment_key,
        code=f"{standard.code}-M{proposal.id}"[:40], name=proposal.title, intensity=version.intensity,
        intensity_period=version.intensity_period, duration_months=version.duration_months,
        extra={**dict(standard.extra or {}), **dict(version.extra or {})},
        valid_from=valid_from, valid_until=valid_until)
    session.add(custom)
    session.flush()
    _audit("proposal.approved", f"Maatwerkvoorstel '{proposal.title}' goedgekeurd (versie {version.number})",
           proposal, manager, before, _snapshot(proposal, version), approvals=f"{outcome.have}/{outcome.needed}",
           yearly_value=str(yearly), threshold=str(threshold))
    audit.record("custom_trajectory.created",
                 f"Maatwerktraject {custom.code} vastgelegd als aanvullende afspraak voor alle gemeenten van de regio",
                 object_type="custom_trajectory", object_id=custom.id, organisation_id=custom.organisation_id,
                 region_id=custom.region_id, actor=account,
                 details={"before": None, "after": {
                     "code": custom.code, "proposal_id": proposal.id, "intensity": str(custom.intensity),
                     "intensity_period": custom.intensity_period, "duration_months": custom.duration_months,
                     "valid_from": str(valid_from), "valid_until": str(valid_until),
                     "framework_agreement": agreement.reference}})
    _notify(proposal, "provider", "goedgekeurd",
            f"Het maatwerktraject {custom.code} geldt als aanvullende afspraak voor alle gemeenten van de regio, "
            f"van {valid_from:%d-%m-%Y} tot en met {valid_until:%d-%m-%Y}.")
    return proposal


def reject(proposal: Proposal, manager, reason: str, lock_version) -> Proposal:
    """Reject the proposal; the reason is required and goes to the provider."""
    _side_name, to_state = _step(proposal, manager, "reject", lock_version)
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("reason", "Geef de reden van de afwijzing; de zorgaanbieder krijgt die te zien.")
    if len(reason) > MAX_TEXT:
        raise RuleViolation("reason", f"De reden is hoogstens {MAX_TEXT} tekens.")
    before = _snapshot(proposal, _current(proposal))
    _lock(proposal, lock_version)
    proposal.rejection_reason = reason
    proposal.decided_at = utcnow()
    _touch(proposal, to_state)
    db.session().flush()
    _audit("proposal.rejected", f"Maatwerkvoorstel '{proposal.title}' afgewezen", proposal, manager, before,
           _snapshot(proposal, _current(proposal)))
    _notify(proposal, "provider", "afgewezen", f"Reden: {reason}")
    return proposal


def withdraw(proposal: Proposal, user, lock_version) -> Proposal:
    """The provider withdraws its proposal (from draft, submitted or in negotiation)."""
    _side_name, to_state = _step(proposal, user, "withdraw", lock_version)
    was_draft = proposal.state == states.DRAFT
    before = _snapshot(proposal, _current(proposal))
    _lock(proposal, lock_version)
    proposal.decided_at = utcnow()
    _touch(proposal, to_state)
    db.session().flush()
    _audit("proposal.withdrawn", f"Maatwerkvoorstel '{proposal.title}' ingetrokken door de zorgaanbieder",
           proposal, user, before, _snapshot(proposal, _current(proposal)))
    if not was_draft:  # the region never saw a draft
        _notify(proposal, "region", "ingetrokken door de zorgaanbieder")
    return proposal


def take_step(proposal: Proposal, user, action: str, lock_version, values: dict | None = None,
              reason: str | None = None) -> Proposal:
    """One step of the negotiation by its name in :data:`portal.proposals.states.TRANSITIONS`, on
    the version the caller saw (``lock_version``): ``values`` for the steps that change the
    parameters (a counter-proposal's ``comment`` among them), ``reason`` for a rejection."""
    if action == "edit_draft":
        return update_draft(proposal, user, values, lock_version)
    if action == "revise":
        return revise(proposal, user, values, lock_version)
    if action == "counter":
        values = dict(values)
        return counter(proposal, user, values, values.pop("comment", ""), lock_version)
    if action == "reject":
        return reject(proposal, user, reason, lock_version)
    steps = {"submit": submit, "accept_counter": accept_counter, "approve": approve, "withdraw": withdraw}
    if action not in steps:
        raise states.TransitionRefused(f"Onbekende stap: {action}.")
    return steps[action](proposal, user, lock_version)


def reject_many(manager, chosen: list[tuple[int, int]], reason: str) -> tuple[int, list[str]]:
    """Reject each chosen proposal (id, the lock version the manager saw) with one reason, each in
    its own transaction: committed when it is rejected, rolled back and named ("title: why") when
    it is refused, e.g. because it changed after the queue was shown. Proposals the manager may
    not see are passed over. Returns how many were rejected and the refusals."""
    session = db.session()
    done, refused = 0, []
    for proposal_id, lock in chosen:
        proposal = session.exec(scoped(select(Proposal), Proposal).where(Proposal.id == proposal_id)).first()
        if proposal is None:
            continue
        try:
            reject(proposal, manager, reason, lock)
            session.commit()
            done += 1
        except (RuleViolation, states.TransitionRefused) as error:
            session.rollback()
            refused.append(f"{proposal.title}: {error.message}")
    return done, refused


# --- What the screens offer ------------------------------------------------------------------


def viewer_side(role: str) -> str:
    """The side a role reads a proposal from: "provider" for a provider's people, else "region"."""
    return "provider" if role in roles.PROVIDER_ROLES else "region"


def actions_for(proposal: Proposal, role: str, user=None) -> list[str]:
    """The steps a proposal's page offers this role now; auditors only read. With ``user``, a
    contract manager who may not approve this version (its counter-proposal's author, or who
    approved it already) is not offered "approve"."""
    side = viewer_side(role)
    if side == "region" and role != roles.CONTRACT_MANAGER:
        return []
    actions = states.allowed_actions(proposal.state, side)
    if "approve" in actions and user is not None and not approval_progress(proposal).may_approve(_account(user).id):
        actions = [action for action in actions if action != "approve"]
    return actions


@dataclass(frozen=True)
class ApprovalStep:
    """One approval of the current version: given (by whom, when) or still waiting."""

    given: bool
    by: str | None = None
    by_counter: bool = False  # an accepted counter-proposal counts as its author's approval


@dataclass(frozen=True)
class ApprovalProgress:
    """Where the approval of a proposal's current version stands (four eyes above the threshold)."""

    four_eyes: bool  # the yearly value is above the threshold: two different managers
    threshold: Decimal
    yearly: Decimal | None
    steps: tuple[ApprovalStep, ...]  # the approvals given, then those still waiting (at least one)
    excluded: frozenset[int]  # accounts that may not give the next approval

    @property
    def needed(self) -> int:
        return len(self.steps)

    @property
    def given(self) -> int:
        return sum(1 for step in self.steps if step.given)

    @property
    def given_by(self) -> list[str]:
        return [step.by for step in self.steps if step.given and step.by]

    def may_approve(self, account_id: int) -> bool:
        """Whether this manager may give the next approval (the proposal still waits for one)."""
        return account_id not in self.excluded


def approval_progress(proposal: Proposal) -> ApprovalProgress:
    """The approvals the current version needs and has: the counter-proposal's author (when the
    provider accepted a counter-proposal), the managers who approved it, and the steps still open."""
    session = db.session()
    version = _current(proposal)
    threshold = _four_eyes_threshold()
    try:
        yearly = _version_yearly(proposal, version)
    except RuleViolation:  # values the tariffs cannot price: one approval, as approve() would refuse anyway
        yearly = None
    needed = states.approvals_needed(yearly, threshold) if yearly is not None else 1
    steps, excluded = [], set()
    counter_author = _counter_author(version)
    if counter_author is not None:
        author = session.get(User, counter_author)
        steps.append(ApprovalStep(True, author.name if author else None, by_counter=True))
        excluded.add(counter_author)
    for approval, name in session.exec(
            select(ProposalApproval, User.name).join(User, User.id == ProposalApproval.user_id)
            .where(ProposalApproval.proposal_id == proposal.id,
                   ProposalApproval.version_number == version.number)
            .order_by(ProposalApproval.id)).all():
        steps.append(ApprovalStep(True, name))
        excluded.add(approval.user_id)
    # a submitted proposal waits for at least one more approval: the click that completes it
    steps += [ApprovalStep(False)] * max(1, needed - len(steps))
    return ApprovalProgress(needed > 1, threshold, yearly, tuple(steps), frozenset(excluded))


# --- Attachments -----------------------------------------------------------------------------


def upload_folder() -> Path:
    configured = current_app.config.get("UPLOAD_FOLDER") or str(Path(current_app.instance_path) / "uploads")
    folder = Path(configured)
    if not folder.is_absolute():
        folder = Path(current_app.instance_path).parent / folder
    return folder


def sniff(data: bytes) -> str | None:
    """The kind of file the bytes really are ("pdf", "xlsx", "docx"), or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
                if "[Content_Types].xml" not in names:
                    return None
                types = archive.read("[Content_Types].xml").decode("utf-8", "replace")
        except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError):
            return None
        if any(n.startswith("xl/") for n in names) and "/xl/" in types:
            return "xlsx"
        if any(n.startswith("word/") for n in names) and "/word/" in types:
            return "docx"
    return None


def add_attachment(proposal: Proposal, user, filename: str, data: bytes) -> ProposalAttachment:
    """Store a PDF, XLSX or DOCX with the current version, checked by its content and size, under
    a generated name in the upload folder."""
    if _side(user, proposal) != "provider":
        raise states.TransitionRefused("Alleen de zorgaanbieder voegt bijlagen toe aan zijn voorstel.")
    if proposal.state in states.FINAL:
        raise states.TransitionRefused(f"Bij een voorstel met status '{states.LABELS[proposal.state].lower()}' "
                                       "kunt u geen bijlagen meer toevoegen.")
    name = Path((filename or "").replace("\\", "/")).name.strip()
    if not name:
        raise RuleViolation("attachment", "Kies een bestand.")
    data = data or b""
    limit = int(current_app.config["MAX_ATTACHMENT_BYTES"])
    if not data:
        raise RuleViolation("attachment", "Het bestand is leeg.")
    if len(data) > limit:
        raise RuleViolation("attachment", f"Het bestand is te groot ({_size(len(data))}); een bijlage is "
                                          f"hoogstens {_size(limit)}.")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = "PDF, XLSX (Excel) of DOCX (Word)"
    if extension not in ATTACHMENT_TYPES:
        raise RuleViolation("attachment", f"Dit soort bestand wordt niet aangenomen; voeg een {allowed} toe.")
    kind = sniff(data)
    if kind != extension:
        raise RuleViolation("attachment", f"De inhoud van '{name[:80]}' is geen echt "
                                          f"{ATTACHMENT_TYPES[extension][1]}-bestand; voeg een {allowed} toe.")
    stored = secrets.token_hex(16)
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(data)
    attachment = ProposalAttachment(
        proposal_id=proposal.id, version_number=proposal.current_version, original_name=name[-255:],
        stored_name=stored, content_type=ATTACHMENT_TYPES[kind][0], size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), uploaded_by=_account(user).id)
    session = db.session()
    session.add(attachment)
    proposal.updated_at = utcnow()
    session.add(proposal)
    session.flush()
    _audit("proposal.attachment_added", f"Bijlage '{attachment.original_name}' toegevoegd aan maatwerkvoorstel "
                                        f"'{proposal.title}'", proposal, user, None,
           {"attachment_id": attachment.id, "original_name": attachment.original_name, "size": attachment.size,
            "content_type": attachment.content_type, "sha256": attachment.sha256,
            "version_number": attachment.version_number})
    return attachment


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{_number(Decimal(count) / (1024 * 1024)).split(',')[0]} MB" if count % (1024 * 1024) == 0 \
            else f"{_number(round(Decimal(count) / (1024 * 1024), 1))} MB"
    if count >= 1024:
        return f"{_number(round(Decimal(count) / 1024, 1))} kB"
    return f"{count} bytes"


def attachment_file(attachment: ProposalAttachment) -> Path:
    """Where the attachment's bytes are (under its generated name, never the user's)."""
    return upload_folder() / Path(attachment.stored_name).name


# --- The thread ------------------------------------------------------------------------------


def versions(proposal: Proposal) -> list[ProposalVersion]:
    return list(db.session().exec(select(ProposalVersion).where(
        ProposalVersion.proposal_id == proposal.id).order_by(ProposalVersion.number)).all())


def values_of(version: ProposalVersion) -> dict:
    """A version's values in the shape the checks and :func:`price` take."""
    return {"intensity": version.intensity, "intensity_period": version.intensity_period,
            "duration_months": version.duration_months, "expected_per_year": version.expected_per_year,
            "extra": dict(version.extra or {}), "substantiation": version.substantiation}


def changes(previous: ProposalVersion | None, version: ProposalVersion) -> list[tuple[str, str, str]]:
    """What changed from ``previous`` to ``version``: (Dutch label, before, after) display strings."""
    if previous is None:
        return []
    result = []

    def intensity(v):
        return f"{_number(v.intensity)} {PERIODS.get(v.intensity_period, v.intensity_period)}"

    if (previous.intensity, previous.intensity_period) != (version.intensity, version.intensity_period):
        result.append(("Intensiteit", intensity(previous), intensity(version)))
    if previous.duration_months != version.duration_months:
        result.append(("Doorlooptijd", f"{previous.duration_months} maanden", f"{version.duration_months} maanden"))
    if previous.expected_per_year != version.expected_per_year:
        result.append(("Verwacht aantal trajecten per jaar", str(previous.expected_per_year),
                       str(version.expected_per_year)))
    labels = {}
    proposal = db.session().get(Proposal, version.proposal_id)
    if proposal is not None:
        labels = {f.name: f.label for f in proposal_rules(proposal.segment_key).fields}
    before_extra, after_extra = dict(previous.extra or {}), dict(version.extra or {})
    for name in sorted(set(before_extra) | set(after_extra), key=lambda n: (list(labels).index(n)
                                                                          if n in labels else 99, n)):
        old, new = before_extra.get(name), after_extra.get(name)
        if str(old) != str(new):
            result.append((labels.get(name, name), _display(old), _display(new)))
    if previous.substantiation != version.substantiation:
        result.append(("Onderbouwing", previous.substantiation, version.substantiation))
    if proposal is not None:
        try:
            before_price = price(proposal, values_of(previous), proposal.organisation_id).total
            after_price = price(proposal, values_of(version), proposal.organisation_id).total
        except RuleViolation:
            before_price = after_price = None
        if before_price != after_price:
            result.append(("Prijs per traject", formatting.money(before_price), formatting.money(after_price)))
    return result


def _display(value) -> str:
    if value in (None, ""):
        return "—"
    try:
        return _number(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


# --- Prices ----------------------------------------------------------------------------------


def price(proposal_or_standard, values: dict, provider_id: int | None) -> PriceBreakdown:
    """The price of one trajectory with these values, from the same tariffs as the catalogue
    (with the surcharges the provider qualifies for)."""
    if isinstance(proposal_or_standard, Proposal):
        standard = _standard(proposal_or_standard)
    else:
        standard = proposal_or_standard
    extra = {**dict(standard.extra or {}), **dict(values.get("extra") or {})}
    try:
        intensity = Decimal(str(values.get("intensity")))
        duration = int(values.get("duration_months"))
    except (InvalidOperation, ValueError, TypeError):
        raise RuleViolation("intensity", "Met deze waarden is geen prijs te berekenen.") from None
    try:
        return trajectory_price(standard, provider_id, intensity=intensity,
                                intensity_period=values.get("intensity_period"), duration_months=duration,
                                extra=extra)
    except PricingError as error:
        raise RuleViolation(error.field, error.message) from None


def yearly_value(breakdown: PriceBreakdown, expected_per_year) -> Decimal:
    """The expected value of a year: the trajectory price times the trajectories expected a year."""
    return to_cents(breakdown.total * Decimal(int(expected_per_year or 0)))


# --- The review queue ------------------------------------------------------------------------


def _queue_statement(filters: dict):
    statement = scoped(select(Proposal), Proposal)
    domain = filters.get("domain")
    if domain:
        statement = statement.where(Proposal.segment_key.like(f"{domain}.%"))
    if filters.get("segment"):
        statement = statement.where(Proposal.segment_key == filters["segment"])
    if filters.get("provider_id"):
        statement = statement.where(Proposal.organisation_id == int(filters["provider_id"]))
    state = filters.get("state")
    if state:
        statement = statement.where(Proposal.state == state)
    else:  # a draft is the provider's own until it is submitted
        statement = statement.where(Proposal.state != states.DRAFT)
    if filters.get("min_age_days") not in (None, ""):
        limit = utcnow() - timedelta(days=int(filters["min_age_days"]))
        statement = statement.where(func.coalesce(Proposal.submitted_at, Proposal.created_at) <= limit)
    return statement


def review_queue(filters: dict) -> list[Proposal]:
    """The proposals of the signed-in manager's region matching ``filters`` (domain, segment,
    provider_id, state, min_age_days): open ones first, the oldest submitted first."""
    open_first = case((Proposal.state.in_(OPEN_STATES), 0), else_=1)
    statement = _queue_statement(filters or {}).order_by(
        open_first, func.coalesce(Proposal.submitted_at, Proposal.created_at), Proposal.id)
    return list(db.session().exec(statement).all())


def queue_counts() -> dict[str, int]:
    """How many proposals of the region are in each state (every state present, zero included)."""
    counts = {state: 0 for state in states.LABELS}
    statement = scoped(select(Proposal.state, func.count(Proposal.id)), Proposal).group_by(Proposal.state)
    for state, count in db.session().exec(statement).all():
        counts[state] = count
    return counts
