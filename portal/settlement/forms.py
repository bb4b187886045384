"""The forms of the yearly settlement screens: run a new version, publish it, make it final, and
the provider's answer. The money rules (amounts, reasons, states) are checked by
:mod:`portal.settlement.runs`; these forms only carry the values and the lock version."""
from __future__ import annotations

from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from portal.forms import REQUIRED, StrictForm

COSTS_HINT = "Bedrag in euro's, bijvoorbeeld 12.500,00. Leeg is € 0,00."


class RunForm(StrictForm):
    year = SelectField("Jaar om af te rekenen", coerce=int, validators=[InputRequired(REQUIRED)], validate_choice=True)
    shared_costs = StringField("Gedeelde regionale kosten (verdeeld naar realisatie)", validators=[Optional()],
                               description=COSTS_HINT + " Elke gemeente draagt het deel dat past bij haar "
                                                        "aandeel in de goedgekeurde realisatie.",
                               render_kw={"inputmode": "decimal", "autocomplete": "off"})
    program_costs = StringField("Programmakosten (verdeeld naar inwonertal)", validators=[Optional()],
                                description=COSTS_HINT + " Elke gemeente draagt het deel dat past bij haar "
                                                         "aandeel in het inwonertal van de regio.",
                                render_kw={"inputmode": "decimal", "autocomplete": "off"})
    note = TextAreaField("Toelichting bij deze versie", validators=[Optional(), Length(max=10_000)],
                         description="Optioneel; bijvoorbeeld waarom u opnieuw afrekent.")


class PublishForm(StrictForm):
    lock_version = HiddenField(validators=[InputRequired(REQUIRED)])


class FinaliseForm(StrictForm):
    lock_version = HiddenField(validators=[InputRequired(REQUIRED)])
    reason = TextAreaField("Reden om definitief te maken", validators=[Optional()],
                           description="Verplicht (minstens 10 tekens) als niet alle zorgaanbieders de "
                                       "afrekening hebben geaccepteerd.")


class RespondForm(StrictForm):
    """Accept (no reason) or dispute (a reason of at least ten characters)."""

    lock_version = HiddenField(validators=[InputRequired(REQUIRED)])
    decision = SelectField("Antwoord", choices=[SelectChoice("accept", "Accepteren"),
                                                 SelectChoice("dispute", "Bezwaar maken")],
                           validators=[InputRequired(REQUIRED)])
    reason = TextAreaField("Reden van uw bezwaar", validators=[Optional()],
                           description="Minstens 10 tekens. De contractmanager ziet de reden en neemt contact met "
                                       "u op.")
