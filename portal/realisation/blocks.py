"""A block of rows read together, kept column by column (issue 14).

A large CSV file is read a block of records at a time; most blocks are plain (every record one cell
per column, none long) and go from the reader's records to columns inside C (``zip``, ``map``),
without a ``dict`` per row. The column-wise checks (:meth:`BatchChecker.columns
<portal.realisation.batch_check.BatchChecker.columns>`) read the columns; the row-wise checks
(``check``, ``check_row``) iterate the block as ``(row number, {column: value})`` pairs, which are
made only then. A list of such pairs (a spreadsheet, the API, a test) becomes a block with
:meth:`Block.of_rows`: the rows are kept as they are, and a column is read off them when asked.
"""
from __future__ import annotations

from itertools import chain, compress, repeat
from typing import Any, Iterator

_EQUALS = repeat("=")


class Block:
    """Rows ``numbers[i]`` with the cells ``columns[name][i]``; iterates as ``(number, row)``."""

    __slots__ = ("numbers", "_columns", "_rows", "_longest")

    def __init__(self, numbers: list[int], columns: dict[str, list] | None = None,
                 rows: list[tuple[int, dict[str, Any]]] | None = None, longest: int | None = None):
        """``columns``: every column's cells, text without NUL characters (as a CSV file that is
        read at all holds them); ``longest``: no cell is longer, when the reader knows it."""
        self.numbers = numbers
        self._columns = columns if columns is not None else {}
        self._rows = rows
        self._longest = longest

    @classmethod
    def of_rows(cls, rows: list[tuple[int, dict[str, Any]]]) -> Block:
        """A block of rows given one by one (their columns are read off them when asked)."""
        return cls([number for number, _row in rows], None, rows)

    def __len__(self) -> int:
        return len(self.numbers)

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        return iter(self.rows())

    def rows(self) -> list[tuple[int, dict[str, Any]]]:
        """The rows as ``(number, {column: value})``, every column of the block in each."""
        if self._rows is None:
            names = list(self._columns)
            self._rows = list(zip(self.numbers, map(dict, map(zip, repeat(names), zip(*self._columns.values())))))
        return self._rows

    def column(self, name: str) -> list:
        """The cells of one column, row by row (None where a row lacks it)."""
        cells = self._columns.get(name)
        if cells is None:
            if self._rows is None:
                return [None] * len(self.numbers)  # not in the file (not kept: the columns are the file's)
            cells = self._columns[name] = list(map(dict.get, (row for _number, row in self._rows), repeat(name)))
        return cells

    def plain(self, longest: int) -> bool:
        """Every cell text of at most ``longest`` characters, none a formula (starting with "=")."""
        if self._rows is not None:
            cells = list(chain.from_iterable(row.values() for _number, row in self._rows))
            try:
                return max(map(len, cells), default=0) <= longest and not any(map(str.startswith, cells, _EQUALS))
            except TypeError:  # a number or a date from a spreadsheet
                return False
        columns = self._columns.values()
        if self._longest is None or self._longest > longest:
            if max(map(len, chain.from_iterable(columns)), default=0) > longest:
                return False
        text = "\0".join(chain.from_iterable(columns))  # text cells without NUL: one search for "="
        return not (text.startswith("=") or "\0=" in text)

    def kept(self, keep: list[bool]) -> Block:
        """The block without the rows whose ``keep`` is False."""
        if self._rows is not None:
            return Block.of_rows(list(compress(self._rows, keep)))
        return Block(list(compress(self.numbers, keep)),
                     {name: list(compress(cells, keep)) for name, cells in self._columns.items()}, None, self._longest)


__all__ = ["Block"]
