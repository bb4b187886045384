"""The base of every form of the portal: a CSRF token, refusing fields a form does not declare,
Dutch messages, and an amount field that reads Dutch decimals."""
from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal
from flask import request
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.meta import DefaultMeta

from portal.money import parse_amount

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


class AmountField(StringField):
    """A Decimal typed the Dutch way (1.234,56 or 1234,56 or 1234.56); never a float.

    ``places`` is the number of decimals allowed (2 for euros)."""

    def __init__(self, label=None, validators=None, places: int = 2, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.places = places
        self.data = None

    def process_formdata(self, valuelist):
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

        # No thousands separator: "125.000" would read back as 125 with a decimal point.
        if self.data == self.data.to_integral_value():
            pattern = "0"
        else:
            pattern = "0." + "0" * min(2, self.places) + "#" * max(0, self.places - 2)
        return format_decimal(self.data, format=pattern, locale="nl_NL")


class ConfirmForm(StrictForm):
    """A form with only its CSRF token: for buttons such as sign-out and deactivate."""
