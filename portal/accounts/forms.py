"""The forms of accounts: signing in, passwords, organisations, invitations, roles, API keys."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from portal import validators
from portal.accounts.passwords import password_problems
from portal.forms import REQUIRED, StrictForm


def _valid_email(_form, field):
    try:
        field.data = validate_email(field.data or "", check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationError("Vul een geldig e-mailadres in, bijvoorbeeld naam@organisatie.nl.") from None


def _strong_password(form, field):
    problems = password_problems(field.data or "", current_app.config["PASSWORD_MIN_LENGTH"],
                                 getattr(form, "_email", ""))
    if problems:
        raise ValidationError(" ".join(problems))


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


class ApiTokenForm(StrictForm):
    label = StringField("Omschrijving", validators=[DataRequired(REQUIRED), Length(max=200)],
                        description="Waarvoor gebruikt u deze sleutel? Bijvoorbeeld: koppeling met ons "
                                    "cliëntsysteem.", render_kw={"autocomplete": "off"})
