"""Obligations that come with a framework agreement (``portal_agreement_obligations``), such as a
region's social return (SROI): the amount in force, its yearly targets, the provider's yearly
report of what it realised, and the contract manager's overview per year.

The amount in force is the contract value × the obligation's rate, rounded half-up to the cent,
and only when the contract value is strictly above the threshold (docs/rounding.md rule 10). The
obligation covers the whole agreement; the yearly target splits it evenly over the calendar years
of the agreement's current term (parts of whole cents that add up exactly, rule 4). A year is
*op schema* when what was realised up to and including that year reaches the targets up to and
including that year, *achter* when it falls short, *niet gerapporteerd* when the year has no report.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from babel.numbers import format_currency
from sqlmodel import select

from portal import audit, clock, db
from portal.accounts.scoping import scoped
from portal.contracts import service
from portal.formatting import LOCALE, money, percent
from portal.models import FrameworkAgreement, ObligationReport, Organisation, utcnow
from portal.money import split_evenly
from portal.registry import AgreementObligation, current_registry
from portal.validators import RuleViolation

STATES = {"behind": "achter", "not_reported": "niet gerapporteerd", "on_track": "op schema"}
STATE_ORDER = {"behind": 0, "not_reported": 1, "on_track": 2}  # who is behind first
MAX_NOTE = 2000


def whole_euros(value: Decimal) -> str:
    """€ 200.000: a threshold in whole euros (cents only when it has them)."""
    value = Decimal(value)
    if value != value.to_integral_value():
        return money(value)
    return format_currency(value, "EUR", format="¤\xa0#,##0", currency_digits=False, locale=LOCALE)


def rate_text(obligation: AgreementObligation) -> str:
    """5% for a rate of 0.05."""
    return percent(obligation.rate_value)


@dataclass(frozen=True)
class ObligationInForce:
    """One obligation for one agreement: the amount when it holds, None when it does not (no
    contract value yet, or a value not above the threshold)."""

    obligation: AgreementObligation
    contract_value: Decimal | None
    amount: Decimal | None

    @property
    def applies(self) -> bool:
        return self.amount is not None

    @property
    def condition(self) -> str:
        """"bij een contractwaarde boven € 200.000", or "" without a threshold."""
        threshold = self.obligation.threshold_value
        return f"bij een contractwaarde boven {whole_euros(threshold)}" if threshold > 0 else ""

    @property
    def text(self) -> str:
        """The Dutch line on the agreement page and PDF."""
        name = self.obligation.name
        condition = self.condition
        if self.contract_value is None:
            return (f"{name}: nog niet te bepalen, de contractwaarde is niet vastgelegd"
                    + (f" (de verplichting geldt {condition})" if condition else ""))
        if self.amount is None:
            return f"Geen {name}: contractwaarde niet boven {whole_euros(self.obligation.threshold_value)}"
        return (f"{name}: {money(self.amount)} ({rate_text(self.obligation)} van de contractwaarde van "
                f"{money(self.contract_value)}" + (f"; geldt {condition}" if condition else "") + ")")


def in_force(agreement: FrameworkAgreement, segment_keys: list[str] | None = None) -> list[ObligationInForce]:
    """The obligations of the agreement's region that cover it, each with its amount (or None)."""
    if segment_keys is None:
        segment_keys = service.segments_of(agreement)
    value = service.contract_value(agreement)
    return [ObligationInForce(obligation, value, obligation.amount(value))
            for obligation in current_registry().obligations_for(agreement.domain, segment_keys)]


def term_years(agreement: FrameworkAgreement, term: service.Term | None = None) -> list[int]:
    """The calendar years of the agreement's current term (up to its end or its termination)."""
    term = term or service.term_of(agreement)
    last = term.end if agreement.terminated_on is None else min(term.end, agreement.terminated_on)
    return list(range(agreement.start_date.year, last.year + 1))


def yearly_targets(amount: Decimal, years: list[int]) -> dict[int, Decimal]:
    """The obligation split evenly over the years, in whole cents that add up to it exactly."""
    if not years:
        return {}
    return dict(zip(years, split_evenly(amount, len(years))))


def cents(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value) / 100


@dataclass(frozen=True)
class YearStanding:
    """Where an agreement stands with one obligation in one year."""

    year: int
    target: Decimal  # this year's share of the obligation
    target_to_date: Decimal  # the shares of the years up to and including this one
    realised: Decimal | None  # reported for this year; None without a report
    realised_to_date: Decimal
    report: ObligationReport | None = None

    @property
    def shortfall(self) -> Decimal:
        return max(Decimal("0.00"), self.target_to_date - self.realised_to_date)

    @property
    def state(self) -> str:
        if self.report is None:
            return "not_reported"
        return "behind" if self.shortfall > 0 else "on_track"

    @property
    def state_label(self) -> str:
        return STATES[self.state]


def standings(amount: Decimal, years: list[int], reports: dict[int, ObligationReport]) -> list[YearStanding]:
    """One standing per year of the term, cumulative from the first year (pure: no database)."""
    rows = []
    target_to_date = realised_to_date = Decimal("0.00")
    for year, target in yearly_targets(amount, years).items():
        report = reports.get(year)
        realised = cents(report.realised_cents) if report is not None else None
        target_to_date += target
        realised_to_date += realised or Decimal("0.00")
        rows.append(YearStanding(year, target, target_to_date, realised, realised_to_date, report))
    return rows


def _reports(agreement_ids: list[int]) -> dict[tuple[int, str], dict[int, ObligationReport]]:
    """The reports of these agreements by (agreement, obligation) and year, within scope."""
    found: dict[tuple[int, str], dict[int, ObligationReport]] = {}
    if agreement_ids:
        for report in db.session().exec(scoped(select(ObligationReport), ObligationReport).where(
                ObligationReport.framework_agreement_id.in_(agreement_ids))).all():
            found.setdefault((report.framework_agreement_id, report.obligation_id), {})[report.year] = report
    return found


@dataclass
class AgreementObligations:
    """An agreement with the obligations that cover it and, for those in force, its yearly standings."""

    agreement: FrameworkAgreement
    items: list[ObligationInForce]
    years: list[int]
    standings: dict[str, list[YearStanding]] = field(default_factory=dict)  # obligation id -> per year


def for_agreement(agreement: FrameworkAgreement) -> AgreementObligations:
    """The obligations of one agreement (fetched within scope) with their yearly standings."""
    items = in_force(agreement)
    years = term_years(agreement)
    reports = _reports([agreement.id])
    return AgreementObligations(agreement, items, years, {
        item.obligation.id: standings(item.amount, years, reports.get((agreement.id, item.obligation.id), {}))
        for item in items if item.applies})


def own_agreements(provider_id: int) -> list[AgreementObligations]:
    """A provider's framework agreements that some obligation covers, newest first."""
    agreements = db.session().exec(scoped(select(FrameworkAgreement), FrameworkAgreement).where(
        FrameworkAgreement.organisation_id == provider_id)
        .order_by(FrameworkAgreement.start_date.desc(), FrameworkAgreement.reference)).all()
    return [found for found in (for_agreement(agreement) for agreement in agreements) if found.items]


# --- The provider reports -------------------------------------------------------------------------


def record_report(agreement: FrameworkAgreement, obligation_id: str, year: int | None, realised: Decimal | None,
                  note: str = "", reported_by: int | None = None, today: date | None = None) -> ObligationReport:
    """Record what the provider realised of an obligation in a year; a second report for the same
    year replaces the first (a correction), both audited with before and after. The caller fetched
    the agreement within scope and commits."""
    today = today or clock.today()
    item = next((item for item in in_force(agreement) if item.obligation.id == obligation_id), None)
    if item is None:
        raise RuleViolation("obligation_id", "Kies een verplichting die bij deze overeenkomst geldt.")
    if not item.applies:
        raise RuleViolation("obligation_id", item.text + ".")
    years = term_years(agreement)
    if year is None:
        raise RuleViolation("year", "Vul het jaar in.")
    if year not in years:
        raise RuleViolation("year", f"Het jaar {year} valt buiten de looptijd van de overeenkomst "
                                    f"({years[0]}–{years[-1]}).")
    if year > today.year:
        raise RuleViolation("year", f"Over {year} kunt u nog niet rapporteren: dat jaar is nog niet begonnen.")
    if realised is None:
        raise RuleViolation("amount", "Vul het gerealiseerde bedrag in.")
    realised = Decimal(realised)
    if not realised.is_finite() or realised != realised.quantize(Decimal("0.01")):
        raise RuleViolation("amount", "Vul een bedrag in euro's in, met hoogstens twee cijfers achter de komma.")
    if realised < 0:
        raise RuleViolation("amount", "Het gerealiseerde bedrag kan niet negatief zijn.")
    if realised > service.MAX_CONTRACT_VALUE:
        raise RuleViolation("amount", "Dit bedrag is niet aannemelijk; controleer het.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise RuleViolation("note", f"Een toelichting is hoogstens {MAX_NOTE} tekens.")

    session = db.session()
    report = session.exec(select(ObligationReport).where(
        ObligationReport.framework_agreement_id == agreement.id, ObligationReport.obligation_id == obligation_id,
        ObligationReport.year == year)).first()
    before = None if report is None else {"realised_cents": report.realised_cents, "note": report.note}
    if report is None:
        report = ObligationReport(region_id=agreement.region_id, organisation_id=agreement.organisation_id,
                                  framework_agreement_id=agreement.id, obligation_id=obligation_id, year=year,
                                  realised_cents=0)
    report.realised_cents = int(realised * 100)
    report.note = note
    report.reported_by = reported_by
    report.reported_at = utcnow()
    session.add(report)
    session.flush()
    name = item.obligation.name
    action, verb = ("obligation_report.submitted", "gerapporteerd") if before is None else \
        ("obligation_report.corrected", "gecorrigeerd")
    audit.record(action, f"{name} {year} van raamovereenkomst {agreement.reference} {verb}: {money(realised)}",
                 object_type="obligation_report", object_id=report.id, organisation_id=agreement.organisation_id,
                 region_id=agreement.region_id,
                 details={"obligation_id": obligation_id, "framework_agreement_id": agreement.id, "year": year,
                          "obligation_cents": int(item.amount * 100), "before": before,
                          "after": {"realised_cents": report.realised_cents, "note": report.note}})
    return report


# --- The contract manager's overview ---------------------------------------------------------------


@dataclass(frozen=True)
class OverviewRow:
    agreement: FrameworkAgreement
    provider: str
    item: ObligationInForce
    standing: YearStanding


def _agreements_with_value():
    return db.session().exec(
        scoped(select(FrameworkAgreement, Organisation.name), FrameworkAgreement)
        .join(Organisation, Organisation.id == FrameworkAgreement.organisation_id)
        .where(FrameworkAgreement.contract_value_cents.is_not(None))).all()


def overview(year: int) -> list[OverviewRow]:
    """Every agreement in scope with an obligation in force in ``year``, where it stands, who is
    behind first (largest shortfall first), then who has not reported, then who is on schedule."""
    found = _agreements_with_value()
    ids = [agreement.id for agreement, _name in found]
    segments = service.segments_by_agreement(ids)
    evaluations = service.evaluations_by_agreement(ids)
    reports = _reports(ids)
    rows = []
    for agreement, provider in found:
        years = term_years(agreement, service.term_of(agreement, evaluations[agreement.id]))
        if year not in years:
            continue
        for item in in_force(agreement, segments[agreement.id]):
            if not item.applies:
                continue
            per_year = standings(item.amount, years, reports.get((agreement.id, item.obligation.id), {}))
            rows.append(OverviewRow(agreement, provider, item, next(s for s in per_year if s.year == year)))
    rows.sort(key=lambda row: (STATE_ORDER[row.standing.state], -row.standing.shortfall, row.provider.lower(),
                               row.agreement.reference))
    return rows


def overview_years() -> list[int]:
    """The years some agreement in scope has an obligation in force, newest first."""
    years: set[int] = set()
    found = _agreements_with_value()
    ids = [agreement.id for agreement, _name in found]
    segments = service.segments_by_agreement(ids)
    evaluations = service.evaluations_by_agreement(ids)
    for agreement, _name in found:
        if any(item.applies for item in in_force(agreement, segments[agreement.id])):
            years.update(term_years(agreement, service.term_of(agreement, evaluations[agreement.id])))
    return sorted(years, reverse=True)


def default_year(years: list[int], today: date | None = None) -> int:
    """The year the overview opens on: the last year that has ended (the one providers report on),
    else the newest year there is, else this year."""
    this_year = (today or clock.today()).year
    ended = [year for year in years if year < this_year]
    return max(ended) if ended else (max(years) if years else this_year)
