"""The Rivierenland pack: installed as its own distribution, its region with six municipalities,
its Wmo and Jeugd segments beside Noord-Limburg's, 3+3+3 contracts, and demo data loaded twice
without anything new."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib.metadata import entry_points

import pytest
from portal_rivierenland.demo import TARIFFS, first_year_rate
from portal_rivierenland.region import MUNICIPALITIES, PURCHASING_OFFICE, RIVIERENLAND
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.catalogue import service as catalogue
from portal.contracts import terms
from portal.contracts.service import term_of
from portal.demo import load_pack_demo
from portal.models import (
    BudgetAgreement,
    CareForm,
    FrameworkAgreement,
    MunicipalChoice,
    Organisation,
    OrganisationKind,
    Region,
    StandardTrajectory,
    Tariff,
    TariffVersion,
    User,
)
from tests.conftest import DEMO_PASSWORD, sign_in

TABLES = (CareForm, Tariff, TariffVersion, StandardTrajectory, FrameworkAgreement, BudgetAgreement,
          MunicipalChoice, Organisation, User)


def load(app):
    from portal import clock
    from portal.accounts.passwords import hash_password

    with app.app_context():
        return load_pack_demo(RIVIERENLAND, "rivierenland", hash_password(DEMO_PASSWORD), clock.today())


def counts(session):
    return {model.__name__: session.exec(select(func.count()).select_from(model)).one() for model in TABLES}


def test_the_pack_is_its_own_distribution_with_an_entry_point():
    found = {ep.name: ep for ep in entry_points(group="portal.plugins")}
    assert found["rivierenland"].value == "portal_rivierenland"
    assert found["rivierenland"].dist.name == "portal-region-rivierenland"


def test_region_segments_and_funding(app):
    registry = app.extensions["portal.registry"].for_region("rivierenland")
    assert registry.region == "rivierenland"
    assert sorted(registry.segments) == ["jeugd.ABG", "jeugd.ABH", "jeugd.LOG", "jeugd.WBG", "jeugd.WBH",
                                         "wmo.BEG", "wmo.DAG", "wmo.KV"]
    names = {key: segment.name for key, segment in registry.segments.items()}
    assert names["wmo.BEG"] == "Begeleiding" and names["wmo.KV"] == "Kortdurend verblijf"
    assert names["jeugd.LOG"] == "Logeren" and names["jeugd.WBH"] == "Wonen met behandeling"
    assert all(segment.contract_duration == "3+3+3" for segment in registry.segments.values())
    assert all(segment.funding_forms[0] == "pxq" for segment in registry.segments.values())
    assert registry.segments["wmo.BEG"].funding_labels == [
        "Inspanningsgericht (prijs × hoeveelheid)", "Budgetplafond", "Resultaatfinanciering", "Lumpsum / taakgericht"]
    # Paid by the unit: value = units × unit price, whole etmalen where a client stays.
    assert {registry.realisation_spec(key).basis for key in registry.segments} == {"units"}
    # Noord-Limburg keeps its own segments, and sees none of Rivierenland's.
    first = app.extensions["portal.registry"]
    assert "wmo.S1a" in first.segments and "wmo.BEG" not in first.segments
    assert "wmo.S1a" not in registry.segments
    assert [(name, code) for name, code, _ in MUNICIPALITIES] == [
        ("Buren", "0214"), ("Culemborg", "0216"), ("Neder-Betuwe", "1740"), ("Tiel", "0281"),
        ("West Betuwe", "1960"), ("West Maas en Waal", "0668")]


@pytest.mark.parametrize("used, last_day", [(1, date(2028, 12, 31)), (2, date(2031, 12, 31))])
def test_a_3_3_3_agreement_ends_after_one_or_two_options(used, last_day):
    initial, options = terms.parse_scheme("3+3+3")
    assert (initial, options) == (3, [3, 3])
    assert terms.end_date(date(2023, 1, 1), initial, options, used) == last_day
    assert terms.end_date(date(2023, 1, 1), initial, options, 0) == date(2025, 12, 31)
    with pytest.raises(ValueError):
        terms.end_date(date(2023, 1, 1), initial, options, 3)


@pytest.mark.date_sensitive
def test_demo_providers_catalogue_agreements_ceilings_and_pilots(app, demo):
    from portal import clock

    accounts = load(app)
    year = clock.today().year
    first_year = year - 4
    with app.app_context():
        session = db.session()
        first = counts(session)
        load(app)  # twice: nothing new
        assert counts(session) == first

        region = session.exec(select(Region).where(Region.code == "rivierenland")).one()
        organisations = {o.name: o for o in session.exec(select(Organisation).where(
            Organisation.region_id == region.id))}
        towns = {o.name: o for o in organisations.values() if o.kind == OrganisationKind.MUNICIPALITY}
        assert sorted(towns) == [name for name, _code, _residents in sorted(MUNICIPALITIES)]
        assert sum(town.residents for town in towns.values()) == 192_000
        assert organisations[PURCHASING_OFFICE].kind == OrganisationKind.PURCHASING_OFFICE
        providers = [o for o in organisations.values() if o.kind == OrganisationKind.PROVIDER]
        assert len(providers) == 4 and all(len(p.kvk_number) == 8 and len(p.agb_code) == 8 for p in providers)
        assert {"contractmanager@rivierenland.example", "beheer@delinge.example",
                "medewerker@tiel.example"} <= {a.email for a in accounts}

        with app.test_request_context():
            from portal.registry import region_scope

            with region_scope("rivierenland"):
                prices = {t.code: catalogue.trajectory_price(t).total for t in session.exec(
                    select(StandardTrajectory).where(StandardTrajectory.region_id == region.id,
                                                     StandardTrajectory.year == year))}
        assert len(prices) == 15 and all(price > 0 for price in prices.values())
        # 2 hours a week of individual guidance for six months (52 hours) at about €72.50 an hour (2026).
        assert Decimal(3700) < prices["BEG-6"] * Decimal("1.03") ** (2026 - year) < Decimal(3850), prices["BEG-6"]

        agreements = session.exec(select(FrameworkAgreement).where(FrameworkAgreement.region_id == region.id)).all()
        assert len(agreements) == 5
        with app.test_request_context():
            ends = sorted(term_of(a).end for a in agreements)
        assert ends == [date(first_year + 6, 1, 1) - date.resolution] * 4 + [date(first_year + 9, 1, 1) - date.resolution]
        assert {(a.initial_years, tuple(a.extension_options)) for a in agreements} == {(3, (3, 3))}

        ceilings = session.exec(select(BudgetAgreement).where(BudgetAgreement.region_id == region.id)).all()
        assert {c.kind for c in ceilings} == {"ceiling"}
        assert {c.segment_key for c in ceilings} == {"wmo.BEG", "jeugd.ABH"}
        tiel = towns["Tiel"]
        assert not [c for c in ceilings if c.municipality_id == tiel.id and c.segment_key == "wmo.BEG"]
        this_year = [c for c in ceilings if c.year == first_year and c.segment_key == "wmo.BEG"]
        assert sum(c.amount for c in this_year) == Decimal("1584400")  # 18% of €8,802,420, whole hundreds

        pilots = session.exec(select(MunicipalChoice).where(MunicipalChoice.region_id == region.id,
                                                            MunicipalChoice.funding_form.in_(("result", "lump_sum")))).all()
        assert {(p.municipality_id, p.segment_key, p.funding_form, p.effective_from) for p in pilots} == {
            (tiel.id, "wmo.BEG", "result", date(first_year + 1, 1, 1)),
            (towns["Culemborg"].id, "wmo.DAG", "lump_sum", date(first_year + 1, 1, 1))}


def test_tariffs_are_2026_rates_whatever_the_demo_year():
    assert first_year_rate("72.50", 2026) == "72.50"
    assert first_year_rate("72.50", 2022) == "64.42"  # 72.50 / 1.03⁴
    assert {unit for _code, _name, unit, _rate in TARIFFS} == {"hour", "day"}


def test_a_rivierenland_user_sees_its_own_segment_pages(app, demo):
    load(app)
    client = app.test_client()
    sign_in(client, "contractmanager@rivierenland.example")
    segments = client.get("/segmenten/").get_data(as_text=True)
    assert "Kortdurend verblijf" in segments and "Wonen met behandeling" in segments
    assert "Hulp bij het huishouden" not in segments
    wmo = client.get("/rivierenland/wmo/")
    assert wmo.status_code == 200 and "3+3+3" in wmo.get_data(as_text=True)
    assert client.get("/rivierenland/jeugd/").status_code == 200
    assert client.get("/wmo/").status_code == 404  # Noord-Limburg's domain page
    other = app.test_client()
    sign_in(other, "beheer@zorggroep-maasland.example")
    assert other.get("/rivierenland/wmo/").status_code == 404
