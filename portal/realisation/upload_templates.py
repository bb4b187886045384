"""Templates a provider downloads to report realisation per segment: CSV (";" and a UTF-8 BOM, so
Excel opens it in Dutch settings) and XLSX (with a sheet "Toelichting" explaining each column).
Each template has the core columns, the segment's plugin columns and one example row that passes
the checks: the provider's first contracted trajectory of the current period and a real
municipality of the region."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from portal.realisation.rules import Period

CORE_COLUMNS = ("gemeente", "segment", "periode", "traject", "gestart", "lopend", "beeindigd", "clienten",
                "eenheden", "plekdagen")

CORE_EXPLANATIONS = {
    "gemeente": "CBS-code van de gemeente (vier cijfers, bijvoorbeeld 0983) of de naam van de gemeente.",
    "segment": "Het segment, bijvoorbeeld {segment}. Eén bestand mag meerdere segmenten bevatten.",
    "periode": "De maand (2026-03) of het kwartaal (2026-K1), zoals de gemeente dat voor dit segment vraagt.",
    "traject": "De code van een traject uit uw contract voor het jaar van de periode, of van een goedgekeurd "
               "maatwerktraject.",
    "gestart": "Aantal trajecten dat in de periode is gestart (een heel getal, 0 of meer).",
    "lopend": "Aantal trajecten dat in de periode liep, de gestarte meegeteld.",
    "beeindigd": "Aantal trajecten dat in de periode is beëindigd.",
    "clienten": "Aantal verschillende cliënten in de periode.",
    "eenheden": "Geleverde eenheden (uren, dagen) met ten hoogste twee decimalen; verplicht waar de regio per "
                "eenheid betaalt, anders leeg laten.",
    "plekdagen": "Bezette plekdagen; alleen invullen waar de gemeente plekken koopt, anders leeg laten.",
}


@dataclass(frozen=True)
class SegmentTemplate:
    """What goes into one segment's template."""

    segment_key: str
    segment_label: str
    columns: tuple[str, ...]
    explanations: dict[str, str]
    example: dict[str, object]


def current_period(kind: str, today: date) -> Period:
    """The period that holds today (already begun, so the importer accepts it)."""
    if kind == "quarter":
        return Period(today.year, "quarter", (today.month - 1) // 3 + 1)
    return Period(today.year, "month", today.month)


def build_template(lookups, segment_key: str) -> SegmentTemplate:
    """The columns, their explanations and an example row for ``segment_key`` (``lookups`` is a
    :class:`portal.realisation.lookups.ProviderLookups`)."""
    spec = lookups.spec(segment_key)
    label = lookups.segment_label(segment_key)
    columns = CORE_COLUMNS + tuple(extra.name for extra in spec.fields)
    explanations = {name: text.format(segment=segment_key) for name, text in CORE_EXPLANATIONS.items()}
    for extra in spec.fields:
        text = extra.label + "." + (f" {extra.help}" if extra.help else "")
        text += " Verplicht (0 is ook een antwoord)." if extra.required else " Mag leeg blijven."
        explanations[extra.name] = text
    municipalities = lookups.municipalities()
    municipality = municipalities[0] if municipalities else None
    example: dict[str, object] = {name: None for name in columns}
    if municipality is not None:
        period = current_period(lookups.reporting_kind(municipality, segment_key), lookups.today)
        codes = lookups.trajectory_codes(segment_key, period)
        buys_places, _places = lookups.buys_places(municipality, segment_key, period.start)
        example.update({"gemeente": municipality.code, "segment": segment_key, "periode": period.code,
                        "traject": codes[0].code if codes else None,
                        "gestart": 1, "lopend": 2, "beeindigd": 0, "clienten": 2})
        if buys_places:
            example["plekdagen"] = 30
        elif spec.basis == "units":
            example["eenheden"] = 10
        for extra in spec.fields:
            if extra.required:
                example[extra.name] = int(extra.minimum) if extra.kind == "integer" else str(extra.minimum)
    return SegmentTemplate(segment_key, label, columns, explanations, example)


def template_csv(template: SegmentTemplate) -> bytes:
    """The template as CSV: UTF-8 with BOM, ";" between columns, the header and the example row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(template.columns)
    writer.writerow(["" if template.example.get(name) is None else template.example[name]
                     for name in template.columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(template: SegmentTemplate) -> bytes:
    """The template as an Excel workbook: sheet "Realisatie" (header, example row; the code and
    period cells of the example written as text, so Excel keeps 0983 and 2026-03) and sheet
    "Toelichting". (The reader also takes 983 for 0983 and a date for a month.)"""
    book = Workbook()
    sheet = book.active
    sheet.title = "Realisatie"
    sheet.append(list(template.columns))
    sheet.append([template.example.get(name) for name in template.columns])
    for index, name in enumerate(template.columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = max(12, len(name) + 4)
        if name in ("gemeente", "segment", "periode", "traject"):
            sheet.cell(row=2, column=index).number_format = "@"
    sheet.freeze_panes = "A2"

    notes = book.create_sheet("Toelichting")
    notes.append(["Kolom", "Toelichting"])
    notes["A1"].font = notes["B1"].font = Font(bold=True)
    notes.append(["", f"Sjabloon voor realisatie in {template.segment_label}. Regel 2 van het blad "
                      f"'Realisatie' is een voorbeeld: vervang die door uw eigen regels. Eén regel per "
                      f"gemeente, segment, periode en traject."])
    for name in template.columns:
        notes.append([name, template.explanations.get(name, "")])
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["B"].width = 100
    for row in notes.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
