"""Templates a provider downloads to report realisation per segment: CSV (";" and a UTF-8 BOM, so
Excel opens it in Dutch settings) and XLSX (with a sheet "Toelichting" explaining each column and a
sheet "Codes" with what every code means).

A template comes pre-filled with the provider's own rows for the current period: one per
municipality of the region and trajectory it may report, with the Dutch names beside the codes
(``gemeentenaam``, ``trajectnaam``; the importer reads past them) and the figures left blank. The
provider fills in the rows it has something to report for; a row left without figures is skipped.
Without any trajectory to offer, the template holds one example row instead."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from portal.realisation.rules import Period

CORE_COLUMNS = ("gemeente", "gemeentenaam", "segment", "periode", "traject", "trajectnaam", "gestart", "lopend",
                "beeindigd", "clienten", "eenheden", "plekdagen")
CODE_COLUMNS = ("gemeente", "segment", "periode", "traject")

CORE_EXPLANATIONS = {
    "gemeente": "CBS-code van de gemeente (vier cijfers, bijvoorbeeld 0983) of de naam van de gemeente.",
    "gemeentenaam": "De naam van de gemeente, ter informatie; het portaal leest de code.",
    "trajectnaam": "De naam van het traject, ter informatie; het portaal leest de code.",
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
    example: dict[str, object]  # a filled-in row, shown in the explanation (and the data when rows is empty)
    rows: tuple[dict[str, object], ...] = ()  # the provider's own rows, figures blank
    municipalities: tuple[tuple[str, str], ...] = ()  # (CBS code, name), for the sheet "Codes"
    trajectories: tuple[tuple[str, str], ...] = ()  # (code, name)

    @property
    def data_rows(self) -> tuple[dict[str, object], ...]:
        return self.rows or (self.example,)


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
    rows: list[dict[str, object]] = []
    named_codes: dict[str, str] = {}
    for each in municipalities:
        period = current_period(lookups.reporting_kind(each, segment_key), lookups.today)
        for trajectory in lookups.trajectory_codes(segment_key, period):
            named_codes[trajectory.code] = trajectory.name
            rows.append({**{name: None for name in columns}, "gemeente": each.code, "gemeentenaam": each.name,
                         "segment": segment_key, "periode": period.code, "traject": trajectory.code,
                         "trajectnaam": trajectory.name})
    if municipality is not None:
        period = current_period(lookups.reporting_kind(municipality, segment_key), lookups.today)
        codes = lookups.trajectory_codes(segment_key, period)
        buys_places, _places = lookups.buys_places(municipality, segment_key, period.start)
        example.update({"gemeente": municipality.code, "gemeentenaam": municipality.name, "segment": segment_key,
                        "periode": period.code, "traject": codes[0].code if codes else None,
                        "trajectnaam": codes[0].name if codes else None,
                        "gestart": 1, "lopend": 2, "beeindigd": 0, "clienten": 2})
        if buys_places:
            example["plekdagen"] = 30
        elif spec.basis == "units":
            example["eenheden"] = 10
        for extra in spec.fields:
            if extra.required:
                example[extra.name] = int(extra.minimum) if extra.kind == "integer" else str(extra.minimum)
    return SegmentTemplate(segment_key, label, columns, explanations, example, tuple(rows),
                           tuple((m.code, m.name) for m in municipalities), tuple(sorted(named_codes.items())))


def template_csv(template: SegmentTemplate) -> bytes:
    """The template as CSV: UTF-8 with BOM, ";" between columns, the header and the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(template.columns)
    for row in template.data_rows:
        writer.writerow(["" if row.get(name) is None else row[name] for name in template.columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(template: SegmentTemplate) -> bytes:
    """The template as an Excel workbook: sheet "Realisatie" (header, example row; the code and
    period cells of the example written as text, so Excel keeps 0983 and 2026-03) and sheet
    "Toelichting". (The reader also takes 983 for 0983 and a date for a month.)"""
    book = Workbook()
    sheet = book.active
    sheet.title = "Realisatie"
    sheet.append(list(template.columns))
    for row in template.data_rows:
        sheet.append([row.get(name) for name in template.columns])
    for index, name in enumerate(template.columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        letter = cell.column_letter
        widest = max((len(str(row.get(name) or "")) for row in template.data_rows), default=0)
        sheet.column_dimensions[letter].width = min(40, max(12, len(name) + 4, widest + 2))
        if name in CODE_COLUMNS:
            for number in range(2, len(template.data_rows) + 2):
                sheet.cell(row=number, column=index).number_format = "@"
    sheet.freeze_panes = "A2"

    notes = book.create_sheet("Toelichting")
    notes.append(["Kolom", "Toelichting"])
    notes["A1"].font = notes["B1"].font = Font(bold=True)
    if template.rows:
        intro = (f"Sjabloon voor realisatie in {template.segment_label}, vooraf ingevuld met uw eigen regels: één "
                 f"per gemeente en traject. Vul de aantallen in waar u iets te melden hebt; een regel zonder "
                 f"aantallen wordt overgeslagen. Wat de codes betekenen, staat op het blad 'Codes'.")
    else:
        intro = (f"Sjabloon voor realisatie in {template.segment_label}. Regel 2 van het blad 'Realisatie' is "
                 f"een voorbeeld: vervang die door uw eigen regels. Eén regel per gemeente, segment, periode "
                 f"en traject.")
    notes.append(["", intro])
    for name in template.columns:
        notes.append([name, template.explanations.get(name, "")])
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["B"].width = 100
    for row in notes.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")

    codes = book.create_sheet("Codes")
    codes.append(["Code", "Betekenis"])
    codes["A1"].font = codes["B1"].font = Font(bold=True)
    codes.append([template.segment_key, f"Segment: {template.segment_label}"])
    for code, name in template.municipalities:
        codes.append([code, f"Gemeente {name}"])
    for code, name in template.trajectories:
        codes.append([code, f"Traject: {name}"])
    period = str(template.data_rows[0].get("periode") or "")
    codes.append([period, "Periode: een maand als jaar-maand (bijvoorbeeld 2026-03) of een kwartaal als "
                          "jaar-K en het nummer (2026-K1 is het eerste kwartaal van 2026)."])
    codes.column_dimensions["A"].width = 16
    codes.column_dimensions["B"].width = 80
    for row in codes.iter_rows(min_row=2):
        row[0].number_format = "@"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
