"""Reading realisation files safely and row by row: CSV (UTF-8 or Windows-1252, comma, semicolon
or tab) and XLSX (first sheet). Nothing here holds a whole file in memory: rows are yielded one at a
time, so a file can be read twice (check, then store) at constant memory.

What is refused, with a Dutch message (:class:`FileRefused`): a file whose content is not what
its name says, an empty file, a zip bomb (too many parts, too large unpacked, or packed too
tightly), more than ``MAX_ROWS`` rows or ``MAX_COLUMNS`` columns, and a cell larger than
``MAX_CELL_BYTES``. XLSX is parsed through defusedxml (openpyxl uses it when installed), which
refuses entity expansion and external entities.
"""
from __future__ import annotations

import codecs
import csv
import zipfile
from contextlib import contextmanager
from datetime import date, datetime
from itertools import chain, islice
from pathlib import Path
from typing import Any, Iterator

import openpyxl

from portal.realisation.blocks import Block
from portal.realisation.rules import column_key

MAX_ROWS = 200_000
MAX_COLUMNS = 40
MAX_CELL_BYTES = 10_000
MAX_ZIP_MEMBERS = 200
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_PACK_RATIO = 200
CSV_DELIMITERS = (";", ",", "\t")


class FileRefused(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def sniff(path: Path, original_name: str) -> str:
    """The file's format from its content ("csv", "xlsx" or "323" for an iJw/iWmo declaration
    message), checked against its name."""
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if not head.strip():
        raise FileRefused("Het bestand is leeg.")
    suffix = Path(original_name or "").suffix.lower()
    is_zip = head.startswith(b"PK\x03\x04")
    if suffix == ".xlsx":
        if not is_zip or not _is_xlsx(path):
            raise FileRefused("Dit bestand heet .xlsx maar is geen Excel-werkmap (XLSX).")
        return "xlsx"
    if suffix in (".csv", ".txt"):
        if is_zip or b"\x00" in head or head.startswith(b"%PDF"):
            raise FileRefused("Dit bestand heet .csv maar is geen tekstbestand met kolommen.")
        return "csv"
    if suffix == ".xml":
        if b"323/schema" not in head or b"Bericht" not in head:
            raise FileRefused("Dit XML-bestand is geen iJw- of iWmo-declaratiebericht (323).")
        return "323"
    raise FileRefused("Kies een CSV- of XLSX-bestand (het sjabloon kunt u hieronder downloaden) of een "
                      "323-declaratiebericht (XML).")


def _is_xlsx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return False
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names


def check_zip(path: Path) -> None:
    """Refuse a zip bomb before openpyxl unpacks anything."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise FileRefused("De Excel-werkmap is beschadigd.") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise FileRefused("De Excel-werkmap bestaat uit verdacht veel delen en wordt niet geopend.")
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileRefused("De Excel-werkmap is uitgepakt te groot (meer dan 200 MB) en wordt niet geopend.")
    for member in members:
        if member.file_size > 1_000_000 and member.file_size > MAX_PACK_RATIO * max(member.compress_size, 1):
            raise FileRefused("De Excel-werkmap is verdacht sterk gecomprimeerd (mogelijk een 'zip-bom') en "
                              "wordt niet geopend.")


def csv_encoding(path: Path) -> tuple[str, int]:
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8, else Windows-1252; and
    the number of lines (for the progress bar). Reads the file once, in blocks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    lines = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
            if b"\x00" in block:
                raise FileRefused("Dit bestand is geen tekstbestand met kolommen.")
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        return "utf-8-sig", lines
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                block.decode("cp1252")
    except UnicodeDecodeError:
        raise FileRefused("De tekens in dit bestand zijn niet te lezen: sla het op als CSV in UTF-8.") from None
    return "cp1252", lines


def _delimiter(first_line: str) -> str:
    counts = {delimiter: first_line.count(delimiter) for delimiter in CSV_DELIMITERS}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        raise FileRefused("De kopregel heeft geen kolommen gescheiden door een puntkomma, komma of tab.")
    return best


_SHORT_CELL = MAX_CELL_BYTES // 4


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value.year}-{value.month:02d}"  # a period typed as 2026-03 that Excel made a date
    if isinstance(value, str):
        if len(value.encode("utf-8", "ignore")) > MAX_CELL_BYTES:
            return value[:MAX_CELL_BYTES]
        return value.strip()
    return value


class Table:
    """A realisation file opened for reading: ``header`` and a fresh ``rows()`` iterator of
    ``(row number, {column: value})`` each time it is called. ``approx_rows`` for progress."""

    def __init__(self, path: Path, kind: str):
        self.path = Path(path)
        self.kind = kind
        if kind == "xlsx":
            check_zip(self.path)
            self.encoding, self.approx_rows = None, self._xlsx_rows()
        else:
            self.encoding, self.approx_rows = csv_encoding(self.path)
        self.header = [str(h if h is not None else "").strip() for h in self._raw_header()]
        if not any(self.header):
            raise FileRefused("Het bestand is leeg: er staat geen kopregel in.")
        if len(self.header) > MAX_COLUMNS:
            raise FileRefused(f"Het bestand heeft meer dan {MAX_COLUMNS} kolommen. Gebruik het sjabloon.")

    def _xlsx_book(self):
        # Opened as a file object: openpyxl refuses a path without an .xlsx suffix, and uploads
        # are stored under a generated name. Closing the book closes the file as well.
        handle = open(self.path, "rb")
        try:
            book = openpyxl.load_workbook(handle, read_only=True, data_only=False)
        except Exception as problem:  # openpyxl raises many kinds; defusedxml raises its own
            handle.close()
            raise FileRefused("De Excel-werkmap kan niet worden gelezen: "
                              f"{type(problem).__name__}.") from None
        close_book = book.close

        def close() -> None:
            try:
                close_book()
            finally:
                handle.close()

        book.close = close
        return book

    def _xlsx_rows(self) -> int:
        book = self._xlsx_book()
        try:
            sheet = book.worksheets[0]
            return max((sheet.max_row or 1) - 1, 0)
        finally:
            book.close()

    def _raw_header(self) -> list:
        for _number, cells in self._raw_rows():
            return list(cells)
        return []

    def _raw_rows(self, plain: bool = False) -> Iterator[tuple[int, list]]:
        """Every row as its cells, numbered as a spreadsheet shows them; CSV cells stripped and cut
        to the byte limit, or (``plain``) as the reader gives them."""
        if self.kind == "xlsx":
            book = self._xlsx_book()
            try:
                sheet = book.worksheets[0]
                cells_of = iter(enumerate(sheet.iter_rows(values_only=True), start=1))
                while True:
                    try:
                        number, cells = next(cells_of)
                    except StopIteration:
                        break
                    except Exception as problem:  # noqa: BLE001 - a sheet broken (or defused) halfway
                        raise FileRefused("De Excel-werkmap kan niet worden gelezen: "
                                          f"{type(problem).__name__}.") from None
                    if len(cells) > MAX_COLUMNS and any(c is not None for c in cells[MAX_COLUMNS:]):
                        raise FileRefused(f"Regel {number} heeft meer dan {MAX_COLUMNS} kolommen.")
                    yield number, [_cell(c) for c in cells[:MAX_COLUMNS]]
            finally:
                book.close()
            return
        with self._csv_reader() as reader:
            # Rows are numbered as a spreadsheet shows them: one per record (a quoted cell
            # may span lines), blank lines included.
            number = 0
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except csv.Error:
                    raise FileRefused(f"Regel {number + 1} heeft een cel van meer dan "
                                      f"{MAX_CELL_BYTES} tekens of een onafgesloten aanhalingsteken.") from None
                number += 1
                if len(cells) > MAX_COLUMNS and any(c != "" for c in cells[MAX_COLUMNS:]):
                    raise FileRefused(f"Regel {number} heeft meer dan {MAX_COLUMNS} kolommen.")
                if plain:
                    yield number, cells
                    continue
                # Text cells: a cell of at most a quarter of the byte limit in characters
                # cannot pass it (four bytes at most a character), so only longer ones are measured.
                if len(cells) <= MAX_COLUMNS and max(map(len, cells), default=0) <= _SHORT_CELL:
                    yield number, list(map(str.strip, cells))  # the usual row, in C
                else:
                    yield number, [c.strip() if len(c) <= _SHORT_CELL else _cell(c) for c in cells[:MAX_COLUMNS]]

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Every row with something in it, as ``(row number, {column: value})``."""
        for batch in self.batches():
            yield from batch

    def batches(self, size: int = 2000) -> Iterator[Block]:
        """:meth:`rows` in blocks of at most ``size`` (:class:`~portal.realisation.blocks.Block`; a
        CSV file is read that many records at a time)."""
        keys = [column_key(h) for h in self.header]
        if self.kind != "xlsx" and all(keys):
            yield from self._csv_batches(keys, size)
            return
        rows = self._rows(keys)
        while batch := list(islice(rows, size)):
            yield Block.of_rows(batch)

    def _rows(self, keys: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
        every_key_named = all(keys)
        count = 0
        for number, cells in self._raw_rows():
            if number == 1:
                continue
            if not any(cells) and all(c is None or c == "" for c in cells):  # any(): quick for most rows
                continue
            count += 1
            if count > MAX_ROWS:
                raise _too_many_rows()
            if every_key_named and len(cells) <= len(keys):
                yield number, dict(zip(keys, cells))
                continue
            yield number, _row_of(keys, cells)

    def _csv_batches(self, keys: list[str], size: int) -> Iterator[Block]:
        """:meth:`batches` of a CSV file whose header names every column. A block of records in
        which every record has one cell per column and none is long (the usual block) becomes
        columns inside C (``zip`` of the records, each column stripped with ``map``), without a
        ``dict`` per row; any other block row by row, as :meth:`_raw_rows` reads it."""
        width = len(keys)
        count = 0
        for first, records in self._csv_blocks(size):
            if first == 1:  # the header
                records, first = records[1:], 2
            if not records:
                continue
            numbers = list(range(first, first + len(records)))
            longest = 0
            if min(map(len, records)) == width == max(map(len, records)):
                joined = list(map("".join, records))
                longest = max(map(len, joined))  # no cell is longer than its record
                if longest > _SHORT_CELL:
                    longest = max(map(len, chain.from_iterable(records)))
            if 0 < longest <= _SHORT_CELL:
                block = Block(numbers, dict(zip(keys, (list(map(str.strip, cells)) for cells in zip(*records)))),
                              None, longest)
                filled = list(map(str.strip, joined))  # a record of spaces only is empty
                if not all(filled):
                    block = block.kept(list(map(bool, filled)))
            else:
                batch = []
                for number, record in zip(numbers, records):
                    if len(record) > MAX_COLUMNS and any(c != "" for c in record[MAX_COLUMNS:]):
                        raise FileRefused(f"Regel {number} heeft meer dan {MAX_COLUMNS} kolommen.")
                    record = [c.strip() if len(c) <= _SHORT_CELL else _cell(c) for c in record[:MAX_COLUMNS]]
                    if any(record):
                        batch.append((number, _row_of(keys, record)))
                block = Block.of_rows(batch)
            count += len(block)
            if count > MAX_ROWS:
                raise _too_many_rows()
            if len(block):
                yield block

    @contextmanager
    def _csv_reader(self) -> Iterator:
        """A ``csv.reader`` over the file, its delimiter found in the first line, no cell longer
        than ``MAX_CELL_BYTES`` characters (the reader raises ``csv.Error`` for one)."""
        with open(self.path, encoding=self.encoding, newline="") as handle:
            delimiter = _delimiter(handle.readline())
            handle.seek(0)
            previous = csv.field_size_limit()
            csv.field_size_limit(MAX_CELL_BYTES)
            try:
                yield csv.reader(handle, delimiter=delimiter)
            finally:
                csv.field_size_limit(previous)

    def _csv_blocks(self, size: int) -> Iterator[tuple[int, list[list[str]]]]:
        """The CSV file's records, ``size`` at a time, as ``(number of the first, records)``
        (numbered as :meth:`_raw_rows` numbers them). A record the reader refuses is reported by
        reading the file again record by record (:meth:`_raw_rows`), which names its row."""
        with self._csv_reader() as reader:
            first = 1
            while True:
                try:
                    records = list(islice(reader, size))
                except csv.Error:
                    break
                if not records:
                    return
                yield first, records
                first += len(records)
        for _record in self._raw_rows(plain=True):
            pass
        raise FileRefused("Het bestand kan niet als CSV worden gelezen.")  # not reached: _raw_rows says where


def _too_many_rows() -> FileRefused:
    return FileRefused(f"Het bestand heeft meer dan {MAX_ROWS:,} regels; splits het.".replace(",", "."))


def _row_of(keys: list[str], cells: list) -> dict[str, Any]:
    """A row's cells by column; a cell beyond the named columns as "kolom N" when it holds something."""
    if len(cells) <= len(keys) and all(keys):
        return dict(zip(keys, cells))
    row = {}
    for index, value in enumerate(cells):
        if index < len(keys) and keys[index]:
            row[keys[index]] = value
        elif value not in (None, ""):
            row[f"kolom {index + 1}"] = value
    return row


def open_table(path: Path, original_name: str) -> Table:
    return Table(path, sniff(path, original_name))
