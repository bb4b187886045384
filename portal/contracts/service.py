"""Services for what a provider agreed with the region: framework agreements (extensions and the
bow-wave history), budget agreements and ceilings per municipality, and extra capacity.

Every function checks the rules first and raises :class:`RuleViolation` (field, Dutch message)
before anything is written; every change is audited with its before and after. The caller commits.
The rules themselves are pure functions in :mod:`portal.contracts.terms` and
:mod:`portal.contracts.rules`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel.dates import get_month_names
from sqlalchemy import func
from sqlmodel import select

from portal import audit, clock, db
from portal.contracts import rules, terms
from portal.formatting import money, nl_date
from portal.models import (
    BowWaveEvaluation,
    BudgetAgreement,
    ExtraCapacity,
    FrameworkAgreement,
    FrameworkSegment,
    Organisation,
    OrganisationKind,
    utcnow,
)
from portal.registry import LOTS, current_registry
from portal.validators import RuleViolation

LOCAL_LOT_FORMS = ("a", "b")  # a local lot is a framework agreement only (DOMAIN.md §4)
MIN_REASON_LENGTH = 10
MAX_TERM_YEARS = terms.MAX_TERM_YEARS
KEEP = object()  # "leave this value as it is" in update functions


def _text(value) -> str | None:
    return None if value is None else str(value)


# --- Terms of a framework agreement ------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """What follows from an agreement's start, scheme, extensions used and evaluations."""

    end: date
    status: str
    extensions_used: int
    extensions_left: tuple[int, ...]  # the years of each option still open
    years_earned: int  # bow wave: satisfactory evaluations
    horizon: int | None  # bow wave: whole years left after the last evaluated year
    next_evaluation_year: int | None
    latest_end: date  # the end if every remaining extension option were used
    next_extension_end: date | None  # the end after using the next extension option

    @property
    def status_label(self) -> str:
        return terms.STATUS_LABELS[self.status]


def term_of(agreement: FrameworkAgreement, evaluations: list[BowWaveEvaluation] | None = None,
            today: date | None = None) -> Term:
    today = today or clock.today()
    if evaluations is None:
        evaluations = evaluations_of(agreement)
    earned = sum(1 for evaluation in evaluations if evaluation.satisfactory)
    options = list(agreement.extension_options or [])
    end = terms.end_date(agreement.start_date, agreement.initial_years, options,
                         agreement.extensions_used, earned)
    horizon = next_year = None
    if agreement.bow_wave:
        years = [evaluation.year for evaluation in evaluations]
        last = max(years) if years else agreement.start_date.year - 1
        horizon = terms.horizon_years(end, last)
        next_year = terms.next_evaluation_year(agreement.start_date, years)
        if next_year > end.year or agreement.terminated_on is not None:
            next_year = None
    return Term(
        end=end,
        status=terms.status(agreement.start_date, end, agreement.terminated_on, today),
        extensions_used=agreement.extensions_used,
        extensions_left=tuple(options[agreement.extensions_used:]),
        years_earned=earned,
        horizon=horizon,
        next_evaluation_year=next_year,
        latest_end=terms.end_date(agreement.start_date, agreement.initial_years, options, len(options),
                                  earned),
        next_extension_end=terms.end_date(agreement.start_date, agreement.initial_years, options,
                                          agreement.extensions_used + 1, earned)
        if agreement.extensions_used < len(options) and not agreement.bow_wave else None,
    )


def evaluations_of(agreement: FrameworkAgreement) -> list[BowWaveEvaluation]:
    return list(db.session().exec(select(BowWaveEvaluation).where(
        BowWaveEvaluation.framework_agreement_id == agreement.id).order_by(BowWaveEvaluation.year)).all())


def segments_of(agreement: FrameworkAgreement) -> list[str]:
    return list(db.session().exec(select(FrameworkSegment.segment_key).where(
        FrameworkSegment.framework_agreement_id == agreement.id).order_by(FrameworkSegment.segment_key)).all())


def segments_by_agreement(agreement_ids: list[int]) -> dict[int, list[str]]:
    """Segment keys per agreement for a page of agreements, in one query."""
    result: dict[int, list[str]] = {agreement_id: [] for agreement_id in agreement_ids}
    if agreement_ids:
        for row in db.session().exec(select(FrameworkSegment).where(
                FrameworkSegment.framework_agreement_id.in_(agreement_ids)).order_by(FrameworkSegment.segment_key)):
            result[row.framework_agreement_id].append(row.segment_key)
    return result


def evaluations_by_agreement(agreement_ids: list[int]) -> dict[int, list[BowWaveEvaluation]]:
    result: dict[int, list[BowWaveEvaluation]] = {agreement_id: [] for agreement_id in agreement_ids}
    if agreement_ids:
        for row in db.session().exec(select(BowWaveEvaluation).where(
                BowWaveEvaluation.framework_agreement_id.in_(agreement_ids)).order_by(BowWaveEvaluation.year)):
            result[row.framework_agreement_id].append(row)
    return result


def _framework_snapshot(agreement: FrameworkAgreement, segment_keys: list[str], end: date) -> dict:
    return {
        "organisation_id": agreement.organisation_id,
        "reference": agreement.reference,
        "domain": agreement.domain,
        "segments": sorted(segment_keys),
        "lot": agreement.lot,
        "contract_form": agreement.contract_form,
        "start_date": _text(agreement.start_date),
        "initial_years": agreement.initial_years,
        "extension_options": list(agreement.extension_options or []),
        "extensions_used": agreement.extensions_used,
        "bow_wave": agreement.bow_wave,
        "terminated_on": _text(agreement.terminated_on),
        "end_date": _text(end),
        "contract_value_cents": agreement.contract_value_cents,
    }


MAX_CONTRACT_VALUE = Decimal("10000000000")  # ten billion euros: far beyond any social-domain contract


def contract_value_cents(value) -> int | None:
    """A contract value in euros (a ``Decimal`` of whole cents, or None) as whole cents; a negative,
    fractional-cent or absurdly large value is refused with a Dutch message."""
    if value is None:
        return None
    value = Decimal(value)
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise RuleViolation("contract_value", "Vul de contractwaarde in euro's in, met hoogstens twee cijfers "
                                              "achter de komma.")
    if value < 0:
        raise RuleViolation("contract_value", "De contractwaarde kan niet negatief zijn.")
    if value > MAX_CONTRACT_VALUE:
        raise RuleViolation("contract_value", f"Een contractwaarde boven {money(MAX_CONTRACT_VALUE)} is niet "
                                              "aannemelijk; controleer het bedrag.")
    return int(value * 100)


def contract_value(agreement: FrameworkAgreement) -> Decimal | None:
    """The agreement's contract value in euros, or None while unknown."""
    if agreement.contract_value_cents is None:
        return None
    return Decimal(agreement.contract_value_cents) / 100


# --- Creating and changing framework agreements -------------------------------------------------


def _provider_of_region(region_id: int, organisation_id, field: str = "organisation_id") -> Organisation:
    organisation = db.session().get(Organisation, organisation_id) if organisation_id else None
    if organisation is None or organisation.region_id != region_id or organisation.kind != OrganisationKind.PROVIDER:
        raise RuleViolation(field, "Kies een zorgaanbieder uit de regio.")
    return organisation


def _municipality_of_region(region_id: int, municipality_id, field: str = "municipality_id") -> Organisation:
    organisation = db.session().get(Organisation, municipality_id) if municipality_id else None
    if (organisation is None or organisation.region_id != region_id
            or organisation.kind != OrganisationKind.MUNICIPALITY):
        raise RuleViolation(field, "Kies een gemeente uit de regio.")
    return organisation


def _scheme(scheme: str | None, segment_keys: list[str], bow_wave: bool) -> tuple[int, list[int]]:
    registry = current_registry()
    # Segments bought "3+3+3 met boeggolfprincipe" keep their options under the bow wave: they
    # fix the maximum term the horizon rolls within (see portal.contracts.terms).
    with_options = all(registry.segments[key].bow_wave_extensions for key in segment_keys)
    if not scheme or not scheme.strip():
        durations = sorted({registry.segments[key].contract_duration for key in segment_keys})
        if len(durations) > 1:
            raise RuleViolation("scheme", "De gekozen segmenten hebben verschillende looptijden ("
                                + ", ".join(durations) + "); vul de looptijd in.")
        scheme = durations[0]
        if bow_wave and not with_options:  # the horizon is the initial term; the bow wave replaces the options
            scheme = scheme.split("+")[0]
    try:
        initial, options = terms.parse_scheme(scheme)
    except ValueError:
        raise RuleViolation("scheme", "Vul de looptijd in als jaren met plustekens, bijvoorbeeld 3+1+1 "
                                      "of 3+3+3.") from None
    if initial + sum(options) > MAX_TERM_YEARS:
        raise RuleViolation("scheme", f"Een looptijd van meer dan {MAX_TERM_YEARS} jaar is niet toegestaan.")
    if bow_wave and options and not with_options:
        raise RuleViolation("scheme", "Bij het boeggolfprincipe zijn er geen verlengingsopties: vul alleen "
                                      "de horizon in jaren in, bijvoorbeeld 3.")
    return initial, options


def _check_framework(region_id: int, values: dict, agreement: FrameworkAgreement | None,
                     evaluations: list[BowWaveEvaluation]) -> tuple[int, list[int]]:
    """All rules of a framework agreement; returns the parsed (initial, options)."""
    registry = current_registry()
    session = db.session()
    reference = (values["reference"] or "").strip()
    if not reference:
        raise RuleViolation("reference", "Vul het kenmerk van de overeenkomst in.")
    if len(reference) > 64:
        raise RuleViolation("reference", "Een kenmerk is hoogstens 64 tekens.")
    same_reference = select(FrameworkAgreement).where(
        FrameworkAgreement.region_id == region_id,
        func.lower(FrameworkAgreement.reference) == reference.lower())
    if agreement is not None:
        same_reference = same_reference.where(FrameworkAgreement.id != agreement.id)
    if session.exec(same_reference).first() is not None:
        raise RuleViolation("reference", "Er is al een raamovereenkomst met dit kenmerk in de regio.")
    provider = _provider_of_region(region_id, values["organisation_id"])

    domain = registry.domains.get(values["domain"])
    if domain is None:
        raise RuleViolation("domain", "Kies een domein.")
    segment_keys = list(dict.fromkeys(values["segments"] or []))
    if not segment_keys:
        raise RuleViolation("segments", "Kies ten minste één segment.")
    foreign = [key for key in segment_keys if registry.segments.get(key) is None
               or registry.segments[key].domain != domain.code]
    if foreign:
        raise RuleViolation("segments", f"Deze segmenten horen niet bij het domein {domain.name}: "
                            + ", ".join(current_registry().segment_short_label(key) for key in foreign) + ".")
    lot = values["lot"]
    if lot not in LOTS:
        raise RuleViolation("lot", "Kies een perceel.")
    without_lot = [key for key in segment_keys if lot not in registry.segments[key].lots]
    if without_lot:
        raise RuleViolation("lot", f"{LOTS[lot]} bestaat niet voor "
                            + ", ".join(current_registry().segment_short_label(key) for key in without_lot)
                            + "; kies een perceel dat de segmenten kennen.")
    contract_form = values["contract_form"]
    if contract_form not in terms.CONTRACT_FORMS:
        raise RuleViolation("contract_form", "Kies een contractvorm (a, b, c of d).")
    if lot != "regional" and contract_form not in LOCAL_LOT_FORMS:
        raise RuleViolation("contract_form", "Alleen aanbieders in het regionale perceel krijgen een "
                                             "budgetplafond of budgetafspraken (vorm c of d); kies vorm a of b.")
    start = values["start_date"]
    if start is None:
        raise RuleViolation("start_date", "Vul de ingangsdatum in.")
    bow_wave = bool(values["bow_wave"])
    initial, options = _scheme(values.get("scheme"), segment_keys, bow_wave)
    terminated_on = values.get("terminated_on")
    if terminated_on is not None and terminated_on < start:
        raise RuleViolation("terminated_on", "De datum van beëindiging ligt vóór de ingangsdatum.")

    if agreement is not None:
        if agreement.extensions_used > len(options):
            raise RuleViolation("scheme", f"Er zijn al {agreement.extensions_used} verlengingen gebruikt; "
                                          "de looptijd moet minstens zoveel verlengingsopties houden.")
        if evaluations:
            if not bow_wave:
                raise RuleViolation("bow_wave", "Er zijn al boeggolfevaluaties vastgelegd; het "
                                                "boeggolfprincipe kan niet meer uit.")
            if start != agreement.start_date or initial != agreement.initial_years:
                raise RuleViolation("start_date" if start != agreement.start_date else "scheme",
                                    "Er zijn al boeggolfevaluaties vastgelegd; ingangsdatum en horizon "
                                    "liggen daarmee vast.")
        if provider.id != agreement.organisation_id:
            raise RuleViolation("organisation_id", "De aanbieder van een overeenkomst verandert niet.")

    earned = sum(1 for evaluation in evaluations if evaluation.satisfactory)
    used = agreement.extensions_used if agreement is not None else 0
    end = terms.end_date(start, initial, options, used, earned)
    _check_no_overlap(region_id, provider, segment_keys, start, end, terminated_on, agreement)
    if agreement is not None:
        _check_budget_agreements_still_fit(agreement, segment_keys, lot, start, end, terminated_on)
    return initial, options


def _period_end(end: date, terminated_on: date | None) -> date:
    return min(end, terminated_on) if terminated_on is not None else end


def _check_no_overlap(region_id, provider, segment_keys, start, end, terminated_on, agreement) -> None:
    """A provider has at most one framework agreement per segment at any time."""
    session = db.session()
    statement = (select(FrameworkAgreement, FrameworkSegment.segment_key)
                 .join(FrameworkSegment, FrameworkSegment.framework_agreement_id == FrameworkAgreement.id)
                 .where(FrameworkAgreement.region_id == region_id,
                        FrameworkAgreement.organisation_id == provider.id,
                        FrameworkSegment.segment_key.in_(segment_keys)))
    if agreement is not None:
        statement = statement.where(FrameworkAgreement.id != agreement.id)
    last_day = _period_end(end, terminated_on)
    for other, key in session.exec(statement).all():
        other_end = _period_end(term_of(other).end, other.terminated_on)
        if other.start_date <= last_day and start <= other_end:
            raise RuleViolation("segments", f"{provider.name} heeft al een raamovereenkomst ({other.reference}) "
                                            f"voor {current_registry().segment_short_label(key)} in deze periode.")


def _check_budget_agreements_still_fit(agreement, segment_keys, lot, start, end, terminated_on) -> None:
    linked = db.session().exec(select(BudgetAgreement).where(
        BudgetAgreement.framework_agreement_id == agreement.id)).all()
    last_year = _period_end(end, terminated_on).year
    for budget in linked:
        if budget.segment_key not in segment_keys:
            raise RuleViolation("segments", f"Er zijn budgetafspraken voor {current_registry().segment_short_label(budget.segment_key)}; "
                                            "dat segment kan niet uit de overeenkomst.")
        if lot != "regional":
            raise RuleViolation("lot", "Er zijn budgetafspraken onder deze overeenkomst; die horen bij het "
                                       "regionale perceel.")
        if not start.year <= budget.year <= last_year:
            field = ("terminated_on" if terminated_on is not None and budget.year > terminated_on.year
                     else "start_date" if budget.year < start.year else "scheme")
            raise RuleViolation(field, f"Er is een budgetafspraak voor {budget.year}; dat jaar moet binnen de "
                                       "looptijd blijven.")


def create_framework_agreement(region_id: int, *, organisation_id: int, reference: str, domain: str,
                               segments: list[str], lot: str, contract_form: str, start_date: date,
                               scheme: str | None = None, bow_wave: bool = False,
                               terminated_on: date | None = None,
                               contract_value: Decimal | None = None) -> FrameworkAgreement:
    values = dict(organisation_id=organisation_id, reference=reference, domain=domain, segments=segments,
                  lot=lot, contract_form=contract_form, start_date=start_date, scheme=scheme,
                  bow_wave=bow_wave, terminated_on=terminated_on)
    initial, options = _check_framework(region_id, values, None, [])
    value_cents = contract_value_cents(contract_value)
    session = db.session()
    agreement = FrameworkAgreement(
        region_id=region_id, organisation_id=organisation_id, reference=reference.strip(), domain=domain,
        lot=lot, contract_form=contract_form, start_date=start_date, initial_years=initial,
        extension_options=options, extensions_used=0, bow_wave=bool(bow_wave), terminated_on=terminated_on,
        contract_value_cents=value_cents)
    session.add(agreement)
    session.flush()
    segment_keys = list(dict.fromkeys(segments))
    for key in segment_keys:
        session.add(FrameworkSegment(framework_agreement_id=agreement.id, segment_key=key))
    session.flush()
    provider = session.get(Organisation, organisation_id)
    audit.record("framework_agreement.created",
                 f"Raamovereenkomst {agreement.reference} van {provider.name} aangemaakt",
                 object_type="framework_agreement", object_id=agreement.id, organisation_id=organisation_id,
                 region_id=region_id,
                 details={"before": None,
                          "after": _framework_snapshot(agreement, segment_keys, term_of(agreement, []).end)})
    return agreement


def update_framework_agreement(agreement: FrameworkAgreement, *, reference: str, domain: str,
                               segments: list[str], lot: str, contract_form: str, start_date: date,
                               scheme: str | None = None, bow_wave: bool = False,
                               terminated_on: date | None = None, contract_value=KEEP) -> FrameworkAgreement:
    """Change a framework agreement; ``contract_value`` (euros, or None for unknown) stays as it is
    when not given."""
    session = db.session()
    evaluations = evaluations_of(agreement)
    old_segments = segments_of(agreement)
    values = dict(organisation_id=agreement.organisation_id, reference=reference, domain=domain,
                  segments=segments, lot=lot, contract_form=contract_form, start_date=start_date,
                  scheme=scheme, bow_wave=bow_wave, terminated_on=terminated_on)
    initial, options = _check_framework(agreement.region_id, values, agreement, evaluations)
    value_cents = agreement.contract_value_cents if contract_value is KEEP else contract_value_cents(contract_value)
    before = _framework_snapshot(agreement, old_segments, term_of(agreement, evaluations).end)
    agreement.reference = reference.strip()
    agreement.domain, agreement.lot, agreement.contract_form = domain, lot, contract_form
    agreement.start_date, agreement.initial_years, agreement.extension_options = start_date, initial, options
    agreement.bow_wave, agreement.terminated_on = bool(bow_wave), terminated_on
    agreement.contract_value_cents = value_cents
    session.add(agreement)
    new_segments = list(dict.fromkeys(segments))
    for row in session.exec(select(FrameworkSegment).where(
            FrameworkSegment.framework_agreement_id == agreement.id)).all():
        if row.segment_key not in new_segments:
            session.delete(row)
    for key in new_segments:
        if key not in old_segments:
            session.add(FrameworkSegment(framework_agreement_id=agreement.id, segment_key=key))
    session.flush()
    after = _framework_snapshot(agreement, new_segments, term_of(agreement, evaluations).end)
    provider = session.get(Organisation, agreement.organisation_id)
    audit.record("framework_agreement.changed",
                 f"Raamovereenkomst {agreement.reference} van {provider.name} gewijzigd",
                 object_type="framework_agreement", object_id=agreement.id,
                 organisation_id=agreement.organisation_id, region_id=agreement.region_id,
                 details={"before": before, "after": after})
    return agreement


def use_extension(agreement: FrameworkAgreement, today: date | None = None) -> Term:
    """Use the next extension option; returns the new term."""
    today = today or clock.today()
    evaluations = evaluations_of(agreement)
    term = term_of(agreement, evaluations, today)
    if agreement.bow_wave:
        raise RuleViolation(None, "Een overeenkomst volgens het boeggolfprincipe heeft geen verlengingsopties; "
                                  "zij verlengt via de jaarlijkse evaluatie.")
    if term.status == "terminated":
        raise RuleViolation(None, "Deze overeenkomst is beëindigd en kan niet meer worden verlengd.")
    if term.status == "ended":
        raise RuleViolation(None, f"Deze overeenkomst is op {_nl_date(term.end)} afgelopen; verlengen kan "
                                  "alleen zolang zij loopt.")
    if not term.extensions_left:
        raise RuleViolation(None, "Alle verlengingsopties van deze overeenkomst zijn al gebruikt.")
    before = {"extensions_used": agreement.extensions_used, "end_date": _text(term.end)}
    agreement.extensions_used += 1
    db.session().add(agreement)
    new_term = term_of(agreement, evaluations, today)
    years = term.extensions_left[0]
    audit.record("framework_agreement.extended",
                 f"Raamovereenkomst {agreement.reference} met {years} jaar verlengd tot {_nl_date(new_term.end)}",
                 object_type="framework_agreement", object_id=agreement.id,
                 organisation_id=agreement.organisation_id, region_id=agreement.region_id,
                 details={"before": before,
                          "after": {"extensions_used": agreement.extensions_used, "end_date": _text(new_term.end)}})
    return new_term


def _nl_date(day: date) -> str:
    return nl_date(day)


def record_bow_wave_evaluation(agreement: FrameworkAgreement, year: int | None, satisfactory: bool, note: str = "",
                               today: date | None = None, decided_by: int | None = None) -> BowWaveEvaluation:
    """The yearly evaluation under the bow-wave principle: a satisfactory year earns one year."""
    today = today or clock.today()
    if not agreement.bow_wave:
        raise RuleViolation("year", "Deze overeenkomst valt niet onder het boeggolfprincipe.")
    evaluations = evaluations_of(agreement)
    term = term_of(agreement, evaluations, today)
    if agreement.terminated_on is not None:
        raise RuleViolation("year", "Deze overeenkomst is beëindigd; er volgen geen evaluaties meer.")
    expected = terms.next_evaluation_year(agreement.start_date, [e.year for e in evaluations])
    if year is None:
        raise RuleViolation("year", "Vul het jaar in dat u evalueert.")
    if any(evaluation.year == year for evaluation in evaluations):
        raise RuleViolation("year", f"Het jaar {year} is al geëvalueerd; elk jaar wordt één keer geëvalueerd.")
    if year > term.end.year:
        raise RuleViolation("year", f"De overeenkomst is op {_nl_date(term.end)} afgelopen; {year} valt "
                                    "daarbuiten.")
    if year != expected:
        raise RuleViolation("year", f"De evaluaties gaan jaar voor jaar; het volgende jaar is {expected}.")
    if year > today.year:
        raise RuleViolation("year", f"{year} is nog niet begonnen; evalueer een jaar dat loopt of voorbij is.")
    note = (note or "").strip()
    last_end = terms.last_possible_end(agreement.start_date, agreement.initial_years,
                                       list(agreement.extension_options or []))
    end_after = terms.bow_wave_end_after(term.end, bool(satisfactory), last_end)
    evaluation = BowWaveEvaluation(framework_agreement_id=agreement.id, year=year, satisfactory=bool(satisfactory),
                                   end_before=term.end, end_after=end_after, note=note, decided_by=decided_by,
                                   decided_at=utcnow())
    session = db.session()
    session.add(evaluation)
    session.flush()
    horizon = terms.horizon_years(end_after, year)
    verdict = "voldoende" if satisfactory else "onvoldoende"
    audit.record("framework_agreement.bow_wave_evaluated",
                 f"Raamovereenkomst {agreement.reference}: evaluatie {year} {verdict}, einddatum "
                 f"{_nl_date(end_after)} (horizon {horizon} jaar"
                 + ("; de maximale looptijd is bereikt, er komt geen jaar meer bij)"
                    if satisfactory and end_after == term.end else ")"),
                 object_type="framework_agreement", object_id=agreement.id,
                 organisation_id=agreement.organisation_id, region_id=agreement.region_id,
                 details={"before": {"end_date": _text(term.end), "horizon": term.horizon},
                          "after": {"end_date": _text(end_after), "horizon": horizon, "year": year,
                                    "satisfactory": bool(satisfactory), "note": note}})
    return evaluation


# --- Budget agreements and ceilings --------------------------------------------------------------


def covering_framework(organisation_id: int, segment_key: str, year: int) -> tuple[FrameworkAgreement | None, bool]:
    """The provider's framework agreement for the segment that runs in ``year``, and whether any
    framework agreement of the provider covers the segment at all."""
    session = db.session()
    candidates = session.exec(
        select(FrameworkAgreement)
        .join(FrameworkSegment, FrameworkSegment.framework_agreement_id == FrameworkAgreement.id)
        .where(FrameworkAgreement.organisation_id == organisation_id, FrameworkSegment.segment_key == segment_key)
        .order_by(FrameworkAgreement.start_date)).all()
    for agreement in candidates:
        term = term_of(agreement)
        if agreement.start_date.year <= year <= _period_end(term.end, agreement.terminated_on).year:
            return agreement, True
    return None, bool(candidates)


def sum_amounts(statement) -> Decimal:
    """The exact sum of a select of one amount column. Summed here, not by SQL: SQLite keeps exact
    decimals as text and its SUM would pass them through binary floating point."""
    return sum((Decimal(amount) for amount in db.session().exec(statement).all()), Decimal("0.00"))


def contracted_value(region_id: int, segment_key: str, year: int, leave_out: int | None = None) -> Decimal:
    """The sum of the budget agreements and ceilings of the region for the segment and year."""
    statement = select(BudgetAgreement.amount).where(
        BudgetAgreement.region_id == region_id, BudgetAgreement.segment_key == segment_key,
        BudgetAgreement.year == year)
    if leave_out is not None:
        statement = statement.where(BudgetAgreement.id != leave_out)
    return sum_amounts(statement)


def extra_capacity_total(region_id: int, segment_key: str, year: int) -> Decimal:
    return sum_amounts(select(ExtraCapacity.amount).where(
        ExtraCapacity.region_id == region_id, ExtraCapacity.segment_key == segment_key,
        ExtraCapacity.year == year))


def _budget_snapshot(agreement: BudgetAgreement) -> dict:
    return {
        "organisation_id": agreement.organisation_id,
        "municipality_id": agreement.municipality_id,
        "framework_agreement_id": agreement.framework_agreement_id,
        "segment_key": agreement.segment_key,
        "year": agreement.year,
        "kind": agreement.kind,
        "amount": _text(agreement.amount),
        "bandwidth_percentage": _text(agreement.bandwidth_percentage),
        "advance_installments": agreement.advance_installments,
    }


def _check_money_terms(kind: str, amount, bandwidth, installments) -> tuple[Decimal | None, int | None]:
    """Amount, bandwidth and advances of a budget agreement or ceiling; returns the bandwidth and
    installments to store."""
    if kind not in rules.KINDS:
        raise RuleViolation("kind", "Kies budgetafspraak of budgetplafond.")
    if amount is None:
        raise RuleViolation("amount", "Vul het bedrag in.")
    if amount <= 0:
        raise RuleViolation("amount", "Het bedrag moet groter zijn dan nul.")
    if amount >= Decimal("1000000000000"):
        raise RuleViolation("amount", "Dit bedrag is te groot.")
    if kind == "ceiling":
        if bandwidth is not None:
            raise RuleViolation("bandwidth_percentage", "Een budgetplafond heeft geen bandbreedte; laat dit veld leeg.")
        if installments is not None:
            raise RuleViolation("advance_installments", "Bij een budgetplafond horen geen voorschotten; kies "
                                                        "'geen voorschotten'.")
        return None, None
    bandwidth = Decimal(0) if bandwidth is None else bandwidth
    if not Decimal(0) <= bandwidth <= Decimal(100):
        raise RuleViolation("bandwidth_percentage", "De bandbreedte is een percentage van 0 tot en met 100.")
    if installments not in rules.INSTALLMENTS:
        raise RuleViolation("advance_installments", "Kies hoe de voorschotten worden betaald: per maand, per "
                                                    "kwartaal of één keer per jaar.")
    return bandwidth, installments


def create_budget_agreement(region_id: int, *, organisation_id: int, municipality_id: int, segment_key: str,
                            year: int | None, kind: str, amount: Decimal | None,
                            bandwidth_percentage: Decimal | None = None,
                            advance_installments: int | None = None) -> BudgetAgreement:
    """A budget agreement or ceiling of a regional provider with one municipality, segment and year."""
    session = db.session()
    provider = _provider_of_region(region_id, organisation_id)
    municipality = _municipality_of_region(region_id, municipality_id)
    if segment_key not in current_registry().segments:
        raise RuleViolation("segment_key", "Kies een segment.")
    if year is None or not 2000 <= year <= 2100:
        raise RuleViolation("year", "Vul een jaar in, bijvoorbeeld 2026.")
    framework, covers = covering_framework(provider.id, segment_key, year)
    lot = framework.lot if framework is not None else None
    if framework is None and covers:
        raise RuleViolation("year", f"De raamovereenkomst van {provider.name} voor dit segment loopt niet in {year}.")
    refusal = rules.additional_agreement_refusal(lot, covers)
    if refusal:
        raise RuleViolation("organisation_id" if covers else "segment_key", refusal)
    if session.exec(select(BudgetAgreement).where(
            BudgetAgreement.organisation_id == provider.id, BudgetAgreement.municipality_id == municipality.id,
            BudgetAgreement.segment_key == segment_key, BudgetAgreement.year == year)).first() is not None:
        raise RuleViolation("year", f"Er is al een budgetafspraak of budgetplafond van {provider.name} met "
                                    f"{municipality.name} voor dit segment in {year}; wijzig die.")
    bandwidth, installments = _check_money_terms(kind, amount, bandwidth_percentage, advance_installments)
    agreement = BudgetAgreement(
        region_id=region_id, organisation_id=provider.id, municipality_id=municipality.id,
        framework_agreement_id=framework.id, segment_key=segment_key, year=year, kind=kind, amount=amount,
        bandwidth_percentage=bandwidth, advance_installments=installments)
    session.add(agreement)
    session.flush()
    audit.record("budget_agreement.created",
                 f"{rules.KINDS[kind]} {year} van {provider.name} met {municipality.name} voor "
                 f"{current_registry().segment_short_label(segment_key)} vastgelegd",
                 object_type="budget_agreement", object_id=agreement.id, organisation_id=provider.id,
                 region_id=region_id, details={"before": None, "after": _budget_snapshot(agreement)})
    return agreement


def update_budget_agreement(agreement: BudgetAgreement, *, amount: Decimal | None,
                            bandwidth_percentage: Decimal | None = None, kind: str | None = None,
                            advance_installments=KEEP) -> BudgetAgreement:
    """Change amount, bandwidth (and optionally kind and advances). Provider, municipality, segment
    and year make the agreement what it is and do not change; agreements are never deleted."""
    kind = kind or agreement.kind
    if advance_installments is KEEP:
        advance_installments = agreement.advance_installments if kind == agreement.kind else None
    bandwidth, installments = _check_money_terms(kind, amount, bandwidth_percentage, advance_installments)
    contracted = contracted_value(agreement.region_id, agreement.segment_key, agreement.year,
                                  leave_out=agreement.id) + amount
    extra = extra_capacity_total(agreement.region_id, agreement.segment_key, agreement.year)
    if extra > 0 and rules.extra_capacity_room(contracted, Decimal(0)) < extra:
        raise RuleViolation("amount", f"Met dit bedrag komt de extra capaciteit buiten de raamovereenkomst "
                                      f"({money(extra)}) boven 10% van de gecontracteerde waarde.")
    before = _budget_snapshot(agreement)
    agreement.kind, agreement.amount = kind, amount
    agreement.bandwidth_percentage, agreement.advance_installments = bandwidth, installments
    agreement.updated_at = utcnow()
    session = db.session()
    session.add(agreement)
    session.flush()
    after = _budget_snapshot(agreement)
    if after == before:
        return agreement
    provider = session.get(Organisation, agreement.organisation_id)
    municipality = session.get(Organisation, agreement.municipality_id)
    audit.record("budget_agreement.changed",
                 f"{rules.KINDS[kind]} {agreement.year} van {provider.name} met {municipality.name} voor "
                 f"{current_registry().segment_short_label(agreement.segment_key)} gewijzigd",
                 object_type="budget_agreement", object_id=agreement.id, organisation_id=agreement.organisation_id,
                 region_id=agreement.region_id, details={"before": before, "after": after})
    return agreement


QUARTERS = ("1e kwartaal", "2e kwartaal", "3e kwartaal", "4e kwartaal")


def advance_periods(amount: Decimal, installments: int | None) -> list[tuple[str, Decimal]]:
    """The advances of a budget agreement with the period each covers (empty for a ceiling)."""
    if not installments:
        return []
    parts = rules.advance_schedule(amount, installments)
    if installments == 12:
        months = get_month_names("wide", locale="nl_NL")
        labels = [months[number] for number in range(1, 13)]
    elif installments == 4:
        labels = list(QUARTERS)
    else:
        labels = ["Heel het jaar"]
    return list(zip(labels, parts))


# --- Extra capacity ------------------------------------------------------------------------------


def add_extra_capacity(region_id: int, *, organisation_id: int, municipality_id: int | None, segment_key: str,
                       year: int | None, amount: Decimal | None, reason: str) -> ExtraCapacity:
    """Capacity bought outside the framework; never more than 10% of the contracted value."""
    session = db.session()
    provider = _provider_of_region(region_id, organisation_id)
    municipality = _municipality_of_region(region_id, municipality_id) if municipality_id else None
    if segment_key not in current_registry().segments:
        raise RuleViolation("segment_key", "Kies een segment.")
    if year is None or not 2000 <= year <= 2100:
        raise RuleViolation("year", "Vul een jaar in, bijvoorbeeld 2026.")
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise RuleViolation("reason", "Leg uit waarom de aanbieders met een raamovereenkomst dit niet kunnen "
                                      f"leveren (ten minste {MIN_REASON_LENGTH} tekens).")
    if amount is None:
        raise RuleViolation("amount", "Vul het bedrag in.")
    if amount <= 0:
        raise RuleViolation("amount", "Het bedrag moet groter zijn dan nul.")
    contracted = contracted_value(region_id, segment_key, year)
    so_far = extra_capacity_total(region_id, segment_key, year)
    refusal = rules.extra_capacity_refusal(contracted, so_far, amount)
    if refusal:
        raise RuleViolation("amount", refusal)
    extra = ExtraCapacity(region_id=region_id, organisation_id=provider.id,
                          municipality_id=municipality.id if municipality else None, segment_key=segment_key,
                          year=year, amount=amount, reason=reason)
    session.add(extra)
    session.flush()
    audit.record("extra_capacity.added",
                 f"Extra capaciteit {year} bij {provider.name} voor {current_registry().segment_short_label(segment_key)} vastgelegd",
                 object_type="extra_capacity", object_id=extra.id, organisation_id=provider.id, region_id=region_id,
                 details={"before": {"contracted_value": _text(contracted), "extra_capacity_total": _text(so_far)},
                          "after": {"organisation_id": provider.id,
                                    "municipality_id": municipality.id if municipality else None,
                                    "segment_key": segment_key, "year": year, "amount": _text(amount),
                                    "reason": reason, "extra_capacity_total": _text(so_far + amount)}})
    return extra
