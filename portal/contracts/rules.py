"""The rules of additional agreements, extra capacity and municipal choices, as pure functions."""
from __future__ import annotations

from decimal import Decimal

from portal.formatting import money
from portal.money import split_evenly, to_cents
from portal.registry import FUNDING_FORMS

EXTRA_CAPACITY_SHARE = Decimal("0.10")  # 000 §7: never more than 10% of the contracted value
INSTALLMENTS = {12: "Per maand", 4: "Per kwartaal", 1: "Eén keer per jaar"}
KINDS = {"budget": "Budgetafspraak", "ceiling": "Budgetplafond"}
VOLUME_BASES = {"trajectories": "Trajecten", "places": "Plekken"}


def additional_agreement_refusal(lot: str | None, covers_segment: bool) -> str | None:
    """Why a provider may not get a budget agreement or ceiling for the segment, or None."""
    if lot is None or not covers_segment:
        return "Deze aanbieder heeft geen raamovereenkomst voor dit segment."
    if lot != "regional":
        return ("Aanvullende afspraken (budgetafspraak of budgetplafond) zijn er alleen voor aanbieders "
                "in het regionale perceel; deze aanbieder zit in het lokale perceel en declareert "
                "realisatie op standaardtrajecten.")
    return None


def advance_schedule(amount: Decimal, installments: int) -> list[Decimal]:
    """Advances of a budget agreement: whole cents that add up to the budget exactly."""
    if installments not in INSTALLMENTS:
        raise ValueError("installments must be 12, 4 or 1")
    return split_evenly(to_cents(amount), installments)


def extra_capacity_room(contracted_value: Decimal, extra_so_far: Decimal) -> Decimal:
    """How much extra capacity may still be added: 10% of the contracted value minus what is used."""
    return to_cents(contracted_value * EXTRA_CAPACITY_SHARE) - extra_so_far


def extra_capacity_refusal(contracted_value: Decimal, extra_so_far: Decimal, new_amount: Decimal) -> str | None:
    room = extra_capacity_room(contracted_value, extra_so_far)
    if new_amount > room:
        return (f"Extra capaciteit mag samen niet meer zijn dan 10% van de gecontracteerde waarde "
                f"({money(to_cents(contracted_value * EXTRA_CAPACITY_SHARE))}); er is nog "
                f"{money(max(room, Decimal(0)))} ruimte.")
    return None


def funding_form_refusal(chosen: list[str], allowed: tuple[str, ...],
                         combinations: tuple[frozenset[str], ...] = ()) -> str | None:
    """A municipality uses one funding system per segment (000 appendix 1), unless the segment
    allows that combination of funding forms together (``Segment.funding_combinations``)."""
    if not chosen:
        return "Kies de bekostigingssystematiek voor dit segment."
    if any(form not in allowed for form in chosen):
        return "Deze bekostigingssystematiek hoort niet bij dit segment."
    if len(set(chosen)) > 1 and frozenset(chosen) not in combinations:
        return ("Binnen één segment gebruikt een gemeente één bekostigingssystematiek; kies er één "
                "(administratieve lastendruk voor aanbieders)."
                + (" Samen gebruiken mag alleen: " + "; ".join(
                    " plus ".join(FUNDING_FORMS[form].lower() for form in allowed if form in combination)
                    for combination in combinations) + "." if combinations else ""))
    return None
