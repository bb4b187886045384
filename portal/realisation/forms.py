"""Forms of the provider's realisation screens: the file upload and the web form with one row per
contracted trajectory. The web form's inputs are named ``regel-<n>-<column>``; the view knows the
columns of the chosen segment, so anything else is an unexpected field."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from flask_wtf.file import FileField
from wtforms import HiddenField

from portal.forms import StrictForm

ROW_FIELD = re.compile(r"^regel-(\d{1,4})-([a-z_]{1,40})$")
COUNT_LABELS = {"gestart": "Gestart", "lopend": "Lopend", "beeindigd": "Beëindigd", "clienten": "Cliënten"}
MAX_FORM_ROWS = 500


class UploadForm(StrictForm):
    bestand = FileField("Bestand met realisatie (CSV of Excel)",
                        description="Een CSV-bestand (puntkomma, komma of tab) of een Excel-werkmap (.xlsx), "
                                    "het liefst op basis van het sjabloon; of een iJw/iWmo-declaratiebericht "
                                    "(323, .xml).")


class RetryForm(StrictForm):
    """"Opnieuw proberen" on a failed upload: only the CSRF token."""


class RowsForm(StrictForm):
    """The web form: the chosen municipality, segment and period, plus the row inputs (which
    are checked by name against ``row_columns``)."""

    gemeente = HiddenField()
    segment = HiddenField()
    periode = HiddenField()
    rij = HiddenField()  # the row the validation endpoint re-renders

    row_columns: tuple[str, ...] = ()

    def unexpected_fields(self) -> list[str]:
        declared = {f.name for f in self}
        allowed = set(self.row_columns) | {"traject"}
        unexpected = []
        for name in super().unexpected_fields():
            match = ROW_FIELD.match(name)
            if name in declared or (match and match[2] in allowed and int(match[1]) < MAX_FORM_ROWS):
                continue
            unexpected.append(name)
        return unexpected


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    hint: str = ""
    decimal: bool = False


@dataclass
class FormRow:
    """One trajectory's row in the web form: what was typed and what the check said."""

    index: int
    code: str
    name: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    row_errors: list[str] = field(default_factory=list)
    value: Decimal | None = None
    warnings: tuple[str, ...] = ()

    @property
    def filled(self) -> bool:
        return any((v or "").strip() for v in self.values.values())

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.row_errors)


def form_columns(spec, basis: str, unit: str = "") -> list[Column]:
    """The number columns of the web form for a segment: the counts, then units (where the region
    pays by the unit) or place-days (where the municipality buys places), then the plugin's."""
    columns = [Column(name, label) for name, label in COUNT_LABELS.items()]
    if basis == "places":
        columns.append(Column("plekdagen", "Plekdagen"))
    elif basis == "units":
        columns.append(Column("eenheden", f"Eenheden{f' ({unit})' if unit else ''}", decimal=True))
    for extra in spec.fields:
        columns.append(Column(extra.name, extra.label, extra.help, decimal=extra.kind == "decimal"))
    return columns


def typed_values(data, index: int, columns: list[Column]) -> dict[str, str]:
    """What was typed in row ``index`` (text, at most 40 characters per cell)."""
    return {column.name: (data.get(f"regel-{index}-{column.name}") or "").strip()[:40] for column in columns}
