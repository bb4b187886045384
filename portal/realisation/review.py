"""Reviewing realisation: the region's contract managers approve or reject a provider's submitted
report version, one at a time or several at once, and read its history.

Rules (every one checked before anything is written):

- only a contract manager of the report's region decides (:class:`ReviewRefused` otherwise);
- only a ``submitted`` version is approved or rejected; an approved report is locked for good (no
  second decision, and :mod:`portal.realisation.importing` refuses corrections of its period);
- a rejection needs a reason of at least ``MIN_REASON`` characters; the provider gets to see it;
- optimistic locking: the decision is one atomic ``UPDATE ... WHERE lock_version = :expected AND
  state = 'submitted'``; when someone else decided first, or a correction replaced the version,
  the UPDATE finds nothing and the caller gets :class:`StaleReport` ("intussen gewijzigd");
- every decision is audited (before and after: state, total value, reason) and mailed to the
  provider's users.

**Bulk approval is only "where safe"**: a report with warnings (for instance more place-days than
places bought) is skipped with "beoordeel deze afzonderlijk", so warnings are always looked at on
the report's own page. Bulk rejection has no such limit (one reason for all). A failed decision
writes nothing (it fails on a check or on the UPDATE), so one refusal never undoes another
decision in the same batch. The caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, update
from sqlmodel import select

from portal import audit, db, validators
from portal.accounts import roles
from portal.accounts.people import account_of as _account
from portal.accounts.people import is_region_manager, provider_recipients
from portal.accounts.scoping import scoped
from portal.formatting import money
from portal.mail import send_mail
from portal.models import Membership, Organisation, utcnow
from portal.models.realisation import RealisationLine, RealisationReport, RealisationUpload
from portal.realisation.rules import Period
from portal.registry import current_registry
from portal.validators import RuleViolation

MIN_REASON = validators.MIN_REASON
MAX_REASON = validators.MAX_REASON
STATE_LABELS = {"submitted": "Ingediend", "approved": "Goedgekeurd", "rejected": "Afgewezen",
                "superseded": "Vervangen door een correctie"}
STALE_MESSAGE = ("Deze realisatie is intussen gewijzigd: iemand anders heeft haar beoordeeld of de "
                 "zorgaanbieder heeft een correctie ingediend. Bekijk de nieuwe stand en probeer het opnieuw.")
SKIP_WARNINGS = "deze rapportage heeft waarschuwingen; beoordeel deze afzonderlijk."


class ReviewRefused(RuleViolation):
    """The decision is not allowed (wrong role or region, wrong state); Dutch message."""

    def __init__(self, message: str):
        super().__init__(None, message)


class StaleReport(ReviewRefused):
    """The report changed since the caller looked at it (its ``lock_version`` moved on)."""

    def __init__(self, message: str = STALE_MESSAGE):
        super().__init__(message)


@dataclass
class BulkOutcome:
    """What a bulk decision did: the reports decided, and the ones left alone with the reason."""

    decided: list[RealisationReport] = field(default_factory=list)
    skipped: list[tuple[RealisationReport, str]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


# --- Helpers ---------------------------------------------------------------------------------


def _report(report_or_id) -> RealisationReport:
    if isinstance(report_or_id, RealisationReport):
        return report_or_id
    found = db.session().get(RealisationReport, int(report_or_id))
    if found is None:
        raise ReviewRefused("Deze realisatie bestaat niet (meer).")
    return found


def period_of(report: RealisationReport) -> Period:
    return Period(report.year, report.period_kind, report.period)


def report_label(report: RealisationReport, municipality_name: str | None = None) -> str:
    """Municipality, segment, period and version, e.g. "Venlo, <Domein> S4, maart 2026 (versie 2)"."""
    if municipality_name is None:
        municipality = db.session().get(Organisation, report.municipality_id)
        municipality_name = municipality.name if municipality else "?"
    return (f"{municipality_name}, {current_registry().segment_short_label(report.segment_key)}, {period_of(report).label} "
            f"(versie {report.version})")


def state_refusal(report: RealisationReport) -> str | None:
    """Why this version cannot be decided now, or None when it can."""
    if report.state == "submitted":
        return None
    if report.state == "approved":
        return "Deze realisatie is al goedgekeurd en staat vast; er is geen nieuwe beoordeling mogelijk."
    if report.state == "rejected":
        return ("Deze realisatie is al afgewezen. De zorgaanbieder levert een correctie aan; die kunt u "
                "daarna beoordelen.")
    return ("Deze versie is vervangen door een correctie van de zorgaanbieder; beoordeel de nieuwste "
            "versie.")


def _snapshot(report: RealisationReport) -> dict:
    return {"state": report.state, "total_value": str(report.total_value), "reason": report.rejection_reason,
            "version": report.version, "lock_version": report.lock_version}


def _check(report: RealisationReport, user) -> None:
    if not is_region_manager(user, report.region_id):
        raise ReviewRefused("Alleen een contractmanager van de regio beoordeelt realisatie.")
    refusal = state_refusal(report)
    if refusal:
        raise ReviewRefused(refusal)


def _expected(lock_version) -> int:
    try:
        return int(lock_version)
    except (TypeError, ValueError):
        raise StaleReport() from None


def clean_reason(reason) -> str:
    return validators.clean_reason(
        reason, f"Geef de reden van de afwijzing in minstens {MIN_REASON} tekens; de zorgaanbieder krijgt die te "
                "zien en moet er een correctie op kunnen baseren.", MIN_REASON, MAX_REASON)


def _decide(report: RealisationReport, user, lock_version, to_state: str, reason: str | None) -> None:
    """The atomic step: from ``submitted`` at the expected lock version to ``to_state``, or
    :class:`StaleReport`. Writes nothing when it fails."""
    expected = _expected(lock_version)
    if expected != report.lock_version:
        raise StaleReport()
    account = _account(user)
    now = utcnow()
    session = db.session()
    changed = session.execute(
        update(RealisationReport).where(
            RealisationReport.id == report.id, RealisationReport.lock_version == expected,
            RealisationReport.state == "submitted")
        .values(state=to_state, lock_version=expected + 1, rejection_reason=reason, reviewed_by=account.id,
                reviewed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise StaleReport()
    session.refresh(report)


def _audit(report: RealisationReport, user, action: str, summary: str, before: dict) -> None:
    audit.record(action, summary, object_type="realisation_report", object_id=report.id,
                 organisation_id=report.organisation_id, region_id=report.region_id, actor=_account(user),
                 details={"before": before, "after": _snapshot(report),
                          "municipality_id": report.municipality_id, "segment_key": report.segment_key,
                          "period": period_of(report).code})


# --- Notifications ---------------------------------------------------------------------------


def _notify(reports: list[RealisationReport], decision: str, reason: str | None = None) -> None:
    """One mail per provider user about the reports of that provider just decided."""
    by_provider: dict[int, list[RealisationReport]] = {}
    for report in reports:
        by_provider.setdefault(report.organisation_id, []).append(report)
    word = "goedgekeurd" if decision == "approved" else "afgewezen"
    for provider_id, decided in by_provider.items():
        lines = "\n".join(f"- {report_label(r)}: {money(r.total_value)}" for r in decided)
        if len(decided) == 1:
            subject = f"Realisatie {word}: {report_label(decided[0])}"
        else:
            subject = f"{len(decided)} realisatierapportages {word}"
        if decision == "approved":
            after = ("De goedgekeurde realisatie staat vast en telt mee voor de afrekening; een correctie "
                     "van deze periode is niet meer mogelijk.")
        else:
            after = (f"Reden: {reason}\n\nLever een correctie aan (een nieuw bestand of via de API) voor "
                     "dezelfde gemeente, hetzelfde segment en dezelfde periode.")
        body = (f"De regio heeft de volgende realisatie {word}:\n{lines}\n\n{after}\n\n"
                "Bekijk de realisatie in het aanbiedersportaal onder Realisatie.")
        for recipient in provider_recipients(provider_id):
            send_mail(recipient, subject[:300], body)


# --- Decisions -------------------------------------------------------------------------------


def approve(report_or_id, user, expected_lock_version) -> RealisationReport:
    """Approve a submitted report version: it is locked from now on."""
    report = _report(report_or_id)
    _check(report, user)
    before = _snapshot(report)
    _decide(report, user, expected_lock_version, "approved", None)
    _audit(report, user, "realisation.approved", f"Realisatie goedgekeurd: {report_label(report)}", before)
    _notify([report], "approved")
    return report


def reject(report_or_id, user, expected_lock_version, reason: str) -> RealisationReport:
    """Reject a submitted report version with a reason (at least ``MIN_REASON`` characters)."""
    report = _report(report_or_id)
    _check(report, user)
    reason = clean_reason(reason)
    before = _snapshot(report)
    _decide(report, user, expected_lock_version, "rejected", reason)
    _audit(report, user, "realisation.rejected", f"Realisatie afgewezen: {report_label(report)}", before)
    _notify([report], "rejected", reason)
    return report


def _bulk_targets(ids) -> list[tuple[int, int | None]]:
    """``ids`` as (id, lock_version or None): plain ids, (id, lock) pairs or "id:lock" texts (the
    queue's checkboxes carry the lock version the page was made with)."""
    targets = []
    for item in ids:
        if isinstance(item, (tuple, list)):
            targets.append((int(item[0]), None if item[1] is None else int(item[1])))
        elif isinstance(item, str) and ":" in item:
            first, second = item.split(":", 1)
            targets.append((int(first), int(second)))
        else:
            targets.append((int(item), None))
    return list(dict.fromkeys(targets))


def _bulk(ids, user, to_state: str, reason: str | None) -> BulkOutcome:
    outcome = BulkOutcome()
    session = db.session()
    for report_id, lock in _bulk_targets(ids):
        report = session.get(RealisationReport, report_id)
        if report is None or not is_region_manager(user, report.region_id):
            outcome.refused.append((report_id, "Deze realisatie bestaat niet of valt buiten uw regio."))
            continue
        refusal = state_refusal(report)
        if refusal:
            outcome.skipped.append((report, refusal))
            continue
        if to_state == "approved" and report.warnings:
            outcome.skipped.append((report, SKIP_WARNINGS))
            continue
        before = _snapshot(report)
        try:
            _decide(report, user, report.lock_version if lock is None else lock, to_state, reason)
        except StaleReport as stale:
            outcome.skipped.append((report, stale.message))
            continue
        word = "goedgekeurd" if to_state == "approved" else "afgewezen"
        _audit(report, user, f"realisation.{to_state}", f"Realisatie {word} (in één keer met andere): "
                                                        f"{report_label(report)}", before)
        outcome.decided.append(report)
    if outcome.decided:
        _notify(outcome.decided, to_state, reason)
    return outcome


def bulk_approve(ids, user) -> BulkOutcome:
    """Approve several submitted reports where that is safe: reports with warnings are skipped
    (listed in ``outcome.skipped`` with "beoordeel deze afzonderlijk"), as are reports that are
    not ``submitted`` any more or changed since the page was shown."""
    _require_contract_manager(user)
    return _bulk(ids, user, "approved", None)


def bulk_reject(ids, user, reason: str) -> BulkOutcome:
    """Reject several submitted reports with one reason."""
    _require_contract_manager(user)
    reason = clean_reason(reason)
    return _bulk(ids, user, "rejected", reason)


def _require_contract_manager(user) -> None:
    membership = getattr(user, "membership", None)
    if membership is not None:
        allowed = membership.role == roles.CONTRACT_MANAGER
    else:
        allowed = db.session().exec(select(Membership.id).where(
            Membership.user_id == _account(user).id, Membership.role == roles.CONTRACT_MANAGER)).first() is not None
    if not allowed:
        raise ReviewRefused("Alleen een contractmanager van de regio beoordeelt realisatie.")


# --- Reading ---------------------------------------------------------------------------------


def queue_statement(filters: dict):
    """Reports visible to the signed-in user matching ``filters`` (provider_id, municipality_id,
    segment, year, period (a :class:`Period`), state; state "" means every state but superseded),
    oldest submitted first."""
    statement = scoped(select(RealisationReport), RealisationReport)
    if filters.get("provider_id"):
        statement = statement.where(RealisationReport.organisation_id == int(filters["provider_id"]))
    if filters.get("municipality_id"):
        statement = statement.where(RealisationReport.municipality_id == int(filters["municipality_id"]))
    if filters.get("segment"):
        statement = statement.where(RealisationReport.segment_key == filters["segment"])
    if filters.get("year"):
        statement = statement.where(RealisationReport.year == int(filters["year"]))
    if filters.get("period"):
        period = filters["period"]
        statement = statement.where(RealisationReport.year == period.year,
                                    RealisationReport.period_kind == period.kind,
                                    RealisationReport.period == period.number)
    state = filters.get("state")
    if state:
        statement = statement.where(RealisationReport.state == state)
    else:
        statement = statement.where(RealisationReport.state != "superseded")
    return statement.order_by(RealisationReport.submitted_at, RealisationReport.id)


def queue_totals(filters: dict) -> tuple[int, Decimal]:
    """How many reports match and their total value (summed in Python: exact on every database)."""
    values = db.session().exec(queue_statement(filters).with_only_columns(RealisationReport.total_value)).all()
    return len(values), sum((Decimal(v) for v in values), Decimal("0.00"))


def state_counts() -> dict[str, int]:
    """Visible reports per state (every state present, zero included)."""
    counts = {state: 0 for state in STATE_LABELS}
    statement = scoped(select(RealisationReport.state, func.count(RealisationReport.id)),
                       RealisationReport).group_by(RealisationReport.state)
    for state, count in db.session().exec(statement).all():
        counts[state] = count
    return counts


def lines(report: RealisationReport) -> list[RealisationLine]:
    return list(db.session().exec(select(RealisationLine).where(RealisationLine.report_id == report.id)
                                  .order_by(RealisationLine.trajectory_code, RealisationLine.id)).all())


def versions(report: RealisationReport) -> list[RealisationReport]:
    """Every version of the report's provider × municipality × segment × period, oldest first."""
    return list(db.session().exec(select(RealisationReport).where(
        RealisationReport.organisation_id == report.organisation_id,
        RealisationReport.municipality_id == report.municipality_id,
        RealisationReport.segment_key == report.segment_key, RealisationReport.year == report.year,
        RealisationReport.period_kind == report.period_kind, RealisationReport.period == report.period)
        .order_by(RealisationReport.version)).all())


def upload_of(report: RealisationReport) -> RealisationUpload | None:
    return db.session().get(RealisationUpload, report.upload_id) if report.upload_id else None


LINE_FIELDS = (("started", "Gestart"), ("running", "Lopend"), ("ended", "Beëindigd"), ("clients", "Cliënten"),
               ("units", "Eenheden"), ("place_days", "Plekdagen"), ("value", "Waarde"))


@dataclass
class TrajectoryChange:
    code: str
    kind: str  # added | removed | changed
    fields: list[tuple[str, str, object, object]]  # (name, Dutch label, before, after)


@dataclass
class VersionChanges:
    total_before: Decimal
    total_after: Decimal
    lines_before: int
    lines_after: int
    trajectories: list[TrajectoryChange]

    @property
    def total_difference(self) -> Decimal:
        return self.total_after - self.total_before


def changes(previous: RealisationReport | None, report: RealisationReport) -> VersionChanges | None:
    """What a version changed against the previous one: totals and, per trajectory, the volumes
    and value that differ (added and removed trajectories included)."""
    if previous is None:
        return None
    before = {line.trajectory_code.upper(): line for line in lines(previous)}
    after = {line.trajectory_code.upper(): line for line in lines(report)}
    trajectories = []
    for code in sorted(set(before) | set(after)):
        old, new = before.get(code), after.get(code)
        if old is None:
            trajectories.append(TrajectoryChange(new.trajectory_code, "added",
                                                 [(n, label, None, getattr(new, n)) for n, label in LINE_FIELDS
                                                  if n == "value" or getattr(new, n) not in (None, 0)]))
        elif new is None:
            trajectories.append(TrajectoryChange(old.trajectory_code, "removed",
                                                 [(n, label, getattr(old, n), None) for n, label in LINE_FIELDS
                                                  if n == "value" or getattr(old, n) not in (None, 0)]))
        else:
            differing = [(n, label, getattr(old, n), getattr(new, n)) for n, label in LINE_FIELDS
                         if _differs(getattr(old, n), getattr(new, n))]
            if differing:
                trajectories.append(TrajectoryChange(new.trajectory_code, "changed", differing))
    return VersionChanges(Decimal(previous.total_value), Decimal(report.total_value), previous.line_count,
                          report.line_count, trajectories)


def _differs(old, new) -> bool:
    if old is None or new is None:
        return (old or 0) != (new or 0)
    return Decimal(str(old)) != Decimal(str(new))


__all__ = ["ReviewRefused", "StaleReport", "BulkOutcome", "approve", "reject", "bulk_approve", "bulk_reject",
           "queue_statement", "queue_totals", "state_counts", "lines", "versions", "changes", "upload_of",
           "report_label", "state_refusal", "is_region_manager", "STATE_LABELS", "MIN_REASON"]


def queue_periods() -> list[Period]:
    """The periods with reports the signed-in user sees, newest first (the queue's period filter)."""
    rows = db.session().exec(scoped(select(RealisationReport.year, RealisationReport.period_kind,
                                           RealisationReport.period), RealisationReport).distinct()).all()
    return sorted((Period(year, kind, number) for year, kind, number in rows),
                  key=lambda period: (period.year, period.start), reverse=True)
