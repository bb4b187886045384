"""Minimum tariffs (``portal_tariff_floors``) and the region rule ``surcharges``, with a throwaway
region pack: the catalogue refuses a rate below the floor (tariff versions and trajectories) and a
surcharge where the region has none; bad floors stop start-up."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from portal import hookimpl
from portal.catalogue import admin
from portal.formatting import money
from portal.models import CareForm, Region, StandardTrajectory, Tariff, TariffVersion
from portal.registry import LocalRule, PluginConflict, TariffFloor, region_scope
from tests.conftest import FIRST_REGION_PLUGINS, make_app, sign_in
from tests.test_region_packs import PASSWORD, Pack, _hash, _today, make_proefland

D = Decimal
FLOORS = [TariffFloor("zorg.B", "62.50", unit="hour", reason="Kwaliteit borgen."),
          TariffFloor("zorg.B", "80.00", unit="hour", care_form="SPEC", reason="Specialistische inzet."),
          TariffFloor("zorg.B", "120.00", reason="Per dag of contact.")]
NO_SURCHARGES = LocalRule("surcharges", "not_allowed", region="proefland", reason="Geen opslagen meer.")


class FloorPack(Pack):
    """The throwaway region Proefland with minimum tariffs."""

    def __init__(self, floors=FLOORS, **kwargs):
        base = make_proefland(**kwargs)
        self.__dict__.update(base.__dict__)
        self.floors = list(floors)

    @hookimpl
    def portal_tariff_floors(self):
        return self.floors


@pytest.fixture
def app_config():
    return {"EXTRA_PLUGINS": [FloorPack(local_rules=[NO_SURCHARGES])], "ENABLED_PLUGINS": FIRST_REGION_PLUGINS}


@pytest.fixture
def proefland(app, demo):
    """Proefland's demo region with a small catalogue in segment zorg.B: a tariff per hour of
    €70,00 in 2025 used by a trajectory of care form BEG, and a care form SPEC."""
    from portal import db
    from portal.demo import load_pack_demo

    with app.app_context():
        load_pack_demo(FloorPack().region, "pack_proefland", _hash(), _today())
        session = db.session()
        region = session.exec(select(Region).where(Region.code == "proefland")).one()
        care_form = CareForm(region_id=region.id, segment_key="zorg.B", code="BEG", name="Begeleiding")
        special = CareForm(region_id=region.id, segment_key="zorg.B", code="SPEC", name="Specialistisch")
        tariff = Tariff(region_id=region.id, code="P-UUR", name="Begeleiding per uur", unit="hour")
        session.add_all([care_form, special, tariff])
        session.flush()
        session.add(TariffVersion(tariff_id=tariff.id, valid_from=date(2025, 1, 1), valid_until=date(2025, 12, 31),
                                  unit_rate=D("70.00")))
        session.add(StandardTrajectory(region_id=region.id, year=2025, segment_key="zorg.B", care_form_id=care_form.id,
                                       code="B-6", name="Begeleiding zes maanden", expertise="mbo", intensity=D("2"),
                                       intensity_period="week", duration_months=6, tariff_id=tariff.id))
        session.commit()
        return {"region_id": region.id, "tariff_id": tariff.id, "care_form_id": care_form.id, "special_id": special.id}


def _refusal(call) -> str:
    with pytest.raises(admin.CatalogueViolation) as refused:
        call()
    return refused.value.message


def test_a_tariff_version_below_the_floor_of_a_segment_it_prices_is_refused(app, proefland):
    from portal import db

    with app.app_context(), region_scope("proefland"):
        tariff = db.session().get(Tariff, proefland["tariff_id"])
        message = _refusal(lambda: admin.add_tariff_version(
            tariff, valid_from=date(2026, 1, 1), valid_until=None, unit_rate=D("62.49")))
        assert message == (f"Het tarief ligt onder het minimumtarief van {money(D('62.50'))} per uur voor "
                           f"Zorg Proefland B.")
        # Exactly the floor is fine.
        version = admin.add_tariff_version(tariff, valid_from=date(2026, 1, 1), valid_until=None,
                                           unit_rate=D("62.50"))
        assert version.unit_rate == D("62.50")
        # Lowering the version the 2025 trajectory prices with is refused too.
        current = db.session().exec(select(TariffVersion).where(TariffVersion.tariff_id == tariff.id,
                                                                TariffVersion.valid_from == date(2025, 1, 1))).one()
        assert "minimumtarief van" in _refusal(lambda: admin.change_tariff_version(current, unit_rate=D("50.00")))
        db.session().rollback()


def test_a_trajectory_whose_tariff_lies_below_its_care_forms_floor_is_refused(app, proefland):
    values = {"year": 2025, "care_form_id": proefland["special_id"], "tariff_id": proefland["tariff_id"],
              "code": "B-SPEC-6", "name": "Specialistisch", "expertise": "hbo", "intensity": D("2"),
              "intensity_period": "week", "duration_months": 6}
    with app.app_context(), region_scope("proefland"):
        with pytest.raises(admin.CatalogueViolation) as refused:
            admin.check_trajectory(proefland["region_id"], values)
        assert ("tariff_id", f"Het tarief ligt onder het minimumtarief van {money(D('80.00'))} per uur voor "
                             f"Zorg Proefland B.") in refused.value.problems
        # The same tariff for the plain care form meets the segment's floor of €62,50 an hour.
        checked = admin.check_trajectory(proefland["region_id"], {**values, "care_form_id": proefland["care_form_id"]})
        assert checked.price.total > 0


def test_the_most_specific_floor_holds_and_other_regions_have_none(app):
    registry = app.extensions["portal.registry"]
    proef = registry.for_region("proefland")
    assert proef.tariff_floor("zorg.B", "hour", "SPEC").minimum == "80.00"
    assert proef.tariff_floor("zorg.B", "hour", "BEG").minimum == "62.50"
    assert proef.tariff_floor("zorg.B", "day").minimum == "120.00"  # the segment-wide floor
    assert proef.tariff_floor("zorg.A", "hour") is None
    assert registry.tariff_floors == {}  # the first region has no minimum tariffs


def test_a_region_without_surcharges_refuses_them_and_says_so(app, proefland):
    from portal import db

    with app.app_context(), region_scope("proefland"):
        message = _refusal(lambda: admin.create_surcharge(
            proefland["region_id"], code="P-ZWAAR", name="Zware doelgroep", percentage=D("5"), segment_key="zorg.B",
            valid_from=date(2026, 1, 1)))
        assert message.startswith("In deze regio gelden geen opslagen")
        db.session().rollback()
        registry = app.extensions["portal.registry"]
        assert registry.for_region("proefland").rule("surcharges", "proefland").value == "not_allowed"
        assert registry.rule("surcharges", "noord-limburg").value == "allowed"  # the default elsewhere
    client = app.test_client()
    sign_in(client, "inkoop@proefland.example", PASSWORD)
    page = client.get("/catalogus/opslagen/").get_data(as_text=True)
    assert "In deze regio gelden geen opslagen" in page and "Opslag toevoegen" not in page


@pytest.mark.parametrize("floor, message", [
    (TariffFloor("zorg.X", "10.00"), "minimum tariff for unknown segment 'zorg.X'"),
    (TariffFloor("zorg.B", "62,50"), "minimum tariff '62,50' of 'zorg.B' is not an amount"),
    (TariffFloor("zorg.B", "-1.00"), "minimum tariff '-1.00'"),
    (TariffFloor("zorg.B", "62.505"), "minimum tariff '62.505'"),
    (TariffFloor("zorg.B", "62.50", unit="week"), "names unknown unit 'week'"),
])
def test_a_bad_floor_stops_start_up(floor, message):
    with pytest.raises(PluginConflict, match=message):
        make_app("sqlite://", ENABLED_PLUGINS=FIRST_REGION_PLUGINS, EXTRA_PLUGINS=[FloorPack(floors=[floor])])


def test_two_floors_for_one_scope_stop_start_up():
    twice = [TariffFloor("zorg.B", "62.50", unit="hour"), TariffFloor("zorg.B", "65.00", unit="hour")]
    with pytest.raises(PluginConflict, match="minimum tariff of 'zorg.B' \\(unit 'hour', care form None\\) is set "
                                             "twice.*pack_proefland"):
        make_app("sqlite://", ENABLED_PLUGINS=FIRST_REGION_PLUGINS, EXTRA_PLUGINS=[FloorPack(floors=twice)])
