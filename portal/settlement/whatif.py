"""What-if for the yearly settlement: a region's year settled as agreed and under another rule or
bandwidth (:class:`portal.settlement.inputs.Overrides`), side by side per budget agreement.

Nothing is stored and nothing is audited: both settlements are computed in memory on every request.
The whole region is always settled (a regional band needs every municipality's figures); who sees
which rows is the caller's filter (:meth:`Comparison.rows_for`).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from portal.models import Region
from portal.money import parse_amount
from portal.settlement import engine
from portal.settlement.inputs import Overrides, gather
from portal.validators import RuleViolation

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
AS_AGREED = "Zoals afgesproken"
KIND_LABELS = {**engine.KIND_LABELS, "budget": "Budget"}  # short: the what-if table is wide


@dataclass(frozen=True)
class Row:
    """One budget agreement (or ceiling) settled today and under the what-if."""

    budget_agreement_id: int
    provider_id: int
    municipality_id: int
    today: engine.Settlement
    whatif: engine.Settlement

    @property
    def agreement(self) -> engine.Agreement:
        return self.today.agreement

    @property
    def difference(self) -> Decimal:
        """What the what-if changes for the provider: its amount due minus today's (+ is more for it)."""
        return self.whatif.due - self.today.due

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.agreement.kind, self.agreement.kind)


@dataclass(frozen=True)
class Totals:
    realisation: Decimal
    settled_today: Decimal
    due_today: Decimal
    settled_whatif: Decimal
    due_whatif: Decimal

    @property
    def difference(self) -> Decimal:
        return self.due_whatif - self.due_today


@dataclass(frozen=True)
class Comparison:
    year: int
    overrides: Overrides
    rows: tuple[Row, ...]

    def rows_for(self, municipality_id: int | None = None, provider_id: int | None = None,
                 segment: str | None = None) -> list[Row]:
        return [row for row in self.rows
                if (municipality_id is None or row.municipality_id == municipality_id)
                and (provider_id is None or row.provider_id == provider_id)
                and (not segment or row.agreement.segment == segment)]


def totals(rows: list[Row]) -> Totals:
    def total(values) -> Decimal:
        return sum(values, ZERO)
    return Totals(realisation=total(row.agreement.realisation for row in rows),
                  settled_today=total(row.today.settled_value for row in rows),
                  due_today=total(row.today.due for row in rows),
                  settled_whatif=total(row.whatif.settled_value for row in rows),
                  due_whatif=total(row.whatif.due for row in rows))


def compare(region: Region, year: int, overrides: Overrides) -> Comparison:
    """The region's year settled as agreed and under ``overrides``; every agreement, in the order of
    :func:`portal.settlement.inputs.gather`."""
    today_year = gather(region, year)
    whatif_year = gather(region, year, overrides)
    today = today_year.settle().settlements
    whatif = whatif_year.settle().settlements
    rows = tuple(Row(source.budget_agreement_id, source.organisation_id, source.municipality_id, now, then)
                 for source, now, then in zip(today_year.sources, today, whatif))
    return Comparison(year, overrides, rows)


def parse_bandwidth(text: str | None) -> Decimal | None:
    """A bandwidth typed as a percentage ("7,5", "7,5%", "10") as a fraction (0.075); empty is None
    (as agreed). Raises :class:`RuleViolation` on the field ``bandbreedte`` otherwise."""
    cleaned = (text or "").strip().replace(" ", "").replace("\u00a0", "")
    if not cleaned:
        return None
    if cleaned.endswith("%"):
        cleaned = cleaned[:-1]
    try:
        value = parse_amount(cleaned) if cleaned else None
    except ValueError:
        value = None
    if value is None or not value.is_finite():
        raise RuleViolation("bandbreedte", "Vul een percentage in, bijvoorbeeld 7,5.")
    if not ZERO <= value <= HUNDRED:
        raise RuleViolation("bandbreedte", "Kies een percentage van 0 tot en met 100.")
    return value / HUNDRED


def direction_text(due: Decimal, money) -> str:
    """'€ 1.234,56 nabetaling aan de zorgaanbieders' / '… terugbetaling door …' / 'niets te betalen'."""
    if due > 0:
        return f"{money(due)} nabetaling aan de zorgaanbieders"
    if due < 0:
        return f"{money(-due)} terugbetaling door de zorgaanbieders"
    return "niets te betalen of terug te betalen"


def difference_text(difference: Decimal, money) -> str:
    if difference > 0:
        return f"{money(difference)} meer voor de zorgaanbieders"
    if difference < 0:
        return f"{money(-difference)} minder voor de zorgaanbieders"
    return "geen verschil"
