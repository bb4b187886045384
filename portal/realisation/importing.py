"""Taking realisation in: a file, the web form or the API, all through one pipeline.

1. **Check** every row (a block at a time, column by column where the block allows it, else row
   by row: :class:`portal.realisation.batch_check.BatchChecker`, which answers as
   :func:`portal.realisation.rules.check_row`) while streaming; collect the errors (the first
   ``MAX_ERRORS`` in full, all of them counted) and, per report (municipality × segment × period),
   the total value. A line twice in the input is an error too. While no error has been found, the
   checked lines are **written as they come** (:class:`LineWriter`): a report a batch needs first
   (its next version number, its sums so far), then the batch's lines in one go (binary ``COPY`` on
   PostgreSQL, from a thread of the writer while the next lines are checked; one multi-row insert on
   SQLite). So a file is read and checked once, at constant memory.
2. If anything is wrong, **nothing is stored**: everything written is rolled back and the upload is
   ``refused`` with its error report.
3. Otherwise the upload is **finished** in the same transaction (:func:`store_source`), set-based:
   the reports' sums in one statement, the versions they replace (the next lower version of the
   same report) locked and checked in one statement (an approved one refuses the upload) and made
   ``superseded`` (they stay visible) in another, one audit event per report in one insert. Any
   failure rolls the whole upload back.

The same file twice (same SHA-256 for the same provider, already stored) is recognised and not
counted twice. Progress lives in :mod:`portal.realisation.progress` for the page to poll.

An uploaded file is processed as a job (:mod:`portal.jobs`): on the queue when there is one, else in
the web process. Its file waits in the upload folder and is removed once the upload is stored or
refused; a failed upload keeps it, so "Opnieuw proberen" (:func:`retry`) starts again from it.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import secrets
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from flask import current_app
from sqlalchemy import and_, event, func, insert, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import select

from portal import audit, db, jobs, page_cache
from portal.collector import collector_paused
from portal.formatting import nl_datetime
from portal.models import Organisation, User, utcnow
from portal.models.realisation import RealisationLine, RealisationReport, RealisationUpload
from portal.realisation import copy_binary, progress
from portal.realisation.batch_check import BatchChecker, checked_line
from portal.realisation.blocks import Block
from portal.realisation.declaration_323 import parse_323
from portal.realisation.files import FileRefused, open_table, sniff
from portal.realisation.lookups import ProviderLookups
from portal.realisation.rules import (
    Period,
    RowError,
    allowed_columns,
    check_header,
    check_row,
    column_key,
    figure_columns,
    left_empty,
)

MAX_ERRORS = 1000
BATCH = 2000
IN_FLIGHT = 3  # batches handed to the writer at most (so the checking and the writing wait less for each other)
WRITE_BATCH = 8000  # lines a COPY of the writer carries at most (a few checked batches; LineWriter.add_columns)
WRITER_SWITCH_INTERVAL = 0.0002  # seconds; see LineWriter.flush
SOURCES = {"form": "Webformulier", "csv": "CSV-bestand", "xlsx": "Excel-bestand", "api": "API", "323": "323-bericht"}
STATES = {"queued": "In de wachtrij", "checking": "Wordt gecontroleerd", "storing": "Wordt opgeslagen",
          "stored": "Ingelezen", "refused": "Afgewezen bij controle", "failed": "Mislukt"}


@dataclass
class GroupSummary:
    total: Decimal = Decimal("0.00")
    lines: int = 0
    warnings: list[str] = field(default_factory=list)
    place_days: int = 0
    ended: int = 0
    figures: dict[str, Decimal] = field(default_factory=dict)

    def add(self, line: tuple) -> None:
        """Count a checked line (:data:`portal.realisation.batch_check.LINE`): its value and the sums
        the settlement reads from the report."""
        self.total += line[10]
        self.lines += 1
        if line[8]:
            self.place_days += line[8]
        self.ended += line[5]
        if line[11]:
            figures = self.figures
            for name, number in line[11].items():
                figures[name] = figures.get(name, Decimal(0)) + number

    def add_run(self, checked, start: int, end: int) -> None:
        """Count rows ``start:end`` of a :class:`~portal.realisation.batch_check.CheckedColumns`, as
        :meth:`add` does line by line."""
        self.total += sum(checked.values[start:end])
        self.lines += end - start
        self.place_days += sum(filter(None, checked.place_days[start:end]))
        self.ended += sum(checked.ended[start:end])
        for extra in filter(None, checked.extra[start:end]):
            figures = self.figures
            for name, number in extra.items():
                figures[name] = figures.get(name, Decimal(0)) + number

    @property
    def figures_json(self) -> dict[str, str] | None:
        return {name: str(total) for name, total in sorted(self.figures.items())} or None


@dataclass
class CheckResult:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    groups: dict[tuple, GroupSummary] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error_count == 0 and self.rows > 0

    def add(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)


RowSource = Callable[[], Iterator[tuple[int, dict[str, Any]]]]


class Batched:
    """A source of rows that reads them a block at a time (:meth:`portal.realisation.files.Table.batches`):
    ``batches()`` gives blocks (:class:`~portal.realisation.blocks.Block`); calling it gives the rows one by
    one, as a :data:`RowSource`."""

    def __init__(self, batches: Callable[[], Iterator[Block]]):
        self.batches = batches

    def __call__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for batch in self.batches():
            yield from batch


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def check_source(rows: RowSource, lookups, header: list[str] | None = None,
                 on_progress: Callable[[int], None] | None = None,
                 first_errors: list[RowError] = (), writer: LineWriter | None = None) -> CheckResult:
    """Check every row, a batch at a time (:class:`~portal.realisation.batch_check.BatchChecker`,
    and :func:`~portal.realisation.rules.check_row` for every row it leaves to it); keep only errors,
    the lines' keys (per report, the trajectory codes seen) and the reports' totals. With a
    ``writer``, each checked line is handed to it as long as no error has been found (the caller
    rolls back what it wrote when the result is not ok). ``first_errors`` are faults found while
    reading the source (a 323 message's Prestaties)."""
    result = CheckResult()
    for error in first_errors:
        result.add(error)
    if header is not None:
        for error in check_header(header, lookups.specs()):
            result.add(error)
        if result.error_count:
            return result
    if writer is not None:
        writer.summaries = result.groups  # a report's row is written with its sums so far
    try:
        with collector_paused():  # many small objects kept (line keys, sums), no cycles
            _check_rows(rows, lookups, result, on_progress, writer)
    except BaseException:
        if writer is not None:
            writer.finish(raising=False)  # the caller rolls back what was written
        raise
    if result.rows == 0 and not result.error_count:
        result.add(RowError(2, "", "Het bestand heeft geen regels met realisatie onder de kopregel."))
    if writer is not None:
        try:
            if not result.error_count:
                writer.flush()  # the last lines on their way, while the finish is made ready
                writer.prepared = prepared = prepare_finish(writer, result)
                if writer.postgresql:  # the audit rows follow the last lines, in the writer's thread
                    writer.send(*audit.copy_text(prepared.audit_rows))
                    prepared.audit_rows = None
        except BaseException:
            writer.finish(raising=False)
            raise
        writer.finish(raising=not result.error_count)
    return result


def _check_rows(rows: RowSource, lookups, result: CheckResult, on_progress, writer: LineWriter | None) -> None:
    seen: dict[tuple, dict[str, int]] = {}  # report → trajectory code (capitals) → first row
    checker = BatchChecker(lookups)
    groups = result.groups
    last_group = codes = summary = None
    for batch in rows.batches() if isinstance(rows, Batched) else _batches(rows(), BATCH):
        result.rows += len(batch)
        checked = checker.columns(batch)
        if checked is not None and _all_new(checked, seen):  # the usual batch: column by column
            for group, start, end in checked.runs:
                codes, summary = _report_of(group, seen, groups)
                codes.update(zip(checked.keys[start:end], checked.numbers[start:end]))
                summary.add_run(checked, start, end)
            last_group = None
            if writer is not None and not result.error_count:
                writer.add_columns(checked)
            if on_progress:
                on_progress(result.rows)
            continue
        for (number, raw), line in zip(batch, checker.check(batch)):
            if line is None:
                valued, errors = check_row(number, raw, lookups)
                for error in errors:
                    result.add(error)
                if valued is None:
                    continue
                line = checked_line(valued)
            group, capitals = line[0], line[2]
            if group is not last_group:  # a file's lines mostly come report by report
                codes, summary = _report_of(group, seen, groups)
                last_group = group
            first = codes.get(capitals)
            if first is not None:
                result.add(RowError(number, "traject", f"Deze regel staat er al (regel {first}): dezelfde "
                                                      f"gemeente, hetzelfde segment, dezelfde periode en hetzelfde "
                                                      f"traject. Tel ze samen in één regel."))
                continue
            codes[capitals] = number
            summary.add(line)
            if line[12]:
                for warning in line[12]:
                    if len(summary.warnings) < 20:
                        summary.warnings.append(f"Regel {number}: {warning}")
            if writer is not None and not result.error_count:
                writer.add(number, line)
        if on_progress:
            on_progress(result.rows)


def _report_of(group: tuple, seen: dict, groups: dict) -> tuple[dict[str, int], GroupSummary]:
    """A report's trajectory codes seen so far (capitals → first row) and its sums, made when it is
    first met."""
    codes = seen.get(group)
    if codes is None:
        codes = seen[group] = {}
        groups[group] = GroupSummary()
    return codes, groups[group]


def _all_new(checked, seen: dict[tuple, dict[str, int]]) -> bool:
    """Whether no line of a checked batch is there twice: within its report in the batch, or
    already met in a batch before."""
    for group, start, end in checked.runs:
        keys = checked.keys[start:end]
        if len(set(keys)) != len(keys):
            return False
        earlier = seen.get(group)
        if earlier is not None and not earlier.keys().isdisjoint(keys):
            return False
    return True


_LINE_COLUMNS = ("report_id", "trajectory_code", "started", "running", "ended", "clients", "units", "place_days",
                 "unit_price", "value", "extra", "source_row")
_REPORT_COLUMNS = ("region_id", "organisation_id", "municipality_id", "segment_key", "year", "period_kind", "period",
                   "version", "state", "upload_id", "total_value", "line_count", "place_days_total", "ended_total",
                   "lock_version", "submitted_by", "submitted_at")
_NEXT_IDS = "SELECT nextval(pg_get_serial_sequence('realisation_report', 'id')) FROM generate_series(1, :count)"
_REPORT_COPY_COLUMNS = ("id",) + _REPORT_COLUMNS + ("warnings", "figures")  # PostgreSQL: with the sums so far
_REPORT_KEY = ("organisation_id", "municipality_id", "segment_key", "year", "period_kind", "period")


class LineWriter:
    """Writes an upload's checked lines while they are checked, in batches: first the reports the
    batch needs that are not there yet (version = the highest version of the same report + 1), then
    the lines. Holds a few batches of lines and one entry per report.

    On PostgreSQL each report gets its id from the sequence as soon as its first line is met (ids
    taken a thousand at a time, the next thousand by the writer's thread before they are needed),
    so each line becomes its binary ``COPY`` row at once (:mod:`portal.realisation.copy_binary`),
    and a thread of the writer sends up to ``WRITE_BATCH`` lines a ``COPY`` on the session's own
    connection while the next lines are checked: the database stores them (on its own core) while
    Python checks the next, and the thread does no work per line. A report's row carries the sums
    of the lines checked so far; a report met again in a later batch is ``dirty``, and
    :func:`store_source` writes its sums. At most ``IN_FLIGHT`` batches wait for the thread; any
    statement the checking itself sends on that connection first waits for them
    (:func:`_wait_for_the_writer`), and so does everything after :meth:`finish`. SQLite writes each
    batch at once with one multi-row insert (its reports inserted at once, their sums written by
    :func:`store_source`)."""

    IDS_AT_A_TIME = 1000

    def __init__(self, lookups, upload: RealisationUpload, user: User | None):
        self.session = db.session()
        self.provider = lookups.provider_org
        self.upload = upload
        self.user = user
        self.submitted_by = user.id if user else None
        self.submitted_at = utcnow()
        self.postgresql = self.session.get_bind().dialect.name == "postgresql"
        self.reports: dict[tuple, tuple[int, int]] = {}  # group → (report id, version)
        self.summaries: dict[tuple, GroupSummary] | None = None  # the check's sums so far (check_source)
        self.dirty: set[tuple] = set()  # reports whose sums store_source writes (see flush)
        self._sent: set[tuple] = set()  # reports handed to the writer
        self._new_groups: list[tuple] = []  # reports the batch needs, in the order first met
        self._lines: list = []  # the batch: binary COPY rows (PostgreSQL) or tuples (SQLite)
        self._held = 0  # lines of checked batches in self._lines (add_columns)
        self._added = 0  # lines added in all (add_columns)
        # The file's rows, roughly (its line count), when known: near the end every checked batch
        # is written at once, so the last write after the checking is a small one.
        self.expected_rows: int | None = upload.rows_total
        self._versions: dict[tuple, int] | None = None
        self._ids: list[int] = []  # report ids taken from the sequence, not yet used (last first)
        self._ids_ahead: Future | None = None
        self._fields = copy_binary.LineFields()  # PostgreSQL: the lines' binary COPY fields, each made once
        self._last_group = self._last_report = None  # the report of the line before
        self._pending: list[Future] = []  # batches handed to the writer's thread, oldest first
        self._thread: ThreadPoolExecutor | None = None
        self._connection = None
        self.prepared: PreparedFinish | None = None  # by check_source, for store_source

    def add(self, number: int, line: tuple) -> None:
        """One checked line (:data:`portal.realisation.batch_check.LINE`) from row ``number``."""
        group = line[0]
        if group is self._last_group:
            report = self._last_report
        else:
            report = self.reports.get(group)
            if report is None:
                report = self._new_report(group)
            self._last_group, self._last_report = group, report
        if group in self._sent:
            self.dirty.add(group)  # more lines after its row was written
        extra = line[11]
        if self.postgresql:
            self._lines.append(self._fields.rows(
                1, (report[0],), (line[1],), (line[3],), (line[4],), (line[5],), (line[6],), (line[7],), (line[8],),
                (line[9],), (line[10],), (json.dumps({k: str(v) for k, v in extra.items()}) if extra else "null",),
                (number,)))
        else:
            self._lines.append((report[0], line[1], line[3], line[4], line[5], line[6], line[7], line[8], line[9],
                                line[10], {k: str(v) for k, v in extra.items()} if extra else None, number))
        if len(self._lines) >= BATCH:
            self.flush()

    def add_columns(self, checked) -> None:
        """A whole checked batch (:class:`~portal.realisation.batch_check.CheckedColumns`). On
        PostgreSQL its binary COPY rows are made column by column (``map`` over a column, one
        ``join`` for all, in C); the lines go to the writer every ``WRITE_BATCH``, near the end of
        the file at once."""
        if not self.postgresql:
            for number, line in zip(checked.numbers, checked.lines()):
                self.add(number, line)
            return
        report_ids = []
        for group, start, end in checked.runs:
            report = self.reports.get(group)
            if report is None:
                report = self._new_report(group)
            elif group in self._sent:
                self.dirty.add(group)  # more lines after its row was written
            report_ids.append(itertools.repeat(report[0], end - start))
        self._last_group = self._last_report = None
        count = len(checked.numbers)
        self._lines.append(self._fields.rows(
            count, itertools.chain.from_iterable(report_ids), checked.codes, checked.started, checked.running,
            checked.ended, checked.clients, checked.units, checked.place_days, checked.unit_prices, checked.values,
            _extra_json(checked.extra, count), checked.numbers))
        self._held += count
        self._added += count
        if (self._held >= WRITE_BATCH or self._thread is None  # the first batch at once: the writer starts
                or (self.expected_rows is not None and self._added > self.expected_rows - WRITE_BATCH)):
            self.flush()

    def _new_report(self, group: tuple) -> tuple[int, int]:
        version = self._latest_versions().get(group, 0) + 1
        if self.postgresql:
            if not self._ids:
                if self._ids_ahead is not None:  # taken by the writer's thread after the batches before
                    self._ids, self._ids_ahead = self._ids_ahead.result(), None
                else:
                    self._ids = list(self.session.execute(text(_NEXT_IDS), {"count": self.IDS_AT_A_TIME}).scalars())
                self._ids.reverse()
            report_id = self._ids.pop()
            if len(self._ids) == self.IDS_AT_A_TIME // 4 and self._thread is not None:
                # The next ids before they are needed, in the writer's thread (after the batches it
                # has): a statement of the checking's own would wait for those batches.
                self._ids_ahead = self._thread.submit(self._next_ids)
                self._pending.append(self._ids_ahead)
            self._new_groups.append(group)  # written with the batch, by the writer's thread
        else:  # SQLite: inserted at once, for its id, its sums written by store_source
            report_id = self.session.execute(insert(RealisationReport).returning(RealisationReport.id),
                                             dict(zip(_REPORT_COLUMNS, self._report_row(group, version)))
                                             ).scalar_one()
            self.dirty.add(group)
        report = self.reports[group] = (report_id, version)
        return report

    def _report_row(self, group: tuple, version: int) -> tuple:
        municipality_id, segment_key, period = group
        provider = self.provider
        return (provider.region_id, provider.id, municipality_id, segment_key, period.year, period.kind,
                period.number, version, "submitted", self.upload.id, Decimal("0.00"), 0, 0, 0, 1, self.submitted_by,
                self.submitted_at)

    def _report_text(self, group: tuple) -> str:
        """A new report as a line of COPY text (PostgreSQL), with its sums so far: the lines checked
        until now, which are exactly the lines written until now and in this batch. A report met
        again in a later batch is ``dirty``: store_source writes its sums (in a sorted file a report
        only spans a batch boundary now and then, so that is a handful of reports, not all)."""
        report_id, version = self.reports[group]
        row = (report_id,) + self._report_row(group, version)
        summary = self.summaries.get(group) if self.summaries is not None else None
        if summary is None:
            self.dirty.add(group)
            return db.copy_line(row + (None, None))
        return db.copy_line(row[:11] + (summary.total, summary.lines, summary.place_days, summary.ended) + row[15:]
                         + (json.dumps(summary.warnings or None),
                            json.dumps(summary.figures_json) if summary.figures else None))

    def flush(self) -> None:
        """Hand the batch to the writing (on PostgreSQL: once the batch before it is written)."""
        groups, lines = self._new_groups, self._lines
        if not lines and not groups:
            return
        self._new_groups, self._lines, self._held = [], [], 0
        if not self.postgresql:
            self._write_lines(lines)
            return
        reports = "".join(self._report_text(group) for group in groups)
        self._sent.update(groups)
        self.wait(IN_FLIGHT - 1)
        if self._thread is None:
            connection = self.session.connection()
            page_cache.mark_written(connection)  # COPY passes SQLAlchemy's events
            connection.info[_WRITER] = self
            self._connection = connection
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="realisation-writer")
            # The checking holds the GIL; the writer needs it back after every chunk it sends, and
            # by default waits up to 5 ms each time (sys.getswitchinterval): 0.2 ms lets it keep the
            # database busy (bench: 100,000 lines 3.9 s → 2.7 s). Set back in finish().
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(WRITER_SWITCH_INTERVAL)
        self._pending.append(self._thread.submit(self._copy, reports, b"".join(lines)))

    def wait(self, leave: int = 0) -> None:
        """Until at most ``leave`` batches are still to be written (by default none); raises what
        writing one of them raised."""
        while len(self._pending) > leave:
            self._pending.pop(0).result()

    def finish(self, raising: bool = True) -> None:
        """Flush, wait for the last batch and stop the thread. ``raising=False`` when the caller is
        already failing (the transaction is rolled back anyway)."""
        try:
            if raising:
                self.flush()
            self.wait()
        except Exception:
            if raising:
                raise
        finally:
            if self._thread is not None:
                self._thread.shutdown(wait=True)
                self._thread = None
                self._connection.info.pop(_WRITER, None)
                sys.setswitchinterval(self._switch_interval)

    def _latest_versions(self) -> dict[tuple, int]:
        """The provider's highest version per report, read once (one row per report it ever had)."""
        if self._versions is None:
            r = RealisationReport
            self._versions = {
                (municipality_id, segment_key, Period(year, kind, number)): version
                for municipality_id, segment_key, year, kind, number, version in self.session.execute(
                    select(r.municipality_id, r.segment_key, r.year, r.period_kind, r.period, func.max(r.version))
                    .where(r.organisation_id == self.provider.id)
                    .group_by(r.municipality_id, r.segment_key, r.year, r.period_kind, r.period))}
        return self._versions

    def send(self, table: str, columns: tuple[str, ...], rows: str) -> None:
        """Rows of another table (COPY text) after the lines handed over so far (PostgreSQL)."""
        self.flush()
        self.wait(IN_FLIGHT - 1)
        self._pending.append(self._thread.submit(self._copy_table, table, columns, rows))

    def _copy_table(self, table: str, columns: tuple[str, ...], rows: str) -> None:
        with self._connection.connection.dbapi_connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write(rows)

    def _next_ids(self) -> list[int]:
        """The writer's thread: the next report ids from the sequence."""
        with self._connection.connection.dbapi_connection.cursor() as cursor:
            cursor.execute(_NEXT_IDS.replace(":count", "%(count)s"), {"count": self.IDS_AT_A_TIME})
            return [row[0] for row in cursor.fetchall()]

    def _copy(self, reports: str, lines: str) -> None:
        """The writer's thread: the batch's new reports, then its lines, each with one ``COPY`` of
        text made beforehand (the thread does no work per row: it needs the GIL only a few times
        a batch), straight on the driver's connection (never through the session)."""
        if reports:
            self._copy_table("realisation_report", _REPORT_COPY_COLUMNS, reports)
        if lines:
            self._write_lines(lines)

    def _write_lines(self, lines) -> None:
        """A batch of lines: binary COPY rows on PostgreSQL (in the writer's thread,
        :mod:`portal.realisation.copy_binary`), tuples on SQLite."""
        if self.postgresql:
            with self._connection.connection.dbapi_connection.cursor() as cursor:
                with cursor.copy(f"COPY realisation_line ({', '.join(_LINE_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
                                 ) as copy:
                    copy.write(copy_binary.HEADER + lines + copy_binary.TRAILER)
        else:
            self.session.execute(insert(RealisationLine), [dict(zip(_LINE_COLUMNS, row)) for row in lines])


def _extra_json(column: list, count: int) -> Iterable[str]:
    """A column of plugin figures (a dict or None) as the JSON text of ``extra`` (null for none, as
    the ORM writes it)."""
    if column.count(None) == count:
        return itertools.repeat("null", count)
    return (json.dumps({k: str(v) for k, v in extra.items()}) if extra else "null" for extra in column)


_WRITER = "portal.realisation_writer"


@event.listens_for(Engine, "before_cursor_execute")
def _wait_for_the_writer(conn, _cursor, _statement, _parameters, _context, _executemany) -> None:
    """A statement on a connection whose :class:`LineWriter` has a batch in flight waits for it:
    one connection carries one command at a time."""
    writer = conn.info.get(_WRITER)
    if writer is not None:
        writer.wait()


@dataclass
class PreparedFinish:
    """What :func:`store_source` writes, made ready in Python (:func:`prepare_finish`) while the
    writer still sends the last lines: the reports in order with their sums, and their audit rows."""

    summaries: list
    sums: list[dict[str, Any]]
    audit_rows: list[dict[str, Any]] | None  # None once the writer has sent them


def prepare_finish(writer: LineWriter, result: CheckResult) -> PreparedFinish:
    """The finish of a clean check, made without touching the database."""
    reports = writer.reports
    summaries = sorted(((group, reports[group], summary) for group, summary in result.groups.items()),
                       key=lambda item: item[0])
    provider, upload_id, user = writer.provider, writer.upload.id, writer.user
    audit_rows = audit.prepare_many([
        ("realisation.submitted",
         f"Realisatie ingediend: {segment_key} {period.year}-{period.kind[0].upper()}{period.number} "
         f"versie {version}, {summary.lines} regels",
         dict(object_type="realisation_report", object_id=report_id, organisation_id=provider.id,
              region_id=provider.region_id, actor=user,
              details={"after": {"total_value": str(summary.total), "version": version, "upload_id": upload_id,
                                 "municipality_id": municipality_id}}))
        for (municipality_id, segment_key, period), (report_id, version), summary in summaries])
    dirty = writer.dirty
    return PreparedFinish(summaries, _sums([item for item in summaries if item[0] in dirty]), audit_rows)


def store_source(writer: LineWriter, result: CheckResult) -> int:
    """Finish an upload whose lines ``writer`` wrote while they were checked (only after a clean
    check): the reports' sums, the versions they replace made ``superseded``, one audit event per
    report; all set-based. Returns the number of reports. The caller commits; on any exception the
    caller rolls back and nothing is stored."""
    session = writer.session
    prepared = writer.prepared or prepare_finish(writer, result)
    _write_sums(session, writer.postgresql, prepared.sums)
    _supersede(session, writer)
    if prepared.audit_rows is not None:  # else written already (check_source)
        audit.write_many(prepared.audit_rows)
    return len(prepared.summaries)


def _sums(summaries: list) -> list[dict[str, Any]]:
    """Each report's sums as :func:`_write_sums` writes them."""
    return [{"report_id": report_id, "total": summary.total, "lines": summary.lines,
             # As the ORM wrote them: no warnings as JSON null, no figures as SQL NULL.
             "warnings": json.dumps(summary.warnings or None),
             "place_days": summary.place_days, "ended": summary.ended,
             "figures": json.dumps(summary.figures_json) if summary.figures else None}
            for _group, (report_id, _version), summary in summaries]


def _write_sums(session, postgresql: bool, rows: list[dict[str, Any]]) -> None:
    """Each report's sums (:func:`_sums`) in one statement (an ``UPDATE ... FROM unnest(...)`` on
    PostgreSQL; SQLite, in process, updates by id)."""
    if not rows:
        return
    if postgresql:  # one JSON document as the parameter: the server reads it, no array per column to adapt
        session.execute(text(
            "UPDATE realisation_report r SET total_value = s.total, line_count = s.lines, "
            "warnings = s.warnings::json, place_days_total = s.place_days, ended_total = s.ended, "
            "figures = s.figures::json "
            "FROM json_to_recordset(CAST(:rows AS json)) AS s(report_id integer, total numeric, lines integer, "
            "warnings text, place_days integer, ended integer, figures text) "
            "WHERE r.id = s.report_id"),
            {"rows": json.dumps([dict(row, total=str(row["total"])) for row in rows])})
    else:
        session.execute(text(
            "UPDATE realisation_report SET total_value = :total, line_count = :lines, warnings = :warnings, "
            "place_days_total = :place_days, ended_total = :ended, figures = :figures WHERE id = :report_id"),
            [dict(row, total=str(row["total"])) for row in rows])


def _supersede(session, writer: LineWriter) -> None:
    """The version each new report replaces (the next lower version of the same report), locked
    against a reviewer's decision meanwhile: refused if approved, else made ``superseded``."""
    if all(version == 1 for _report_id, version in writer.reports.values()):
        return  # first versions only: they replace nothing
    new, previous = RealisationReport, aliased(RealisationReport)
    same_report = and_(*(getattr(previous, column) == getattr(new, column) for column in _REPORT_KEY),
                       previous.version == new.version - 1)
    statement = (select(previous.id, previous.state, previous.year, previous.period_kind, previous.period,
                        previous.municipality_id, previous.segment_key)
                 .join(new, same_report).where(new.upload_id == writer.upload.id))
    if writer.postgresql:
        statement = statement.with_for_update(of=previous)
    replaced = sorted(session.execute(statement).all(), key=lambda r: (r.municipality_id, r.segment_key,
                                                                       Period(r.year, r.period_kind, r.period)))
    for row in replaced:
        if row.state == "approved":
            period = Period(row.year, row.period_kind, row.period)
            raise FileRefused(f"De realisatie van {period.label} is intussen goedgekeurd en staat vast.")
    open_ids = [row.id for row in replaced if row.state in ("submitted", "rejected")]
    if not open_ids:
        return
    changed = session.execute(
        update(RealisationReport)
        .where(RealisationReport.id.in_(select(previous.id).join(new, same_report)
                                         .where(new.upload_id == writer.upload.id)),
               RealisationReport.state.in_(("submitted", "rejected")))
        .values(state="superseded", lock_version=RealisationReport.lock_version + 1)
        .execution_options(synchronize_session="fetch")).rowcount  # reports the session holds see it
    if changed != len(open_ids):
        first = replaced[0]
        period = Period(first.year, first.period_kind, first.period)
        raise FileRefused(f"De realisatie van {period.label} is intussen door iemand anders gewijzigd; "
                          f"lever het bestand opnieuw aan.")


# --- Uploads -----------------------------------------------------------------------------------


def upload_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / "realisation"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def receive_file(provider: Organisation, user: User | None, stream, original_name: str) -> RealisationUpload:
    """Save an uploaded file under a generated name, hashing it on the way, and record the upload
    (state ``queued``). A file this provider already had stored is refused at once (``refused``
    with a message naming the earlier upload). Commits."""
    session = db.session()
    limit = int(current_app.config["MAX_REALISATION_BYTES"])
    stored_name = secrets.token_hex(16)
    path = upload_folder() / stored_name
    digest = hashlib.sha256()
    size = 0
    with open(path, "wb") as handle:
        while chunk := stream.read(1 << 16):
            size += len(chunk)
            if size > limit:
                handle.close()
                path.unlink(missing_ok=True)
                raise FileRefused(f"Het bestand is groter dan {limit // (1024 * 1024)} MB.")
            digest.update(chunk)
            handle.write(chunk)
    name = Path(original_name or "bestand").name[:255]
    upload = RealisationUpload(region_id=provider.region_id, organisation_id=provider.id, source="csv",
                               original_name=name, stored_name=stored_name, sha256=digest.hexdigest(),
                               created_by=user.id if user else None)
    try:
        upload.source = _sniffed_source(path, name)
    except FileRefused as refused:
        _refuse(upload, refused.message)
        path.unlink(missing_ok=True)
        upload.stored_name = None
    else:
        earlier = session.exec(select(RealisationUpload).where(
            RealisationUpload.organisation_id == provider.id, RealisationUpload.sha256 == upload.sha256,
            RealisationUpload.state == "stored")).first()
        if earlier is not None:
            _refuse(upload, _duplicate_message(earlier))
            path.unlink(missing_ok=True)
            upload.stored_name = None
    session.add(upload)
    session.flush()
    audit.record("realisation.upload_received", f"Realisatiebestand ontvangen: {name}",
                 object_type="realisation_upload", object_id=upload.id, organisation_id=provider.id,
                 region_id=provider.region_id, actor=user,
                 details={"after": {"sha256": upload.sha256, "state": upload.state, "bytes": size}})
    session.commit()
    return upload


def _duplicate_message(earlier: RealisationUpload) -> str:
    return (f"Dit bestand is al ingelezen op {nl_datetime(earlier.created_at)} ('{earlier.original_name}'); "
            f"het telt niet twee keer mee. Een correctie is een gewijzigd bestand.")


def _stored_twin(upload: RealisationUpload) -> RealisationUpload | None:
    """Another upload of the same file by the same provider that was stored already."""
    return db.session().exec(select(RealisationUpload).where(
        RealisationUpload.organisation_id == upload.organisation_id, RealisationUpload.sha256 == upload.sha256,
        RealisationUpload.state == "stored", RealisationUpload.id != upload.id)).first()


def _sniffed_source(path: Path, name: str) -> str:
    return sniff(path, name)


def _refuse(upload: RealisationUpload, message: str, errors: list[RowError] | None = None,
            error_count: int | None = None) -> None:
    upload.state = "refused"
    upload.message = message
    upload.errors = [{"row": e.row, "column": e.column, "message": e.message} for e in (errors or [])]
    upload.error_count = error_count if error_count is not None else max(len(upload.errors), 1)
    upload.finished_at = utcnow()


def _without_rows_left_empty(table, specs) -> Batched:
    """A file's rows, a block at a time, without the template rows left empty (:func:`left_empty`);
    the others keep their row numbers, so every message still names the row in the file."""
    names = figure_columns(specs)

    def batches():
        for block in table.batches(BATCH):
            filled = _filled(block, names)
            if filled is None:
                filled = [not left_empty(raw, specs, names) for _number, raw in block]
            elif not all(filled):
                filled = [known or not left_empty(raw, specs, names) for known, (_number, raw) in zip(filled, block)]
            if not all(filled):
                block = block.kept(filled)
            if len(block):
                yield block

    return Batched(batches)


def _filled(block: Block, names: tuple[str, ...]) -> list[bool] | None:
    """Per row of ``block``: True when one of its figure columns holds something (so it was not
    left empty); False when it may have been (:func:`left_empty` decides). None when a figure is not
    plain text (then left_empty decides for every row). Column by column, inside C."""
    columns = [block.column(name) for name in names]
    try:  # a text of spaces only counts as empty: then row by row
        if any(map(str.isspace, filter(None, itertools.chain.from_iterable(columns)))):
            return None
    except TypeError:  # a number from a spreadsheet
        return None
    return list(map(any, zip(*columns)))


def process_upload(upload_id: int) -> RealisationUpload:
    """Check and (when clean) store an upload; always leaves it ``stored``, ``refused`` or
    ``failed`` and commits. Runs within an app context (a request or the background thread)."""
    session = db.session()
    upload = session.get(RealisationUpload, upload_id)
    if upload.state != "queued":
        return upload
    provider = session.get(Organisation, upload.organisation_id)
    user = session.get(User, upload.created_by) if upload.created_by else None
    path = upload_folder() / upload.stored_name
    try:
        lookups = ProviderLookups(provider)
        if upload.source == "323":
            # A declaration message: its Prestaties added up into rows first (small: one per
            # municipality × segment × period × trajectory), then checked like any file.
            parsed = parse_323(path, lookups, provider.agb_code)
            rows, header, total, first_errors = (lambda: iter(parsed.rows)), None, len(parsed.rows), parsed.errors
        else:
            table = open_table(path, upload.original_name)
            rows = _without_rows_left_empty(table, lookups.specs())
            header, total, first_errors = table.header, table.approx_rows or None, []
        upload.rows_total, upload.state = total, "checking"
        lookups.prefetch()  # the catalogue read before lines are written (no waiting for the writer later)
        session.commit()
        progress.update(upload.id, "checking", 0, total)
        writer = LineWriter(lookups, upload, user)
        result = check_source(rows, lookups, header, first_errors=first_errors, writer=writer,
                              on_progress=lambda n: progress.update(upload.id, "checking", n, total))
        twin = _stored_twin(upload) if result.ok else None  # the same file queued twice
        if twin is not None:
            raise FileRefused(_duplicate_message(twin))
        if not result.ok:
            session.rollback()  # the lines written before the first error
            upload = session.get(RealisationUpload, upload_id)
            _refuse(upload, _refusal_summary(result), result.errors, result.error_count)
            upload.rows_done = result.rows
        else:
            upload.state = "storing"
            progress.update(upload.id, "storing", 0, result.rows)
            reports = store_source(writer, result)
            upload.state, upload.rows_done, upload.rows_total = "stored", result.rows, result.rows
            upload.report_count = reports
            upload.finished_at = utcnow()
            upload.message = (f"{result.rows} {'regel' if result.rows == 1 else 'regels'} ingelezen in {reports} "
                              f"{'rapportage' if reports == 1 else 'rapportages'}.")
        audit.record(f"realisation.upload_{upload.state}", f"Realisatiebestand {upload.original_name}: "
                                                           f"{STATES[upload.state].lower()}",
                     object_type="realisation_upload", object_id=upload.id, organisation_id=provider.id,
                     region_id=provider.region_id, actor=user,
                     details={"after": {"state": upload.state, "rows": result.rows,
                                        "error_count": upload.error_count}})
        session.commit()
    except FileRefused as refused:
        session.rollback()
        upload = session.get(RealisationUpload, upload_id)
        _refuse(upload, refused.message)
        session.commit()
    except Exception:  # the details go to the log, not to the provider's page
        session.rollback()
        upload = session.get(RealisationUpload, upload_id)
        _fail(upload, "Er ging iets mis bij het inlezen; niets is opgeslagen.")
        session.commit()
        current_app.logger.exception("realisation upload %s failed", upload_id)
    finally:
        progress.finish(upload_id)
    if upload.state in ("stored", "refused"):
        _remove_file(upload)
    return upload


def _fail(upload: RealisationUpload, reason: str) -> None:
    """A failed upload: nothing stored, the reason on the row; its file stays for a retry."""
    upload.state, upload.message, upload.finished_at = "failed", reason, utcnow()


def _remove_file(upload: RealisationUpload) -> None:
    """The file is no longer needed once the upload is stored or refused. Commits."""
    if upload.stored_name:
        (upload_folder() / upload.stored_name).unlink(missing_ok=True)
        upload.stored_name = None
        db.session().commit()


def _refusal_summary(result: CheckResult) -> str:
    if result.rows == 0 and result.error_count and result.errors and result.errors[0].row == 1:
        return "De kopregel klopt niet; niets is opgeslagen."
    count = result.error_count
    return (f"{count} {'fout' if count == 1 else 'fouten'} gevonden in {result.rows} regels; niets is opgeslagen. "
            f"Verbeter het bestand en lever het opnieuw aan.")


@jobs.job("realisation.import")
def import_job(upload_id: int) -> str:
    """The job: check and store one queued upload; returns its final state."""
    return process_upload(upload_id).state


def start(upload: RealisationUpload) -> None:
    """Process a queued upload as a job: on the queue (a worker runs it; the page polls its
    progress), else in a thread of this process, or with ``REALISATION_IN_BACKGROUND`` off right
    now. Raises :class:`portal.jobs.JobNotQueued` when the queue does not take it."""
    if upload.state != "queued":
        return
    job_id = progress.job_id(upload.id)
    progress.update(upload.id, "queued", 0, None)
    jobs.enqueue("realisation.import", upload.id, job_id=job_id, owner=upload.created_by,
                 in_thread=bool(current_app.config.get("REALISATION_IN_BACKGROUND", True)))


RUNNING = ("queued", "checking", "storing")


def fail_if_abandoned(upload: RealisationUpload) -> RealisationUpload:
    """An upload the database thinks is running whose job is dead (its worker was killed, the
    queue lost it) is marked ``failed`` with the reason; nothing of it was stored, as the import
    commits in one transaction. Commits when it changes the upload."""
    if upload.state not in RUNNING:
        return upload
    reason = jobs.why_not_running(progress.job_id(upload.id))
    if reason is None:
        return upload
    session = db.session()
    changed = session.execute(update(RealisationUpload).where(
        RealisationUpload.id == upload.id, RealisationUpload.state.in_(RUNNING)).values(
        state="failed", message=f"{reason} Niets is opgeslagen; probeer het opnieuw.", finished_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if changed:
        audit.record("realisation.upload_failed", f"Realisatiebestand {upload.original_name}: mislukt ({reason})",
                     object_type="realisation_upload", object_id=upload.id, organisation_id=upload.organisation_id,
                     region_id=upload.region_id, details={"after": {"state": "failed", "reason": reason}})
    session.commit()
    session.refresh(upload)
    progress.finish(upload.id)
    return upload


def not_queued(upload: RealisationUpload, reason: str) -> None:
    """The queue refused a just-received upload: it is ``failed`` (never left ``queued``) with the
    reason, and keeps its file so it can be retried. Commits."""
    session = db.session()
    upload = session.get(RealisationUpload, upload.id)
    if upload.state == "queued":
        _fail(upload, reason)
        session.commit()
    progress.finish(upload.id)


def can_retry(upload: RealisationUpload) -> bool:
    """A failed upload whose file is still there can be processed again."""
    return upload.state == "failed" and bool(upload.stored_name) and (upload_folder() / upload.stored_name).exists()


def retry(upload: RealisationUpload, user: User | None) -> RealisationUpload:
    """Queue a failed upload again from its stored file (:class:`FileRefused` when it cannot be).
    When the queue does not take it, the upload stays ``failed`` with that reason and
    :class:`portal.jobs.JobNotQueued` is raised. Commits."""
    if not can_retry(upload):
        raise FileRefused("Deze aanlevering kan niet opnieuw worden verwerkt; lever het bestand opnieuw aan.")
    session = db.session()
    changed = session.execute(update(RealisationUpload).where(
        RealisationUpload.id == upload.id, RealisationUpload.state == "failed").values(
        state="queued", message=None, errors=None, error_count=0, rows_done=0, report_count=0, finished_at=None)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise FileRefused("Deze aanlevering wordt al opnieuw verwerkt.")
    audit.record("realisation.upload_retried", f"Realisatiebestand {upload.original_name}: opnieuw in de wachtrij",
                 object_type="realisation_upload", object_id=upload.id, organisation_id=upload.organisation_id,
                 region_id=upload.region_id, actor=user, details={"after": {"state": "queued"}})
    session.commit()
    session.refresh(upload)
    jobs.forget(progress.job_id(upload.id))
    try:
        start(upload)
    except jobs.JobNotQueued as refused:
        upload = session.get(RealisationUpload, upload.id)
        _fail(upload, refused.message)
        session.commit()
        raise
    return upload


# --- Rows from the form and the API --------------------------------------------------------------


def submit_rows(provider: Organisation, user: User | None, rows: list[dict[str, Any]], source: str
                ) -> tuple[RealisationUpload, CheckResult]:
    """Check and store rows given as dicts (web form, API): all or nothing, at once. Returns the
    upload (``stored`` or ``refused``) and the check result. Commits."""
    session = db.session()
    payload = repr(sorted((sorted((str(k), str(v)) for k, v in row.items()) for row in rows))).encode()
    upload = RealisationUpload(region_id=provider.region_id, organisation_id=provider.id, source=source,
                               original_name="", sha256=hashlib.sha256(payload).hexdigest(),
                               created_by=user.id if user else None, state="checking", rows_total=len(rows))
    session.add(upload)
    session.flush()
    numbered = [(index, {column_key(k): v for k, v in row.items()}) for index, row in enumerate(rows, start=1)]

    def source_rows() -> Iterable:
        return iter(numbered)

    lookups = ProviderLookups(provider)
    allowed = allowed_columns(lookups.specs())
    unknown = [RowError(index, column_key(name), f"Onbekende kolom '{str(name)[:50]}'.")  # as a file's header
               for index, row in enumerate(rows, start=1) for name in row if column_key(name) not in allowed]
    # The rows are few and in memory: checked first, written only when all of them are in order.
    result = check_source(source_rows, lookups, header=None)
    for error in unknown:
        result.add(error)
    if not result.ok:
        _refuse(upload, _refusal_summary(result), result.errors, result.error_count)
        upload.rows_done = result.rows
        session.commit()
        return upload, result
    writer = LineWriter(lookups, upload, user)
    try:
        written = check_source(source_rows, lookups, header=None, writer=writer)
        if not written.ok:  # cannot happen: the same rows, checked a moment ago
            raise FileRefused("De regels zijn veranderd tijdens het inlezen; lever ze opnieuw aan.")
        reports = store_source(writer, result)
    except FileRefused as refused:
        session.rollback()
        session.add(upload)
        _refuse(upload, refused.message)
        session.commit()
        return upload, result
    upload.state, upload.rows_done, upload.report_count, upload.finished_at = "stored", result.rows, reports, utcnow()
    upload.message = f"{result.rows} regels ingediend."
    session.commit()
    return upload, result


def latest_reports_query(provider_id: int | None = None):
    """Reports that count: the newest version of each key (superseded ones excluded)."""
    statement = select(RealisationReport).where(RealisationReport.state != "superseded")
    if provider_id is not None:
        statement = statement.where(RealisationReport.organisation_id == provider_id)
    return statement


__all__ = ["FileRefused", "GroupSummary", "LineWriter", "check_source", "checked_line", "store_source", "receive_file", "process_upload", "start",
           "retry", "can_retry", "fail_if_abandoned", "submit_rows", "latest_reports_query"]
