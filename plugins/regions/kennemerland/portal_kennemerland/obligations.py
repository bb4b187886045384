"""Kennemerland's social return (SROI): 5% of the contract value for agreements worth more than
€ 200.000 (003, "Social return on investment"). Handed to the core through the hook
``portal_agreement_obligations``; it holds in the region Kennemerland only.
"""
from __future__ import annotations

from portal.toolkit import AgreementObligation

OBLIGATIONS = [
    AgreementObligation(
        id="kennemerland.sroi",
        name="SROI-verplichting",
        description=(
            "Social return on investment: voor partners waarbij de overeenkomst een waarde van meer dan "
            "€ 200.000 heeft, geldt als basisprincipe een SROI-verplichting van 5% van de opdrachtwaarde "
            "(verwervingsstrategie Kennemerland, document 003). De aanbieder vult die in met werkplekken of "
            "leertrajecten voor mensen met een afstand tot de arbeidsmarkt, of met een projectoverstijgende "
            "aanpak; het percentage en de invulling zijn maatwerk naar redelijkheid en billijkheid."
        ),
        rate="0.05",
        threshold="200000",
    ),
]
