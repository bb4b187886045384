"""The Wmo plugin's demo data: catalogue, contracts (one local agreement ended after one
extension), budget ceilings of the regional provider, choices; loading twice changes nothing.
The demo is built around the clock's today, so the test runs in the date matrix."""
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
    BudgetAgreement,
    CareForm,
    ExtraCapacity,
    FrameworkAgreement,
    MunicipalChoice,
    Organisation,
    StandardTrajectory,
    SurchargeQualification,
    Tariff,
    TariffVersion,
)
from tests.dates import this_year, today

TABLES = (CareForm, Tariff, TariffVersion, SurchargeQualification, StandardTrajectory, FrameworkAgreement,
          BudgetAgreement, MunicipalChoice, ExtraCapacity)


@pytest.fixture
def app_config():
    return {"ENABLED_PLUGINS": "wmo"}


def counts(session):
    return {model.__name__: session.exec(select(func.count()).select_from(model)).one() for model in TABLES}


def named(session, name):
    return session.exec(select(Organisation).where(Organisation.name == name)).one()


@pytest.mark.date_sensitive
def test_demo_catalogue_ceilings_and_choices(app, demo):
    year = this_year()
    first_year = year - 4  # the demo's five years end with this one
    with app.app_context():
        session = db.session()
        first = counts(session)
        assert first["StandardTrajectory"] == 12 * 5 and first["TariffVersion"] == 5 * 5
        assert first["MunicipalChoice"] == 7 * 6 and first["FrameworkAgreement"] == 5
        for trajectory in session.exec(select(StandardTrajectory).where(StandardTrajectory.year == year)).all():
            assert catalogue.trajectory_price(trajectory).total > 0

        maasland = named(session, "Zorggroep Maasland")
        ceilings = session.exec(select(BudgetAgreement).where(BudgetAgreement.organisation_id == maasland.id)).all()
        assert {(c.kind, c.bandwidth_percentage, c.advance_installments) for c in ceilings} == {("ceiling", None, None)}
        # S1a: Bergen joins the local lot only, so 6 municipalities; S1b: all 7; five years each.
        assert len(ceilings) == (6 + 7) * 5
        assert {c.year for c in ceilings} == set(range(first_year, year + 1))
        s1b_first = sum(c.amount for c in ceilings if c.segment_key == "wmo.S1b" and c.year == first_year)
        assert s1b_first == Decimal("2050000")  # 25% of €8.2 million (DOMAIN.md §11)
        bergen = named(session, "Bergen (L)")
        assert municipal_choices.current_choice(bergen.id, "wmo.S1a").lots == ["local"]
        assert not [c for c in ceilings if c.municipality_id == bergen.id and c.segment_key == "wmo.S1a"]

        thuishulp = named(session, "Thuishulp Venray")
        assert not [c for c in ceilings if c.organisation_id == thuishulp.id]
        # Today: 3+1+1 with both extensions used runs to the end of this year; Op Maat's L03 used
        # one and ended after the fourth year.
        terms = {a.reference: agreements.term_of(a, today=today())
                 for a in session.exec(select(FrameworkAgreement)).all()}
        assert terms[f"RO-WMO-{first_year}-L03"].status == "ended"
        assert terms[f"RO-WMO-{first_year}-L03"].end == date(year - 1, 12, 31)
        assert terms[f"RO-WMO-{first_year}-R01"].status == "running"
        assert terms[f"RO-WMO-{first_year}-R01"].end == date(year, 12, 31)
        regional = session.exec(select(FrameworkAgreement).where(
            FrameworkAgreement.reference == f"RO-WMO-{first_year}-R01")).one()
        assert (regional.initial_years, regional.extension_options, regional.extensions_used) == (3, [1, 1], 2)

        extra = session.exec(select(ExtraCapacity)).one()
        assert extra.year == first_year + 3  # the demo's fourth year
        assert extra.amount < Decimal("0.10") * agreements.contracted_value(extra.region_id, "wmo.S1a", extra.year)

        load_demo(None)
        assert counts(db.session()) == first
