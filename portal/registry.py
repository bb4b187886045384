"""What the plugins registered, merged and checked: domains, segments, menu items and rules.

Built once per app by :func:`build_registry`; any clash between plugins stops start-up with a
:class:`PluginConflict` that names the plugins involved.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from types import MappingProxyType
from typing import Any, Callable, Mapping

from flask import current_app

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


class PluginConflict(RuntimeError):
    """Two plugins claim the same key, or a plugin registered something invalid."""


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
    funding_combinations: tuple[frozenset[str], ...] = ()
    bow_wave_extensions: bool = False

    @property
    def key(self) -> str:
        return f"{self.domain}.{self.code}"

    @property
    def funding_labels(self) -> list[str]:
        return [FUNDING_FORMS[f] for f in self.funding_forms]

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
    :class:`portal.realisation.rules.LineContext`."""

    segment_key: str
    basis: str = "trajectory"
    fields: tuple[RealisationField, ...] = ()
    check: Callable | None = None
    extra_value: Callable | None = None
    extra_value_label: str = ""
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
                                    results or {})
                for rule in self.settlement_rules.values() if segment_key in rule.segments]

    def menu_for(self, role: str | None, place: str | None = None) -> list[MenuItem]:
        """The entries a role may see; only those of ``place`` when given."""
        return [item for item in self.menu_items
                if role in item.roles and (place is None or item.place == place)]


def current_registry() -> Registry:
    """The merged registry of the running app (built once in ``create_app``): the one way to it."""
    return current_app.extensions["portal.registry"]


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


def _results(hook) -> list[tuple[str, Any]]:
    """Call a collecting hook and keep which plugin returned which item."""
    pairs = []
    for impl in reversed(hook.get_hookimpls()):
        result = impl.function()
        for item in result or ():
            pairs.append((impl.plugin_name, item))
    return pairs


def build_registry(pm) -> Registry:
    registry = Registry()
    for plugin, domain in _results(pm.hook.portal_domains):
        _claim(registry, "domain:" + domain.code, f"Domain {domain.code!r} is registered", plugin)
        stamped = []
        for segment in domain.segments:
            segment = Segment(**{**segment.__dict__, "domain": domain.code})
            if segment.key in registry.segments:
                raise PluginConflict(
                    f"Segment code {segment.code!r} appears twice in domain {domain.code!r} "
                    f"(plugin {plugin!r})."
                )
            unknown = set(segment.funding_forms) - FUNDING_FORMS.keys()
            if unknown or not segment.funding_forms:
                raise PluginConflict(
                    f"Segment {segment.key!r} of plugin {plugin!r} names unknown funding forms "
                    f"{sorted(unknown)}; choose from {sorted(FUNDING_FORMS)}."
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

    for plugin, pricing in _results(pm.hook.portal_segment_pricing):
        if pricing.segment_key not in registry.segments:
            raise PluginConflict(f"Plugin {plugin!r} prices unknown segment {pricing.segment_key!r}.")
        _claim(registry, "pricing:" + pricing.segment_key, f"Segment {pricing.segment_key!r} is priced", plugin)
        registry.pricing[pricing.segment_key] = pricing

    for plugin, rules in _results(pm.hook.portal_proposal_rules):
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
    for plugin, check in _results(pm.hook.portal_proposal_checks):
        if not callable(check):
            raise PluginConflict(f"Plugin {plugin!r} returned a proposal check that is not callable.")
        if check in seen_checks:
            raise PluginConflict(
                f"Proposal check {getattr(check, '__name__', check)!r} is registered twice: by plugin "
                f"{seen_checks[check]!r} and by plugin {plugin!r}."
            )
        seen_checks[check] = plugin
        registry.proposal_checks.append(check)

    for plugin, spec in _results(pm.hook.portal_realisation_fields):
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
        for product_code, trajectory_code in spec.product_codes.items():
            product_code = product_code.upper()
            if product_code in registry.product_codes:
                raise PluginConflict(f"Plugin {plugin!r}: product code {product_code!r} is mapped twice "
                                     f"(also in segment {registry.product_codes[product_code][0]!r}).")
            registry.product_codes[product_code] = (spec.segment_key, trajectory_code.upper())
        registry.realisation_specs[spec.segment_key] = spec

    seen_realisation: dict[Any, str] = {}
    for plugin, check in _results(pm.hook.portal_realisation_checks):
        if not callable(check) or check in seen_realisation:
            raise PluginConflict(f"Plugin {plugin!r} returned a realisation check that is not callable "
                                 f"or was registered already.")
        seen_realisation[check] = plugin
        registry.realisation_checks.append(check)

    registry.menu_items = sorted(
        (item for _plugin, item in _results(pm.hook.portal_menu_items)),
        key=lambda item: (item.order, item.label),
    )

    for plugin, definition in _results(pm.hook.portal_rule_definitions):
        _claim(registry, "rule:" + definition.id, f"Rule id {definition.id!r} is declared", plugin)
        if definition.default not in definition.choices:
            raise PluginConflict(f"Rule {definition.id!r}: default is not one of its choices.")
        registry.rules[definition.id] = definition

    for plugin, rule in _results(pm.hook.portal_local_rules):
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
    _merge_settlement_rules(pm, registry)
    return registry


def _merge_settlement_rules(pm, registry: Registry) -> None:
    """Settlement rules (one owner per id, known segments, valid defaults) and the regions' and
    municipalities' own parameter values (known rule and parameter, valid value, one per scope)."""
    for plugin, rule in _results(pm.hook.portal_settlement_rules):
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
