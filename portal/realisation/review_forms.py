"""The forms of the realisation review: approve or reject one report (each carrying the lock
version the page was made with) and the queue's bulk decision."""
from __future__ import annotations

from wtforms import HiddenField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Optional

from portal.forms import REQUIRED, StrictForm

REASON_HINT = "Minstens 10 tekens. De zorgaanbieder krijgt de reden te zien en baseert er de correctie op."


class ApproveForm(StrictForm):
    lock_version = HiddenField(validators=[InputRequired(REQUIRED)])


class RejectForm(StrictForm):
    lock_version = HiddenField(validators=[InputRequired(REQUIRED)])
    reason = TextAreaField("Reden van afwijzing", validators=[DataRequired(REQUIRED)], description=REASON_HINT)


class BulkForm(StrictForm):
    """Several reports at once. Each choice is "id:lock_version", so a report that changed after
    the queue was shown is left alone, as on its own page."""

    selected = SelectMultipleField("Rapportages", choices=[], validate_choice=False,
                                   validators=[DataRequired("Kies minstens één rapportage.")])
    action = SelectField("Beslissing", choices=[SelectChoice("approve", "Goedkeuren"),
                                                        SelectChoice("reject", "Afwijzen")],
                         validators=[InputRequired(REQUIRED)])
    reason = TextAreaField("Reden van afwijzing (alleen bij afwijzen)", validators=[Optional()],
                           description=REASON_HINT)
