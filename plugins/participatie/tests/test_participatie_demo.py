"""The Participatie plugin's demo data: catalogue with success rewards, a bow-wave agreement with
a history of evaluations (one unsatisfactory year), budget agreements for S1, choices; idempotent."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal import agreements, catalogue, db
from portal.demo import load_demo
from portal.models import (BowWaveEvaluation, BudgetAgreement, FrameworkAgreement, MunicipalChoice,
                           Organisation, StandardTrajectory)


@pytest.fixture
def app_config():
    return {"ENABLED_PLUGINS": "participatie"}


def count(session, model, *where):
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_demo_bow_wave_budgets_and_choices(app, demo):
    with app.app_context():
        session = db.session()
        assert count(session, StandardTrajectory) == 5 * 5
        for trajectory in session.exec(select(StandardTrajectory)).all():
            price = catalogue.trajectory_price(trajectory)
            if trajectory.segment_key in ("participatie.S1", "participatie.S2"):
                assert Decimal(trajectory.extra["success_reward"]) > 0
                assert price.line("Beloning").kind == "conditional"

        bow_wave = session.exec(select(FrameworkAgreement).where(
            FrameworkAgreement.bow_wave == True)).one()  # noqa: E712
        evaluations = agreements.evaluations_of(bow_wave)
        assert [(e.year, e.satisfactory) for e in evaluations] == [(2022, True), (2023, False), (2024, True),
                                                                    (2025, True)]
        assert [e.end_after for e in evaluations] == [date(2025, 12, 31), date(2025, 12, 31), date(2026, 12, 31),
                                                      date(2027, 12, 31)]
        term = agreements.term_of(bow_wave, evaluations, date(2026, 11, 1))
        assert term.end == date(2027, 12, 31) and term.horizon == 2 and term.status == "running"

        werkbedrijf = session.exec(select(Organisation).where(Organisation.name == "Werkbedrijf Noord-Limburg")).one()
        budgets = session.exec(select(BudgetAgreement).where(BudgetAgreement.organisation_id == werkbedrijf.id,
                                                             BudgetAgreement.year == 2022)).all()
        assert len(budgets) == 7 and sum(b.amount for b in budgets) == Decimal("330000")
        assert {(b.kind, b.bandwidth_percentage, b.advance_installments) for b in budgets} == {
            ("budget", Decimal("10"), 4)}
        venlo = next(b for b in budgets if session.get(Organisation, b.municipality_id).name == "Venlo")
        assert venlo.amount == Decimal("122275")  # 330,000 × 101,797 / 274,733 residents, whole euros
        gennep = session.exec(select(Organisation).where(Organisation.name == "Begeleiding Op Maat Gennep")).one()
        assert count(session, BudgetAgreement, BudgetAgreement.organisation_id == gennep.id) == 0
        assert count(session, MunicipalChoice) == 7 * 3

        before = {model.__name__: count(session, model)
                  for model in (StandardTrajectory, FrameworkAgreement, BowWaveEvaluation, BudgetAgreement,
                                MunicipalChoice)}
        load_demo(None)
        session = db.session()
        assert {name: count(session, model) for name, model in zip(before, (
            StandardTrajectory, FrameworkAgreement, BowWaveEvaluation, BudgetAgreement, MunicipalChoice))} == before
