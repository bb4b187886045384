"""Shared regional costs split over the municipalities by the population key (verdeelsleutel
inwonertallen), as pure functions: residents and ``Decimal`` in, ``Decimal`` out. DOMAIN.md §1
(source: 000 §9).

The key
    Each municipality's share is its residents ÷ the region's residents, as a percentage rounded
    half-up to two decimals (Beesel 13.483 of 274.733 residents: 4,91%). The rounded shares are
    *the* key: they are what the region publishes and agrees on.

``method="table"`` (default) — the published table, to the euro
    Each municipality pays amount × share ÷ 100, rounded half-up to whole euros. This reproduces
    the table of 000 §9 exactly (2020: € 220.550 → Beesel € 10.829 … Venlo € 81.714). The parts
    need not add up to the amount: in the 2021 column they add up to € 215.002 for € 215.000.
    Nothing is hidden: the result carries ``rounding_difference`` = sum of the parts − amount
    (here € 2), so the finance staff see that the table asks two euros more than the costs.

``method="exact"`` — parts that add up
    The same key (the rounded shares as weights), split by largest remainder: every part is rounded
    down to whole euros and the euros left over go one by one to the largest remainders (ties: the
    earlier municipality in the order given; callers give them sorted by name), as
    :func:`portal.money.split_by_weights` does for cents. The parts add up to the amount exactly:
    the rounding difference is 0. An amount with cents is split in whole cents instead, so that the
    parts still add up.

Amounts are non-negative; municipalities need a residents count (0 is allowed, but not a total 0).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping

from portal.money import CENT, split_by_weights

METHODS = ("table", "exact")
EURO = Decimal("1")
SHARE_PLACES = Decimal("0.01")  # two decimals of a percent
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Part:
    name: str
    residents: int
    share: Decimal  # percent, two decimals (4.91 is 4,91%)
    amount: Decimal


@dataclass(frozen=True)
class Allocation:
    amount: Decimal
    method: str
    parts: tuple[Part, ...]

    @property
    def residents_total(self) -> int:
        return sum(part.residents for part in self.parts)

    @property
    def shares_total(self) -> Decimal:
        """Sum of the rounded shares; may differ from 100.00 by the rounding of the shares."""
        return sum((part.share for part in self.parts), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return sum((part.amount for part in self.parts), Decimal(0))

    @property
    def rounding_difference(self) -> Decimal:
        """Sum of the parts − the amount: positive when the municipalities together pay more."""
        return self.total - self.amount


def _check_residents(residents: Mapping[str, int]) -> None:
    if not residents:
        raise ValueError("er zijn geen gemeenten om over te verdelen")
    for name, count in residents.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"het inwonertal van {name} is geen geheel getal van 0 of meer")
    if sum(residents.values()) <= 0:
        raise ValueError("de gemeenten hebben samen geen inwoners")


def population_key(residents: Mapping[str, int]) -> dict[str, Decimal]:
    """Each municipality's share in percent, rounded half-up to two decimals, in the given order."""
    _check_residents(residents)
    total = Decimal(sum(residents.values()))
    return {name: (Decimal(count) * HUNDRED / total).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)
            for name, count in residents.items()}


def allocate(amount, residents: Mapping[str, int], method: str = "table") -> Allocation:
    """Split ``amount`` (euros) over the municipalities by the population key; see the module
    docstring for the two methods."""
    if method not in METHODS:
        raise ValueError(f"onbekende methode {method!r}; kies uit {', '.join(METHODS)}")
    amount = Decimal(amount)
    if not amount.is_finite() or amount < 0:
        raise ValueError("het bedrag moet 0 of meer zijn")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValueError("het bedrag heeft hoogstens twee decimalen (centen)")
    shares = population_key(residents)
    if method == "table":
        amounts = [(amount * share / HUNDRED).quantize(EURO, rounding=ROUND_HALF_UP) for share in shares.values()]
    elif amount == 0 or sum(shares.values()) == 0:
        amounts = [Decimal(0)] * len(shares)
    elif amount == amount.to_integral_value():
        # split_by_weights works in cents: split the number of euros as if it were cents, then scale back
        amounts = [part * 100 for part in split_by_weights(amount * CENT, list(shares.values()))]
    else:
        amounts = split_by_weights(amount, list(shares.values()))
    parts = tuple(Part(name, residents[name], share, part_amount)
                  for (name, share), part_amount in zip(shares.items(), amounts))
    return Allocation(amount, method, parts)


__all__ = ["METHODS", "Part", "Allocation", "population_key", "allocate"]


def split_by_realisation(amount, realisation: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Shared regional costs (``amount``, whole cents) split over the municipalities by their share
    of the year's approved realisation: parts in whole cents that add up to ``amount`` exactly
    (largest remainder, :func:`portal.money.split_by_weights`; ties: the earlier municipality in the
    order given). Without any realisation there is nothing to split by: ValueError."""
    amount = Decimal(amount)
    if amount < 0 or amount != amount.quantize(CENT):
        raise ValueError("het bedrag is niet negatief en in hele centen")
    names = list(realisation)
    weights = [Decimal(realisation[name]) for name in names]
    if any(weight < 0 for weight in weights):
        raise ValueError("realisatie kan niet negatief zijn")
    if not names or sum(weights) <= 0:
        raise ValueError("er is geen realisatie om de kosten naar te verdelen")
    return dict(zip(names, split_by_weights(amount, weights)))
