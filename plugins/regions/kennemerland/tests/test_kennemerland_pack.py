"""The Kennemerland region pack: its region and segments beside Noord-Limburg, minimum tariffs, no
surcharges, and demo data that keeps the region's rules (ceilings per product group, 3+1+1)."""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from portal_kennemerland.segments import MUNICIPALITIES, PACK
from sqlmodel import select

from portal import db
from portal.accounts.passwords import hash_password
from portal.catalogue import admin
from portal.catalogue.service import unit_rate
from portal.demo import load_pack_demo
from portal.formatting import money
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
from portal.registry import region_scope
from tests.conftest import DEMO_PASSWORD, csrf_token, sign_in

MANAGER = "contractmanager@kennemerland.example"
D = Decimal


@pytest.fixture
def kennemerland(app, demo):
    """Noord-Limburg's demo and Kennemerland's, side by side; returns Kennemerland's region id."""
    with app.app_context():
        load_pack_demo(PACK, "kennemerland", hash_password(DEMO_PASSWORD), _today())
        return db.session().exec(select(Region.id).where(Region.code == "kennemerland")).one()


def _today():
    from portal import clock

    return clock.today()


def test_the_pack_brings_its_region_segments_and_rules(app):
    registry = app.extensions["portal.registry"]
    region = registry.for_region("kennemerland")
    assert registry.packs["kennemerland"][1] == "kennemerland"
    assert sorted(region.segments) == ["sociaal.A", "sociaal.B1", "sociaal.B2", "sociaal.B3", "sociaal.B4",
                                       "sociaal.C"]
    names = {key: segment.name for key, segment in region.segments.items()}
    assert names["sociaal.B1"] == "Ontwikkeling en herstel" and names["sociaal.B4"] == "Crisis"
    assert region.segments["sociaal.A"].funding_labels == ["Lumpsum / taakgericht",
                                                           "Subsidie (lokale subsidieverordening)"]
    assert {s.contract_duration for key, s in region.segments.items() if key != "sociaal.A"} == {"3+1+1"}
    assert set(region.segments["sociaal.C"].funding_forms) == {"availability", "pxq"}
    # Real CBS codes of the seven municipalities of 003 that exist today.
    assert [(name, code) for name, code, _residents in MUNICIPALITIES] == [
        ("Beverwijk", "0375"), ("Bloemendaal", "0377"), ("Haarlem", "0392"), ("Heemskerk", "0396"),
        ("Heemstede", "0397"), ("Velsen", "0453"), ("Zandvoort", "0473")]
    # Minimum tariffs per product group, and no surcharges; Noord-Limburg keeps neither.
    assert region.tariff_floor("sociaal.B2", "hour").amount == D("62.50")
    assert region.tariff_floor("sociaal.B3", "day", "DAG").amount == D("140.00")
    assert region.rule("surcharges", "kennemerland").value == "not_allowed"
    assert registry.rule("surcharges", "noord-limburg").value == "allowed" and not registry.tariff_floors
    assert "sociaal.B2" not in registry.segments


def test_the_demo_keeps_the_regions_rules(app, kennemerland):
    with app.app_context(), region_scope("kennemerland"):
        session = db.session()
        registry = app.extensions["portal.registry"].for_region("kennemerland")
        providers = session.exec(select(Organisation).where(
            Organisation.region_id == kennemerland, Organisation.kind == OrganisationKind.PROVIDER)).all()
        assert len(providers) == 4
        assert all(re.fullmatch(r"\d{8}", p.kvk_number) and re.fullmatch(r"\d{8}", p.agb_code) for p in providers)
        # Every standard trajectory's tariff lies at or above its floor, every demo year.
        trajectories = session.exec(select(StandardTrajectory).where(
            StandardTrajectory.region_id == kennemerland)).all()
        assert {t.segment_key for t in trajectories} == {f"sociaal.{c}" for c in ("B1", "B2", "B3", "B4", "C")}
        for trajectory in trajectories:
            tariff = session.get(Tariff, trajectory.tariff_id)
            floor = registry.tariff_floor(trajectory.segment_key, tariff.unit,
                                          session.get(CareForm, trajectory.care_form_id).code)
            assert floor is not None and unit_rate(tariff, trajectory.year) >= floor.amount, trajectory.code
        # Framework agreements 3+1+1; budget ceilings per product group (segments B1–B3).
        frameworks = session.exec(select(FrameworkAgreement).where(FrameworkAgreement.region_id == kennemerland)).all()
        assert {(f.initial_years, tuple(f.extension_options)) for f in frameworks} == {(3, (1, 1))}
        ceilings = session.exec(select(BudgetAgreement).where(BudgetAgreement.region_id == kennemerland)).all()
        assert {c.kind for c in ceilings} == {"ceiling"}
        assert {c.segment_key for c in ceilings} == {"sociaal.B1", "sociaal.B2", "sociaal.B3"}
        # The two agreements the SROI obligation is tried on: €250,000 and €200,000 this year.
        by_reference = {f.reference: f for f in frameworks}
        values = defaultdict(Decimal)
        for ceiling in ceilings:
            values[ceiling.framework_agreement_id] += ceiling.amount
        year = _today().year
        assert values[by_reference[f"KEN-{year}-250"].id] == D("250000.00")
        assert values[by_reference[f"KEN-{year}-200"].id] == D("200000.00")
        # One choice per municipality and segment, with one of the segment's funding forms.
        choices = session.exec(select(MunicipalChoice).where(MunicipalChoice.region_id == kennemerland)).all()
        assert len(choices) == 7 * 6
        assert all(c.funding_form in registry.segments[c.segment_key].funding_forms for c in choices)


def test_loading_the_demo_twice_changes_nothing(app, kennemerland):
    with app.app_context():
        session = db.session()
        count = len(session.exec(select(BudgetAgreement.id)).all())
        load_pack_demo(PACK, "kennemerland", None, _today())
        assert len(db.session().exec(select(BudgetAgreement.id)).all()) == count


def test_each_region_sees_only_its_own_segments(app, kennemerland):
    client = app.test_client()
    sign_in(client, MANAGER)
    page = client.get("/segmenten/").get_data(as_text=True)
    assert "Duurzaam licht" in page and "Basisinfrastructuur (lokaal)" in page and "Subsidie" in page
    assert "Hulp bij het huishouden" not in page and "Wmo S1a" not in page
    assert client.get("/kennemerland/sociaal/").status_code == 200
    assert client.get("/wmo/").status_code == 404
    other = app.test_client()
    sign_in(other, "contractmanager@mgr-noord-limburg.example")
    assert "Duurzaam licht" not in other.get("/segmenten/").get_data(as_text=True)
    assert other.get("/kennemerland/sociaal/").status_code == 404


def test_the_catalogue_refuses_a_rate_below_the_minimum_and_any_surcharge(app, kennemerland):
    client = app.test_client()
    sign_in(client, MANAGER)
    with app.app_context():
        tariff = db.session().exec(select(Tariff).where(Tariff.code == "KEN-BEG-L")).one()
        version = db.session().exec(select(TariffVersion).where(
            TariffVersion.tariff_id == tariff.id, TariffVersion.valid_until.is_(None))).one()
    path = f"/catalogus/tariefversies/{version.id}/bewerken"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "valid_from": version.valid_from.isoformat(),
                                       "valid_until": "", "unit_rate": "55,00"})
    assert response.status_code == 422
    assert (f"Het tarief ligt onder het minimumtarief van {money(D('62.50'))} per uur voor Kennemerland B2."
            in response.get_data(as_text=True))
    surcharges = client.get("/catalogus/opslagen/").get_data(as_text=True)
    assert "In deze regio gelden geen opslagen" in surcharges and "Opslag toevoegen" not in surcharges
    with app.app_context(), region_scope("kennemerland"):
        with pytest.raises(admin.CatalogueViolation, match="In deze regio gelden geen opslagen"):
            admin.create_surcharge(kennemerland, code="KEN-ZWAAR", name="Zwaardere doelgroep", percentage=D("5"),
                                   segment_key="sociaal.B3", valid_from=date(_today().year, 1, 1))


def test_a_proposal_on_a_tariff_below_the_minimum_is_refused(app, kennemerland):
    """A tariff from before the floor (written straight to the table) prices no custom trajectory."""
    from portal.proposals import service as proposals
    from portal.validators import RuleViolation

    year = _today().year
    with app.app_context(), region_scope("kennemerland"):
        session = db.session()
        provider = session.exec(select(Organisation).where(Organisation.name == "Stichting Spaarnestad Zorg")).one()
        standard = session.exec(select(StandardTrajectory).where(
            StandardTrajectory.code == "B2-BEG-12", StandardTrajectory.year == year)).one()
        version = session.exec(select(TariffVersion).where(TariffVersion.tariff_id == standard.tariff_id,
                                                           TariffVersion.valid_until.is_(None))).one()
        version.unit_rate = D("58.00")
        session.add(version)
        session.flush()
        user = _account(session, "beheer@spaarnestadzorg.example")
        values = {"intensity": "2", "intensity_period": "week", "duration_months": 12, "expected_per_year": 10,
                  "substantiation": "Deze cliënten hebben twee uur per week nodig."}
        with pytest.raises(RuleViolation) as refused:
            proposals.start_proposal(provider, user, standard.id, "Meer uren", values, "ken-floor-1")
        assert refused.value.message == (f"Het tarief ligt onder het minimumtarief van {money(D('62.50'))} per uur "
                                         f"voor Kennemerland B2.")
        session.rollback()



def _account(session, email):
    return session.exec(select(User).where(User.email == email)).one()


def test_the_manager_sees_the_sroi_obligation_above_200000_only(app, kennemerland):
    """Issue 13's "done when": € 250.000 brings € 12.500 of SROI, exactly € 200.000 none."""
    year = _today().year
    with app.app_context():
        ids = dict(db.session().exec(select(FrameworkAgreement.reference, FrameworkAgreement.id).where(
            FrameworkAgreement.region_id == kennemerland)).all())
    client = app.test_client()
    sign_in(client, MANAGER)
    above = client.get(f"/afspraken/{ids[f'KEN-{year}-250']}").get_data(as_text=True)
    at = client.get(f"/afspraken/{ids[f'KEN-{year}-200']}").get_data(as_text=True)
    assert "SROI-verplichting" in above and "12.500,00" in above
    assert "Geen SROI-verplichting" in at and "12.500,00" not in at
    overview = client.get(f"/verplichtingen/?jaar={year}").get_data(as_text=True)
    assert f"KEN-{year}-250" in overview and f"KEN-{year}-200" not in overview
    # Noord-Limburg's manager has no obligations at all.
    other = app.test_client()
    sign_in(other, "contractmanager@mgr-noord-limburg.example")
    assert "Er gelden in deze regio geen verplichtingen" in other.get("/verplichtingen/").get_data(as_text=True)
