"""The settlement's words in plain Dutch: one short explanation per rule, shown beside the figures on
the statements, in their PDF and on "Wat als?", so nobody needs to know the contract's jargon."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """A word of the settlement and what it means, in a sentence or two."""

    word: str
    meaning: str


TERMS = (
    Term("Budgetafspraak",
         "Een vast bedrag voor een jaar, per gemeente en segment. U krijgt het in voorschotten; na het jaar "
         "wordt het vergeleken met wat u werkelijk hebt geleverd (de goedgekeurde realisatie)."),
    Term("Bandbreedte (band)",
         "Een marge rond het budget, bijvoorbeeld 10% erboven en eronder. Levert u binnen die marge, dan blijft "
         "het budget staan en wordt er niets verrekend."),
    Term("Buiten de band",
         "Levert u meer of minder dan de marge, dan wordt er verrekend: volgens de afspraak alles op wat u "
         "leverde, of alleen het stuk dat buiten de marge valt."),
    Term("Reikwijdte van de band",
         "Per gemeente: de marge geldt voor elke budgetafspraak met één gemeente apart. Regionaal totaal: de "
         "marge geldt voor al uw afspraken in een segment samen, over alle gemeenten."),
    Term("Gedeelde besparing",
         "Levert u minder dan het budget, dan wordt het verschil gedeeld: een deel mag u houden, de rest betaalt "
         "u terug. Zo loont het om doelmatig te werken."),
    Term("Budgetplafond",
         "Een maximum in plaats van een vast bedrag: u krijgt betaald wat u leverde, nooit meer dan het plafond."),
    Term("Nabetaling en terugbetaling",
         "Is het afgerekende bedrag hoger dan wat al is betaald, dan volgt een nabetaling aan u. Is het lager, "
         "dan betaalt u het verschil terug."),
)


def context() -> dict:
    """The glossary for the templates of the settlement screens (a blueprint context processor)."""
    return {"settlement_terms": TERMS}
