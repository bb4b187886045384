"""The plugin system: hook contract, entry points, a throwaway plugin, and start-up conflicts."""
from __future__ import annotations

import inspect
import tomllib
from decimal import Decimal
from importlib.metadata import entry_points

import pytest
from flask import Blueprint

from portal import PROJECT_ROOT, hookimpl, hookspecs
from portal.catalogue.pricing import ExtraField, SegmentPricing
from portal.config import ConfigurationError
from portal.registry import (
    Domain,
    LocalRule,
    MenuItem,
    PluginConflict,
    ProposalRules,
    RealisationField,
    RealisationSpec,
    RuleDefinition,
    Segment,
    SettlementParameter,
    SettlementRule,
    TariffFloor,
)
from tests.conftest import make_app, sign_in
from tests.dates import month, this_year, today

HOOK_NAMES = sorted(name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
                    if name.startswith("portal_"))


def test_every_hook_is_prefixed_and_documented():
    functions = [f for name, f in inspect.getmembers(hookspecs, inspect.isfunction)
                 if hasattr(f, "portal_spec")]
    assert functions, "no hook specifications found"
    for function in functions:
        assert function.__name__.startswith("portal_"), function.__name__
        doc = inspect.getdoc(function) or ""
        assert "Called" in doc or "called" in doc, f"{function.__name__}: say when it is called"
        assert ":return:" in doc, f"{function.__name__}: say what it returns"


def test_the_three_domain_plugins_and_every_region_pack_are_entry_points():
    names = {ep.name: ep.value for ep in entry_points(group="portal.plugins")}
    packs = {}
    for pyproject in sorted((PROJECT_ROOT / "plugins" / "regions").glob("*/pyproject.toml")):
        packs.update(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["entry-points"]["portal.plugins"])
    assert names == {"wmo": "plugins.wmo", "jeugd": "plugins.jeugd", "participatie": "plugins.participatie", **packs}


PROEF_REALISATION = RealisationSpec("proef.P1", basis="units",
                                    fields=(RealisationField("proefuren", "Proefuren", required=True),))


def proef_realisation_check(line, context):
    """The throwaway region's own rule: Beesel takes at most 40 clients on one line."""
    if line.municipality.code == "0889" and line.clients > 40:
        return [("clienten", "Beesel neemt in de proef hoogstens 40 cliënten per regel aan.")]
    return []


def proef_discount(agreement, settlement, _rules, parameters, results):
    """The throwaway domain's settlement rule: a discount of ``discount`` per complaint."""
    complaints = results.get("klachten", Decimal(0))
    if not complaints:
        return None
    return -complaints * parameters["discount"], f"Proefkorting: {complaints} klachten."


PROEF_SETTLEMENT_RULE = SettlementRule("proef.korting", "Proefkorting", "Parameter 'discount': euro per klacht "
                                       "(standaard 10,00).", ("proef.P1",), {"discount": "10.00"}, proef_discount)


class ThrowawayPlugin:
    """A plugin written in a test: it uses every hook, and the core is not touched."""

    def __init__(self, template_folder):
        self.template_folder = template_folder
        self.ready_apps = []
        self.calls = set()
        self.demo_regions = []

    @hookimpl
    def portal_regions(self):
        self.calls.add("portal_regions")
        return []  # serves every region without a pack of its own (tests/test_region_packs.py has packs)

    @hookimpl
    def portal_domains(self):
        self.calls.add("portal_domains")
        return [Domain("proef", "Proefdomein", "Wet op de proef", segments=(
            Segment("P1", "Proefsegment", ("pxq",), "2+2"),))]

    @hookimpl
    def portal_segment_pricing(self):
        self.calls.add("portal_segment_pricing")
        return [SegmentPricing("proef.P1", fields=(ExtraField("proefveld", "Proefveld", Decimal(1)),))]

    @hookimpl
    def portal_blueprints(self):
        self.calls.add("portal_blueprints")
        blueprint = Blueprint("proef", __name__, url_prefix="/proef")
        blueprint.add_url_rule("/", "hello", lambda: "Hallo vanuit de proefplug-in")
        return [blueprint]

    @hookimpl
    def portal_template_folders(self):
        self.calls.add("portal_template_folders")
        return [self.template_folder]

    @hookimpl
    def portal_menu_items(self):
        self.calls.add("portal_menu_items")
        return [MenuItem("Proefpagina", "proef.hello", frozenset({"municipality_user"}), "Een proef.")]

    @hookimpl
    def portal_rule_definitions(self):
        self.calls.add("portal_rule_definitions")
        return [RuleDefinition("proef_keuze", "Proefkeuze", "Een keuze om te proberen.",
                               {"a": "Keuze A", "b": "Keuze B"}, "a")]

    @hookimpl
    def portal_local_rules(self):
        self.calls.add("portal_local_rules")
        return [
            LocalRule("proef_keuze", "b", region="noord-limburg", municipality="0983", reason="Venlo kiest B"),
            LocalRule("reporting_period", "quarter", region="noord-limburg", municipality="0983"),
        ]

    @hookimpl
    def portal_proposal_rules(self):
        self.calls.add("portal_proposal_rules")
        return [ProposalRules("proef.P1", min_duration=2, max_duration=12)]

    @hookimpl
    def portal_proposal_checks(self):
        self.calls.add("portal_proposal_checks")
        return [lambda values, context: []]

    @hookimpl
    def portal_realisation_fields(self):
        self.calls.add("portal_realisation_fields")
        return [PROEF_REALISATION]

    @hookimpl
    def portal_realisation_checks(self):
        self.calls.add("portal_realisation_checks")
        return [proef_realisation_check]

    @hookimpl
    def portal_settlement_rules(self):
        self.calls.add("portal_settlement_rules")
        return [PROEF_SETTLEMENT_RULE]

    @hookimpl
    def portal_settlement_parameters(self):
        self.calls.add("portal_settlement_parameters")
        return [SettlementParameter("proef.korting", "discount", "12.50", "noord-limburg", municipality="0983"),
                SettlementParameter("jeugd.shared_savings", "share", "0.30", "noord-limburg", segment="jeugd.S4")]

    @hookimpl
    def portal_tariff_floors(self):
        self.calls.add("portal_tariff_floors")
        return [TariffFloor("proef.P1", "10.00", unit="hour", reason="Een minimumtarief om te proberen.")]

    @hookimpl
    def portal_agreement_obligations(self):
        self.calls.add("portal_agreement_obligations")
        return []  # tests/test_agreement_obligations.py declares obligations in a region pack

    @hookimpl
    def portal_demo_data(self, demo):
        self.calls.add("portal_demo_data")
        self.demo_regions.append(demo.region.code)

    @hookimpl
    def portal_app_ready(self, app):
        self.calls.add("portal_app_ready")
        self.ready_apps.append(app)

        @app.cli.command("proef")
        def proef():
            print("proef")


@pytest.fixture
def throwaway(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "_region_banner.html").write_text(
        '<p class="alert">Mededeling van de proefregio</p>', encoding="utf-8")
    return ThrowawayPlugin(str(tmp_path))


@pytest.fixture
def app_config(throwaway):
    return {"EXTRA_PLUGINS": [throwaway]}


def test_throwaway_plugin_takes_effect_without_touching_the_core(app, demo, throwaway):
    assert throwaway.ready_apps == [app]
    assert "proef" in app.cli.commands
    client = app.test_client()
    sign_in(client, "medewerker@venlo.example")
    home = client.get("/").get_data(as_text=True)
    assert "Proefpagina" in home  # menu entry, shown to the role it names
    assert "Mededeling van de proefregio" in home  # template folder searched before the core's
    assert "Keuze B" in home and "Lokale regel van gemeente" in home  # Venlo's local rule
    assert "Per kwartaal" in home
    assert client.get("/proef/").get_data(as_text=True) == "Hallo vanuit de proefplug-in"
    segments = client.get("/segmenten/").get_data(as_text=True)
    assert "Proefdomein" in segments and "Proefsegment" in segments
    # Another municipality keeps the defaults.
    other = app.test_client()
    sign_in(other, "medewerker@beesel.example")
    beesel = other.get("/").get_data(as_text=True)
    assert "Keuze A" in beesel and "Per maand" in beesel and "Keuze B" not in beesel
    # The menu entry is only for the role it names.
    manager = app.test_client()
    sign_in(manager, "contractmanager@mgr-noord-limburg.example")
    assert "Proefpagina" not in manager.get("/").get_data(as_text=True)


def test_throwaway_realisation_spec_and_check_take_effect(app, demo):
    from sqlmodel import func, select

    from portal.db import session as db_session
    from portal.models import Organisation
    from portal.models.realisation import RealisationReport
    from portal.realisation.importing import submit_rows

    registry = app.extensions["portal.registry"]
    assert registry.realisation_spec("proef.P1") is PROEF_REALISATION
    assert proef_realisation_check in registry.realisation_checks
    with app.app_context():
        session = db_session()
        provider = session.exec(select(Organisation).where(Organisation.name == "Zorggroep Maasland")).one()
        count = select(func.count()).select_from(RealisationReport)
        before = session.exec(count).one()
        this_month = month(today().month, this_year())  # begun, so the import takes it
        row = {"gemeente": "0889", "segment": "jeugd.S4", "periode": this_month, "traject": "S4-BEG-6",
               "gestart": 2, "lopend": 50, "beeindigd": 1, "clienten": 41}
        upload, result = submit_rows(provider, None, [row], "api")
        assert upload.state == "refused"
        assert [(e.column, e.message) for e in result.errors] == [
            ("clienten", "Beesel neemt in de proef hoogstens 40 cliënten per regel aan.")]
        assert session.exec(count).one() == before
        upload, result = submit_rows(provider, None, [{**row, "clienten": 40}], "api")
        assert upload.state == "stored", result.errors
        assert session.exec(count).one() == before + 1


def test_throwaway_settlement_rule_and_parameters_take_effect(app):
    from portal.settlement.engine import Agreement, settle

    registry = app.extensions["portal.registry"]
    assert registry.settlement_rules["proef.korting"] is PROEF_SETTLEMENT_RULE
    agreements = [Agreement(id=code, provider="Proef", municipality=code, segment="proef.P1", kind="ceiling",
                            ceiling=Decimal(1000), realisation=Decimal(500)) for code in ("0983", "0889")]
    results = {"0983": {"klachten": Decimal(3)}, "0889": {"klachten": Decimal(3)}}
    outcome = settle(2026, agreements, adjustments=lambda a: registry.settlement_adjustments(
        a.segment, "noord-limburg", a.municipality, results))
    venlo, beesel = outcome.settlements
    assert venlo.settled_value == Decimal("462.50")  # 500 − 3 × 12,50 (Venlo's own value)
    assert beesel.settled_value == Decimal("470.00")  # 500 − 3 × 10,00 (the default)
    assert "Proefkorting: 3 klachten." in venlo.explanation
    # A plugin's value for another plugin's rule: the region's S4 share of shared savings.
    share = registry.settlement_parameters("jeugd.shared_savings", "noord-limburg", "0889", "jeugd.S4")["share"]
    assert share.value == Decimal("0.30") and "regio en segment" in share.source


def test_every_hook_is_exercised(app, demo, throwaway):
    """Each hook is called (at start-up, or by the demo command), and the throwaway plugin
    implements them all."""
    assert sorted(throwaway.calls) == HOOK_NAMES
    assert throwaway.demo_regions == ["noord-limburg"]


def _plugin(**hooks):
    """A small plugin object whose hooks return the given lists."""
    namespace = {}
    for name, value in hooks.items():
        def make(value=value, name=name):
            def hook():
                return value
            hook.__name__ = name
            return hookimpl(hook)
        namespace[name] = staticmethod(make())
    return type("Plugin", (), namespace)()


def _start(database_url, *plugins, **config):
    return make_app(database_url, EXTRA_PLUGINS=list(plugins), **config)


def test_duplicate_domain_stops_start_up(database_url):
    twin = _plugin(portal_domains=[Domain("wmo", "Nog een Wmo")])
    with pytest.raises(PluginConflict, match="Domain 'wmo' is registered twice.*'wmo'"):
        _start(database_url, twin)


def test_duplicate_segment_code_stops_start_up(database_url):
    plugin = _plugin(portal_domains=[Domain("proef", "Proef", segments=(
        Segment("S1", "Een", ("pxq",), "3"), Segment("S1", "Twee", ("pxq",), "3")))])
    with pytest.raises(PluginConflict, match="Segment code 'S1' appears twice in domain 'proef'"):
        _start(database_url, plugin)


def test_same_segment_code_in_two_domains_is_fine(database_url):
    app = _start(database_url)
    registry = app.extensions["portal.registry"]
    assert {"jeugd.S1", "participatie.S1"} <= registry.segments.keys()


def test_duplicate_blueprint_name_stops_start_up(database_url):
    plugin = _plugin(portal_blueprints=[Blueprint("auth", __name__)])
    with pytest.raises(PluginConflict, match="Blueprint name 'auth' is already taken"):
        _start(database_url, plugin)


def test_duplicate_rule_and_bad_local_rules_stop_start_up(database_url):
    rule = RuleDefinition("outside_band", "Dubbel", "", {"x": "X"}, "x")
    with pytest.raises(PluginConflict, match="Rule id 'outside_band' is declared twice"):
        _start(database_url, _plugin(portal_rule_definitions=[rule]))
    with pytest.raises(PluginConflict, match="unknown rule 'bestaat_niet'"):
        _start(database_url, _plugin(portal_local_rules=[LocalRule("bestaat_niet", "x", "noord-limburg")]))
    with pytest.raises(PluginConflict, match="allowed"):
        _start(database_url, _plugin(portal_local_rules=[LocalRule("outside_band", "alles", "noord-limburg")]))
    same_scope = [LocalRule("band_scope", "region", "noord-limburg", segment="jeugd.S3")]
    with pytest.raises(PluginConflict, match="set twice for the same scope"):
        _start(database_url, _plugin(portal_local_rules=same_scope), _plugin(portal_local_rules=list(same_scope)))


def test_menu_item_to_unknown_page_stops_start_up(database_url):
    plugin = _plugin(portal_menu_items=[MenuItem("Kapot", "bestaat.niet", frozenset({"auditor"}))])
    with pytest.raises(PluginConflict, match="unknown endpoint 'bestaat.niet'"):
        _start(database_url, plugin)


def test_unknown_funding_form_stops_start_up(database_url):
    plugin = _plugin(portal_domains=[Domain("proef", "Proef", segments=(Segment("P", "P", ("gratis",), "1"),))])
    with pytest.raises(PluginConflict, match="unknown funding forms"):
        _start(database_url, plugin)


@pytest.mark.parametrize("combination", [frozenset({"pxq", "availability"}), frozenset({"pxq"})])
def test_bad_funding_combination_stops_start_up(database_url, combination):
    """A combination must name two or more of the segment's own funding forms."""
    plugin = _plugin(portal_domains=[Domain("proef", "Proef", segments=(
        Segment("P", "P", ("pxq", "trajectory"), "1", funding_combinations=(combination,)),))])
    with pytest.raises(PluginConflict, match="Segment 'proef.P' of plugin .* allows funding combination"):
        _start(database_url, plugin)


def test_setting_lists_the_enabled_plugins(database_url):
    only_wmo = _start(database_url, ENABLED_PLUGINS="wmo")
    assert set(only_wmo.extensions["portal.registry"].domains) == {"wmo"}
    assert "jeugd" not in only_wmo.blueprints
    everything = _start(database_url, ENABLED_PLUGINS="*")
    assert set(everything.extensions["portal.registry"].domains) == {"wmo", "jeugd", "participatie"}
    with pytest.raises(ConfigurationError, match="not installed: gemeente-venlo"):
        _start(database_url, ENABLED_PLUGINS="wmo,gemeente-venlo")


def test_rule_resolution_most_specific_wins(database_url):
    plugin = _plugin(portal_local_rules=[
        LocalRule("band_scope", "region", "noord-limburg"),
        LocalRule("band_scope", "municipality", "noord-limburg", segment="jeugd.S3"),
        LocalRule("band_scope", "region", "noord-limburg", municipality="0983", segment="jeugd.S3"),
    ])
    registry = _start(database_url, plugin).extensions["portal.registry"]
    assert registry.rule("band_scope", "noord-limburg").value == "region"
    assert registry.rule("band_scope", "noord-limburg", "0889", "jeugd.S3").value == "municipality"
    assert registry.rule("band_scope", "noord-limburg", "0983", "jeugd.S3").value == "region"
    assert registry.rule("band_scope", "noord-limburg", "0983", "jeugd.S4").value == "region"
    assert registry.rule("band_scope", "rivierenland").value == "municipality"  # the default
    assert registry.rule("band_scope", "rivierenland").source == "Standaardwaarde"


def test_pricing_for_unknown_or_twice_priced_segment_stops_start_up(database_url):
    with pytest.raises(PluginConflict, match="prices unknown segment 'wmo.S9'"):
        _start(database_url, _plugin(portal_segment_pricing=[SegmentPricing("wmo.S9")]))
    with pytest.raises(PluginConflict, match="Segment 'jeugd.S3' is priced twice"):
        _start(database_url, _plugin(portal_segment_pricing=[SegmentPricing("jeugd.S3")]))


def test_bad_realisation_specs_stop_start_up(database_url):
    with pytest.raises(PluginConflict, match="Segment 'jeugd.S2' has realisation fields twice"):
        _start(database_url, _plugin(portal_realisation_fields=[RealisationSpec("jeugd.S2", basis="units")]))
    with pytest.raises(PluginConflict, match="unknown segment 'wmo.S9'"):
        _start(database_url, _plugin(portal_realisation_fields=[RealisationSpec("wmo.S9")]))
    # wmo.S1b has no spec of its own plugin, so only the fault under test can stop start-up.
    with pytest.raises(PluginConflict, match="unknown realisation basis 'uren'"):
        _start(database_url, _plugin(portal_realisation_fields=[RealisationSpec("wmo.S1b", basis="uren")]))
    with pytest.raises(PluginConflict, match="reuses a core column"):
        _start(database_url, _plugin(portal_realisation_fields=[
            RealisationSpec("wmo.S1b", fields=(RealisationField("clienten", "Cliënten"),))]))
    with pytest.raises(PluginConflict, match="Segment 'wmo.S1b' has realisation fields twice"):
        _start(database_url, _plugin(portal_realisation_fields=[RealisationSpec("wmo.S1b")]),
               _plugin(portal_realisation_fields=[RealisationSpec("wmo.S1b")]))
    # a 323 product code counted as two trajectories (the jeugd plugin maps 45A03 already)
    with pytest.raises(PluginConflict, match="product code '45A03' is mapped twice"):
        _start(database_url, _plugin(portal_realisation_fields=[
            RealisationSpec("wmo.S1b", product_codes={"45a03": "S1B-BEG-3"})]))


def _settlement_rule(rule_id="proef.regel", segments=("wmo.S1a",), parameters=None, **values):
    return SettlementRule(rule_id, "Regel", "", segments, {"deel": "0.50"} if parameters is None else parameters,
                          lambda *args: None, **values)


def test_bad_settlement_rules_stop_start_up(database_url):
    with pytest.raises(PluginConflict, match="Settlement rule id 'jeugd.shared_savings' is declared twice.*'jeugd'"):
        _start(database_url, _plugin(portal_settlement_rules=[_settlement_rule("jeugd.shared_savings")]))
    with pytest.raises(PluginConflict, match=r"names unknown segments \['wmo.S9'\]"):
        _start(database_url, _plugin(portal_settlement_rules=[_settlement_rule(segments=("wmo.S9",))]))
    with pytest.raises(PluginConflict, match="default 'veel' of parameter 'deel' is not a valid value"):
        _start(database_url, _plugin(portal_settlement_rules=[_settlement_rule(parameters={"deel": "veel"})]))
    with pytest.raises(PluginConflict, match="default '1.5' of parameter 'deel'"):
        _start(database_url, _plugin(portal_settlement_rules=[
            _settlement_rule(parameters={"deel": "1.5"}, fractions=("deel",))]))


def test_bad_settlement_parameters_stop_start_up(database_url):
    def start(*values, plugins=()):
        return _start(database_url, _plugin(portal_settlement_parameters=list(values)), *plugins)

    with pytest.raises(PluginConflict, match="unknown settlement rule 'jeugd.bestaat_niet'"):
        start(SettlementParameter("jeugd.bestaat_niet", "share", "0.1", "noord-limburg"))
    with pytest.raises(PluginConflict, match="unknown parameter 'aandeel' of settlement rule 'jeugd.shared_savings'"):
        start(SettlementParameter("jeugd.shared_savings", "aandeel", "0.1", "noord-limburg"))
    with pytest.raises(PluginConflict, match="not a valid value \\(a fraction from 0 to 1\\)"):
        start(SettlementParameter("jeugd.shared_savings", "share", "1.20", "noord-limburg"))
    with pytest.raises(PluginConflict, match="not a valid value \\(a decimal, not negative\\)"):
        start(SettlementParameter("participatie.success_reward", "reward_per_outflow", "-5", "noord-limburg"))
    with pytest.raises(PluginConflict, match="for segment 'jeugd.S1', which the rule does not apply to"):
        start(SettlementParameter("jeugd.shared_savings", "share", "0.1", "noord-limburg", segment="jeugd.S1"))
    twice = SettlementParameter("jeugd.shared_savings", "share", "0.1", "noord-limburg", municipality="0983")
    with pytest.raises(PluginConflict, match="'share' of settlement rule 'jeugd.shared_savings' is set twice"):
        start(twice, plugins=[_plugin(portal_settlement_parameters=[twice])])
    # The same parameter for different scopes is fine.
    start(twice, SettlementParameter("jeugd.shared_savings", "share", "0.2", "noord-limburg", municipality="0889"))


def test_plugins_import_from_the_core_only_through_the_toolkit():
    """A plugin's code (tests aside) reaches the core through ``portal.toolkit`` alone, so the core
    can reorganise its internals without breaking a plugin."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent / "plugins"
    pattern = re.compile(r"^\s*(?:from\s+portal(?:\.(?!toolkit\b)\w+)*\s+import|import\s+portal\b)"
                         r"|^\s*from\s+portal\s+import", re.M)
    offenders = [f"{path.relative_to(root)}: {match.group(0).strip()}"
                 for path in sorted(root.rglob("*.py")) if "tests" not in path.parts
                 for match in pattern.finditer(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_one_way_to_the_registry_and_its_segment_labels(app):
    from portal.registry import current_registry

    with app.app_context():
        registry = current_registry()
        assert registry is app.extensions["portal.registry"]
        assert registry.segment_label("jeugd.S3") == "Jeugd S3 — " + registry.segments["jeugd.S3"].name
        assert registry.segment_short_label("wmo.S1a") == "Wmo S1a"
        assert registry.segment_label("bestaat.niet") == registry.segment_short_label("bestaat.niet") == "bestaat.niet"
