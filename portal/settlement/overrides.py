"""Local rules and settlement parameters that cannot apply to a region's year, given the database.

A plugin may set a rule (``portal_local_rules``) or a settlement parameter
(``portal_settlement_parameters``) for a municipality or segment. What the registry cannot know at
start-up is whether that municipality is in the region, or whether the municipality buys the segment
as places (its :class:`portal.models.MunicipalChoice`, data). Such an override would be ignored
without a word; :func:`inapplicable_overrides` names each with a Dutch reason, and the settlement
run logs them and the contract manager's settlement page shows them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import select

from portal.models import Organisation, OrganisationKind, Region
from portal.registry import Registry
from portal.settlement.inputs import choices_on

# The rules of the band (engine.Rules): they settle budget and population agreements; places are
# settled on occupancy, so a band rule for a segment bought as places has nothing to act on.
BAND_RULES = ("outside_band", "band_scope")


@dataclass(frozen=True)
class Problem:
    """An override that cannot apply: what it is, which plugin set it, and why (Dutch)."""

    rule_id: str
    plugin: str
    message: str


def inapplicable_overrides(registry: Registry, session, region: Region, year: int) -> list[Problem]:
    """The region's local rules and settlement parameters that cannot apply in ``year``: a
    municipality code that is not a municipality of the region, or a band rule for a segment the
    municipality buys as places on 1 January of the year (for a segment without a municipality:
    when every municipality of the region buys it as places)."""
    municipalities = dict(session.exec(
        select(Organisation.municipality_code, Organisation.id)
        .where(Organisation.region_id == region.id, Organisation.kind == OrganisationKind.MUNICIPALITY,
               Organisation.municipality_code.is_not(None))).all())
    names = dict(session.exec(select(Organisation.id, Organisation.name)
                              .where(Organisation.id.in_(list(municipalities.values())))).all())
    places = {key for key, choice in choices_on(region.id, date(year, 1, 1)).items()
              if choice.volume_basis == "places"}
    problems = []

    def check(rule_id: str, plugin: str, what: str, municipality: str | None, segment: str | None,
              band_rule: bool) -> None:
        scope = " voor " + " en ".join(filter(None, (
            f"gemeente {municipality}" if municipality else None,
            registry.segment_short_label(segment) if segment else None))) if municipality or segment else ""
        head = f"{what}{scope} ({plugin}) kan niet gelden: "
        if municipality is not None and municipality not in municipalities:
            problems.append(Problem(rule_id, plugin, head + f"er is geen gemeente met CBS-code {municipality} "
                                                            "in de regio."))
            return
        if not band_rule or segment is None:
            return
        if municipality is not None:
            if (municipalities[municipality], segment) in places:
                problems.append(Problem(rule_id, plugin, head + (
                    f"{names[municipalities[municipality]]} koopt {registry.segment_short_label(segment)} "
                    f"in {year} in als plekken; plekken worden afgerekend op de bezetting, zonder bandbreedte.")))
        elif municipalities and all((municipality_id, segment) in places for municipality_id in municipalities.values()):
            problems.append(Problem(rule_id, plugin, head + (
                f"alle gemeenten van de regio kopen {registry.segment_short_label(segment)} in {year} in als "
                "plekken; plekken worden afgerekend op de bezetting, zonder bandbreedte.")))

    for (rule_id, rule_region, municipality, segment), (rule, plugin) in registry.local_rules.items():
        if rule_region == region.code:
            check(rule_id, plugin, f"Lokale regel '{rule_id}' = '{rule.value}'", municipality, segment,
                  rule_id in BAND_RULES)
    for (rule_id, parameter, value_region, municipality, segment), (value, plugin) in \
            registry.settlement_values.items():
        if value_region == region.code:
            check(rule_id, plugin, f"Lokale regel '{rule_id}', {parameter} = {value.value}", municipality, segment,
                  False)
    return problems
