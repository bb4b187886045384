"""How the API writes the portal's objects: amounts as decimal strings ("1234.56", never a float),
dates and moments in ISO 8601, organisations as small references."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.catalogue import service as catalogue
from portal.catalogue.pricing import PricingError
from portal.contracts import terms as contract_terms
from portal.contracts.rules import advance_schedule
from portal.models import (
    BowWaveEvaluation,
    BudgetAgreement,
    CareForm,
    FrameworkAgreement,
    FrameworkSegment,
    Organisation,
    StandardTrajectory,
    Tariff,
)
from portal.models.realisation import RealisationLine
from portal.proposals.states import LABELS as PROPOSAL_STATES
from portal.realisation.rules import Period
from portal.validators import RuleViolation


def decimal_string(value) -> str | None:
    """``Decimal("1234.50")`` -> ``"1234.50"``: exact, the scale kept, no exponent."""
    return None if value is None else format(Decimal(value), "f")


def iso_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def iso_moment(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def organisation_ref(organisation: Organisation | None) -> dict | None:
    if organisation is None:
        return None
    ref = {"id": organisation.id, "name": organisation.name}
    if organisation.kind == "provider":
        ref["agb_code"] = organisation.agb_code
    if organisation.municipality_code:
        ref["municipality_code"] = organisation.municipality_code
    return ref


def segment_name(registry, key: str) -> str | None:
    segment = registry.segments.get(key)
    return segment.name if segment else None


def _by_id(model, ids) -> dict:
    ids = set(ids)
    if not ids:
        return {}
    return {row.id: row for row in db.session().exec(select(model).where(model.id.in_(ids))).all()}


# --- Catalogue -------------------------------------------------------------------------------


def catalogue_items(trajectories: list[StandardTrajectory], registry, provider_id: int | None) -> list[dict]:
    """Standard trajectories with their computed price; for a provider with the surcharges it
    qualifies for. A trajectory whose price cannot be computed (no tariff version for the year)
    gets ``price: null`` and the reason in ``price_note``."""
    care_forms = _by_id(CareForm, (t.care_form_id for t in trajectories))
    tariffs = _by_id(Tariff, (t.tariff_id for t in trajectories))
    items = []
    for trajectory in trajectories:
        care_form = care_forms.get(trajectory.care_form_id)
        tariff = tariffs.get(trajectory.tariff_id)
        price = note = unit_rate = None
        try:
            unit_rate = decimal_string(catalogue.unit_rate(tariff, trajectory.year))
            breakdown = catalogue.trajectory_price(trajectory, provider_id)
            price = {
                "total": decimal_string(breakdown.total),
                "lines": [{"label": line.label, "amount": decimal_string(line.amount), "kind": line.kind}
                          for line in breakdown.lines],
            }
        except (RuleViolation, PricingError) as error:
            note = error.message
        items.append({
            "id": trajectory.id,
            "year": trajectory.year,
            "segment": trajectory.segment_key,
            "segment_name": segment_name(registry, trajectory.segment_key),
            "code": trajectory.code,
            "name": trajectory.name,
            "care_form": {"id": care_form.id, "code": care_form.code, "name": care_form.name} if care_form else None,
            "expertise": trajectory.expertise,
            "intensity": decimal_string(trajectory.intensity),
            "intensity_period": trajectory.intensity_period,
            "duration_months": trajectory.duration_months,
            "tariff": {"code": tariff.code, "name": tariff.name, "unit": tariff.unit,
                       "unit_rate": unit_rate} if tariff else None,
            "extra": {key: None if value is None else str(value)
                      for key, value in sorted((trajectory.extra or {}).items())},
            "price": price,
            "price_note": note,
            "surcharges_included": provider_id is not None,
        })
    return items


# --- Framework agreements --------------------------------------------------------------------


def framework_agreements(agreements: list[FrameworkAgreement], registry, today: date,
                         with_evaluations: bool = False) -> list[dict]:
    session = db.session()
    ids = [a.id for a in agreements]
    segments: dict[int, list[str]] = {i: [] for i in ids}
    evaluations: dict[int, list[BowWaveEvaluation]] = {i: [] for i in ids}
    earned: dict[int, int] = {}
    if ids:
        for row in session.exec(select(FrameworkSegment).where(FrameworkSegment.framework_agreement_id.in_(ids))
                                .order_by(FrameworkSegment.segment_key)).all():
            segments[row.framework_agreement_id].append(row.segment_key)
        earned = dict(session.exec(
            select(BowWaveEvaluation.framework_agreement_id, func.count())
            .where(BowWaveEvaluation.framework_agreement_id.in_(ids), BowWaveEvaluation.satisfactory == True)  # noqa: E712
            .group_by(BowWaveEvaluation.framework_agreement_id)).all())
        if with_evaluations:
            for row in session.exec(select(BowWaveEvaluation).where(
                    BowWaveEvaluation.framework_agreement_id.in_(ids)).order_by(BowWaveEvaluation.year)).all():
                evaluations[row.framework_agreement_id].append(row)
    providers = _by_id(Organisation, (a.organisation_id for a in agreements))
    items = []
    for agreement in agreements:
        years_earned = earned.get(agreement.id, 0)
        try:
            end = contract_terms.end_date(agreement.start_date, agreement.initial_years,
                                          list(agreement.extension_options or []), agreement.extensions_used,
                                          years_earned)
        except ValueError:
            end = None
        status = (contract_terms.status(agreement.start_date, end, agreement.terminated_on, today)
                  if end is not None else None)
        item = {
            "id": agreement.id,
            "reference": agreement.reference,
            "provider": organisation_ref(providers.get(agreement.organisation_id)),
            "domain": agreement.domain,
            "lot": agreement.lot,
            "contract_form": agreement.contract_form,
            "contract_form_label": contract_terms.CONTRACT_FORMS.get(agreement.contract_form),
            "segments": [{"key": key, "name": segment_name(registry, key)} for key in segments[agreement.id]],
            "start_date": iso_date(agreement.start_date),
            "initial_years": agreement.initial_years,
            "extension_options": list(agreement.extension_options or []),
            "extensions_used": agreement.extensions_used,
            "bow_wave": agreement.bow_wave,
            "bow_wave_years_earned": years_earned,
            "end_date": iso_date(end),
            "terminated_on": iso_date(agreement.terminated_on),
            "status": status,
            "status_label": contract_terms.STATUS_LABELS.get(status) if status else None,
            "created_at": iso_moment(agreement.created_at),
        }
        if with_evaluations:
            item["bow_wave_evaluations"] = [{
                "year": e.year,
                "satisfactory": e.satisfactory,
                "end_before": iso_date(e.end_before),
                "end_after": iso_date(e.end_after),
                "note": e.note,
                "decided_at": iso_moment(e.decided_at),
            } for e in evaluations[agreement.id]]
        items.append(item)
    return items


# --- Budget agreements -----------------------------------------------------------------------


def budget_agreements(agreements: list[BudgetAgreement], registry) -> list[dict]:
    organisations = _by_id(Organisation, [a.organisation_id for a in agreements]
                           + [a.municipality_id for a in agreements])
    items = []
    for agreement in agreements:
        advances = []
        if agreement.kind == "budget" and agreement.advance_installments:
            try:
                advances = [{"number": number, "amount": decimal_string(amount)} for number, amount in
                            enumerate(advance_schedule(agreement.amount, agreement.advance_installments), 1)]
            except ValueError:
                advances = []
        items.append({
            "id": agreement.id,
            "provider": organisation_ref(organisations.get(agreement.organisation_id)),
            "municipality": organisation_ref(organisations.get(agreement.municipality_id)),
            "framework_agreement_id": agreement.framework_agreement_id,
            "segment": agreement.segment_key,
            "segment_name": segment_name(registry, agreement.segment_key),
            "year": agreement.year,
            "kind": agreement.kind,
            "amount": decimal_string(agreement.amount),
            "bandwidth_percentage": decimal_string(agreement.bandwidth_percentage),
            "advance_installments": agreement.advance_installments,
            "advances": advances,
            "created_at": iso_moment(agreement.created_at),
            "updated_at": iso_moment(agreement.updated_at),
        })
    return items


# --- Custom trajectory proposals ------------------------------------------------------------


def _proposal_moment(value: datetime | None) -> str | None:
    """A proposal's moment to the second; a naive one (UTC in the database) gets "+00:00"."""
    return None if value is None else value.replace(microsecond=0).isoformat() + ("" if value.tzinfo else "+00:00")


def proposal(summary) -> dict:
    """One proposal (a :class:`portal.proposals.queries.ProposalSummary`) with its current version
    and, once approved, its custom trajectory."""
    item, version, provider, custom = summary.proposal, summary.current, summary.provider, summary.custom
    return {
        "id": item.id, "title": item.title, "state": item.state, "state_label": PROPOSAL_STATES[item.state],
        "provider": {"id": provider.id, "name": provider.name}, "segment": item.segment_key,
        "standard_trajectory_id": item.standard_trajectory_id, "current_version": item.current_version,
        "lock_version": item.lock_version,
        "current": {"number": version.number, "side": version.side, "intensity": str(version.intensity),
                    "intensity_period": version.intensity_period, "duration_months": version.duration_months,
                    "expected_per_year": version.expected_per_year,
                    "extra": {str(k): str(v) for k, v in (version.extra or {}).items()},
                    "substantiation": version.substantiation, "comment": version.comment},
        "custom_trajectory": None if custom is None else {
            "code": custom.code, "valid_from": custom.valid_from.isoformat(),
            "valid_until": custom.valid_until.isoformat() if custom.valid_until else None},
        "created_at": _proposal_moment(item.created_at), "submitted_at": _proposal_moment(item.submitted_at),
        "updated_at": _proposal_moment(item.updated_at), "decided_at": _proposal_moment(item.decided_at),
    }


def proposals(summaries: list) -> list[dict]:
    """Proposals (:class:`portal.proposals.queries.ProposalSummary` values) as :func:`proposal` writes them."""
    return [proposal(summary) for summary in summaries]


# --- Realisation -----------------------------------------------------------------------------


def realisation_reports(reports: list, registry, with_lines: bool = False) -> list[dict]:
    """Realisation report versions; with ``with_lines`` each with its lines (one per trajectory)."""
    organisations = _by_id(Organisation, [r.organisation_id for r in reports] + [r.municipality_id for r in reports])
    lines: dict[int, list] = {r.id: [] for r in reports}
    if with_lines and reports:
        for line in db.session().exec(select(RealisationLine).where(RealisationLine.report_id.in_(list(lines)))
                                      .order_by(RealisationLine.trajectory_code, RealisationLine.id)).all():
            lines[line.report_id].append(line)
    items = []
    for report in reports:
        period = Period(report.year, report.period_kind, report.period)
        item = {
            "id": report.id,
            "provider": organisation_ref(organisations.get(report.organisation_id)),
            "municipality": organisation_ref(organisations.get(report.municipality_id)),
            "segment": report.segment_key,
            "segment_name": segment_name(registry, report.segment_key),
            "year": report.year,
            "period": period.code,
            "period_kind": report.period_kind,
            "period_number": report.period,
            "version": report.version,
            "state": report.state,
            "lock_version": report.lock_version,
            "total_value": decimal_string(report.total_value),
            "line_count": report.line_count,
            "warnings": list(report.warnings or []),
            "rejection_reason": report.rejection_reason,
            "upload_id": report.upload_id,
            "submitted_at": iso_moment(report.submitted_at),
            "reviewed_at": iso_moment(report.reviewed_at),
        }
        if with_lines:
            item["lines"] = [{
                "trajectory": line.trajectory_code,
                "started": line.started,
                "running": line.running,
                "ended": line.ended,
                "clients": line.clients,
                "units": decimal_string(line.units),
                "place_days": line.place_days,
                "unit_price": decimal_string(line.unit_price),
                "value": decimal_string(line.value),
                "extra": {str(key): str(value) for key, value in sorted((line.extra or {}).items())},
            } for line in lines[report.id]]
        items.append(item)
    return items
