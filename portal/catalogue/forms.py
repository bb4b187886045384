"""Forms of the catalogue screens. They parse what people type (Dutch decimals, dates); the rules
themselves live in :mod:`portal.catalogue.admin`, which puts its refusals on these fields."""
from __future__ import annotations

from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.catalogue.pricing import PERIODS, ExtraField
from portal.forms import REQUIRED, AmountField, StrictForm

EXTRA_PREFIX = "extra_"


def optional_int(value):
    """Coerce a select's value to an int; the empty "choose" option becomes None."""
    if value in (None, ""):
        return None
    return int(value)


def _code():
    return StringField("Code", validators=[DataRequired(REQUIRED), Length(max=32)],
                       render_kw={"autocomplete": "off"})


def _name():
    return StringField("Naam", validators=[DataRequired(REQUIRED), Length(max=200)],
                       render_kw={"autocomplete": "off"})


def _valid_from():
    return DateField("Geldig vanaf", validators=[InputRequired(REQUIRED)])


def _valid_until():
    return DateField("Geldig tot en met", validators=[Optional()],
                     description="Leeg laten als er (nog) geen einddatum is.")


class CareFormForm(StrictForm):
    segment_key = SelectField("Segment", validators=[InputRequired(REQUIRED)], validate_choice=False)
    code = _code()
    name = _name()


class TariffForm(StrictForm):
    code = _code()
    name = _name()
    unit = SelectField("Eenheid", validators=[InputRequired(REQUIRED)], validate_choice=False,
                       description="Waar het tarief per eenheid voor geldt.")


class TariffVersionForm(StrictForm):
    valid_from = _valid_from()
    valid_until = _valid_until()
    unit_rate = AmountField("Tarief per eenheid (€)", validators=[InputRequired(REQUIRED)],
                            description="Bijvoorbeeld 65,40.")


class UnitRateForm(StrictForm):
    """The inline edit of one tariff version's unit rate."""

    unit_rate = AmountField("Tarief per eenheid (€)", validators=[InputRequired(REQUIRED)])


class SurchargeForm(StrictForm):
    code = _code()
    name = _name()
    percentage = AmountField("Percentage", places=3, validators=[InputRequired(REQUIRED)],
                             description="Opslag op de basisprijs, bijvoorbeeld 7,5 voor 7,5%.")
    segment_key = SelectField("Geldt voor", validate_choice=False)
    valid_from = _valid_from()
    valid_until = _valid_until()


class QualificationForm(StrictForm):
    organisation_id = SelectField("Zorgaanbieder", coerce=optional_int, validate_choice=False,
                                  validators=[DataRequired("Kies een zorgaanbieder.")])


class TrajectoryForm(StrictForm):
    year = IntegerField("Catalogusjaar", validators=[InputRequired(REQUIRED)],
                        description="De prijs rekent met het tarief dat op 1 januari van dit jaar geldt.")
    care_form_id = SelectField("Zorgvorm", coerce=optional_int, validate_choice=False,
                               validators=[DataRequired("Kies een zorgvorm.")],
                               description="De zorgvorm bepaalt het segment van het traject.")
    code = _code()
    name = _name()
    expertise = StringField("Gevraagde deskundigheid", validators=[DataRequired(REQUIRED), Length(max=64)],
                            description="Bijvoorbeeld MBO, HBO of WO/specialist.")
    intensity = AmountField("Intensiteit", validators=[InputRequired(REQUIRED)],
                            description="Aantal eenheden (uren, contacten of dagen) per week of per maand.")
    intensity_period = SelectField("Per", validate_choice=False,
                                   validators=[InputRequired(REQUIRED)])
    duration_months = IntegerField("Doorlooptijd in maanden", validators=[InputRequired(REQUIRED)])
    tariff_id = SelectField("Tarief", coerce=optional_int, validate_choice=False,
                            validators=[DataRequired("Kies een tarief.")])

    extra_fields: tuple[ExtraField, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.intensity_period.choices = list(PERIODS.items())

    def extra_values(self) -> dict:
        return {extra.name: getattr(self, EXTRA_PREFIX + extra.name).data for extra in self.extra_fields}

    def extra_form_fields(self):
        return [getattr(self, EXTRA_PREFIX + extra.name) for extra in self.extra_fields]


class TrajectoryTermsForm(StrictForm):
    """The inline edit of a trajectory's intensity and duration in the catalogue table."""

    intensity = AmountField("Intensiteit", validators=[InputRequired(REQUIRED)])
    duration_months = IntegerField("Doorlooptijd in maanden", validators=[InputRequired(REQUIRED)])


def trajectory_form_class(extra_fields: tuple[ExtraField, ...]) -> type[TrajectoryForm]:
    """The trajectory form with the inputs a segment's plugin adds (named ``extra_<name>``)."""
    if not extra_fields:
        return TrajectoryForm
    attributes = {"extra_fields": tuple(extra_fields)}
    for extra in extra_fields:
        attributes[EXTRA_PREFIX + extra.name] = AmountField(extra.label, validators=[Optional()],
                                                            description=extra.help or None)
    return type("SegmentTrajectoryForm", (TrajectoryForm,), attributes)


def form_field_name(form, rule_field: str | None) -> str | None:
    """The form field a rule's field name belongs to (plugin fields carry the prefix)."""
    if rule_field is None:
        return None
    if any(extra.name == rule_field for extra in getattr(form, "extra_fields", ())):
        return EXTRA_PREFIX + rule_field
    return rule_field if rule_field in form else None


def put_problems_on(form, problems) -> None:
    """Show every (field, Dutch message) on its field, or above the form when no field fits."""
    for rule_field, message in problems:
        name = form_field_name(form, rule_field)
        if name is None:
            form.form_errors.append(message)
        else:
            target = form[name]
            target.errors = list(target.errors) + [message]
