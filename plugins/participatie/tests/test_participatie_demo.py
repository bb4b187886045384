"""The Participatie plugin's demo data: catalogue with success rewards, a bow-wave agreement with
a history of evaluations (one unsatisfactory year), budget agreements for S1, choices; idempotent.
The demo is built around the clock's today, so the test runs in the date matrix."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.catalogue import service as catalogue
from portal.contracts import service as agreements
from portal.demo import load_demo
from portal.models import (
    BowWaveEvaluation,
    BudgetAgreement,
    FrameworkAgreement,
    MunicipalChoice,
    Organisation,
    StandardTrajectory,
)
from tests.dates import this_year, today


@pytest.fixture
def app_config():
    return {"ENABLED_PLUGINS": "participatie"}


def count(session, model, *where):
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.mark.date_sensitive
def test_demo_bow_wave_budgets_and_choices(app, demo):
    year = this_year()
    first_year = year - 4  # the demo's five years end with this one
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
        assert bow_wave.reference == f"RO-PAR-{first_year}-R03"
        # The first four years are evaluated (this year not yet): good, bad, good, good.
        assert [(e.year, e.satisfactory) for e in evaluations] == [
            (first_year, True), (first_year + 1, False), (first_year + 2, True), (first_year + 3, True)]
        # Horizon 3 from the first year: the end moves a year on with every good year.
        assert [e.end_after for e in evaluations] == [
            date(first_year + 3, 12, 31), date(first_year + 3, 12, 31), date(first_year + 4, 12, 31),
            date(first_year + 5, 12, 31)]
        term = agreements.term_of(bow_wave, evaluations, today())
        assert term.end == date(year + 1, 12, 31) and term.horizon == 2 and term.status == "running"
        assert term.next_evaluation_year == year

        werkbedrijf = session.exec(select(Organisation).where(Organisation.name == "Werkbedrijf Noord-Limburg")).one()
        budgets = session.exec(select(BudgetAgreement).where(BudgetAgreement.organisation_id == werkbedrijf.id,
                                                             BudgetAgreement.year == first_year)).all()
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
