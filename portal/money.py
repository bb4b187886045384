"""Money arithmetic: ``Decimal`` only, and the rounding rules of the portal.

Rules (also in docs/rounding.md):
1. Amounts are computed at full ``Decimal`` precision and rounded to the cent only where an amount
   is shown or stored, half-up (0.005 -> 0.01; -0.005 -> -0.01).
2. A price made of lines (base, surcharges, plugin lines) rounds each line to the cent; the total
   is the sum of the rounded lines, so the lines shown always add up to the total.
3. Where a total is split into parts (advances, shares), the parts are whole cents and add up to the
   total exactly: each part is rounded down, and the cents left over go one by one to the parts with
   the largest remainders (ties: earlier parts first).
"""
from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def to_cents(value) -> Decimal:
    """Round half-up to whole cents."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text: str) -> Decimal:
    """Read an amount as people type it in the Netherlands: ``1.234,56``, ``1234,56``, ``100.000``
    or ``1234.56``.

    With a comma, the comma is the decimal sign and dots group thousands. Without a comma, dots
    that each precede exactly three digits group thousands (``100.000`` is a hundred thousand, as
    a Dutch reader means it); a single dot followed by one, two or four or more digits is a decimal
    point (``1234.56``, ``0.125``). Raises ``ValueError`` for anything else (also for ``1e3``).
    """
    cleaned = (text or "").strip().replace("€", "").replace(" ", "").replace("\u00a0", "")
    if not cleaned:
        raise ValueError("empty")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif "." in cleaned:
        head, *groups = cleaned.split(".")
        digits = head.lstrip("-")
        if (all(len(group) == 3 and group.isdigit() for group in groups) and digits.isdigit()
                and 1 <= len(digits) <= 3 and not digits.startswith("0")):
            cleaned = cleaned.replace(".", "")
        elif len(groups) > 1:
            raise ValueError(text)
    if not all(ch.isdigit() or ch in ".-" for ch in cleaned) or cleaned.count("-") > 1 or (
            "-" in cleaned and not cleaned.startswith("-")):
        raise ValueError(text)
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(text) from None


def split_by_weights(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` (whole cents) over ``weights`` so the parts add up to ``total`` exactly."""
    total = Decimal(total)
    if total != to_cents(total):
        raise ValueError("total must be whole cents")
    weight_sum = sum((Decimal(w) for w in weights), Decimal(0))
    if not weights or weight_sum <= 0 or any(Decimal(w) < 0 for w in weights):
        raise ValueError("weights must be non-negative with a positive sum")
    sign = -1 if total < 0 else 1
    cents = abs(total) / CENT
    exact = [cents * Decimal(w) / weight_sum for w in weights]
    parts = [e.to_integral_value(rounding=ROUND_DOWN) for e in exact]
    left = int(cents - sum(parts))
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return [sign * p * CENT for p in parts]


def split_evenly(total: Decimal, count: int) -> list[Decimal]:
    """Split ``total`` into ``count`` parts of whole cents that add up exactly (earlier parts get
    the extra cents)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    return split_by_weights(total, [Decimal(1)] * count)
