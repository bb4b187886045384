"""The yearly settlement (afrekening) as pure functions: ``Decimal`` in, ``Decimal`` out, no
database and no clock. DOMAIN.md §6–7.

Per agreement (provider × municipality × segment × year) the engine computes the **settled value**
and the **amount due** = settled value − advances (or payments) already made: positive is an
additional payment to the provider, negative a repayment by it. Every step is explained in Dutch.

Kinds and their default rules:

``budget``
    Budget B, bandwidth b (a fraction: 0.05 is 5%), realisation R. Inside the band
    B·(1−b) ≤ R ≤ B·(1+b) the settled value is B. Outside it the rule ``outside_band`` decides:
    ``full`` (default) settles R; ``excess`` settles only what lies beyond the band's edge:
    R + b·B below it, R − b·B above it.
``ceiling``
    Settled value min(R, ceiling); there are no advances, so the amount due is the settled value
    minus the payments made.
``population``
    As ``budget``, with the agreement's threshold (default 10%) as the band.
``places``
    P places at a price per place-year Q: P × Q, minus the empty place-days (P × days in the year −
    occupied place-days, not below 0) repaid pro rata (Q ÷ days per place-day). Over-occupancy is
    not paid extra.

The rule ``band_scope``: ``municipality`` (default) applies the band per agreement; ``region``
applies it to a provider's regional total per segment (budget and population agreements with the
same bandwidth and rule) and splits the settled total back over the municipalities by their share
of realisation (by budget when nothing was realised), in whole cents that add up exactly.

Rounding: the settled value is rounded half-up to the cent once, at the end of its computation
(:func:`portal.money.to_cents`); splits use :func:`portal.money.split_by_weights`.

Extra rules (shared savings, bonus–malus, success rewards) are :class:`Adjustment` functions the
domain plugins provide: each takes the agreement and its settlement so far and returns an amount
added to the settled value, with its explanation line (a text, or a function that writes it when the
explanation is read).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, partial
from operator import attrgetter
from typing import Callable, Iterable, Sequence

from babel.numbers import format_currency, format_decimal

from portal.formatting import percent
from portal.money import split_by_weights, to_cents

KINDS = ("budget", "ceiling", "population", "places")
KIND_LABELS = {"budget": "Budgetafspraak", "ceiling": "Budgetplafond", "population": "Populatiebekostiging",
               "places": "Plekken"}
OUTSIDE_BAND = ("full", "excess")
BAND_SCOPES = ("municipality", "region")
DEFAULT_THRESHOLD = Decimal("0.10")
ZERO = Decimal("0.00")
ADVANCES = "al betaalde voorschotten"
PAYMENTS = "al gedane betalingen"


# euro() and formatting.percent() write what babel's nl_NL patterns write (currency "¤ #,##0.00" with
# "¤ -#,##0.00" for negatives; decimal "#,##0.##"), rounded the way babel rounds (``quantize`` in the
# current decimal context), without babel's pattern machinery: the plugins' settlement rules format
# amounts for every agreement of a year, and babel took most of a national year's settlement time.
# Infinity and NaN still go through babel. tests/test_settlement_engine.py compares both.
_HUNDREDTH = Decimal("0.01")
_DUTCH_SEPARATORS = str.maketrans(",.", ".,")


def direction_label(due: Decimal) -> str:
    """The amount due in a word: "Nabetaling" (to the provider), "Terugbetaling" (by it), "Geen betaling"."""
    return "Nabetaling" if due > 0 else "Terugbetaling" if due < 0 else "Geen betaling"


def euro(amount: Decimal) -> str:
    value = Decimal(amount)
    if not value.is_finite():
        return format_currency(value, "EUR", locale="nl_NL")
    return "€\xa0" + format(value.quantize(_HUNDREDTH), ",f").translate(_DUTCH_SEPARATORS)


# Agreement, Settlement and Source (portal.settlement.inputs) are plain (not frozen) dataclasses:
# a national year makes 50,000 of each, and a frozen dataclass sets every field through
# object.__setattr__, which made building them three times slower (bench/settlement.py). Treat
# them as values all the same: nothing in the portal changes one after it is made.
@dataclass(slots=True)
class Agreement:
    """One agreement to settle. Amounts in euros (``Decimal``); fractions as fractions (0.05)."""

    id: str
    provider: str
    municipality: str
    segment: str
    kind: str
    realisation: Decimal = ZERO
    budget: Decimal = ZERO
    advances_paid: Decimal = ZERO
    bandwidth: Decimal = Decimal(0)
    ceiling: Decimal = ZERO
    payments_made: Decimal = ZERO
    threshold: Decimal = DEFAULT_THRESHOLD
    places: Decimal = Decimal(0)
    price_per_place_year: Decimal = ZERO
    occupied_place_days: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Rules:
    outside_band: str = "full"
    band_scope: str = "municipality"


@dataclass
class Settlement:
    """An agreement's outcome. ``body`` builds the explanation's steps on demand (a year of tens of
    thousands of agreements is settled without formatting a single amount until one is shown);
    :attr:`explanation` adds the closing lines with the settled value and the amount due."""

    agreement: Agreement
    settled_value: Decimal
    paid: Decimal  # advances or payments already made
    body: Callable[[], list[str]]
    paid_label: str = ADVANCES

    @cached_property
    def explanation(self) -> tuple[str, ...]:
        due = self.due
        lines = list(self.body()) + [f"Afgerekende waarde: {euro(self.settled_value)}; "
                                     f"{self.paid_label}: {euro(self.paid)}."]
        if due > 0:
            lines.append(f"Nabetaling aan de zorgaanbieder: {euro(due)}.")
        elif due < 0:
            lines.append(f"Terugbetaling door de zorgaanbieder: {euro(-due)}.")
        else:
            lines.append("Er hoeft niets te worden betaald of terugbetaald.")
        return tuple(lines)

    @property
    def due(self) -> Decimal:
        return self.settled_value - self.paid

    @property
    def direction(self) -> str:
        return "additional_payment" if self.due > 0 else "repayment" if self.due < 0 else "none"


@dataclass(frozen=True)
class Result:
    year: int
    settlements: tuple[Settlement, ...]

    @property
    def totals(self) -> dict[str, Decimal]:
        settled = sum((s.settled_value for s in self.settlements), ZERO)
        paid = sum((s.paid for s in self.settlements), ZERO)
        additional = sum((s.due for s in self.settlements if s.due > 0), ZERO)
        repayment = sum((-s.due for s in self.settlements if s.due < 0), ZERO)
        return {"settled_value": settled, "paid": paid, "due": settled - paid,
                "additional_payments": additional, "repayments": repayment}


# An extra rule of a domain plugin: (agreement, settlement so far, rules) → (amount, Dutch line) or None.
# The line may be a zero-argument callable returning it: it is then only built when the explanation
# is read (a year of tens of thousands of agreements is settled without formatting its lines).
Adjustment = Callable[[Agreement, Settlement, Rules], "tuple[Decimal, str | Callable[[], str]] | None"]


class ScenarioError(ValueError):
    """An agreement the engine cannot settle; names the agreement and the field."""

    def __init__(self, agreement_id: str, field_name: str, message: str):
        super().__init__(f"overeenkomst {agreement_id!r}, veld {field_name!r}: {message}")
        self.agreement_id = agreement_id
        self.field = field_name
        self.message = message


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


# --- One agreement ---------------------------------------------------------------------------------


def band_value(budget: Decimal, band: Decimal, realisation: Decimal, outside_band: str) -> tuple[Decimal, list[str]]:
    """The settled value of a budget under a band (exact, not yet rounded) and why."""
    return _band(budget, band, realisation, outside_band), _band_lines(budget, band, realisation, outside_band)


def _band(budget: Decimal, band: Decimal, realisation: Decimal, outside_band: str) -> Decimal:
    lower, upper = budget * (1 - band), budget * (1 + band)
    if lower <= realisation <= upper:
        return budget
    if outside_band == "full":
        return realisation
    return realisation + band * budget if realisation < lower else realisation - band * budget


def _band_lines(budget: Decimal, band: Decimal, realisation: Decimal, outside_band: str) -> list[str]:
    lower, upper = budget * (1 - band), budget * (1 + band)
    lines = [f"Budget {euro(budget)}, bandbreedte {percent(band)}: de band loopt van "
             f"{euro(to_cents(lower))} tot en met {euro(to_cents(upper))}.",
             f"Goedgekeurde realisatie: {euro(realisation)}."]
    if lower <= realisation <= upper:
        lines.append("De realisatie valt binnen de band: het budget wordt afgerekend.")
        return lines
    below = realisation < lower
    side = "onder" if below else "boven"
    if outside_band == "full":
        lines.append(f"De realisatie valt {side} de band; regel 'buiten de band': volledig op realisatie. "
                     f"Afgerekend wordt de realisatie.")
        return lines
    value = _band(budget, band, realisation, outside_band)
    lines.append(f"De realisatie valt {side} de band; regel 'buiten de band': alleen het deel voorbij de rand. "
                 f"Afgerekend: realisatie {'+' if below else '−'} bandbreedte × budget = {euro(to_cents(value))}.")
    return lines


def settle_one(agreement: Agreement, rules: Rules, year: int) -> Settlement:
    """Settle one agreement by itself (``band_scope`` municipality)."""
    _check(agreement, rules)
    return _settle_checked(agreement, rules, year)


def _settle_checked(a: Agreement, rules: Rules, year: int) -> Settlement:
    if a.kind in ("budget", "population"):
        band = a.bandwidth if a.kind == "budget" else a.threshold
        value = _band(a.budget, band, a.realisation, rules.outside_band)

        def body(a=a, band=band):
            lines = _band_lines(a.budget, band, a.realisation, rules.outside_band)
            if a.kind == "population":
                lines[0] = "Populatiebekostiging met drempel: " + lines[0][0].lower() + lines[0][1:]
            return lines
        return Settlement(a, to_cents(value), a.advances_paid, body, ADVANCES)
    if a.kind == "ceiling":
        value = min(a.realisation, a.ceiling)

        def body(a=a):
            return [f"Budgetplafond {euro(a.ceiling)}; goedgekeurde realisatie {euro(a.realisation)}.",
                    "Afgerekend wordt de realisatie, nooit meer dan het plafond."
                    + (" Het plafond is bereikt." if a.realisation > a.ceiling else "")]
        return Settlement(a, to_cents(value), a.payments_made, body, PAYMENTS)
    if a.kind == "places":
        days = days_in_year(year)
        capacity = a.places * days
        empty = max(capacity - a.occupied_place_days, Decimal(0))
        full_price = a.places * a.price_per_place_year
        repay = empty * a.price_per_place_year / days
        value = full_price - repay

        def body(a=a):
            lines = [f"{format_decimal(a.places, locale='nl_NL')} plekken × {euro(a.price_per_place_year)} per "
                     f"plekjaar = {euro(to_cents(full_price))}.",
                     f"Beschikbaar: {format_decimal(capacity, locale='nl_NL')} plekdagen ({days} dagen in {year}); "
                     f"bezet: {format_decimal(a.occupied_place_days, locale='nl_NL')}."]
            if empty:
                lines.append(f"Lege plekdagen: {format_decimal(empty, locale='nl_NL')} × "
                             f"{euro(a.price_per_place_year)} ÷ {days} = {euro(to_cents(repay))} wordt terugbetaald.")
            else:
                lines.append("Geen lege plekdagen" + ("; overbezetting wordt niet extra betaald." if
                                                       a.occupied_place_days > capacity else "."))
            return lines
        return Settlement(a, to_cents(value), a.advances_paid, body, ADVANCES)
    raise ScenarioError(a.id, "kind", f"onbekende soort {a.kind!r}; kies uit {', '.join(KINDS)}")


# --- A whole year -----------------------------------------------------------------------------------


def settle(year: int, agreements: Iterable[Agreement],
           rules: Rules | Callable[[Agreement], Rules] | Sequence[Rules] = Rules(),
           adjustments: Callable[[Agreement], list[Adjustment]] | Sequence[list[Adjustment]] | None = None, *,
           validated: bool = False) -> Result:
    """Settle every agreement of a year. ``rules`` is one set for all, a function giving each
    agreement its own (a region's or municipality's choice), or a sequence with each agreement's
    own in the order of ``agreements``; ``adjustments`` gives the extra rules of an agreement's
    segment, as a function or such a sequence. Results come back in the order of ``agreements``.

    Every agreement is checked first (:func:`check`: a :class:`ScenarioError` names the first wrong
    field), unless the caller passes ``validated=True`` because it has checked them itself: every
    id unique, every kind known, rules among the choices, every amount a finite, non-negative
    ``Decimal`` and both fractions between 0 and 1. :func:`portal.settlement.inputs.gather` does, with a few comparisons
    per agreement on the values that can be wrong, and :func:`check` for any that fails them."""
    agreements = list(agreements)
    if isinstance(rules, Rules):
        own_rules = [rules] * len(agreements)
    elif callable(rules):
        own_rules = [rules(agreement) for agreement in agreements]
    else:  # one per agreement, in the same order
        own_rules = list(rules)
    if adjustments is None or callable(adjustments):
        own_adjustments = [adjustments(agreement) for agreement in agreements] if adjustments else \
            [()] * len(agreements)
    else:
        own_adjustments = list(adjustments)
    if len(own_rules) != len(agreements) or len(own_adjustments) != len(agreements):
        raise ValueError("rules and adjustments given per agreement must have one entry for each agreement")
    if not validated:
        _check_unique(agreements)
    # Settled in the order of the agreements; an agreement under the regional band waits (None)
    # until its group is settled as a whole.
    settled: list[Settlement | None] = []
    append_settled = settled.append
    regional: dict[tuple, list[tuple[int, Agreement]]] = {}
    for index, (agreement, agreement_rules) in enumerate(zip(agreements, own_rules)):
        if not validated:
            _check(agreement, agreement_rules)
        if agreement_rules.band_scope == "region" and agreement.kind in ("budget", "population"):
            band = agreement.bandwidth if agreement.kind == "budget" else agreement.threshold
            key = (agreement.provider, agreement.segment, agreement.kind, band, agreement_rules.outside_band)
            regional.setdefault(key, []).append((index, agreement))
            append_settled(None)
        else:
            append_settled(_settle_checked(agreement, agreement_rules, year))
    for (_provider, _segment, _kind, band, outside_band), group in regional.items():
        settlements = _settle_region_checked([agreement for _index, agreement in group], band, outside_band)
        for (index, _agreement), settlement in zip(group, settlements):  # checked above
            settled[index] = settlement
    results = []
    append = results.append
    for agreement, agreement_rules, agreement_adjustments, settlement in zip(agreements, own_rules, own_adjustments,
                                                                            settled):
        for adjustment in agreement_adjustments:
            outcome = adjustment(agreement, settlement, agreement_rules)
            if outcome:
                amount, line = outcome
                settlement = Settlement(agreement, settlement.settled_value + to_cents(amount), settlement.paid,
                                        partial(_with_line, settlement.body, line), settlement.paid_label)
        append(settlement)
    return Result(year, tuple(results))


def _with_line(before: Callable[[], list[str]], line: str | Callable[[], str]) -> list[str]:
    """An explanation's steps with an adjustment's line after them (built now if it is lazy)."""
    return [*before(), line if isinstance(line, str) else line()]


def settle_region(group: list[Agreement], band: Decimal, outside_band: str) -> list[Settlement]:
    """The band on a provider's regional total of one segment, the settled total split back over
    the municipalities by share of realisation (by budget when nothing was realised)."""
    if not group:
        return []
    for agreement in group:
        _check(agreement, Rules(outside_band, "region"))
    return _settle_region_checked(group, band, outside_band)


def _settle_region_checked(group: list[Agreement], band: Decimal, outside_band: str) -> list[Settlement]:
    """:func:`settle_region` for agreements :func:`_check` has passed (``band`` is then one of
    their bandwidths or thresholds, a fraction between 0 and 1)."""
    if not Decimal(0) <= band <= Decimal(1):
        raise ScenarioError(group[0].id, "bandwidth", "is een fractie tussen 0 en 1 (0.05 is 5%)")
    budget = sum((a.budget for a in group), ZERO)
    realisation = sum((a.realisation for a in group), ZERO)
    total = to_cents(_band(budget, band, realisation, outside_band))
    weights = [a.realisation for a in group] if realisation > 0 else [a.budget for a in group]
    if sum(weights, ZERO) <= 0:
        weights = [Decimal(1)] * len(group)
    parts = split_by_weights(total, weights)
    basis = "aandeel in de realisatie" if realisation > 0 else "aandeel in het budget"
    weight_total = sum(weights, ZERO)

    def body(part, weight, n=len(group)):
        share = weight / weight_total
        return [f"Bandbreedte op regioniveau: {n} {'gemeente' if n == 1 else 'gemeenten'} samen.",
                *_band_lines(budget, band, realisation, outside_band),
                f"Regionaal afgerekend: {euro(total)}; deel van deze gemeente naar {basis} "
                f"({percent(share.quantize(Decimal('0.0001')))}): {euro(part)}."]
    return [Settlement(agreement, part, agreement.advances_paid,
                       lambda part=part, weight=weight: body(part, weight), ADVANCES)
            for agreement, part, weight in zip(group, parts, weights)]


def _check_unique(agreements: list[Agreement]) -> None:
    seen = set()
    for agreement in agreements:
        if agreement.id in seen:
            raise ScenarioError(agreement.id, "id", "dit id komt twee keer voor")
        seen.add(agreement.id)


_VALUES = attrgetter("realisation", "budget", "advances_paid", "ceiling", "payments_made", "places",
                     "price_per_place_year", "occupied_place_days", "bandwidth", "threshold")
_DECIMAL_ONLY = {Decimal}


def check(a: Agreement, rules: Rules) -> None:
    """Raise a :class:`ScenarioError` naming the agreement and the first wrong field, if any."""
    _check(a, rules)


def _check(a: Agreement, rules: Rules) -> None:
    """Stop with a :class:`ScenarioError` naming the first wrong field. The common case (every
    amount a finite, non-negative ``Decimal``, fractions between 0 and 1) is recognised with a few
    whole-agreement tests: all ten values are ``Decimal`` (so no float, text or bool), the smallest
    amount is at least 0 and their sum is finite (so none is infinite; a NaN makes the comparison
    raise), both fractions lie in 0..1. Anything else goes through :func:`_check_fields`, which
    finds the field to name."""
    if a.kind in KINDS and rules.outside_band in OUTSIDE_BAND and rules.band_scope in BAND_SCOPES:
        values = _VALUES(a)
        if set(map(type, values)) == _DECIMAL_ONLY:
            amounts = values[:8]
            try:
                if min(amounts) >= 0 and sum(amounts).is_finite() and 0 <= values[8] <= 1 and 0 <= values[9] <= 1:
                    return
            except ArithmeticError:  # a NaN
                pass
    _check_fields(a, rules)


def _check_fields(a: Agreement, rules: Rules) -> None:
    if a.kind not in KINDS:
        raise ScenarioError(a.id, "kind", f"onbekende soort {a.kind!r}; kies uit {', '.join(KINDS)}")
    if rules.outside_band not in OUTSIDE_BAND:
        raise ScenarioError(a.id, "outside_band", f"kies uit {', '.join(OUTSIDE_BAND)}")
    if rules.band_scope not in BAND_SCOPES:
        raise ScenarioError(a.id, "band_scope", f"kies uit {', '.join(BAND_SCOPES)}")
    for name in ("realisation", "budget", "advances_paid", "ceiling", "payments_made", "places",
                 "price_per_place_year", "occupied_place_days", "bandwidth", "threshold"):
        # A float, a text or NaN/Infinity would otherwise fail later with a bare TypeError or
        # decimal.InvalidOperation that names neither the agreement nor the field.
        value = getattr(a, name)
        if isinstance(value, bool) or not isinstance(value, (Decimal, int)) or not Decimal(value).is_finite():
            raise ScenarioError(a.id, name, "moet een eindig Decimal-getal zijn")
    for name in ("realisation", "budget", "advances_paid", "ceiling", "payments_made", "places",
                 "price_per_place_year", "occupied_place_days"):
        if getattr(a, name) < 0:
            raise ScenarioError(a.id, name, "mag niet negatief zijn")
    for name in ("bandwidth", "threshold"):
        if not Decimal(0) <= getattr(a, name) <= Decimal(1):
            raise ScenarioError(a.id, name, "is een fractie tussen 0 en 1 (0.05 is 5%)")


__all__ = ["Agreement", "Rules", "Settlement", "Result", "ScenarioError", "Adjustment", "check", "settle", "settle_one",
           "settle_region", "band_value"]
