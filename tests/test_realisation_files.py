"""Reading realisation files: encodings, delimiters, what is refused (fakes, bombs, huge cells,
too many rows or columns), Excel dates, and streaming at constant memory."""
from __future__ import annotations

import io
import shutil
import tracemalloc
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from portal.realisation import files as realisation_files
from portal.realisation.files import MAX_CELL_BYTES, FileRefused, open_table, sniff
from portal.realisation.rules import check_row

HEADER = ["gemeente", "segment", "periode", "traject", "gestart", "lopend", "beeindigd", "clienten"]


def write(tmp_path: Path, name: str, content: bytes | str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def rows_of(path: Path, name: str | None = None) -> list[tuple[int, dict]]:
    return list(open_table(path, name or path.name).rows())


def refused(path: Path, name: str | None = None) -> str:
    with pytest.raises(FileRefused) as caught:
        table = open_table(path, name or path.name)
        list(table.rows())
    assert caught.value.message == str(caught.value)
    return caught.value.message


def xlsx(tmp_path: Path, rows: list[list], name: str = "realisatie.xlsx") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


# --- CSV: encodings and delimiters --------------------------------------------------------------


def test_csv_utf8_with_bom(tmp_path):
    path = write(tmp_path, "r.csv", "\ufeffGemeente;Segment;Periode;Traject;Cliënten\r\nVenlo;jeugd.S4;2026-03;S4-BEG-6;3\r\n")
    table = open_table(path, "r.csv")
    assert table.header == ["Gemeente", "Segment", "Periode", "Traject", "Cliënten"]
    assert table.encoding == "utf-8-sig"
    assert list(table.rows()) == [(2, {"gemeente": "Venlo", "segment": "jeugd.S4", "periode": "2026-03",
                                       "traject": "S4-BEG-6", "clienten": "3"})]


def test_csv_utf8_without_bom(tmp_path):
    path = write(tmp_path, "r.csv", "gemeente;traject\nBergen (L);Één\n")
    assert rows_of(path) == [(2, {"gemeente": "Bergen (L)", "traject": "Één"})]


def test_csv_windows_1252(tmp_path):
    path = write(tmp_path, "r.csv", "Gemeente;Beëindigd;Traject\nVenlo;2;Café é ë\n", encoding="cp1252")
    table = open_table(path, "r.csv")
    assert table.encoding == "cp1252"
    assert table.header == ["Gemeente", "Beëindigd", "Traject"]
    assert list(table.rows()) == [(2, {"gemeente": "Venlo", "beeindigd": "2", "traject": "Café é ë"})]


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_csv_delimiters(tmp_path, delimiter):
    text = delimiter.join(HEADER) + "\n" + delimiter.join(["0983", "jeugd.S4", "2026-03", "S4-BEG-6", "1", "2", "0",
                                                             "2"]) + "\n"
    path = write(tmp_path, "r.csv", text)
    assert rows_of(path) == [(2, dict(zip(HEADER, ["0983", "jeugd.S4", "2026-03", "S4-BEG-6", "1", "2", "0", "2"])))]


def test_csv_quoted_field_with_embedded_delimiter_and_newline(tmp_path):
    """Rows are numbered as a spreadsheet shows them: a cell spanning two lines is one row."""
    path = write(tmp_path, "r.csv", 'gemeente;traject;opmerking\n"Venlo";"A;B";"een\nregel"\nBeesel;C;\n')
    assert rows_of(path) == [(2, {"gemeente": "Venlo", "traject": "A;B", "opmerking": "een\nregel"}),
                             (3, {"gemeente": "Beesel", "traject": "C", "opmerking": ""})]


def test_blank_lines_are_skipped_and_row_numbers_are_file_lines(tmp_path):
    path = write(tmp_path, "r.csv", "gemeente;traject\n\nVenlo;A\n;\nBeesel;B\n")
    assert [number for number, _ in rows_of(path)] == [3, 5]


def test_cells_beyond_the_header_are_kept_under_a_column_number(tmp_path):
    path = write(tmp_path, "r.csv", "gemeente;traject\nVenlo;A;extra\n")
    assert rows_of(path) == [(2, {"gemeente": "Venlo", "traject": "A", "kolom 3": "extra"})]


# --- Refused: empty, fakes, unknown kinds ---------------------------------------------------------


def test_empty_file(tmp_path):
    assert refused(write(tmp_path, "r.csv", b"")) == "Het bestand is leeg."


def test_whitespace_only_file(tmp_path):
    assert refused(write(tmp_path, "r.csv", b"  \r\n\t\n   \n")) == "Het bestand is leeg."


def test_header_only_file_has_no_rows(tmp_path):
    path = write(tmp_path, "r.csv", ";".join(HEADER) + "\n")
    table = open_table(path, "r.csv")
    assert table.header == HEADER
    assert list(table.rows()) == []


def test_header_without_delimiter_is_refused(tmp_path):
    assert refused(write(tmp_path, "r.csv", "gewoon wat tekst\nnog meer\n")) == (
        "De kopregel heeft geen kolommen gescheiden door een puntkomma, komma of tab.")


def test_csv_that_is_really_a_zip(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "gemeente;segment\n")
    assert refused(write(tmp_path, "r.csv", buffer.getvalue())) == (
        "Dit bestand heet .csv maar is geen tekstbestand met kolommen.")


def test_csv_that_is_really_a_pdf(tmp_path):
    assert refused(write(tmp_path, "r.csv", b"%PDF-1.7\n1 0 obj << >> endobj\n")) == (
        "Dit bestand heet .csv maar is geen tekstbestand met kolommen.")


def test_csv_with_binary_bytes(tmp_path):
    assert refused(write(tmp_path, "r.csv", b"gemeente;segment\n\x00\x01\x02\n")) == (
        "Dit bestand heet .csv maar is geen tekstbestand met kolommen.")


def test_xlsx_that_is_really_text(tmp_path):
    assert refused(write(tmp_path, "r.xlsx", "gemeente;segment\nVenlo;jeugd.S4\n")) == (
        "Dit bestand heet .xlsx maar is geen Excel-werkmap (XLSX).")


def test_xlsx_that_is_a_zip_but_no_workbook(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert refused(write(tmp_path, "r.xlsx", buffer.getvalue())) == (
        "Dit bestand heet .xlsx maar is geen Excel-werkmap (XLSX).")


@pytest.mark.parametrize("name", ["r.pdf", "r.xls", "r", "r.docx"])
def test_other_file_kinds_are_refused(tmp_path, name):
    path = write(tmp_path, "upload", ";".join(HEADER) + "\n")
    assert refused(path, name) == ("Kies een CSV- of XLSX-bestand (het sjabloon kunt u hieronder downloaden) of een "
                                   "323-declaratiebericht (XML).")


def test_sniff_names_the_kind(tmp_path):
    assert sniff(write(tmp_path, "a", "a;b\n"), "R.CSV") == "csv"
    assert sniff(xlsx(tmp_path, [HEADER]), "r.XLSX") == "xlsx"


# --- XLSX ---------------------------------------------------------------------------------------


def test_xlsx_rows_and_numbers(tmp_path):
    path = xlsx(tmp_path, [["Gemeente", "Segment", "Periode", "Traject", "Gestart", "Eenheden"],
                           ["0983", "jeugd.S4", "2026-03", "S4-BEG-6", 2, 12.5],
                           [None, None, None, None, None, None],
                           ["0889", "jeugd.S4", "2026-K1", "S4-BEG-6", 0, None]])
    table = open_table(path, "r.xlsx")
    assert table.kind == "xlsx" and table.approx_rows == 3
    assert list(table.rows()) == [
        (2, {"gemeente": "0983", "segment": "jeugd.S4", "periode": "2026-03", "traject": "S4-BEG-6", "gestart": 2,
             "eenheden": 12.5}),
        (4, {"gemeente": "0889", "segment": "jeugd.S4", "periode": "2026-K1", "traject": "S4-BEG-6", "gestart": 0,
             "eenheden": None}),
    ]


def test_excel_dates_in_the_period_column_become_year_month(tmp_path):
    path = xlsx(tmp_path, [["gemeente", "periode"], ["Venlo", datetime(2026, 3, 1)], ["Venlo", date(2025, 11, 1)]])
    assert [row["periode"] for _, row in rows_of(path)] == ["2026-03", "2025-11"]


def test_xlsx_formula_cell_reaches_the_rules_as_a_formula_and_the_row_is_refused(tmp_path):
    path = xlsx(tmp_path, [HEADER, ["0983", "jeugd.S4", "2026-03", "S4-BEG-6", "=SUM(1,2)", 5, 0, 3]])
    [(number, row)] = rows_of(path)
    assert row["gestart"] == "=SUM(1,2)"
    _valued, errors = check_row(number, row, lookups=None)  # refused before any lookup is needed
    assert [(e.row, e.column, e.message) for e in errors] == [
        (2, "gestart", "Een formule wordt niet ingelezen: zet de waarde zelf in de cel.")]


def _zip_bomb(path: Path, member_bytes: int) -> None:
    """A zip named .xlsx with the parts of a workbook and one member of zeros that packs to ~1/1000."""
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(member_bytes // len(chunk)):
                member.write(chunk)


def test_zip_bomb_is_refused_before_openpyxl_opens_it(tmp_path, monkeypatch):
    path = tmp_path / "bom.xlsx"
    _zip_bomb(path, 300 * 1024 * 1024)
    assert path.stat().st_size < 2_000_000

    def must_not_open(*args, **kwargs):
        raise AssertionError("openpyxl opened a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", must_not_open)
    assert refused(path) == "De Excel-werkmap is uitgepakt te groot (meer dan 200 MB) en wordt niet geopend."


def test_tightly_packed_member_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "bom.xlsx"
    _zip_bomb(path, 20 * 1024 * 1024)  # under the size limit, but packed ~1000:1
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("opened"))
    assert refused(path) == ("De Excel-werkmap is verdacht sterk gecomprimeerd (mogelijk een 'zip-bom') en wordt "
                             "niet geopend.")


def test_zip_with_too_many_members_is_refused(tmp_path):
    path = tmp_path / "veel.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for index in range(realisation_files.MAX_ZIP_MEMBERS):
            archive.writestr(f"xl/x{index}.xml", "<x/>")
    assert refused(path) == "De Excel-werkmap bestaat uit verdacht veel delen en wordt niet geopend."


def _replace_member(path: Path, name: str, content: bytes) -> None:
    source = path.with_suffix(".orig")
    shutil.move(path, source)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            new.writestr(item, content if item.filename == name else old.read(item.filename))


BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE worksheet [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>gemeente</t></is></c></row>
<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>
</sheetData></worksheet>"""


def test_billion_laughs_in_a_sheet_is_refused_not_expanded(tmp_path):
    path = xlsx(tmp_path, [["gemeente"], ["Venlo"]])
    _replace_member(path, "xl/worksheets/sheet1.xml", BILLION_LAUGHS)
    tracemalloc.start()
    try:
        message = refused(path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message.startswith("De Excel-werkmap kan niet worden gelezen")
    assert peak < 20_000_000  # 10⁹ "lol"s were never built


def test_external_entity_in_workbook_is_refused(tmp_path):
    path = xlsx(tmp_path, [["gemeente"], ["Venlo"]])
    secret = tmp_path / "geheim.txt"
    secret.write_text("GEHEIM")
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml")
    assert workbook.startswith(b"<workbook")
    evil = (f'<?xml version="1.0"?><!DOCTYPE workbook [<!ENTITY x SYSTEM "file://{secret}">]>'.encode()
            + workbook.replace(b"<workbookPr", b"<definedNames><definedName name='g'>&x;</definedName></definedNames>"
                               b"<workbookPr", 1))
    _replace_member(path, "xl/workbook.xml", evil)
    assert refused(path).startswith("De Excel-werkmap kan niet worden gelezen")


def test_xlsx_broken_halfway_is_refused_not_a_crash(tmp_path):
    path = xlsx(tmp_path, [["gemeente", "traject"]] + [["Venlo", index] for index in range(50)])
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    _replace_member(path, "xl/worksheets/sheet1.xml", sheet[:len(sheet) // 2] + b"<<<kapot")
    table = open_table(path, "r.xlsx")  # the start of the sheet is fine
    with pytest.raises(FileRefused, match="De Excel-werkmap kan niet worden gelezen: ParseError."):
        list(table.rows())


def test_broken_xlsx_is_refused(tmp_path):
    path = xlsx(tmp_path, [["gemeente"], ["Venlo"]])
    _replace_member(path, "xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row><c>")
    assert refused(path).startswith("De Excel-werkmap kan niet worden gelezen")


# --- Limits ---------------------------------------------------------------------------------------


def test_csv_cell_larger_than_the_limit_is_refused(tmp_path):
    path = write(tmp_path, "r.csv", "gemeente;traject\nVenlo;" + "x" * (MAX_CELL_BYTES + 1) + "\n")
    assert refused(path) == (f"Regel 2 heeft een cel van meer dan {MAX_CELL_BYTES} tekens of een onafgesloten "
                             f"aanhalingsteken.")


def test_csv_unclosed_quote_is_refused(tmp_path):
    path = write(tmp_path, "r.csv", 'gemeente;traject\nVenlo;"open\n' + ("x;y\n" * 5000))
    assert "onafgesloten aanhalingsteken" in refused(path)


def test_xlsx_cell_larger_than_the_limit_is_cut_and_refused_by_the_rules(tmp_path):
    path = xlsx(tmp_path, [HEADER, ["0983", "jeugd.S4", "2026-03", "y" * (MAX_CELL_BYTES * 3), 1, 1, 0, 1]])
    [(number, row)] = rows_of(path)
    assert len(row["traject"]) <= MAX_CELL_BYTES
    _valued, errors = check_row(number, row, lookups=None)
    assert [(e.column, e.message[:20]) for e in errors] == [("traject", "De cel is te lang (1")]


def test_more_rows_than_allowed(tmp_path, monkeypatch):
    monkeypatch.setattr(realisation_files, "MAX_ROWS", 5)
    path = write(tmp_path, "r.csv", "gemeente;traject\n" + "Venlo;A\n" * 5)
    assert len(rows_of(path)) == 5
    path = write(tmp_path, "r.csv", "gemeente;traject\n" + "Venlo;A\n" * 6)
    assert refused(path) == "Het bestand heeft meer dan 5 regels; splits het."
    monkeypatch.setattr(realisation_files, "MAX_ROWS", 200_000)
    assert realisation_files.MAX_ROWS == 200_000


def test_more_rows_than_allowed_in_xlsx(tmp_path, monkeypatch):
    monkeypatch.setattr(realisation_files, "MAX_ROWS", 3)
    path = xlsx(tmp_path, [["gemeente", "traject"]] + [["Venlo", "A"]] * 4)
    assert refused(path) == "Het bestand heeft meer dan 3 regels; splits het."


def test_max_rows_message_groups_thousands_the_dutch_way(tmp_path, monkeypatch):
    monkeypatch.setattr(realisation_files, "MAX_ROWS", 1000)
    path = write(tmp_path, "r.csv", "gemeente;traject\n" + "Venlo;A\n" * 1001)
    assert refused(path) == "Het bestand heeft meer dan 1.000 regels; splits het."


def test_more_columns_than_allowed(tmp_path):
    limit = realisation_files.MAX_COLUMNS
    path = write(tmp_path, "r.csv", ";".join(f"k{i}" for i in range(limit + 1)) + "\n")
    assert refused(path) == f"Regel 1 heeft meer dan {limit} kolommen."
    path = write(tmp_path, "ok.csv", ";".join(f"k{i}" for i in range(limit)) + "\n")
    assert len(open_table(path, "ok.csv").header) == limit


def test_more_columns_than_allowed_in_a_csv_row(tmp_path):
    limit = realisation_files.MAX_COLUMNS
    path = write(tmp_path, "r.csv", "gemeente;traject\nVenlo;A\n" + ";".join(["x"] * (limit + 1)) + "\n")
    assert refused(path) == f"Regel 3 heeft meer dan {limit} kolommen."


def test_more_columns_than_allowed_in_xlsx(tmp_path):
    limit = realisation_files.MAX_COLUMNS
    path = xlsx(tmp_path, [[f"k{i}" for i in range(limit + 5)]])
    assert refused(path) == f"Regel 1 heeft meer dan {limit} kolommen."
    path = xlsx(tmp_path, [["gemeente", "traject"], ["Venlo", "A"] + [None] * limit + ["laat"]])
    assert refused(path) == f"Regel 2 heeft meer dan {limit} kolommen."


# --- Streaming ------------------------------------------------------------------------------------


def test_a_100000_row_csv_streams_at_constant_memory(tmp_path):
    path = tmp_path / "groot.csv"
    line = "0983;jeugd.S4;2026-03;S4-BEG-6;1;2;0;2\n"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(";".join(HEADER) + "\n")
        for _ in range(100_000):
            handle.write(line)
    size = path.stat().st_size
    assert size > 3_500_000
    tracemalloc.start()
    try:
        table = open_table(path, "groot.csv")
        count = 0
        for number, row in table.rows():
            count += 1
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000 and number == 100_001 and row["traject"] == "S4-BEG-6"
    assert table.approx_rows == 100_001
    # 100,000 row dicts held at once would take well over 50 MB; streaming keeps a few blocks.
    assert peak < 10 * 1024 * 1024, peak
    assert peak < size


# --- Export: what the portal writes back (error reports) is never a formula ---------------------


@pytest.mark.parametrize("cell", ["=SUM(1,2)", "+31 6 1234", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_exported_cells_that_a_spreadsheet_would_run_are_neutralised(cell):
    from portal.formatting import neutralise

    assert neutralise(cell) == "'" + cell
    assert neutralise("Venlo") == "Venlo" and neutralise("") == ""
