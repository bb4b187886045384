"""Region packs: a region brings its own domains and segments, and two regions run side by side.

Two throwaway packs (written here, the core untouched) both register a domain ``zorg`` with a
segment ``A``: each region's users see only their own, next to the first region's plugins.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from portal import hookimpl
from portal.accounts import roles
from portal.config import ConfigurationError
from portal.demo import load_pack_demo
from portal.models import OrganisationKind
from portal.registry import Domain, LocalRule, PluginConflict, RegionPack, Segment, SettlementParameter
from tests.conftest import FIRST_REGION_PLUGINS, _empty_tables, make_app, sign_in

PASSWORD = "proef-wachtwoord-2026"


class Pack:
    """A region pack written in a test: one domain ``zorg`` with segments of its own."""

    def __init__(self, code: str, name: str, segments: tuple[Segment, ...], funding_forms=None,
                 local_rules=(), parameters=()):
        self.region = RegionPack(code, name, municipalities=((f"{name}stad", "9901" if code == "proefland" else "9902",
                                                              20_000),),
                                 purchasing_office=f"Inkoop {name}", funding_forms=funding_forms or {})
        self.segments = segments
        self.local_rules = list(local_rules)
        self.parameters = list(parameters)
        self.__name__ = f"pack_{code}"

    @hookimpl
    def portal_regions(self):
        return [self.region]

    @hookimpl
    def portal_domains(self):
        return [Domain("zorg", f"Zorg {self.region.name}", segments=self.segments)]

    @hookimpl
    def portal_local_rules(self):
        return self.local_rules

    @hookimpl
    def portal_settlement_parameters(self):
        return self.parameters

    @hookimpl
    def portal_demo_data(self, demo):
        demo.organisation(f"Aanbieder {self.region.name}", OrganisationKind.PROVIDER, kvk_number="12345678")
        demo.account(f"inkoop@{self.region.code}.example", f"Inkoper {self.region.name}", roles.CONTRACT_MANAGER,
                     self.region.purchasing_office)
        demo.account(f"aanbieder@{self.region.code}.example", f"Aanbieder {self.region.name}", roles.PROVIDER_ADMIN,
                     f"Aanbieder {self.region.name}")


def make_proefland(**kwargs):
    return Pack("proefland", "Proefland", (Segment("A", "Algemene voorzieningen", ("lump_sum", "subsidie"), "3+1+1"),
                                           Segment("B", "Maatwerk", ("pxq",), "3+3+3")),
                funding_forms={"subsidie": "Subsidie"}, **kwargs)


def make_testdal(**kwargs):
    return Pack("testdal", "Testdal", (Segment("A", "Ambulante begeleiding", ("pxq", "budget_ceiling"), "3+3"),),
                **kwargs)


@pytest.fixture
def packs():
    return [make_proefland(), make_testdal()]


@pytest.fixture
def app_config(packs):
    return {"EXTRA_PLUGINS": packs, "ENABLED_PLUGINS": FIRST_REGION_PLUGINS}


def test_each_region_has_its_own_segments_beside_the_first_regions(app):
    registry = app.extensions["portal.registry"]
    assert sorted(registry.regions) == ["proefland", "testdal"]
    proef, dal = registry.for_region("proefland"), registry.for_region("testdal")
    assert proef.segments["zorg.A"].name == "Algemene voorzieningen"
    assert dal.segments["zorg.A"].name == "Ambulante begeleiding"  # the same code in another region
    assert sorted(proef.segments) == ["zorg.A", "zorg.B"] and sorted(dal.segments) == ["zorg.A"]
    assert "zorg.A" not in registry.segments and "wmo.S1a" in registry.segments  # the first region
    assert not any(key.startswith(("wmo.", "jeugd.", "participatie.")) for key in proef.segments)
    assert registry.for_region("noord-limburg") is registry and registry.for_region(None) is registry
    # A pack's own funding form, named on the segment; the core's keep their names.
    assert proef.segments["zorg.A"].funding_labels == ["Lumpsum / taakgericht", "Subsidie"]
    assert "subsidie" not in registry.funding_forms


def test_users_see_only_their_own_regions_segments(app, demo):
    with app.app_context():
        load_pack_demo(make_proefland().region, "pack_proefland", _hash(), _today())
        load_pack_demo(make_testdal().region, "pack_testdal", _hash(), _today())
    pages = {}
    for email in ("inkoop@proefland.example", "aanbieder@testdal.example", "contractmanager@mgr-noord-limburg.example"):
        client = app.test_client()
        sign_in(client, email, *([] if "noord-limburg" in email else [PASSWORD]))
        pages[email] = client.get("/segmenten/").get_data(as_text=True)
    proef, dal, first = pages.values()
    assert "Algemene voorzieningen" in proef and "Maatwerk" in proef and "Subsidie" in proef
    assert "Ambulante begeleiding" not in proef and "Hulp bij het huishouden" not in proef
    assert "Ambulante begeleiding" in dal and "Algemene voorzieningen" not in dal
    assert "Hulp bij het huishouden" in first and "Algemene voorzieningen" not in first


def test_a_pack_demo_makes_its_region_municipalities_and_accounts(app):
    from sqlmodel import select

    from portal import db
    from portal.models import Organisation, Region

    with app.app_context():
        accounts = load_pack_demo(make_proefland().region, "pack_proefland", _hash(), _today())
        load_pack_demo(make_proefland().region, "pack_proefland", _hash(), _today())  # twice: nothing new
        session = db.session()
        region = session.exec(select(Region).where(Region.code == "proefland")).one()
        names = sorted(session.exec(select(Organisation.name).where(Organisation.region_id == region.id)).all())
        town = session.exec(select(Organisation).where(Organisation.name == "Proeflandstad")).one()
    assert names == ["Aanbieder Proefland", "Inkoop Proefland", "Proeflandstad"]
    assert (town.municipality_code, town.residents) == ("9901", 20_000)
    assert [a.email for a in accounts] == ["inkoop@proefland.example", "aanbieder@proefland.example"]


def test_local_values_hold_in_their_own_regions_registry():
    rule = LocalRule("reporting_period", "quarter", region="proefland", segment="zorg.B")
    value = SettlementParameter("jeugd.shared_savings", "share", "0.40", region="noord-limburg", segment="jeugd.S4")
    app = make_app("sqlite://", ENABLED_PLUGINS=FIRST_REGION_PLUGINS,
                   EXTRA_PLUGINS=[make_proefland(local_rules=[rule], parameters=[value]), make_testdal()])
    registry = app.extensions["portal.registry"]
    assert registry.for_region("proefland").rule("reporting_period", "proefland", segment="zorg.B").value == "quarter"
    assert registry.rule("reporting_period", "noord-limburg", segment="jeugd.S4").value == "month"
    assert registry.settlement_parameters("jeugd.shared_savings", "noord-limburg",
                                          segment="jeugd.S4")["share"].value == Decimal("0.40")
    # A region's value for a segment the region does not have stops start-up.
    wrong = LocalRule("reporting_period", "quarter", region="testdal", segment="zorg.B")
    with pytest.raises(PluginConflict, match="unknown segment 'zorg.B'"):
        make_app("sqlite://", ENABLED_PLUGINS=FIRST_REGION_PLUGINS,
                 EXTRA_PLUGINS=[make_proefland(), make_testdal(local_rules=[wrong])])


def test_two_packs_for_one_region_stop_start_up_naming_both():
    other = make_testdal()
    other.region = RegionPack("proefland", "Nog een Proefland")
    other.__name__ = "pack_tweede"
    with pytest.raises(PluginConflict, match="Region 'proefland' has two packs: plugin '(pack_proefland|pack_tweede)' "
                                             "and plugin '(pack_tweede|pack_proefland)'") as error:
        make_app("sqlite://", ENABLED_PLUGINS=FIRST_REGION_PLUGINS, EXTRA_PLUGINS=[make_proefland(), other])
    assert "pack_proefland" in str(error.value) and "pack_tweede" in str(error.value)


def test_the_same_segment_code_twice_in_one_region_stops_start_up():
    twice = Pack("proefland", "Proefland", (Segment("A", "Een", ("pxq",), "3+3"), Segment("A", "Twee", ("pxq",), "3+3")))
    with pytest.raises(PluginConflict, match="Segment code 'A' appears twice in domain 'zorg'.*pack_proefland"):
        make_app("sqlite://", ENABLED_PLUGINS=FIRST_REGION_PLUGINS, EXTRA_PLUGINS=[twice])


def test_an_unknown_funding_form_in_a_pack_names_the_known_ones():
    bad = Pack("proefland", "Proefland", (Segment("A", "Een", ("subsidie",), "3+3"),))
    with pytest.raises(PluginConflict, match="unknown funding forms \\['subsidie'\\]"):
        make_app("sqlite://", ENABLED_PLUGINS=FIRST_REGION_PLUGINS, EXTRA_PLUGINS=[bad])


def test_demo_command_answers_an_unknown_region_with_the_known_ones(app):
    result = app.test_cli_runner().invoke(args=["demo", "--region", "atlantis"])
    assert result.exit_code != 0
    assert "onbekende regio atlantis; bekend: noord-limburg, proefland, testdal" in result.output


def test_demo_command_loads_one_pack_region(app):
    result = app.test_cli_runner().invoke(args=["demo", "--region", "testdal", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert "Demoregio's geladen" in result.output and "Testdal" in result.output
    assert "aanbieder@testdal.example" in result.output and "mgr-noord-limburg" not in result.output


def test_a_pack_domain_page_is_for_its_own_region_only(app, demo):
    from flask import Blueprint

    assert isinstance(app.blueprints.get("segments"), Blueprint)
    with app.app_context():
        load_pack_demo(make_proefland().region, "pack_proefland", _hash(), _today())
    client = app.test_client()
    sign_in(client, "inkoop@proefland.example", PASSWORD)
    assert client.get("/wmo/").status_code == 404  # the first region's domain page


def test_enabling_a_missing_pack_names_the_installed_plugins():
    with pytest.raises(ConfigurationError, match="not installed: nergensland"):
        make_app("sqlite://", ENABLED_PLUGINS=["nergensland"])


def _hash():
    from portal.accounts.passwords import hash_password

    return hash_password(PASSWORD)


def _today():
    from portal import clock

    return clock.today()


def test_plugins_command_names_the_packs_and_their_regions(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["plugins"])
    assert result.exit_code == 0, result.output
    assert "pack_proefland" in result.output and "portal_regions" in result.output
    assert "proefland" in result.output and "testdal" in result.output
    unknown = runner.invoke(args=["plugins", "--region", "atlantis"])
    assert unknown.exit_code != 0 and "proefland" in unknown.output and "testdal" in unknown.output


def test_flask_demo_loads_every_installed_region(database_url, tmp_path):
    """With every installed plugin (the default), ``flask demo`` loads the first region and the
    region of each installed pack (plugins/regions/*: Kennemerland and Rivierenland), side by side."""
    from sqlmodel import select

    from portal import db
    from portal.models import Region

    installed = make_app(database_url, INSTANCE_PATH=str(tmp_path / "instance"))
    try:
        packs = set(installed.extensions["portal.registry"].packs)
        assert len(packs) >= 2, "the region packs of plugins/regions/ are not installed"
        result = installed.test_cli_runner().invoke(args=["demo", "--password", PASSWORD])
        assert result.exit_code == 0, result.output
        with installed.app_context():
            codes = set(db.session().exec(select(Region.code)).all())
        assert codes == {"noord-limburg"} | packs
        for code in packs:
            assert f"contractmanager@{code}.example" in result.output
    finally:
        _empty_tables(installed.extensions["portal.engine"])
        installed.extensions["portal.engine"].dispose()
