"""Forms of the agreement screens: framework agreements, bow-wave evaluations, budget agreements
and ceilings, extra capacity. They check the shape of the input; the rules live in
:mod:`portal.contracts.service`."""
from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.contracts import rules, terms
from portal.forms import REQUIRED, AmountField, StrictForm
from portal.registry import LOTS

YEAR_RANGE = NumberRange(min=2000, max=2100, message="Vul een jaar tussen 2000 en 2100 in.")


def _optional_int(value):
    """An int, or None for the empty choice; anything else is refused as an invalid choice."""
    if value in (None, ""):
        return None
    return int(value)


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FrameworkAgreementForm(StrictForm):
    organisation_id = SelectField("Zorgaanbieder", coerce=int, validators=[InputRequired(REQUIRED)])
    reference = StringField("Kenmerk", validators=[DataRequired(REQUIRED), Length(max=64)],
                            description="Het kenmerk van de overeenkomst, bijvoorbeeld RO-2026-014.")
    domain = SelectField("Domein", validators=[InputRequired(REQUIRED)])
    segments = CheckboxesField("Segmenten", validate_choice=False,
                               description="De segmenten die de overeenkomst dekt; alle uit het gekozen domein.")
    lot = SelectField("Perceel", choices=dict(LOTS), validators=[InputRequired(REQUIRED)])
    contract_form = SelectField("Contractvorm", validators=[InputRequired(REQUIRED)],
                                choices={key: f"{key}. {label}" for key, label in terms.CONTRACT_FORMS.items()})
    start_date = DateField("Ingangsdatum", validators=[InputRequired(REQUIRED)],
                           render_kw={"autocomplete": "off"})
    scheme = StringField("Looptijd in jaren", validators=[Optional(), Length(max=20)],
                         description="Eerste termijn plus verlengingsopties, bijvoorbeeld 3+1+1 of 3+3+3. Laat "
                                     "leeg voor de looptijd van de segmenten. Bij het boeggolfprincipe: alleen "
                                     "de horizon, bijvoorbeeld 3, of, waar het segment dat kent, horizon plus "
                                     "verlengingsopties als maximale looptijd, bijvoorbeeld 3+3+3.")
    bow_wave = BooleanField("Boeggolfprincipe: elk jaar evalueren; een voldoende jaar verlengt met een jaar")
    terminated_on = DateField("Beëindigd per", validators=[Optional()],
                              description="Alleen invullen als de overeenkomst tussentijds is beëindigd.")
    contract_value = AmountField("Contractwaarde (euro)", validators=[Optional()],
                                 description="De waarde van de hele overeenkomst (opdrachtwaarde), bijvoorbeeld "
                                             "250.000,00. Verplichtingen zoals social return zijn een deel "
                                             "hiervan. Leeg: nog onbekend.")


class ExtensionForm(StrictForm):
    """Only the CSRF token: the button that uses the next extension option."""


class BowWaveEvaluationForm(StrictForm):
    year = IntegerField("Jaar", validators=[InputRequired("Vul het jaar in."), YEAR_RANGE])
    satisfactory = RadioField("Oordeel", choices={"ja": "Voldoende: de overeenkomst verlengt met een jaar",
                                                  "nee": "Onvoldoende: de horizon wordt een jaar korter"},
                              validators=[InputRequired("Kies het oordeel.")])
    note = TextAreaField("Toelichting", validators=[Optional(), Length(max=2000)])


class BudgetAgreementForm(StrictForm):
    organisation_id = SelectField("Zorgaanbieder", coerce=int, validators=[InputRequired(REQUIRED)],
                                  description="Alleen aanbieders in het regionaal perceel krijgen een aanvullende afspraak.")
    municipality_id = SelectField("Gemeente", coerce=int, validators=[InputRequired(REQUIRED)])
    segment_key = SelectField("Segment", validators=[InputRequired(REQUIRED)])
    year = IntegerField("Jaar", validators=[InputRequired("Vul het jaar in."), YEAR_RANGE])
    kind = RadioField("Soort afspraak", choices=dict(rules.KINDS), default="budget",
                      validators=[InputRequired("Kies budgetafspraak of budgetplafond.")])
    amount = AmountField("Bedrag (euro)", validators=[InputRequired("Vul het bedrag in.")],
                         description="Het jaarbudget of het plafond, bijvoorbeeld 125.000,00.")
    bandwidth_percentage = AmountField("Bandbreedte (%)", validators=[Optional()],
                                       description="Alleen bij een budgetafspraak: 0 tot en met 100; leeg is 0.")
    advance_installments = SelectField("Voorschotten", coerce=_optional_int,
                                       choices={"": "Geen voorschotten (budgetplafond)",
                                                **{str(n): label for n, label in rules.INSTALLMENTS.items()}},
                                       default="12", validate_choice=False)


class BudgetEditForm(StrictForm):
    """The whole of what may change in a budget agreement or ceiling."""

    kind = BudgetAgreementForm.kind
    amount = BudgetAgreementForm.amount
    bandwidth_percentage = BudgetAgreementForm.bandwidth_percentage
    advance_installments = BudgetAgreementForm.advance_installments


class BudgetRowForm(StrictForm):
    """Inline editing in the table row: amount and bandwidth."""

    amount = AmountField("Bedrag (euro)", validators=[InputRequired("Vul het bedrag in.")])
    bandwidth_percentage = AmountField("Bandbreedte (%)", validators=[Optional()])


class ExtraCapacityForm(StrictForm):
    organisation_id = SelectField("Zorgaanbieder", coerce=int, validators=[InputRequired(REQUIRED)])
    municipality_id = SelectField("Gemeente", coerce=_optional_int, validate_choice=False,
                                  description="Leeg: voor de hele regio.")
    segment_key = SelectField("Segment", validators=[InputRequired(REQUIRED)])
    year = IntegerField("Jaar", validators=[InputRequired("Vul het jaar in."), YEAR_RANGE])
    amount = AmountField("Bedrag (euro)", validators=[InputRequired("Vul het bedrag in.")])
    reason = TextAreaField("Reden", validators=[DataRequired("Vul de reden in."), Length(max=2000)],
                           description="Waarom kunnen de aanbieders met een raamovereenkomst dit niet leveren? "
                                       "Ten minste 10 tekens.")


class ObligationReportForm(StrictForm):
    """What a provider realised of an obligation (social return, say) in one year."""

    obligation_id = SelectField("Verplichting", validators=[InputRequired(REQUIRED)])
    year = IntegerField("Jaar", validators=[InputRequired("Vul het jaar in."), YEAR_RANGE])
    amount = AmountField("Gerealiseerd (euro)", validators=[InputRequired("Vul het gerealiseerde bedrag in.")],
                         description="Wat u in dit jaar aan de verplichting besteedde, bijvoorbeeld 12.500,00.")
    note = TextAreaField("Toelichting", validators=[Optional(), Length(max=2000)],
                         description="Optioneel: hoe u de verplichting invulde (werkplekken, leertrajecten, ...).")
