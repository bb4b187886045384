"""What the plugins registered, merged and checked: domains, segments, menu items and rules.

Built once per app by :func:`build_registry`; any clash between plugins stops start-up with a
:class:`PluginConflict` that names the plugins involved.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from types import MappingProxyType
from typing import Any, Callable, Mapping

from flask import current_app, g, has_app_context, has_request_context
from flask_login import current_user

from portal.money import to_cents

# Funding forms of the social domain; segments name one or more of these codes.
FUNDING_FORMS = {
    "trajectory": "Trajectfinanciering (prijs × traject)",
    "pxq": "Inspanningsgericht (prijs × hoeveelheid)",
    "budget_agreement": "Budgetafspraak met bandbreedte",
    "budget_ceiling": "Budgetplafond",
    "population": "Populatiebekostiging met verrekening",
    "lump_sum": "Lumpsum / taakgericht",
    "result": "Resultaatfinanciering",
    "availability": "Beschikbaarheidsfinanciering",
    "price_per_day": "Prijs per eenheid (dag)",
}

# Column names of a realisation file that the core owns (plugins add others).
CORE_REALISATION_COLUMNS = frozenset({"gemeente", "segment", "periode", "traject", "gestart", "lopend",
                                      "beeindigd", "clienten", "eenheden", "plekdagen"})
# Columns the templates carry for people (the names beside the codes); files may hold them, the
# importer reads past them.
INFORMATION_COLUMNS = frozenset({"gemeentenaam", "trajectnaam"})

LOTS = {"regional": "Perceel regionaal", "local": "Perceel lokaal", "open_house": "Open house"}

# The units a tariff is set in (the catalogue's Tariff.unit), as a minimum tariff names them.
TARIFF_UNITS = {"hour": "uur", "contact": "contact", "day": "dag"}


class PluginConflict(RuntimeError):
    """Two plugins claim the same key, or a plugin registered something invalid."""


@dataclass(frozen=True)
class RegionPack:
    """A region that brings its own domains (``portal_regions``): Rivierenland, Kennemerland.

    ``municipalities`` are ``(name, CBS code, residents)``: the region's population key.
    ``purchasing_office`` names the organisation that buys for the region (the demo creates it);
    ``funding_forms`` adds the region's own funding forms (code → Dutch name) to
    :data:`FUNDING_FORMS` for its segments."""

    code: str
    name: str
    municipalities: tuple[tuple[str, str, int], ...] = ()
    purchasing_office: str = ""
    description: str = ""
    funding_forms: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Segment:
    """A non-overlapping part of a domain (``portal_domains``) with the region's steering choices.

    ``funding_forms`` are codes of :data:`FUNDING_FORMS`. Within one segment a municipality uses
    one of them at a time (000 appendix 1); ``funding_combinations`` names the sets of funding forms
    that may nevertheless be used together because the region bought the segment that way (e.g.
    availability funding plus trajectory funding). Every form in a combination must be one of the
    segment's ``funding_forms`` and a combination holds at least two; else start-up stops.
    ``bow_wave_extensions`` says agreements under the bow-wave principle keep the extension
    options of ``contract_duration`` ("3+3+3 met boeggolfprincipe"): the horizon then rolls on
    within that maximum term; without it a bow-wave agreement has a horizon only."""

    code: str
    name: str
    funding_forms: tuple[str, ...]
    contract_duration: str  # e.g. "3+1+1": initial term plus extension options, in years
    description: str = ""
    lots: tuple[str, ...] = ("regional", "local")
    domain: str = ""  # filled in from the domain that carries the segment
    # The Dutch names of the funding forms, filled in from the registry (a region pack may bring
    # funding forms of its own).
    funding_names: tuple[str, ...] = ()
    funding_combinations: tuple[frozenset[str], ...] = ()
    bow_wave_extensions: bool = False

    @property
    def key(self) -> str:
        return f"{self.domain}.{self.code}"

    @property
    def funding_labels(self) -> list[str]:
        return list(self.funding_names) or [FUNDING_FORMS[f] for f in self.funding_forms]

    @property
    def lot_labels(self) -> list[str]:
        return [LOTS[lot] for lot in self.lots]


@dataclass(frozen=True)
class Domain:
    code: str
    name: str
    law: str = ""
    segments: tuple[Segment, ...] = ()
    endpoint: str | None = None  # the domain's overview page, if the plugin has one


@dataclass(frozen=True)
class MenuItem:
    label: str
    endpoint: str
    roles: frozenset[str]
    description: str = ""
    order: int = 100
    # Where the entry shows: "menu" (main menu and home page), "home" (home page only, to keep
    # the main menu to one line) or "account" (next to the signed-in user's name).
    place: str = "menu"
    # The registry attribute that must not be empty for the entry to show, e.g. "obligations": the
    # entry shows only in regions where agreement obligations hold. Empty: always.
    requires: str = ""


@dataclass(frozen=True)
class AgreementObligation:
    """An obligation that comes with a framework agreement in a region (``portal_agreement_obligations``),
    such as social return: a share of the agreement's contract value that the provider spends on
    work or training for people at a distance from the labour market.

    Declarative, so it can be listed and checked at start-up: ``rate`` is a fraction as a decimal
    string (``"0.05"`` is 5%), ``threshold`` a contract value in euros as a decimal string; the
    obligation holds only when the contract value is *strictly above* it (``"0"``: any value).
    ``segments`` (keys ``"domain.code"``) and ``domains`` (codes) limit it to agreements covering
    one of them; both empty: every agreement of the region. ``name`` and ``description`` are Dutch;
    the description says where the obligation comes from."""

    id: str
    name: str
    description: str
    rate: str
    threshold: str = "0"
    segments: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()

    @property
    def rate_value(self) -> Decimal:
        return Decimal(str(self.rate))

    @property
    def threshold_value(self) -> Decimal:
        return Decimal(str(self.threshold))

    def applies_to(self, domain: str, segment_keys) -> bool:
        """Whether the obligation covers an agreement of ``domain`` with these segments."""
        if self.domains and domain not in self.domains:
            return False
        return not self.segments or bool(set(self.segments) & set(segment_keys))

    def amount(self, contract_value: Decimal | None) -> Decimal | None:
        """The obligation for a contract value: value × rate, rounded half-up to the cent
        (docs/rounding.md rule 10), or None when there is no value or it is not above the threshold."""
        if contract_value is None or Decimal(contract_value) <= self.threshold_value:
            return None
        return to_cents(Decimal(contract_value) * self.rate_value)


@dataclass(frozen=True)
class RuleDefinition:
    id: str
    name: str
    description: str
    choices: dict[str, str]  # value -> Dutch label
    default: str


@dataclass(frozen=True)
class LocalRule:
    rule_id: str
    value: str
    region: str
    municipality: str | None = None  # CBS code, e.g. "0983"
    segment: str | None = None  # segment key "domain.code"
    reason: str = ""


@dataclass(frozen=True)
class TariffFloor:
    """A minimum tariff of a region (``portal_tariff_floors``): no unit rate in the segment may lie
    below ``minimum``.

    ``minimum`` is a decimal as a string in euros (``"62.50"``); ``unit`` narrows the floor to
    tariffs in one unit (``"hour"``, ``"contact"``, ``"day"``) and ``care_form`` to the
    trajectories of one care form (its code); ``reason`` says in Dutch why the floor exists.
    The most specific floor holds: care form and unit, care form, unit, the whole segment."""

    segment_key: str
    minimum: str
    unit: str | None = None
    care_form: str | None = None
    reason: str = ""

    @property
    def amount(self) -> Decimal:
        return Decimal(self.minimum)

    @property
    def unit_text(self) -> str:
        """" per uur" for a floor in hours; empty for a floor over every unit."""
        return f" per {TARIFF_UNITS[self.unit]}" if self.unit else ""


@dataclass(frozen=True)
class ProposalRules:
    """What a custom trajectory proposal in one segment may ask for (``portal_proposal_rules``).

    Intensity limits are per week; per month the limits are four times as large (the core default
    of 40 a week is 160 a month). ``min_intensity`` None means "above 0". ``fields`` are
    :class:`portal.catalogue.pricing.ExtraField` values the proposal form adds; ``check(values)`` returns
    ``(field, Dutch message)`` pairs (or None) for values the domain refuses."""

    segment_key: str
    min_duration: int = 1
    max_duration: int = 36
    min_intensity: Decimal | None = None
    max_intensity: Decimal = Decimal(40)
    fields: tuple = ()
    check: Callable[[dict], list[tuple[str, str]] | None] | None = None


DEFAULT_PROPOSAL_RULES = ProposalRules(segment_key="")

# How a realisation line's value follows from the agreed prices (``RealisationSpec.basis``):
# "trajectory": trajectories started × the trajectory's price; "units": units (hours, days)
# × the unit price of the trajectory's tariff with the provider's surcharges. Where a municipality
# buys places in the segment, place-days × the price of a place-day replace either.
REALISATION_BASES = {"trajectory": "Gestarte trajecten × trajectprijs",
                     "units": "Eenheden × eenheidsprijs"}


@dataclass(frozen=True)
class RealisationField:
    """A column a domain adds to realisation reports in a segment (files, form and API).

    ``name`` is the column name in files and the API (lower case, no spaces); ``kind`` integer or
    decimal (two decimals at most); values below ``minimum`` or above ``maximum`` are refused."""

    name: str
    label: str
    kind: str = "integer"
    required: bool = False
    minimum: Decimal = Decimal(0)
    maximum: Decimal | None = None
    help: str = ""


@dataclass(frozen=True)
class RealisationSpec:
    """What realisation in one segment asks for (``portal_realisation_fields``).

    ``basis`` names how the value follows from the price (see ``REALISATION_BASES``);
    ``fields`` are extra columns; ``check(line, context)`` returns ``(column, Dutch message)``
    pairs for a line the domain refuses; ``extra_value(line, context)`` returns an amount added
    to the line's value (a reward, say) and ``extra_value_label`` says what it is. ``line`` is a
    :class:`portal.realisation.rules.Line` and ``context`` a
    :class:`portal.realisation.rules.LineContext`.

    ``check_lines(lines)`` is optional: the same check over many lines at once, for a large file
    (issue 14). It gets a :class:`portal.realisation.rules.LineColumns` (the lines of one
    municipality × segment × period, figure by figure: ``lines.running[i]``, ``lines.clients[i]``,
    ...) and returns True only when ``check`` would have nothing to say about any of them; when it
    returns False the lines are checked one by one with ``check``, which gives the messages. A
    segment whose ``check`` has no ``check_lines`` (or that has an ``extra_value``) is checked line
    by line, which is correct but slower. ``check_lines`` needs ``check``."""

    segment_key: str
    basis: str = "trajectory"
    fields: tuple[RealisationField, ...] = ()
    check: Callable | None = None
    extra_value: Callable | None = None
    extra_value_label: str = ""
    check_lines: Callable | None = None
    # iJw/iWmo product codes (a 323 Prestatie's ``ProductCode``, e.g. "45A03") → the code of the
    # catalogue trajectory in this segment they are counted as (see portal/realisation/declaration_323.py).
    product_codes: dict[str, str] = field(default_factory=dict)



@dataclass(frozen=True)
class SettlementRule:
    """An extra settlement rule of a domain (``portal_settlement_rules``): shared savings,
    bonus–malus, a success reward.

    ``id`` is documented and unique (``"domain.name"``); ``name`` and ``description`` are Dutch,
    and the description documents every parameter and its default. ``segments`` are the segment
    keys the rule applies to. ``parameters`` maps a parameter name to its default, a decimal as a
    string (``"0.50"``); names in ``fractions`` must lie between 0 and 1 (0.05 is 5%), the others
    may not be negative. ``adjust(agreement, settlement, rules, parameters, results)`` receives the
    engine's :class:`portal.settlement.engine.Agreement`, its ``Settlement`` so far and ``Rules``,
    the parameters as ``Decimal`` (defaults, or a region's or municipality's own values), and the
    agreement's result figures (a mapping name → ``Decimal``, such as trajectories ended with the
    agreed result; empty when the caller has none). It returns ``(amount, Dutch line)``, the
    amount added to the settled value (negative lowers it), or None when the rule does not apply.
    The line may also be a function without arguments that returns it: the engine calls it only
    when the explanation is read, so a year of tens of thousands of agreements settles without
    formatting their amounts (the function must not depend on anything that changes later)."""

    id: str
    name: str
    description: str
    segments: tuple[str, ...]
    parameters: dict[str, str]
    adjust: Callable[..., "tuple[Decimal, str | Callable[[], str]] | None"]
    fractions: tuple[str, ...] = ()


@dataclass(frozen=True)
class SettlementParameter:
    """A region's or municipality's own value for a parameter of a settlement rule
    (``portal_settlement_parameters``): a decimal as a string, scoped like :class:`LocalRule`."""

    rule_id: str
    parameter: str
    value: str
    region: str
    municipality: str | None = None  # CBS code, e.g. "0983"
    segment: str | None = None  # segment key "domain.code"; one the rule applies to
    reason: str = ""


@dataclass(frozen=True)
class ResolvedParameter:
    value: Decimal
    source: str  # Dutch description of where the value comes from


@dataclass(frozen=True)
class BoundSettlementRule:
    """A settlement rule with its parameters resolved for one scope: an engine ``Adjustment``
    (call it as ``adjustment(agreement, settlement, rules)``). ``results`` maps an agreement id to
    its result figures."""

    rule: SettlementRule
    parameters: dict[str, ResolvedParameter]
    results: Mapping[str, Mapping[str, Decimal]]

    @cached_property
    def values(self) -> Mapping[str, Decimal]:
        """The parameters' values, worked out once (the rule is called for every agreement of its
        scope) and read-only (every call receives the same mapping)."""
        return MappingProxyType({name: resolved.value for name, resolved in self.parameters.items()})

    def __call__(self, agreement, settlement, rules):
        return self.rule.adjust(agreement, settlement, rules, self.values, self.results.get(agreement.id) or {})


def parse_parameter(value: str, fraction: bool) -> Decimal | None:
    """A settlement parameter as a ``Decimal``, or None when it is not a valid value."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number < 0 or (fraction and number > 1):
        return None
    return number


@dataclass
class ResolvedRule:
    definition: RuleDefinition
    value: str
    source: str  # Dutch description of where the value comes from

    @property
    def value_label(self) -> str:
        return self.definition.choices.get(self.value, self.value)


@dataclass
class Registry:
    domains: dict[str, Domain] = field(default_factory=dict)
    segments: dict[str, Segment] = field(default_factory=dict)
    menu_items: list[MenuItem] = field(default_factory=list)
    rules: dict[str, RuleDefinition] = field(default_factory=dict)
    local_rules: dict[tuple, tuple[LocalRule, str]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # "domain:x" -> plugin name
    pricing: dict[str, Any] = field(default_factory=dict)  # segment key -> SegmentPricing
    proposal_rules: dict[str, ProposalRules] = field(default_factory=dict)  # segment key -> rules
    proposal_checks: list[Callable] = field(default_factory=list)  # region/municipality checks
    realisation_specs: dict[str, RealisationSpec] = field(default_factory=dict)  # segment key -> spec
    realisation_checks: list[Callable] = field(default_factory=list)  # region/municipality checks
    product_codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # 323 code -> (segment, trajectory)
    settlement_rules: dict[str, SettlementRule] = field(default_factory=dict)  # rule id -> rule
    settlement_values: dict[tuple, tuple[SettlementParameter, str]] = field(default_factory=dict)
    # (segment key, unit, care form code) -> minimum tariff
    tariff_floors: dict[tuple[str, str | None, str | None], TariffFloor] = field(default_factory=dict)
    funding_forms: Mapping[str, str] = field(default_factory=lambda: FUNDING_FORMS)
    obligations: dict[str, AgreementObligation] = field(default_factory=dict)  # obligation id -> obligation
    # Region packs: region code -> (pack, plugin), and each pack region's own registry. The
    # registry itself serves every region without a pack (``region`` None); a pack region's
    # registry has ``region`` set and no packs of its own.
    region: str | None = None
    packs: dict[str, tuple[RegionPack, str]] = field(default_factory=dict)
    regions: dict[str, "Registry"] = field(default_factory=dict)

    def for_region(self, region_code: str | None) -> "Registry":
        """The registry that holds for a region: its pack's own, else this one."""
        return self.regions.get(region_code or "", self)

    def pack_plugins(self) -> set[str]:
        """The names of the plugins that are region packs."""
        return {plugin for _pack, plugin in self.packs.values()}

    def segment_label(self, segment_key: str) -> str:
        """"<domain name> <code> — <segment name>" (e.g. "Domein S3 — Dagbesteding"), or the key
        itself when no plugin registered it."""
        segment = self.segments.get(segment_key)
        if segment is None:
            return segment_key
        return f"{self.segment_short_label(segment_key)} — {segment.name}"

    def segment_short_label(self, segment_key: str) -> str:
        """"<domain name> <code>" (e.g. "Domein S3"), or the key itself when unknown."""
        segment = self.segments.get(segment_key)
        if segment is None:
            return segment_key
        domain = self.domains.get(segment.domain)
        return f"{domain.name if domain else ''} {segment.code}".strip()

    def realisation_spec(self, segment_key: str) -> RealisationSpec:
        """The realisation spec of a segment: the plugin's, or the core default. Segments funded
        by the unit (P×Q, price per day) default to the "units" basis."""
        spec = self.realisation_specs.get(segment_key)
        if spec is not None:
            return spec
        segment = self.segments.get(segment_key)
        unit_funded = segment is not None and set(segment.funding_forms) & {"pxq", "price_per_day"}
        return RealisationSpec(segment_key=segment_key, basis="units" if unit_funded else "trajectory")

    def rules_for_proposal(self, segment_key: str) -> ProposalRules:
        """The proposal rules of a segment, or the core default."""
        return self.proposal_rules.get(segment_key) or ProposalRules(segment_key=segment_key)

    def rule(self, rule_id: str, region: str, municipality: str | None = None,
             segment: str | None = None) -> ResolvedRule:
        """The value of a rule for this scope: the most specific local rule, else the default."""
        definition = self.rules[rule_id]
        scopes = _scopes(municipality, segment)
        for scope_municipality, scope_segment, source in scopes:
            found = self.local_rules.get((rule_id, region, scope_municipality, scope_segment))
            if found:
                rule, plugin = found
                return ResolvedRule(definition, rule.value, f"Lokale regel van {source} ({plugin})")
        return ResolvedRule(definition, definition.default, "Standaardwaarde")

    def settlement_parameters(self, rule_id: str, region: str, municipality: str | None = None,
                              segment: str | None = None) -> dict[str, ResolvedParameter]:
        """The parameters of a settlement rule for this scope, each the most specific value a
        region or municipality set (as :meth:`rule`), else the rule's default."""
        rule = self.settlement_rules[rule_id]
        scopes = _scopes(municipality, segment)
        resolved = {}
        for name, default in rule.parameters.items():
            resolved[name] = ResolvedParameter(Decimal(str(default)), "Standaardwaarde")
            for scope_municipality, scope_segment, source in scopes:
                found = self.settlement_values.get((rule_id, name, region, scope_municipality, scope_segment))
                if found:
                    value, plugin = found
                    resolved[name] = ResolvedParameter(Decimal(str(value.value)), f"Eigen afspraak van {source} ({plugin})")
                    break
        return resolved

    def settlement_adjustments(self, segment_key: str, region: str, municipality: str | None = None,
                               results: Mapping[str, Mapping[str, Decimal]] | None = None
                               ) -> list[BoundSettlementRule]:
        """The settlement rules of a segment as engine ``Adjustment`` callables, in the order the
        plugins registered them, with their parameters bound for the region and municipality.
        ``results`` maps an agreement id to its result figures (see :class:`SettlementRule`)."""
        return [BoundSettlementRule(rule, self.settlement_parameters(rule.id, region, municipality, segment_key),
                                    results if results is not None else {})
                for rule in self.settlement_rules.values() if segment_key in rule.segments]

    def tariff_floor(self, segment_key: str, unit: str | None,
                     care_form: str | None = None) -> TariffFloor | None:
        """The minimum tariff for a unit rate in this segment, unit and care form: the most specific
        floor (care form and unit, care form, unit, segment), or None."""
        scopes = [(care_form, unit), (care_form, None)] if care_form else []
        for scope_form, scope_unit in scopes + [(None, unit), (None, None)]:
            found = self.tariff_floors.get((segment_key, scope_unit, scope_form))
            if found is not None:
                return found
        return None

    def obligations_for(self, domain: str, segment_keys) -> list[AgreementObligation]:
        """The obligations that hold for an agreement of ``domain`` with these segments, by id."""
        return [obligation for _id, obligation in sorted(self.obligations.items())
                if obligation.applies_to(domain, segment_keys)]

    def menu_for(self, role: str | None, place: str | None = None) -> list[MenuItem]:
        """The entries a role may see; only those of ``place`` when given, and only those whose
        ``requires`` this registry has."""
        return [item for item in self.menu_items
                if role in item.roles and (place is None or item.place == place)
                and (not item.requires or getattr(self, item.requires, None))]


def current_registry(region_code: str | None = None) -> Registry:
    """The merged registry of the running app (built once in ``create_app``): the one way to it.

    Where region packs are loaded, the registry that holds for a region: ``region_code`` when
    given, else the region chosen with :func:`region_scope`, else the signed-in user's region.
    Without any of these (a command, the demo before a region is chosen) it is the registry of
    the regions without a pack of their own."""
    registry = current_app.extensions["portal.registry"]
    if not registry.regions:
        return registry
    if region_code is None and has_app_context():
        region_code = g.get("portal_region")
    if region_code is None and has_request_context():
        region = getattr(current_user, "region", None)
        region_code = getattr(region, "code", None)
    return registry.for_region(region_code)


@contextmanager
def region_scope(region_code: str | None):
    """Within the block, :func:`current_registry` answers for ``region_code`` (a command, a job or
    the demo working for one region without a signed-in user)."""
    previous = g.get("portal_region")
    g.portal_region = region_code
    try:
        yield
    finally:
        g.portal_region = previous


def _claim(registry: Registry, owner_key: str, subject: str, plugin: str) -> None:
    """Record that ``plugin`` registered ``owner_key``; a second claim stops start-up naming both."""
    if owner_key in registry.owners:
        raise PluginConflict(f"{subject} twice: by plugin {registry.owners[owner_key]!r} and by plugin {plugin!r}.")
    registry.owners[owner_key] = plugin


def _scopes(municipality: str | None, segment: str | None) -> list[tuple[str | None, str | None, str]]:
    """The scopes a local value may be set for, most specific first, with their Dutch names."""
    scopes = []
    if municipality is not None:
        if segment is not None:
            scopes.append((municipality, segment, "gemeente en segment"))
        scopes.append((municipality, None, "gemeente"))
    if segment is not None:
        scopes.append((None, segment, "regio en segment"))
    scopes.append((None, None, "regio"))
    return scopes


def _results(hook, plugins: set[str] | None = None) -> list[tuple[str, Any]]:
    """Call a collecting hook and keep which plugin returned which item; only the hooks of
    ``plugins`` when given."""
    pairs = []
    for impl in reversed(hook.get_hookimpls()):
        if plugins is not None and impl.plugin_name not in plugins:
            continue
        result = impl.function()
        for item in result or ():
            pairs.append((impl.plugin_name, item))
    return pairs


def _region_packs(pm) -> dict[str, tuple[RegionPack, str]]:
    """The region packs (``portal_regions``): one plugin per region, one region per plugin."""
    packs: dict[str, tuple[RegionPack, str]] = {}
    declared: dict[str, str] = {}
    for plugin, pack in _results(pm.hook.portal_regions):
        if not isinstance(pack, RegionPack) or not pack.code:
            raise PluginConflict(f"Plugin {plugin!r} declares a region that is not a RegionPack with a code.")
        if pack.code in packs:
            raise PluginConflict(f"Region {pack.code!r} has two packs: plugin {packs[pack.code][1]!r} and "
                                 f"plugin {plugin!r}. Enable one of them (PORTAL_ENABLED_PLUGINS).")
        if plugin in declared:
            raise PluginConflict(f"Plugin {plugin!r} declares two regions ({declared[plugin]!r} and "
                                 f"{pack.code!r}); a pack serves one region.")
        clash = set(pack.funding_forms) & FUNDING_FORMS.keys()
        if clash:
            raise PluginConflict(f"Region pack {plugin!r} redefines funding forms {sorted(clash)}.")
        packs[pack.code] = (pack, plugin)
        declared[plugin] = pack.code
    return packs


def build_registry(pm) -> Registry:
    """The registry of the regions without a pack, with one registry per region pack in
    ``regions``.

    A pack region's registry takes its domains, segments, pricing, proposal rules, realisation
    fields, settlement rules and menu items from the core and the pack only; the other plugins'
    checks, rule definitions, and their local rules and settlement parameters for that region
    hold there as everywhere."""
    packs = _region_packs(pm)
    pack_plugins = {plugin for _pack, plugin in packs.values()}
    everyone = {name for name, _plugin in pm.list_name_plugin()}
    shared = everyone - pack_plugins
    registry = _build(pm, own=shared, checks=shared, regions=lambda code: code not in packs)
    registry.packs = packs
    for code, (pack, plugin) in packs.items():
        sub = _build(pm, own={"core", plugin}, checks=shared | {plugin}, regions=lambda other, code=code: other == code,
                     funding_forms={**FUNDING_FORMS, **pack.funding_forms})
        sub.region = code
        registry.regions[code] = sub
    return registry


def _build(pm, own: set[str], checks: set[str], regions: Callable[[str], bool],
           funding_forms: Mapping[str, str] = FUNDING_FORMS) -> Registry:
    """One registry: domain hooks of the ``own`` plugins, checks of the ``checks`` plugins, rule
    definitions of every plugin, and local values of every plugin for the ``regions`` it serves."""
    registry = Registry(funding_forms=funding_forms)
    for plugin, domain in _results(pm.hook.portal_domains, own):
        _claim(registry, "domain:" + domain.code, f"Domain {domain.code!r} is registered", plugin)
        stamped = []
        for segment in domain.segments:
            segment = Segment(**{**segment.__dict__, "domain": domain.code,
                                 "funding_names": tuple(funding_forms.get(f, f) for f in segment.funding_forms)})
            if segment.key in registry.segments:
                raise PluginConflict(
                    f"Segment code {segment.code!r} appears twice in domain {domain.code!r} "
                    f"(plugin {plugin!r})."
                )
            unknown = set(segment.funding_forms) - funding_forms.keys()
            if unknown or not segment.funding_forms:
                raise PluginConflict(
                    f"Segment {segment.key!r} of plugin {plugin!r} names unknown funding forms "
                    f"{sorted(unknown)}; choose from {sorted(funding_forms)}."
                )
            if set(segment.lots) - LOTS.keys():
                raise PluginConflict(f"Segment {segment.key!r} names an unknown lot.")
            for combination in segment.funding_combinations:
                if len(combination) < 2 or not set(combination) <= set(segment.funding_forms):
                    raise PluginConflict(
                        f"Segment {segment.key!r} of plugin {plugin!r} allows funding combination "
                        f"{sorted(combination)}: a combination names two or more of the segment's own "
                        f"funding forms {list(segment.funding_forms)}.")
            registry.segments[segment.key] = segment
            stamped.append(segment)
        registry.domains[domain.code] = Domain(
            code=domain.code, name=domain.name, law=domain.law, segments=tuple(stamped),
            endpoint=domain.endpoint,
        )

    for plugin, pricing in _results(pm.hook.portal_segment_pricing, own):
        if pricing.segment_key not in registry.segments:
            raise PluginConflict(f"Plugin {plugin!r} prices unknown segment {pricing.segment_key!r}.")
        _claim(registry, "pricing:" + pricing.segment_key, f"Segment {pricing.segment_key!r} is priced", plugin)
        registry.pricing[pricing.segment_key] = pricing

    for plugin, rules in _results(pm.hook.portal_proposal_rules, own):
        if rules.segment_key not in registry.segments:
            raise PluginConflict(f"Plugin {plugin!r} sets proposal rules for unknown segment {rules.segment_key!r}.")
        _claim(registry, "proposal_rules:" + rules.segment_key,
               f"Segment {rules.segment_key!r} has proposal rules", plugin)
        if not 1 <= rules.min_duration <= rules.max_duration:
            raise PluginConflict(f"Plugin {plugin!r}: the duration range of {rules.segment_key!r} is empty.")
        if rules.min_intensity is not None and rules.min_intensity > rules.max_intensity:
            raise PluginConflict(f"Plugin {plugin!r}: the intensity range of {rules.segment_key!r} is empty.")
        names = [extra.name for extra in rules.fields]
        if len(names) != len(set(names)):
            raise PluginConflict(f"Plugin {plugin!r}: a proposal field of {rules.segment_key!r} appears twice.")
        registry.proposal_rules[rules.segment_key] = rules

    seen_checks: dict[Any, str] = {}
    for plugin, check in _results(pm.hook.portal_proposal_checks, checks):
        if not callable(check):
            raise PluginConflict(f"Plugin {plugin!r} returned a proposal check that is not callable.")
        if check in seen_checks:
            raise PluginConflict(
                f"Proposal check {getattr(check, '__name__', check)!r} is registered twice: by plugin "
                f"{seen_checks[check]!r} and by plugin {plugin!r}."
            )
        seen_checks[check] = plugin
        registry.proposal_checks.append(check)

    for plugin, spec in _results(pm.hook.portal_realisation_fields, own):
        if spec.segment_key not in registry.segments:
            raise PluginConflict(f"Plugin {plugin!r} sets realisation fields for unknown segment {spec.segment_key!r}.")
        _claim(registry, "realisation:" + spec.segment_key,
               f"Segment {spec.segment_key!r} has realisation fields", plugin)
        if spec.basis not in REALISATION_BASES:
            raise PluginConflict(f"Plugin {plugin!r}: unknown realisation basis {spec.basis!r}; "
                                 f"choose from {sorted(REALISATION_BASES)}.")
        names = [f.name for f in spec.fields]
        clash = set(names) & (CORE_REALISATION_COLUMNS | INFORMATION_COLUMNS)
        if len(names) != len(set(names)) or clash:
            raise PluginConflict(f"Plugin {plugin!r}: a realisation field of {spec.segment_key!r} appears "
                                 f"twice or reuses a core column.")
        if any(f.kind not in ("integer", "decimal") for f in spec.fields):
            raise PluginConflict(f"Plugin {plugin!r}: realisation fields are integer or decimal.")
        if spec.check_lines is not None and spec.check is None:
            raise PluginConflict(f"Plugin {plugin!r}: {spec.segment_key!r} has check_lines without check "
                                 f"(check gives the messages).")
        for product_code, trajectory_code in spec.product_codes.items():
            product_code = product_code.upper()
            if product_code in registry.product_codes:
                raise PluginConflict(f"Plugin {plugin!r}: product code {product_code!r} is mapped twice "
                                     f"(also in segment {registry.product_codes[product_code][0]!r}).")
            registry.product_codes[product_code] = (spec.segment_key, trajectory_code.upper())
        registry.realisation_specs[spec.segment_key] = spec

    seen_realisation: dict[Any, str] = {}
    for plugin, check in _results(pm.hook.portal_realisation_checks, checks):
        if not callable(check) or check in seen_realisation:
            raise PluginConflict(f"Plugin {plugin!r} returned a realisation check that is not callable "
                                 f"or was registered already.")
        seen_realisation[check] = plugin
        registry.realisation_checks.append(check)

    registry.menu_items = sorted(
        (item for _plugin, item in _results(pm.hook.portal_menu_items, own)),
        key=lambda item: (item.order, item.label),
    )

    for plugin, definition in _results(pm.hook.portal_rule_definitions):
        _claim(registry, "rule:" + definition.id, f"Rule id {definition.id!r} is declared", plugin)
        if definition.default not in definition.choices:
            raise PluginConflict(f"Rule {definition.id!r}: default is not one of its choices.")
        registry.rules[definition.id] = definition

    for plugin, rule in _results(pm.hook.portal_local_rules):
        if not regions(rule.region):
            continue
        definition = registry.rules.get(rule.rule_id)
        if definition is None:
            raise PluginConflict(f"Plugin {plugin!r} sets unknown rule {rule.rule_id!r}.")
        if rule.value not in definition.choices:
            raise PluginConflict(
                f"Plugin {plugin!r} sets rule {rule.rule_id!r} to {rule.value!r}; "
                f"allowed: {sorted(definition.choices)}."
            )
        if rule.segment is not None and rule.segment not in registry.segments:
            raise PluginConflict(f"Plugin {plugin!r} sets a rule for unknown segment {rule.segment!r}.")
        key = (rule.rule_id, rule.region, rule.municipality, rule.segment)
        if key in registry.local_rules:
            raise PluginConflict(
                f"Rule {rule.rule_id!r} is set twice for the same scope "
                f"(region {rule.region!r}, municipality {rule.municipality!r}, segment "
                f"{rule.segment!r}): by plugin {registry.local_rules[key][1]!r} and by plugin {plugin!r}."
            )
        registry.local_rules[key] = (rule, plugin)
    _merge_settlement_rules(pm, registry, own, regions)
    _merge_tariff_floors(pm, registry, own)
    _merge_obligations(pm, registry, own)
    return registry


def _merge_tariff_floors(pm, registry: Registry, own: set[str]) -> None:
    """Minimum tariffs of the ``own`` plugins: a known segment and unit, a valid amount, one per
    scope (segment, unit, care form)."""
    owners: dict[tuple, str] = {}
    for plugin, floor in _results(pm.hook.portal_tariff_floors, own):
        if not isinstance(floor, TariffFloor):
            raise PluginConflict(f"Plugin {plugin!r} returned a tariff floor that is not a TariffFloor.")
        if floor.segment_key not in registry.segments:
            raise PluginConflict(f"Plugin {plugin!r} sets a minimum tariff for unknown segment "
                                 f"{floor.segment_key!r}.")
        if floor.unit is not None and floor.unit not in TARIFF_UNITS:
            raise PluginConflict(f"Plugin {plugin!r}: minimum tariff of {floor.segment_key!r} names unknown "
                                 f"unit {floor.unit!r}; choose from {sorted(TARIFF_UNITS)}.")
        amount = parse_parameter(floor.minimum, fraction=False)
        if amount is None or amount != amount.quantize(Decimal("0.01")):
            raise PluginConflict(f"Plugin {plugin!r}: minimum tariff {floor.minimum!r} of "
                                 f"{floor.segment_key!r} is not an amount in euros and cents "
                                 f"(a decimal, not negative).")
        key = (floor.segment_key, floor.unit, floor.care_form or None)
        if key in owners:
            raise PluginConflict(
                f"The minimum tariff of {floor.segment_key!r} (unit {floor.unit!r}, care form "
                f"{floor.care_form!r}) is set twice: by plugin {owners[key]!r} and by plugin {plugin!r}.")
        owners[key] = plugin
        registry.tariff_floors[key] = floor


def _merge_obligations(pm, registry: Registry, own: set[str]) -> None:
    """Agreement obligations of the ``own`` plugins (a pack's hold in its region only): one owner
    per id, a rate from 0 to 1, a threshold that is not negative, known segments and domains."""
    for plugin, obligation in _results(pm.hook.portal_agreement_obligations, own):
        if not isinstance(obligation, AgreementObligation) or not obligation.id:
            raise PluginConflict(f"Plugin {plugin!r} returned an obligation that is not an AgreementObligation "
                                 f"with an id.")
        _claim(registry, "obligation:" + obligation.id, f"Obligation id {obligation.id!r} is declared", plugin)
        if parse_parameter(obligation.rate, fraction=True) is None:
            raise PluginConflict(f"Obligation {obligation.id!r} of plugin {plugin!r}: rate {obligation.rate!r} is "
                                 f"not a fraction from 0 to 1 (0.05 is 5%).")
        if parse_parameter(obligation.threshold, fraction=False) is None:
            raise PluginConflict(f"Obligation {obligation.id!r} of plugin {plugin!r}: threshold "
                                 f"{obligation.threshold!r} is not a decimal that is not negative.")
        unknown = sorted(key for key in obligation.segments if key not in registry.segments)
        unknown += sorted(code for code in obligation.domains if code not in registry.domains)
        if unknown:
            raise PluginConflict(f"Obligation {obligation.id!r} of plugin {plugin!r} names unknown segments or "
                                 f"domains {unknown}.")
        registry.obligations[obligation.id] = obligation


def _merge_settlement_rules(pm, registry: Registry, own: set[str], regions: Callable[[str], bool]) -> None:
    """Settlement rules (one owner per id, known segments, valid defaults) and the regions' and
    municipalities' own parameter values (known rule and parameter, valid value, one per scope)."""
    for plugin, rule in _results(pm.hook.portal_settlement_rules, own):
        _claim(registry, "settlement_rule:" + rule.id, f"Settlement rule id {rule.id!r} is declared", plugin)
        unknown = [key for key in rule.segments if key not in registry.segments]
        if unknown or not rule.segments:
            raise PluginConflict(f"Settlement rule {rule.id!r} of plugin {plugin!r} names unknown segments "
                                 f"{unknown} (or none).")
        if not callable(rule.adjust):
            raise PluginConflict(f"Settlement rule {rule.id!r} of plugin {plugin!r} has no callable adjust.")
        if set(rule.fractions) - rule.parameters.keys():
            raise PluginConflict(f"Settlement rule {rule.id!r}: a fraction names an unknown parameter.")
        for name, default in rule.parameters.items():
            if parse_parameter(default, name in rule.fractions) is None:
                raise PluginConflict(f"Settlement rule {rule.id!r} of plugin {plugin!r}: default {default!r} of "
                                     f"parameter {name!r} is not a valid value.")
        registry.settlement_rules[rule.id] = rule

    for plugin, value in _results(pm.hook.portal_settlement_parameters):
        if not regions(value.region):
            continue
        rule = registry.settlement_rules.get(value.rule_id)
        if rule is None:
            raise PluginConflict(f"Plugin {plugin!r} sets a parameter of unknown settlement rule {value.rule_id!r}.")
        if value.parameter not in rule.parameters:
            raise PluginConflict(f"Plugin {plugin!r} sets unknown parameter {value.parameter!r} of settlement rule "
                                 f"{rule.id!r}; known: {sorted(rule.parameters)}.")
        fraction = value.parameter in rule.fractions
        if parse_parameter(value.value, fraction) is None:
            raise PluginConflict(f"Plugin {plugin!r} sets parameter {value.parameter!r} of {rule.id!r} to "
                                 f"{value.value!r}: not a valid value ("
                                 + ("a fraction from 0 to 1" if fraction else "a decimal, not negative") + ").")
        if value.segment is not None and value.segment not in rule.segments:
            raise PluginConflict(f"Plugin {plugin!r} sets {rule.id!r} for segment {value.segment!r}, which the rule "
                                 f"does not apply to.")
        key = (value.rule_id, value.parameter, value.region, value.municipality, value.segment)
        if key in registry.settlement_values:
            raise PluginConflict(
                f"Parameter {value.parameter!r} of settlement rule {rule.id!r} is set twice for the same scope "
                f"(region {value.region!r}, municipality {value.municipality!r}, segment {value.segment!r}): "
                f"by plugin {registry.settlement_values[key][1]!r} and by plugin {plugin!r}."
            )
        registry.settlement_values[key] = (value, plugin)
