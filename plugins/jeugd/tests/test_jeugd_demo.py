"""The Jeugd plugin's demo data: catalogue, contracts (renewed this year, the demo's fifth),
budget agreements of the size of DOMAIN.md §11, Venlo's places in S3, and loading twice changes
nothing. The demo is built around the clock's today, so the test runs in the date matrix."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.catalogue import service as catalogue
from portal.contracts import municipal_choices
from portal.contracts import service as agreements
from portal.demo import load_demo
from portal.models import (
    AuditEvent,
    BudgetAgreement,
    CareForm,
    ExtraCapacity,
    FrameworkAgreement,
    MunicipalChoice,
    Organisation,
    StandardTrajectory,
    Surcharge,
    Tariff,
    TariffVersion,
)
from tests.dates import this_year, today

TABLES = (CareForm, Tariff, TariffVersion, Surcharge, StandardTrajectory, FrameworkAgreement, BudgetAgreement,
          MunicipalChoice, ExtraCapacity)


@pytest.fixture
def app_config():
    return {"ENABLED_PLUGINS": "jeugd"}


def counts(session):
    return {model.__name__: session.exec(select(func.count()).select_from(model)).one() for model in TABLES}


def organisation(session, name):
    return session.exec(select(Organisation).where(Organisation.name == name)).one()


@pytest.mark.date_sensitive
def test_demo_catalogue_contracts_and_choices(app, demo):
    year = this_year()
    first_year = year - 4  # the demo's five years end with this one
    with app.app_context():
        session = db.session()
        first = counts(session)
        assert first == {"CareForm": 8, "Tariff": 7, "TariffVersion": 35, "Surcharge": 2,
                         "StandardTrajectory": 50, "FrameworkAgreement": 8,
                         # S3: 2 providers × 7 municipalities; S4: 2 × 6 (Gennep buys S4 locally only)
                         "BudgetAgreement": (14 + 12) * 5, "MunicipalChoice": 7 * 4 + 1, "ExtraCapacity": 1}

        # Every trajectory prices; the S3 ones carry the plugin's opvang fields.
        for trajectory in session.exec(select(StandardTrajectory)).all():
            assert 3 <= trajectory.duration_months <= 12
            assert catalogue.trajectory_price(trajectory).total > 0
            if trajectory.segment_key == "jeugd.S3":
                assert set(trajectory.extra) == {"opvang_days_per_week", "opvang_day_rate",
                                                 "parental_contribution_per_day"}
        # Tariffs are indexed by 3% a year.
        rates = [v.unit_rate for v in session.exec(select(TariffVersion).join(Tariff).where(
            Tariff.code == "JGD-BEG").order_by(TariffVersion.valid_from)).all()]
        assert rates == [Decimal("68.00"), Decimal("70.04"), Decimal("72.14"), Decimal("74.30"), Decimal("76.53")]

        # Regional providers have budget agreements in every year; local ones none.
        jeugdhulp = organisation(session, "Stichting Jeugdhulp Peel en Maas")
        years = session.exec(select(BudgetAgreement.year).where(
            BudgetAgreement.organisation_id == jeugdhulp.id).distinct().order_by(BudgetAgreement.year)).all()
        assert years == list(range(first_year, year + 1))
        for local in ("Begeleiding Op Maat Gennep", "Dagbesteding De Schakel"):
            provider = organisation(session, local)
            assert session.exec(select(func.count()).select_from(BudgetAgreement).where(
                BudgetAgreement.organisation_id == provider.id)).one() == 0
            assert {a.lot for a in session.exec(select(FrameworkAgreement).where(
                FrameworkAgreement.organisation_id == provider.id)).all()} == {"local"}
        # Jeugd S4 of the first year: 42% of the €32.9 million of 2019 (DOMAIN.md §11) over the regional providers.
        s4 = session.exec(select(func.sum(BudgetAgreement.amount)).where(
            BudgetAgreement.segment_key == "jeugd.S4", BudgetAgreement.year == first_year)).one()
        assert Decimal(s4) == Decimal("13810900")
        # Every budget hangs under the framework agreement that runs in its year.
        for budget in session.exec(select(BudgetAgreement).where(BudgetAgreement.organisation_id == jeugdhulp.id)):
            framework = session.get(FrameworkAgreement, budget.framework_agreement_id)
            assert framework.start_date.year <= budget.year <= agreements.term_of(framework).end.year
        # Today only the new contracts of this year run; the first ones ended on 31 December.
        statuses = {a.reference: agreements.term_of(a, today=today()).status
                    for a in session.exec(select(FrameworkAgreement)).all()}
        running = sorted(reference for reference, status in statuses.items() if status == "running")
        assert running == [f"RO-JGD-{year}-L01", f"RO-JGD-{year}-L02", f"RO-JGD-{year}-R01", f"RO-JGD-{year}-R02"]
        assert statuses[f"RO-JGD-{first_year}-R01"] == "ended"
        ended = agreements.term_of(session.exec(select(FrameworkAgreement).where(
            FrameworkAgreement.reference == f"RO-JGD-{first_year}-R01")).one())
        assert ended.end == date(year - 1, 12, 31)  # 3+1 with the extension used

        # Venlo buys places in S3 (since 2020; in the portal from 1 January of the first demo year).
        venlo = organisation(session, "Venlo")
        choice = municipal_choices.current_choice(venlo.id, "jeugd.S3", date(first_year, 1, 1))
        assert choice.volume_basis == "places" and choice.effective_from == date(first_year, 1, 1)
        assert municipal_choices.current_choice(venlo.id, "jeugd.S3").id == choice.id  # still in force today
        assert municipal_choices.current_choice(organisation(session, "Beesel").id, "jeugd.S3").volume_basis == \
            "trajectories"
        # Horst aan de Maas buys places in S4 from the third demo year, after the first.
        horst = municipal_choices.current_choice(organisation(session, "Horst aan de Maas").id, "jeugd.S4")
        assert (horst.volume_basis, horst.effective_from) == ("places", date(first_year + 2, 1, 1))
        assert horst.details["note"] == f"Na het leerjaar {first_year} stapt Horst aan de Maas over op plekken."
        # Extra capacity (in the demo's third year) stays well under 10% of the contracted value.
        extra = session.exec(select(ExtraCapacity)).one()
        assert extra.year == first_year + 2 and str(first_year + 2) in extra.reason
        assert extra.amount < Decimal("0.03") * agreements.contracted_value(extra.region_id, "jeugd.S4", extra.year)

        events_before = session.exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "demo.plugin_data_loaded")).one()
        assert events_before == 1
        load_demo(None)
        session = db.session()
        assert counts(session) == first
        assert session.exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "demo.plugin_data_loaded")).one() == events_before
