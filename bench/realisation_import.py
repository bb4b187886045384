"""Benchmark: importing a large realisation file on SQLite and on PostgreSQL, against PostgreSQL COPY.

    .venv/bin/python bench/realisation_import.py            # 100,000 rows, both databases
    .venv/bin/python bench/realisation_import.py --rows 5000 --db sqlite

Per database and per measurement, in its own child process (so that the peak memory of one run does
not hide another's): a fresh database (a temp SQLite file, or ``bench_<random>`` on the PostgreSQL
server of ``PORTAL_BENCH_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``, dropped at
the end), migrated, with the demo region loaded and extra standard trajectories added to the
catalogue so that one provider (Zorggroep Maasland) has enough distinct lines to report
(municipality × segment × period × trajectory). A generated CSV file that passes every check is
imported the way the upload page does it: :func:`portal.realisation.importing.receive_file` and
:func:`portal.realisation.importing.start` with ``REALISATION_IN_BACKGROUND`` off. Measured: wall
time, rows per second and the growth of the process's maximum RSS; then, in a second run on another
fresh database (tracemalloc slows Python down several times), the tracemalloc peak of the import.
On PostgreSQL the same line values are then written with ``COPY ... FROM STDIN`` (psycopg's
``cursor.copy()``) into ``realisation_line`` on the same server, three times (the median counts),
and each import is reported as a ratio to that COPY: its rows per second ÷ COPY's rows per second
(= COPY seconds ÷ import seconds). The goal of issue 14: at least 0.5 on PostgreSQL (PASS or FAIL on
the last line; the exit code stays 0).

Prints a table and writes ``bench/results/realisation_import.json``. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import csv
import gc
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROVIDER = "Zorggroep Maasland"
PROVIDER_USER = "beheer@zorggroep-maasland.example"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
RESULTS = ROOT / "bench" / "results" / "realisation_import.json"
SAMPLE_ROWS = 1000
GOAL = 0.5  # issue 14: the PostgreSQL import at ≥ 50% of COPY's rows per second
COPY_COLUMNS = ("report_id", "trajectory_code", "started", "running", "ended", "clients", "units", "place_days",
                "unit_price", "value")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def server_url() -> str:
    url = os.environ.get("PORTAL_BENCH_POSTGRES_URL", DEFAULT_SERVER)
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


# --- Database set-up (in the child process) ------------------------------------------------------


def create_database(kind: str, folder: Path) -> tuple[str, str | None]:
    """A fresh database; returns its SQLAlchemy URL and (PostgreSQL) its name."""
    if kind == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}", None
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url(), autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = server_url().rsplit("/", 1)[0] + f"/{name}"
    return url.replace("postgresql://", "postgresql+psycopg://", 1), name


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(server_url(), autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_app(url: str, folder: Path):
    from portal import create_app

    return create_app({
        "ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "MAIL_ECHO": False, "SERVER_NAME": "portaal.bench", "INSTANCE_PATH": str(folder / "instance"),
        "UPLOAD_FOLDER": str(folder / "uploads"), "REALISATION_IN_BACKGROUND": False,
        "MAX_REALISATION_BYTES": 64 * 1024 * 1024,
    })


# --- The file: enough distinct, valid lines for one provider -------------------------------------


def reportable(lookups, municipalities, today: date) -> list[tuple]:
    """Every (period, municipality, segment_key) the provider may report: the segments of its
    framework agreements, each municipality's reporting period (month or quarter), periods that
    started within a contract term and not after today, not locked."""
    from portal.realisation.rules import Period

    combos = []
    segments = [key for key in sorted(lookups.registry.segments) if lookups.contract_terms(key)]
    for municipality in municipalities:
        for segment_key in segments:
            terms = lookups.contract_terms(segment_key)
            kind = lookups.reporting_kind(municipality, segment_key)
            first = min(start for start, _end in terms).year
            for year in range(first, today.year + 1):
                for number in range(1, 13 if kind == "month" else 5):
                    period = Period(year, kind, number)
                    if period.start > today or lookups.locked(municipality, segment_key, period):
                        continue
                    if any(start <= period.start and (end is None or period.start <= end) for start, end in terms):
                        combos.append((period, municipality, segment_key))
    combos.sort(key=lambda item: (item[0].year, item[0].start, item[1].code, item[2]))
    return combos


def codes_by_year(lookups, combos) -> dict[tuple[str, int], list[str]]:
    """The trajectory codes the provider may report per segment and year (priced for it)."""
    from sqlmodel import select

    from portal.models import StandardTrajectory

    codes: dict[tuple[str, int], list[str]] = {}
    for period, _municipality, segment_key in combos:
        key = (segment_key, period.year)
        if key in codes:
            continue
        found = lookups.session.exec(select(StandardTrajectory.code).where(
            StandardTrajectory.region_id == lookups.region_row.id, StandardTrajectory.segment_key == segment_key,
            StandardTrajectory.year == period.year)).all()
        codes[key] = [code for code in sorted(found) if lookups.price(segment_key, period, code) is not None]
    return codes


def add_trajectories(region, organisations, per_segment: int, segments: list[str]) -> int:
    """``per_segment`` extra standard trajectories in each segment, for every demo year, copied
    from the segment's demo trajectories (same care forms, tariffs and extra fields), through the
    demo loader like the plugins' own demo data."""
    from sqlmodel import select

    from portal import clock, db
    from portal.demo import DemoContext
    from portal.models import CareForm, StandardTrajectory, Tariff
    from portal.toolkit import DemoLoader, TrajectorySpec

    if per_segment <= 0:
        return 0
    session = db.session()
    loader = DemoLoader(DemoContext(region=region, organisations=organisations, session=session,
                                    today=clock.today()), "bench")
    added = 0
    for segment_key in segments:
        year = loader.years[0]
        bases = session.exec(select(StandardTrajectory).where(
            StandardTrajectory.region_id == region.id, StandardTrajectory.segment_key == segment_key,
            StandardTrajectory.year == year).order_by(StandardTrajectory.code)).all()
        if not bases:
            continue
        specs = []
        for number in range(1, per_segment + 1):
            base = bases[(number - 1) % len(bases)]
            specs.append(TrajectorySpec(
                code=f"{base.code}-B{number:03d}", name=f"{base.name} (benchmark {number})",
                care_form=session.get(CareForm, base.care_form_id).code, tariff=session.get(Tariff, base.tariff_id).code,
                expertise=base.expertise, intensity=str(base.intensity), intensity_period=base.intensity_period,
                duration_months=base.duration_months, extra=dict(base.extra) if base.extra else None))
        loader.trajectories(segment_key, specs)
        added += len(specs)
    loader.finish()
    session.commit()
    return added


def field_value(field, ended: int) -> str:
    """A plugin field's value: the trajectories ended (plugins count outcomes of ended
    trajectories, which can never exceed them), kept within the field's bounds."""
    value = max(Decimal(ended), field.minimum)
    if field.maximum is not None:
        value = min(value, field.maximum)
    return str(int(value)) if field.kind == "integer" else f"{value:.2f}".replace(".", ",")


def write_csv(app, rows: int, folder: Path) -> dict:
    """Generate the file (and a spread sample of it); returns what the file holds."""
    from sqlmodel import select

    from portal import db
    from portal.models import Organisation, OrganisationKind, Region
    from portal.realisation.lookups import ProviderLookups
    from portal.realisation.rules import Municipality

    with app.app_context():
        session = db.session()
        provider = session.exec(select(Organisation).where(Organisation.name == PROVIDER)).one()
        region = session.get(Region, provider.region_id)
        organisations = {o.name: o for o in session.exec(select(Organisation).where(
            Organisation.region_id == region.id))}
        municipalities = [Municipality(o.id, o.municipality_code, o.name) for o in sorted(
            organisations.values(), key=lambda o: o.municipality_code or "") if o.kind == OrganisationKind.MUNICIPALITY]
        lookups = ProviderLookups(provider)
        combos = reportable(lookups, municipalities, lookups.today)
        codes = codes_by_year(lookups, combos)
        available = sum(len(codes[(segment_key, period.year)]) for period, _m, segment_key in combos)
        extra = max(0, math.ceil((rows - available) / len(combos)))
        segments = sorted({segment_key for _p, _m, segment_key in combos})
        log(f"{len(combos)} reports possible (period × municipality × segment), {available} lines with the demo "
            f"catalogue; adding {extra} trajectories per segment ({len(segments)} segments)")
        add_trajectories(region, organisations, extra, segments)

    with app.app_context():  # fresh lookups: the new trajectories are in the catalogue now
        session = db.session()
        provider = session.exec(select(Organisation).where(Organisation.name == PROVIDER)).one()
        lookups = ProviderLookups(provider)
        codes = codes_by_year(lookups, combos)
        specs = {key: lookups.spec(key) for key in segments}
        extra_columns = sorted({f.name for key in lookups.registry.segments for f in lookups.spec(key).fields})
        header = ["gemeente", "segment", "periode", "traject", "gestart", "lopend", "beeindigd", "clienten",
                  "eenheden", "plekdagen"] + extra_columns
        path, sample_path = folder / "realisatie-bench.csv", folder / "realisatie-steekproef.csv"
        total = sum(len(codes[(segment_key, period.year)]) for period, _m, segment_key in combos)
        if total < rows:
            raise SystemExit(f"only {total} distinct lines available, {rows} asked")
        step = max(1, rows // SAMPLE_ROWS)
        written = 0
        reports = set()
        bases: dict[str, int] = {}
        with open(path, "w", newline="", encoding="utf-8") as handle, \
                open(sample_path, "w", newline="", encoding="utf-8") as sample_handle:
            out, sample = csv.writer(handle, delimiter=";"), csv.writer(sample_handle, delimiter=";")
            out.writerow(header)
            sample.writerow(header)
            for period, municipality, segment_key in combos:
                if written >= rows:
                    break
                places, _volume = lookups.buys_places(municipality, segment_key, period.start)
                basis = "places" if places else specs[segment_key].basis
                bases[basis] = bases.get(basis, 0) + 1
                reports.add((period, municipality.id, segment_key))
                for code in codes[(segment_key, period.year)]:
                    if written >= rows:
                        break
                    i = written
                    running, ended = 2 + i % 7, i % 2
                    values = {
                        "gemeente": municipality.code, "segment": segment_key, "periode": period.code,
                        "traject": code, "gestart": str(i % 3), "lopend": str(running), "beeindigd": str(ended),
                        "clienten": str(running - i % 2),
                        # whole units, at most 5 a running trajectory: valid for days and hours alike
                        "eenheden": str(running * (1 + i % 5)) if basis == "units" else "",
                        "plekdagen": str(20 + i % 11) if basis == "places" else "",
                    }
                    for field in specs[segment_key].fields:
                        values[field.name] = field_value(field, ended) if field.required or i % 2 else ""
                    line = [values.get(column, "") for column in header]
                    out.writerow(line)
                    if i % step == 0:
                        sample.writerow(line)
                    written += 1
    return {"path": str(path), "sample": str(sample_path), "rows": written, "reports": len(reports),
            "bytes": path.stat().st_size, "extra_trajectories_per_segment": extra,
            "report_bases": bases}


def check_sample(app, sample_path: str) -> None:
    """Check the sample with the import's own checks (nothing stored); stop with the first errors."""
    from sqlmodel import select

    from portal import db
    from portal.models import Organisation
    from portal.realisation.files import open_table
    from portal.realisation.importing import check_source
    from portal.realisation.lookups import ProviderLookups

    with app.app_context():
        provider = db.session().exec(select(Organisation).where(Organisation.name == PROVIDER)).one()
        table = open_table(Path(sample_path), "steekproef.csv")
        result = check_source(table.rows, ProviderLookups(provider), table.header)
        if not result.ok:
            for error in result.errors[:20]:
                log(f"  sample row {error.row} [{error.column}]: {error.message}")
            raise SystemExit(f"the generated sample has {result.error_count} errors in {result.rows} rows")
        log(f"sample of {result.rows} rows passes every check")


# --- Measuring --------------------------------------------------------------------------------


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def measure_import(app, csv_path: str, expected: int, memory: bool, profile: bool) -> dict:
    from sqlalchemy import func
    from sqlmodel import select

    from portal import db
    from portal.models import Organisation, User
    from portal.models.realisation import RealisationLine, RealisationReport
    from portal.realisation.importing import receive_file, start

    with app.app_context():
        session = db.session()
        provider = session.exec(select(Organisation).where(Organisation.name == PROVIDER)).one()
        user = session.exec(select(User).where(User.email == PROVIDER_USER)).one()
        gc.collect()
        rss_before = max_rss_mb()
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
        if memory:
            tracemalloc.start()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        with open(csv_path, "rb") as stream:
            upload = receive_file(provider, user, stream, Path(csv_path).name)
        start(upload)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if memory else None
        if memory:
            tracemalloc.stop()
        rss_after = max_rss_mb()
        session.expire_all()
        upload = session.get(type(upload), upload.id)
        if upload.state != "stored":
            for error in (upload.errors or [])[:20]:
                log(f"  row {error['row']} [{error['column']}]: {error['message']}")
            raise SystemExit(f"import not stored: {upload.state}: {upload.message}")
        stored = session.exec(select(func.count(RealisationLine.id)).join(
            RealisationReport, RealisationReport.id == RealisationLine.report_id).where(
            RealisationReport.upload_id == upload.id)).one()
        if stored != expected:
            raise SystemExit(f"{stored} lines stored, {expected} expected")
        if profiler:
            import io
            import pstats

            for order in ("cumulative", "tottime"):
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(25)
                print(text.getvalue(), file=sys.stderr)
        return {"seconds": seconds, "rows_stored": stored, "reports": upload.report_count, "upload_id": upload.id,
                "tracemalloc_peak_mb": peak / (1024 * 1024) if peak is not None else None,
                "max_rss_delta_mb": rss_after - rss_before, "max_rss_mb": rss_after}


def measure_copy(url: str, upload_id: int, repeat: int = 3) -> dict:
    """COPY the stored lines' values again into ``realisation_line`` (same server, same table,
    same indexes and foreign key), timed from the COPY statement to the commit and removed after;
    ``repeat`` times, the median counts."""
    import psycopg

    columns = ", ".join(COPY_COLUMNS)
    timings = []
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as connection:
        rows = connection.execute(
            f"SELECT {', '.join('l.' + c for c in COPY_COLUMNS)} FROM realisation_line l "
            f"JOIN realisation_report r ON r.id = l.report_id WHERE r.upload_id = %s ORDER BY l.id",
            (upload_id,)).fetchall()
        for _ in range(repeat):
            last_id = connection.execute("SELECT max(id) FROM realisation_line").fetchone()[0]
            connection.commit()
            started = time.perf_counter()
            with connection.cursor() as cursor:
                with cursor.copy(f"COPY realisation_line ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            connection.commit()
            timings.append(time.perf_counter() - started)
            copied = connection.execute("SELECT count(*) FROM realisation_line WHERE id > %s",
                                        (last_id,)).fetchone()[0]
            connection.execute("DELETE FROM realisation_line WHERE id > %s", (last_id,))
            connection.commit()
            if copied != len(rows):
                raise SystemExit(f"COPY wrote {copied} rows, {len(rows)} expected")
    return {"seconds": sorted(timings)[len(timings) // 2], "runs": timings, "rows": len(rows)}


def remove_import(app, upload_id: int, kind: str) -> None:
    """Take an import's lines, reports and upload out again (its audit events stay: append-only),
    and on PostgreSQL vacuum the tables, so that the next import of the same file meets the
    database as the first did."""
    from sqlalchemy import text

    from portal import db

    with app.app_context():
        session = db.session()
        session.execute(text("DELETE FROM realisation_line WHERE report_id IN "
                             "(SELECT id FROM realisation_report WHERE upload_id = :id)"), {"id": upload_id})
        session.execute(text("DELETE FROM realisation_report WHERE upload_id = :id"), {"id": upload_id})
        session.execute(text("DELETE FROM realisation_upload WHERE id = :id"), {"id": upload_id})
        session.commit()
    if kind == "postgresql":
        with app.extensions["portal.engine"].connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(text("VACUUM ANALYZE realisation_line, realisation_report"))


def run_worker(kind: str, rows: int, mode: str, profile: bool, result_path: str, keep: str | None,
               repeat: int = 1) -> None:
    """Imports on a fresh database: ``mode`` "time" (wall time and RSS of ``repeat`` imports of the
    same file, each taken out again before the next, the median counting; then on PostgreSQL the
    COPY) or "memory" (one import under tracemalloc, which slows Python down several times)."""
    from portal import migrate
    from portal.demo import load_demo

    folder = Path(tempfile.mkdtemp(prefix=f"portal-bench-{kind}-"))
    name = None
    app = None
    try:
        url, name = create_database(kind, folder)
        log(f"{kind}: migrating {url.split('@')[-1]}")
        migrate.upgrade(url)
        app = make_app(url, folder)
        log(f"{kind}: loading the demo region")
        started = time.perf_counter()
        with app.app_context():
            load_demo("bench-wachtwoord-2026")
        log(f"{kind}: demo loaded in {time.perf_counter() - started:.1f} s; writing {rows} rows")
        made = write_csv(app, rows, folder)
        log(f"{kind}: {made['rows']} rows in {made['reports']} reports, {made['bytes'] / 1e6:.1f} MB "
            f"(bases per report: {made['report_bases']})")
        if keep and mode == "time":
            Path(keep).mkdir(parents=True, exist_ok=True)
            for source in (made["path"], made["sample"]):
                shutil.copy(source, Path(keep) / f"{kind}-{Path(source).name}")
        check_sample(app, made["sample"])
        memory = mode == "memory"
        profile = profile and not memory
        log(f"{kind}: importing{' under tracemalloc' if memory else ''}{' under cProfile' if profile else ''}")
        runs = []
        for round_ in range(1 if memory else repeat):
            if runs:
                remove_import(app, runs[-1]["upload_id"], kind)
            runs.append(measure_import(app, made["path"], made["rows"], memory, profile and round_ == 0))
            log(f"{kind}: import took {runs[-1]['seconds']:.2f} s")
        result = dict(runs[-1], runs=[run["seconds"] for run in runs],
                      seconds=sorted(run["seconds"] for run in runs)[len(runs) // 2],
                      max_rss_delta_mb=runs[0]["max_rss_delta_mb"])
        if kind == "postgresql" and not memory:
            result["copy"] = measure_copy(url, result["upload_id"])
            log(f"{kind}: COPY took {', '.join(f'{t:.2f}' for t in result['copy']['runs'])} s")
        result.update(database=kind, rows=made["rows"], file_bytes=made["bytes"],
                      extra_trajectories_per_segment=made["extra_trajectories_per_segment"],
                      report_bases=made["report_bases"])
        Path(result_path).write_text(json.dumps(result))
    finally:
        if app is not None:
            app.extensions["portal.engine"].dispose()
        if name:
            drop_database(name)
        shutil.rmtree(folder, ignore_errors=True)


# --- The parent: one child per database, then the table ------------------------------------------


def postgres_reachable() -> str | None:
    try:
        import psycopg

        psycopg.connect(server_url(), connect_timeout=3).close()
        return None
    except Exception as error:  # noqa: BLE001
        return f"{error.__class__.__name__}: {error}".strip()


def run_child(kind: str, mode: str, args) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        result_path = handle.name
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--mode", mode,
               "--rows", str(args.rows), "--result", result_path, "--repeat", str(args.repeat)]
    command += (["--keep-files", args.keep_files] if args.keep_files else []) + (["--profile"] if args.profile else [])
    try:
        status = subprocess.run(command, cwd=ROOT).returncode
        if status != 0:
            raise SystemExit(f"the {kind} run ({mode}) failed (exit code {status})")
        return json.loads(Path(result_path).read_text())
    finally:
        os.unlink(result_path)


def fmt(value, pattern: str) -> str:
    return "—" if value is None else format(value, pattern)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the file (default 100000)")
    parser.add_argument("--db", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--no-tracemalloc", dest="memory", action="store_false",
                        help="skip the second import under tracemalloc (no Python peak memory then)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed imports per database, each of the same file on the same database after the "
                             "one before was taken out; the median counts, as for COPY (default 3)")
    parser.add_argument("--profile", action="store_true", help="cProfile the import; hot spots on stderr")
    parser.add_argument("--output", default=str(RESULTS), help=f"JSON results (default {RESULTS.relative_to(ROOT)})")
    parser.add_argument("--keep-files", metavar="FOLDER", help="copy the generated CSV files into FOLDER")
    parser.add_argument("--worker", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("time", "memory"), default="time", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    from portal.realisation.files import MAX_ROWS

    if not 1 <= args.rows <= MAX_ROWS:
        parser.error(f"--rows must be between 1 and {MAX_ROWS} (the import refuses larger files)")
    if args.worker:
        run_worker(args.worker, args.rows, args.mode, args.profile, args.result, args.keep_files, args.repeat)
        return 0

    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    load_before = os.getloadavg()[0]
    if "postgresql" in kinds and (problem := postgres_reachable()):
        print(f"PostgreSQL is not reachable at {server_url()} ({problem}); start it or set "
              f"PORTAL_BENCH_POSTGRES_URL (or run with --db sqlite, without the ratio to COPY).", file=sys.stderr)
        return 3
    results = []
    for kind in kinds:
        result = run_child(kind, "time", args)
        if args.memory:
            traced = run_child(kind, "memory", args)
            result["tracemalloc_peak_mb"] = traced["tracemalloc_peak_mb"]
            result["tracemalloc_run_seconds"] = traced["seconds"]
        results.append(result)

    copy = next((r["copy"] for r in results if "copy" in r), None)
    for result in results:
        result["rows_per_second"] = result["rows"] / result["seconds"]
        result["seconds_vs_copy"] = result["seconds"] / copy["seconds"] if copy else None
        result["rows_per_second_vs_copy"] = copy["seconds"] / result["seconds"] if copy else None
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    print()
    print(f"Realisation import of {args.rows} rows, {date.today()}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after")
    header = (f"{'database':<16} {'rows':>8} {'seconds':>8} {'rows/s':>8} {'peak MB':>8} {'RSS Δ MB':>9} "
              f"{'× COPY':>7}")
    print(header)
    print("-" * len(header))
    for result in results:
        print(f"{names[result['database']] + ' import':<16} {result['rows']:>8} {result['seconds']:>8.2f} "
              f"{result['rows_per_second']:>8.0f} {fmt(result['tracemalloc_peak_mb'], '.1f'):>8} "
              f"{result['max_rss_delta_mb']:>9.1f} {fmt(result['rows_per_second_vs_copy'], '.2f'):>7}")
    if copy:
        print(f"{'PostgreSQL COPY':<16} {copy['rows']:>8} {copy['seconds']:>8.2f} "
              f"{copy['rows'] / copy['seconds']:>8.0f} {'—':>8} {'—':>9} {1.0:>7.2f}")
    for result in results:
        print(f"{names[result['database']]} import runs: {', '.join(f'{t:.2f}' for t in result['runs'])} s"
              + (f"; COPY runs: {', '.join(f'{t:.2f}' for t in copy['runs'])} s"
                 if copy and result["database"] == "postgresql" else ""))
    print("seconds = the median of the runs (imports and COPY alike).")
    print("peak MB = tracemalloc peak of the same import in a separate run (tracemalloc slows Python down "
          "several times, so it is not on in the timed run);")
    print("RSS Δ MB = growth of the maximum RSS of the process during the timed import.")
    if args.profile:
        print("NOTE: --profile was on: the seconds include cProfile's overhead.")
    print("× COPY = import rows/s ÷ rows/s of COPY of the same line values into realisation_line "
          "(psycopg cursor.copy(), same PostgreSQL server, same run) = COPY seconds ÷ import seconds.")
    verdict = None
    postgresql = next((r for r in results if r["database"] == "postgresql"), None)
    if postgresql is not None:
        ratio = postgresql["rows_per_second_vs_copy"]
        verdict = "PASS" if ratio >= GOAL else "FAIL"
        print(f"{verdict}: the PostgreSQL import runs at {ratio:.2f} × COPY's rows/s "
              f"(goal ≥ {GOAL}: import seconds at most {1 / GOAL:.0f} × COPY's; here {1 / ratio:.1f} ×).")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "benchmark": "realisation_import", "rows": args.rows,
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(), "cpus": os.cpu_count(), "tracemalloc": args.memory,
        "load_average": {"before": load_before, "after": os.getloadavg()[0]},
        "postgresql_server": server_url().split("@")[-1],
        "goal_rows_per_second_vs_copy": GOAL, "verdict": verdict,
        "copy": copy, "imports": results}, indent=2) + "\n")
    print(f"Results written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
