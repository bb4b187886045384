"""The core's forms. Every form carries a CSRF token and refuses fields it does not declare."""
from __future__ import annotations

from decimal import Decimal

from email_validator import EmailNotValidError, validate_email
from flask import current_app, request
from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, IntegerField, PasswordField, SelectField,
                     StringField)
from wtforms.meta import DefaultMeta
from wtforms.validators import (DataRequired, EqualTo, InputRequired, Length, NumberRange,
                                Optional, Regexp, ValidationError)

from portal import validators

REQUIRED = "Dit veld is verplicht."


class StrictForm(FlaskForm):
    """A form that notices fields it does not declare (for instance ``role=contract_manager``)."""

    class Meta:
        # WTForms' own Dutch messages ("Ongeldige keuze." instead of "Not a valid choice.");
        # Flask-WTF's translations need Flask-Babel, which the portal does not use.
        locales = ("nl",)

        def get_translations(self, form):
            return DefaultMeta.get_translations(self, form)

    def unexpected_fields(self) -> list[str]:
        if request.method != "POST":
            return []
        declared = {field.name for field in self}
        return sorted(set(request.form) - declared)


def _valid_email(_form, field):
    try:
        field.data = validate_email(field.data or "", check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationError("Vul een geldig e-mailadres in, bijvoorbeeld naam@organisatie.nl.") from None


def _strong_password(form, field):
    from portal.passwords import password_problems

    problems = password_problems(field.data or "", current_app.config["PASSWORD_MIN_LENGTH"],
                                 getattr(form, "_email", ""))
    if problems:
        raise ValidationError(" ".join(problems))


class AmountField(StringField):
    """A Decimal typed the Dutch way (1.234,56 or 1234,56 or 1234.56); never a float.

    ``places`` is the number of decimals allowed (2 for euros)."""

    def __init__(self, label=None, validators=None, places: int = 2, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.places = places
        self.data = None

    def process_formdata(self, valuelist):
        from portal.money import parse_amount

        self.raw = valuelist[0] if valuelist else ""
        if not self.raw.strip():
            self.data = None
            return
        try:
            value = parse_amount(self.raw)
        except ValueError:
            self.data = None
            raise ValueError("Vul een bedrag of getal in, bijvoorbeeld 1.234,56.") from None
        if value != value.quantize(Decimal(1).scaleb(-self.places)):
            self.data = None
            raise ValueError(f"Gebruik hoogstens {self.places} cijfers achter de komma.")
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        from babel.numbers import format_decimal

        # No thousands separator: "125.000" would read back as 125 with a decimal point.
        if self.data == self.data.to_integral_value():
            pattern = "0"
        else:
            pattern = "0." + "0" * min(2, self.places) + "#" * max(0, self.places - 2)
        return format_decimal(self.data, format=pattern, locale="nl_NL")


class SignInForm(StrictForm):
    email = EmailField("E-mailadres", validators=[DataRequired(REQUIRED)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField("Wachtwoord", validators=[DataRequired(REQUIRED)],
                             render_kw={"autocomplete": "current-password"})


class ForgotPasswordForm(StrictForm):
    email = EmailField("E-mailadres", validators=[DataRequired(REQUIRED), _valid_email],
                       render_kw={"autocomplete": "username"})


class NewPasswordForm(StrictForm):
    password = PasswordField("Nieuw wachtwoord", validators=[DataRequired(REQUIRED), _strong_password],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Herhaal het wachtwoord", validators=[
        DataRequired(REQUIRED), EqualTo("password", "De twee wachtwoorden zijn niet gelijk.")],
        render_kw={"autocomplete": "new-password"})


class ChooseMembershipForm(StrictForm):
    membership = SelectField("Organisatie", coerce=int, validators=[InputRequired(REQUIRED)],
                             validate_choice=True)


class OrganisationForm(StrictForm):
    name = StringField("Naam", validators=[DataRequired(REQUIRED), Length(max=200)])
    kind = SelectField("Soort organisatie", validators=[InputRequired(REQUIRED)])
    kvk_number = StringField("KvK-nummer", validators=[Optional(), Regexp(
        validators.KVK_PATTERN, message="Een KvK-nummer bestaat uit precies 8 cijfers.")],
        description="8 cijfers; verplicht voor zorgaanbieders.")
    agb_code = StringField("AGB-code", validators=[Optional(), Regexp(
        validators.AGB_PATTERN, message="Een AGB-code bestaat uit precies 8 cijfers.")],
        description="8 cijfers; verplicht voor zorgaanbieders.")
    residents = IntegerField("Aantal inwoners", validators=[Optional(), NumberRange(
        min=1, max=2_000_000, message="Vul een aantal inwoners tussen 1 en 2.000.000 in.")],
        description="Verplicht voor gemeenten; bepaalt de verdeelsleutel.")
    municipality_code = StringField("CBS-gemeentecode", validators=[Optional(), Regexp(
        validators.MUNICIPALITY_CODE_PATTERN, message="Een CBS-gemeentecode bestaat uit 4 cijfers.")],
        description="4 cijfers, bijvoorbeeld 0983; verplicht voor gemeenten.")
    is_active = BooleanField("Actief", default=True)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        kind = self.kind.data
        for field, message in validators.kind_requirements(kind, {
            "kvk_number": self.kvk_number.data, "agb_code": self.agb_code.data,
            "residents": self.residents.data, "municipality_code": self.municipality_code.data,
        }):
            getattr(self, field).errors = list(getattr(self, field).errors) + [message]
            ok = False
        return ok


class InviteForm(StrictForm):
    name = StringField("Naam", validators=[DataRequired(REQUIRED), Length(max=200)],
                       render_kw={"autocomplete": "off"})
    email = EmailField("E-mailadres", validators=[DataRequired(REQUIRED), _valid_email],
                       render_kw={"autocomplete": "off"})
    role = SelectField("Rol", validators=[InputRequired(REQUIRED)])


class RoleForm(StrictForm):
    role = SelectField("Rol", validators=[InputRequired(REQUIRED)])


class ConfirmForm(StrictForm):
    """A form with only its CSRF token: for buttons such as sign-out and deactivate."""


class ApiTokenForm(StrictForm):
    label = StringField("Omschrijving", validators=[DataRequired(REQUIRED), Length(max=200)],
                        description="Waarvoor gebruikt u deze sleutel? Bijvoorbeeld: koppeling met ons "
                                    "cliëntsysteem.", render_kw={"autocomplete": "off"})
