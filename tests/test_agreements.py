"""The agreement services: framework agreements (extensions, bow wave), budget agreements and
ceilings (refused for a local-lot provider), extra capacity (10% rule), and the audit trail.

Every refusal names the field that is wrong, in Dutch, and leaves the database as it was.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.contracts import service as agreements
from portal.models import AuditEvent, BowWaveEvaluation, BudgetAgreement, ExtraCapacity, FrameworkAgreement
from portal.validators import RuleViolation
from tests.agreement_data import budget, framework, new_provider, organisation, region_id
from tests.dates import YEAR

D = Decimal


@contextmanager
def context(app):
    with app.app_context():
        yield db.session()


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _refused(session, call, field: str, *words: str) -> RuleViolation:
    """``call`` raises a RuleViolation on ``field`` whose message holds ``words``; nothing is written."""
    before = {model: _count(session, model) for model in
              (FrameworkAgreement, BudgetAgreement, ExtraCapacity, BowWaveEvaluation, AuditEvent)}
    with pytest.raises(RuleViolation) as caught:
        call()
    assert caught.value.field == field, caught.value.message
    for word in words:
        assert word in caught.value.message
    session.flush()
    assert before == {model: _count(session, model) for model in before}
    return caught.value


# --- Framework agreements ---------------------------------------------------------------------


def test_extension_moves_the_end_date_and_changes_the_status(app, demo):
    with context(app) as session:
        provider = new_provider("Testzorg Regionaal")
        agreement = framework(provider, "T-RO-1", segments=("wmo.S1a",), start=date(2022, 1, 1))
        assert (agreement.initial_years, agreement.extension_options) == (3, [1, 1])  # the segment's 3+1+1
        term = agreements.term_of(agreement, today=date(2024, 10, 1))
        assert (term.end, term.status, term.extensions_left) == (date(2024, 12, 31), "running", (1, 1))
        assert agreements.term_of(agreement, today=date(2025, 3, 1)).status == "ended"
        assert term.latest_end == date(2026, 12, 31)

        new_term = agreements.use_extension(agreement, today=date(2024, 10, 1))
        assert (new_term.end, new_term.extensions_used, new_term.extensions_left) == (date(2025, 12, 31), 1, (1,))
        assert agreements.term_of(agreement, today=date(2025, 3, 1)).status == "running"
        session.commit()

        event = session.exec(select(AuditEvent).where(AuditEvent.action == "framework_agreement.extended",
                                                      AuditEvent.object_id == str(agreement.id))).one()
        assert event.details == {"before": {"extensions_used": 0, "end_date": "2024-12-31"},
                                 "after": {"extensions_used": 1, "end_date": "2025-12-31"}}
        assert event.object_id == str(agreement.id) and event.organisation_id == provider.id

        agreements.use_extension(agreement, today=date(2025, 6, 1))
        assert agreements.term_of(agreement, today=date(2026, 6, 1)).end == date(2026, 12, 31)
        _refused(session, lambda: agreements.use_extension(agreement, today=date(2026, 6, 1)), None,
                 "Alle verlengingsopties")


def test_an_ended_or_terminated_agreement_is_not_extended(app, demo):
    with context(app) as session:
        provider = new_provider("Testzorg Regionaal")
        agreement = framework(provider, "T-RO-2", segments=("wmo.S1b",), start=date(2022, 1, 1))
        _refused(session, lambda: agreements.use_extension(agreement, today=date(2025, 1, 1)), None,
                 "afgelopen")
        agreements.update_framework_agreement(
            agreement, reference="T-RO-2", domain="wmo", segments=["wmo.S1b"], lot="regional", contract_form="c",
            start_date=date(2022, 1, 1), scheme="3+1+1", terminated_on=date(2023, 6, 30))
        term = agreements.term_of(agreement, today=date(2023, 7, 1))
        assert term.status == "terminated" and term.status_label == "Beëindigd"
        _refused(session, lambda: agreements.use_extension(agreement, today=date(2023, 7, 1)), None, "beëindigd")


def test_bow_wave_keeps_its_history_and_recalculates_the_horizon(app, demo):
    """Horizon 3: a good year earns a year (horizon stays 3), a bad one does not (2), the next good
    year earns one again (2). Each evaluation stores the end before and after."""
    with context(app) as session:
        provider = new_provider("Testzorg Werk")
        agreement = framework(provider, "T-BG-1", segments=("participatie.S3",), contract_form="a",
                              start=date(2022, 1, 1), bow_wave=True)
        # Horizon = initial term; Participatie S3 keeps its options (3+3+3 met boeggolfprincipe) as the cap.
        assert (agreement.initial_years, agreement.extension_options) == (3, [3, 3])
        term = agreements.term_of(agreement, today=date(2022, 6, 1))
        assert (term.end, term.horizon, term.next_evaluation_year) == (date(2024, 12, 31), 3, 2022)

        today = date(2026, 1, 15)
        first = agreements.record_bow_wave_evaluation(agreement, 2022, True, "Goede samenwerking", today=today)
        assert (first.end_before, first.end_after) == (date(2024, 12, 31), date(2025, 12, 31))
        assert agreements.term_of(agreement, today=today).horizon == 3
        second = agreements.record_bow_wave_evaluation(agreement, 2023, False, "Wachttijden opgelopen", today=today)
        assert (second.end_before, second.end_after) == (date(2025, 12, 31), date(2025, 12, 31))
        assert agreements.term_of(agreement, today=today).horizon == 2
        agreements.record_bow_wave_evaluation(agreement, 2024, True, today=today)
        term = agreements.term_of(agreement, today=today)
        assert (term.end, term.horizon, term.years_earned, term.next_evaluation_year) == (
            date(2026, 12, 31), 2, 2, 2025)
        session.commit()

        history = agreements.evaluations_of(agreement)
        assert [(e.year, e.satisfactory, e.end_after) for e in history] == [
            (2022, True, date(2025, 12, 31)), (2023, False, date(2025, 12, 31)), (2024, True, date(2026, 12, 31))]
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "framework_agreement.bow_wave_evaluated",
                                                       AuditEvent.object_id == str(agreement.id))
                              .order_by(AuditEvent.id)).all()
        assert [e.details["after"]["horizon"] for e in events] == [3, 2, 2]
        assert events[1].details["before"] == {"end_date": "2025-12-31", "horizon": 3}

        _refused(session, lambda: agreements.record_bow_wave_evaluation(agreement, 2024, True, today=today),
                 "year", "al geëvalueerd")
        _refused(session, lambda: agreements.record_bow_wave_evaluation(agreement, 2026, True, today=today),
                 "year", "het volgende jaar is 2025")
        _refused(session, lambda: agreements.record_bow_wave_evaluation(agreement, 2025, True,
                                                                       today=date(2024, 12, 1)),
                 "year", "nog niet begonnen")
        _refused(session, lambda: agreements.use_extension(agreement, today=today), None, "boeggolfprincipe")
        # Once evaluated, the bow wave cannot be switched off, nor the start moved.
        _refused(session, lambda: agreements.update_framework_agreement(
            agreement, reference="T-BG-1", domain="participatie", segments=["participatie.S3"], lot="regional",
            contract_form="a", start_date=date(2022, 1, 1), scheme="3", bow_wave=False), "bow_wave")
        _refused(session, lambda: agreements.update_framework_agreement(
            agreement, reference="T-BG-1", domain="participatie", segments=["participatie.S3"], lot="regional",
            contract_form="a", start_date=date(2023, 1, 1), scheme="3", bow_wave=True), "start_date")


def test_bow_wave_horizon_runs_out_after_bad_years(app, demo):
    with context(app) as session:
        provider = new_provider("Testzorg Werk")
        agreement = framework(provider, "T-BG-2", segments=("participatie.S3",), contract_form="a",
                              start=date(2022, 1, 1), bow_wave=True)
        today = date(2026, 1, 15)
        for year in (2022, 2023, 2024):
            agreements.record_bow_wave_evaluation(agreement, year, False, today=today)
        term = agreements.term_of(agreement, today=today)
        assert (term.end, term.horizon, term.status, term.next_evaluation_year) == (
            date(2024, 12, 31), 0, "ended", None)
        _refused(session, lambda: agreements.record_bow_wave_evaluation(agreement, 2025, True, today=today),
                 "year", "afgelopen")


def test_bow_wave_rolls_on_within_three_plus_three_plus_three_and_stops_at_nine_years(app, demo):
    """000 §7.3 PW S3 "Duur: 3 + 3 + 3, met boeggolfprincipe": the horizon of 3 rolls on with every
    good year, but the agreement never runs past its nine years (31 December 2030 from 2022)."""
    with context(app) as session:
        provider = new_provider("Testzorg Werk")
        agreement = framework(provider, "T-BG-3", segments=("participatie.S3",), contract_form="a",
                              start=date(2022, 1, 1), scheme="3+3+3", bow_wave=True)
        assert (agreement.bow_wave, agreement.initial_years, agreement.extension_options) == (True, 3, [3, 3])
        term = agreements.term_of(agreement, today=date(2022, 6, 1))
        assert (term.end, term.horizon, term.latest_end, term.next_extension_end) == (
            date(2024, 12, 31), 3, date(2030, 12, 31), None)
        _refused(session, lambda: agreements.use_extension(agreement, today=date(2022, 6, 1)), None,
                 "boeggolfprincipe")

        today = date(2031, 1, 15)
        ends = [agreements.record_bow_wave_evaluation(agreement, year, True, today=today).end_after
                for year in range(2022, 2031)]
        assert ends == [date(2025, 12, 31), date(2026, 12, 31), date(2027, 12, 31), date(2028, 12, 31),
                        date(2029, 12, 31), date(2030, 12, 31), date(2030, 12, 31), date(2030, 12, 31),
                        date(2030, 12, 31)]
        term = agreements.term_of(agreement, today=today)
        assert (term.end, term.years_earned, term.horizon, term.status, term.next_evaluation_year) == (
            date(2030, 12, 31), 9, 0, "ended", None)
        capped = session.exec(select(AuditEvent).where(AuditEvent.action == "framework_agreement.bow_wave_evaluated",
                                                       AuditEvent.object_id == str(agreement.id))
                              .order_by(AuditEvent.id.desc())).first()
        assert "de maximale looptijd is bereikt" in capped.summary
        _refused(session, lambda: agreements.record_bow_wave_evaluation(agreement, 2031, True, today=today),
                 "year", "afgelopen")


def test_bow_wave_with_options_only_where_the_segment_says_so(app, demo):
    with context(app) as session:
        provider = new_provider("Testzorg Werk")
        _refused(session, lambda: framework(provider, "T-BG-4", segments=("jeugd.S3",), start=date(2022, 1, 1),
                                            scheme="3+3+3", bow_wave=True), "scheme", "geen verlengingsopties")
        # Without a scheme a Jeugd S3 bow wave keeps only the horizon (the first number of 3+1+1 ...).
        plain = framework(provider, "T-BG-5", segments=("jeugd.S3",), start=date(2022, 1, 1), bow_wave=True)
        assert plain.extension_options == []


FRAMEWORK_REFUSALS = [
    ({"segments": ["jeugd.S3", "wmo.S1a"]}, "segments", ("horen niet bij het domein", "Wmo S1a")),
    ({"segments": []}, "segments", ("ten minste één segment",)),
    ({"segments": ["jeugd.S1"], "lot": "local", "contract_form": "a"}, "lot", ("Perceel lokaal", "Jeugd S1")),
    ({"lot": "local", "contract_form": "d"}, "contract_form", ("vorm a of b",)),
    ({"contract_form": "e"}, "contract_form", ("contractvorm",)),
    ({"domain": "onbekend"}, "domain", ("Kies een domein",)),
    ({"scheme": "drie"}, "scheme", ("3+1+1",)),
    ({"scheme": "3+1", "bow_wave": True}, "scheme", ("geen verlengingsopties",)),
    ({"reference": " "}, "reference", ("kenmerk",)),
    ({"terminated_on": date(2025, 12, 31)}, "terminated_on", ("vóór de ingangsdatum",)),
]


def test_framework_agreement_rules(app, demo):
    """One demo region for all cases: each refusal writes nothing, so the cases do not interfere."""
    with context(app) as session:
        provider = new_provider("Testzorg Regionaal")
        for changes, field, words in FRAMEWORK_REFUSALS:
            values = dict(organisation_id=provider.id, reference="T-RO-9", domain="jeugd",
                          segments=["jeugd.S3"], lot="regional", contract_form="d", start_date=date(2026, 1, 1))
            values.update(changes)
            _refused(session, lambda: agreements.create_framework_agreement(region_id(), **values), field, *words)
        assert agreements.create_framework_agreement(region_id(), **{**values, "terminated_on": None}).id


def test_a_provider_has_one_framework_agreement_per_segment_at_a_time(app, demo):
    with context(app) as session:
        provider = new_provider("Testzorg Regionaal")
        framework(provider, "T-RO-3", segments=("jeugd.S3", "jeugd.S4"), start=date(2022, 1, 1))  # to 2024
        _refused(session, lambda: framework(provider, "T-RO-4", segments=("jeugd.S4",), start=date(2024, 7, 1)),
                 "segments", "T-RO-3", "Jeugd S4")
        _refused(session, lambda: framework(provider, "t-ro-3", segments=("jeugd.S2",), start=date(2022, 1, 1)),
                 "reference", "kenmerk")
        _refused(session, lambda: framework(organisation("Venlo"), "T-RO-5"), "organisation_id", "zorgaanbieder")
        later = framework(provider, "T-RO-4", segments=("jeugd.S4",), start=date(2025, 1, 1))
        assert agreements.segments_of(later) == ["jeugd.S4"]


def test_framework_changes_are_audited_with_before_and_after(app, demo):
    with context(app) as session:
        provider = new_provider("Testzorg Regionaal")
        agreement = framework(provider, "T-RO-6", segments=("jeugd.S3",), start=date(2026, 1, 1))
        agreements.update_framework_agreement(
            agreement, reference="T-RO-6", domain="jeugd", segments=["jeugd.S3", "jeugd.S4"], lot="regional",
            contract_form="c", start_date=date(2026, 1, 1), scheme="3+1")
        session.commit()
        created, changed = session.exec(select(AuditEvent).where(
            AuditEvent.object_type == "framework_agreement", AuditEvent.object_id == str(agreement.id))
            .order_by(AuditEvent.id)).all()
        assert created.action == "framework_agreement.created" and created.details["before"] is None
        assert created.details["after"]["segments"] == ["jeugd.S3"]
        assert created.details["after"]["end_date"] == "2028-12-31"
        assert changed.details["before"]["segments"] == ["jeugd.S3"]
        assert changed.details["before"]["contract_form"] == "d"
        assert changed.details["after"]["segments"] == ["jeugd.S3", "jeugd.S4"]
        assert changed.details["after"]["contract_form"] == "c"
        assert agreements.segments_of(agreement) == ["jeugd.S3", "jeugd.S4"]


def test_a_segment_with_budget_agreements_stays_in_the_framework(app, demo):
    with context(app) as session:
        provider = new_provider("Testzorg Regionaal")
        agreement = framework(provider, "T-RO-7", start=date(2026, 1, 1))
        budget(provider, "Venlo", 2026)
        values = dict(reference="T-RO-7", domain="jeugd", lot="regional", contract_form="d",
                      start_date=date(2026, 1, 1), scheme="3+1")
        _refused(session, lambda: agreements.update_framework_agreement(agreement, segments=["jeugd.S4"], **values),
                 "segments", "Jeugd S3")
        _refused(session, lambda: agreements.update_framework_agreement(
            agreement, segments=["jeugd.S3", "jeugd.S4"], **{**values, "start_date": date(2027, 1, 1)}),
            "start_date", "2026")
        budget(provider, "Venlo", 2028)
        _refused(session, lambda: agreements.update_framework_agreement(
            agreement, segments=["jeugd.S3"], **{**values, "terminated_on": date(2027, 6, 30)}),
            "terminated_on", "2028")
        _refused(session, lambda: agreements.update_framework_agreement(
            agreement, segments=["jeugd.S3"], **{**values, "scheme": "2+1"}), "scheme", "2028")


# --- Budget agreements and ceilings ------------------------------------------------------------


def test_budget_agreement_for_a_regional_provider_with_advances(app, demo):
    with context(app) as session:
        provider = new_provider("Testzorg Regionaal")
        agreement = framework(provider, "T-RO-10", start=date(2026, 1, 1))
        created = budget(provider, "Venlo", 2027, amount="100000.00", advance_installments=12,
                         bandwidth_percentage=D("2.5"))
        assert created.framework_agreement_id == agreement.id
        periods = agreements.advance_periods(created.amount, created.advance_installments)
        assert [label for label, _ in periods][:2] == ["januari", "februari"]
        assert sum(part for _, part in periods) == D("100000.00")
        assert periods[0][1] == D("8333.34") and periods[-1][1] == D("8333.33")
        ceiling = budget(provider, "Gennep", 2027, amount="40000.00", kind="ceiling")
        assert (ceiling.bandwidth_percentage, ceiling.advance_installments) == (None, None)
        assert agreements.advance_periods(ceiling.amount, ceiling.advance_installments) == []
        session.commit()
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "budget_agreement.created",
                                                      AuditEvent.object_id == str(created.id))).one()
        assert event.details["before"] is None
        assert event.details["after"]["amount"] == "100000.00"
        assert event.details["after"]["bandwidth_percentage"] == "2.5"


def test_budget_agreement_is_refused_for_a_local_lot_provider(app, demo):
    with context(app) as session:
        provider = new_provider("Testzorg Lokaal")
        framework(provider, "T-RO-11", segments=("jeugd.S3", "jeugd.S4"), lot="local", start=date(2026, 1, 1))
        error = _refused(session, lambda: budget(provider, "Venlo", 2026), "organisation_id",
                         "regionale perceel", "lokale perceel")
        assert error.message.startswith("Aanvullende afspraken")
        _refused(session, lambda: budget(provider, "Venlo", 2026, kind="ceiling"), "organisation_id", "lokale perceel")


BUDGET_REFUSALS = [
    ({"segment_key": "jeugd.S2"}, "segment_key", ("geen raamovereenkomst",)),
    ({"segment_key": "niet.bestaand"}, "segment_key", ("Kies een segment",)),
    ({"year": 2025}, "year", ("loopt niet in 2025",)),
    ({"year": 2031}, "year", ("loopt niet in 2031",)),
    ({"municipality": "Zorggroep Maasland"}, "municipality_id", ("gemeente uit de regio",)),
    ({"amount": "0"}, "amount", ("groter zijn dan nul",)),
    ({"bandwidth_percentage": D("100.5")}, "bandwidth_percentage", ("0 tot en met 100",)),
    ({"bandwidth_percentage": D("-1")}, "bandwidth_percentage", ("0 tot en met 100",)),
    ({"advance_installments": 6}, "advance_installments", ("per maand",)),
    ({"kind": "ceiling", "bandwidth_percentage": D("5")}, "bandwidth_percentage", ("geen bandbreedte",)),
    ({"kind": "ceiling", "advance_installments": 12}, "advance_installments", ("geen voorschotten",)),
    ({"kind": "lening"}, "kind", ("budgetplafond",)),
]


def test_budget_agreement_rules(app, demo):
    with context(app) as session:
        provider = new_provider("Testzorg Regionaal")
        framework(provider, "T-RO-12", start=date(2026, 1, 1))  # 3+1: 2026 up to 2028, 2029 as option
        for arguments, field, words in BUDGET_REFUSALS:
            values = {"municipality": "Venlo", "year": 2026, **arguments}
            kind = values.pop("kind", "budget")
            if kind == "ceiling":
                values.setdefault("advance_installments", None)
                values.setdefault("bandwidth_percentage", None)
            municipality, year = values.pop("municipality"), values.pop("year")
            _refused(session, lambda: budget(provider, municipality, year, kind=kind, **values), field, *words)
        assert budget(provider, "Venlo", 2026).id


def test_one_agreement_per_provider_municipality_segment_and_year(app, demo):
    with context(app) as session:
        provider = new_provider("Testzorg Regionaal")
        framework(provider, "T-RO-13", start=date(2026, 1, 1))
        budget(provider, "Venlo", 2026)
        _refused(session, lambda: budget(provider, "Venlo", 2026, kind="ceiling"), "year", "wijzig die")
        budget(provider, "Venlo", 2027)
        budget(provider, "Venlo", 2026, segment_key="jeugd.S4")


def test_changing_a_budget_agreement_is_audited_and_never_changes_what_it_is(app, demo):
    with context(app) as session:
        provider = new_provider("Testzorg Regionaal")
        framework(provider, "T-RO-14", start=date(2026, 1, 1))
        agreement = budget(provider, "Venlo", 2026, amount="120000.00")
        agreements.update_budget_agreement(agreement, amount=D("130000.50"), bandwidth_percentage=D("10"))
        assert agreement.advance_installments == 12  # kept
        _refused(session, lambda: agreements.update_budget_agreement(agreement, amount=D("-5"),
                                                                     bandwidth_percentage=None), "amount")
        agreements.update_budget_agreement(agreement, amount=D("90000"), kind="ceiling", bandwidth_percentage=None)
        assert (agreement.kind, agreement.advance_installments, agreement.bandwidth_percentage) == ("ceiling", None, None)
        session.commit()
        first, second = session.exec(select(AuditEvent).where(AuditEvent.action == "budget_agreement.changed",
                                                                    AuditEvent.object_id == str(agreement.id))
                                     .order_by(AuditEvent.id)).all()
        assert first.details["before"]["amount"] == "120000.00" and first.details["after"]["amount"] == "130000.50"
        assert first.details["before"]["bandwidth_percentage"] == "5"
        assert first.details["after"]["bandwidth_percentage"] == "10"
        assert second.details["after"]["kind"] == "ceiling" and second.details["after"]["advance_installments"] is None
        assert first.actor_email is None  # no one signed in here; screens record the contract manager


# --- Extra capacity ----------------------------------------------------------------------------------


def test_extra_capacity_stays_within_ten_percent_of_the_contracted_value(app, demo):
    # Years after the demo's (which end with this year), so only this test's budgets count.
    start, year = YEAR, YEAR + 1
    with context(app) as session:
        provider = new_provider("Testzorg Regionaal")
        other = new_provider("Testzorg Buiten")
        framework(provider, "T-RO-20", start=date(start, 1, 1))
        budget(provider, "Venlo", year, amount="100000.00")
        budget(provider, "Gennep", year, amount="50000.00", kind="ceiling")
        budget(provider, "Venlo", year, amount="900000.00", segment_key="jeugd.S4")  # another segment
        assert agreements.contracted_value(region_id(), "jeugd.S3", year) == D("150000.00")

        def add(amount, reason="Wachtlijst: aanbieders met raamovereenkomst zitten vol", year=year):
            return agreements.add_extra_capacity(region_id(), organisation_id=other.id, municipality_id=None,
                                                 segment_key="jeugd.S3", year=year, amount=D(amount), reason=reason)

        add("10000.00")
        error = _refused(session, lambda: add("5000.01"), "amount", "10%", "€\xa015.000,00", "€\xa05.000,00")
        assert "nog" in error.message
        add("5000.00")
        _refused(session, lambda: add("0.01"), "amount", "10%")
        _refused(session, lambda: add("100.00", year=year + 1), "amount", "10%")  # nothing contracted then
        _refused(session, lambda: add("100.00", reason="  te kort "), "reason", "ten minste 10 tekens")
        session.commit()
        assert agreements.extra_capacity_total(region_id(), "jeugd.S3", year) == D("15000.00")
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "extra_capacity.added",
                                                      AuditEvent.organisation_id == other.id)
                             .order_by(AuditEvent.id.desc())).first()
        assert event.details["before"]["extra_capacity_total"] == "10000.00"
        assert event.details["after"]["extra_capacity_total"] == "15000.00"

        # Lowering a budget would push the extra capacity over 10%: refused on the amount.
        venlo = session.exec(select(BudgetAgreement).where(BudgetAgreement.organisation_id == provider.id,
                                                          BudgetAgreement.amount == D("100000.00"))).one()
        _refused(session, lambda: agreements.update_budget_agreement(venlo, amount=D("99999.90"),
                                                                     bandwidth_percentage=None), "amount", "10%")
        agreements.update_budget_agreement(venlo, amount=D("100000.00"), bandwidth_percentage=D("5"))
