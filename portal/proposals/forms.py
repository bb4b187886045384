"""The forms of the custom trajectory proposals (maatwerk): a proposal's parameters (with the fields
the segment's plugin adds), the negotiation steps, attachments and the review queue's bulk action."""
from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms import REQUIRED, AmountField, StrictForm

EXTRA_PREFIX = "extra_"
PERIODS = [("week", "per week"), ("month", "per maand")]


class LockedForm(StrictForm):
    """A step on an existing proposal: carries the lock version the page was made with."""

    lock_version = HiddenField(validators=[InputRequired(REQUIRED)])
    proposal_id = HiddenField()  # lets the live price preview find the proposal; not used on save

    def lock(self) -> int:
        try:
            return int(self.lock_version.data)
        except (TypeError, ValueError):
            return -1


class ValuesMixin:
    intensity = AmountField("Intensiteit", validators=[InputRequired(REQUIRED)],
                            description="Contactmomenten of uren per periode, bijvoorbeeld 2,5.")
    intensity_period = SelectField("Per", choices=PERIODS, validators=[InputRequired(REQUIRED)])
    duration_months = IntegerField("Doorlooptijd (maanden)", validators=[
        InputRequired("Vul een doorlooptijd in hele maanden in."), NumberRange(min=1, max=120)])
    expected_per_year = IntegerField("Verwacht aantal trajecten per jaar", validators=[
        InputRequired("Vul het verwachte aantal trajecten per jaar in."),
        NumberRange(min=1, max=100000, message="Vul minstens 1 traject per jaar in.")])

    extra_fields: tuple = ()

    def extra_form_fields(self):
        return [getattr(self, EXTRA_PREFIX + extra.name) for extra in self.extra_fields]

    def values(self) -> dict:
        return {
            "intensity": self.intensity.data,
            "intensity_period": self.intensity_period.data,
            "duration_months": self.duration_months.data,
            "expected_per_year": self.expected_per_year.data,
            "extra": {extra.name: (getattr(self, EXTRA_PREFIX + extra.name).data or "").strip()
                      for extra in self.extra_fields},
            "substantiation": (getattr(self, "substantiation", None).data or "").strip()
            if hasattr(self, "substantiation") else "",
        }


class ProposalForm(ValuesMixin, StrictForm):
    """A new proposal from a standard trajectory."""

    standard_trajectory_id = SelectField("Standaardtraject", coerce=int,
                                         validators=[DataRequired("Kies een standaardtraject.")])
    title = StringField("Titel", validators=[DataRequired(REQUIRED), Length(max=200)],
                        description="Een korte naam, bijvoorbeeld 'Intensieve begeleiding, langere duur'.")
    substantiation = TextAreaField("Onderbouwing", validators=[Optional()],
                                   description="Waarom moeten doorlooptijd of intensiteit in uw situatie afwijken?")
    attachment = FileField("Bijlage (PDF, XLSX of DOCX, optioneel)")
    submission_key = HiddenField()
    action = StringField()  # which button: "concept" or "indienen"


class ValuesForm(ValuesMixin, LockedForm):
    """Change the parameters: edit a draft, or revise after a counter-proposal (provider)."""

    substantiation = TextAreaField("Onderbouwing", validators=[Optional()])


class CounterForm(ValuesMixin, LockedForm):
    """A contract manager's counter-proposal: changed parameters and a comment."""

    comment = TextAreaField("Toelichting bij het tegenvoorstel", validators=[Optional()])

    def values(self) -> dict:
        values = super().values()
        values["comment"] = (self.comment.data or "").strip()
        return values


class RejectForm(LockedForm):
    reason = TextAreaField("Reden van afwijzing", validators=[Optional()])


class AttachmentForm(StrictForm):
    attachment = FileField("Bijlage toevoegen (PDF, XLSX of DOCX)")


class BulkRejectForm(StrictForm):
    """Reject several proposals with one reason. Each choice is "id:lock_version", so a proposal
    that changed after the queue was shown is refused like on its own page."""

    selected = SelectMultipleField("Voorstellen", choices=[], validate_choice=False,
                                   validators=[DataRequired("Kies minstens één voorstel.")])
    reason = TextAreaField("Reden van afwijzing", validators=[DataRequired(REQUIRED)])


def with_extra_fields(form_class, extra_fields):
    """``form_class`` with the text inputs a segment's plugin adds (named ``extra_<name>``)."""
    if not extra_fields:
        return form_class
    attributes = {"extra_fields": tuple(extra_fields)}
    for extra in extra_fields:
        attributes[EXTRA_PREFIX + extra.name] = StringField(
            extra.label, validators=[Optional()], description=getattr(extra, "help", "") or None)
    return type(form_class.__name__ + "WithExtra", (form_class,), attributes)
