"""Benchmark: settling a national-scale year on PostgreSQL, against a plain SQL GROUP BY.

    .venv/bin/python bench/settlement.py                     # 1,000,000 lines, 50,000 agreements
    .venv/bin/python bench/settlement.py --lines 100000 --agreements 5000 --repeat 2

A fresh database ``bench_<random>`` on the PostgreSQL server of ``PORTAL_BENCH_POSTGRES_URL``
(default ``postgresql://postgres@127.0.0.1:5432/postgres``), migrated (``portal.migrate.upgrade``)
and filled with one generated region year through ``COPY ... FROM STDIN`` (psycopg's
``cursor.copy()``): 300 municipalities, 2,000 providers (one framework agreement each, for the
foreign key), ``--agreements`` budget agreements and ceilings spread over every segment of the
registry, municipal choices (some buy places, some choose population funding), four approved
quarterly realisation reports per agreement (plus reports without an agreement and reports still
waiting for review, which must not count) and ``--lines`` realisation lines, about 3% with result
figures in ``extra`` (``resultaat_behaald``, ``uitstroom_werk``), the others JSON ``null`` as the
import writes a line without figures (every tenth SQL NULL). Generation is not measured; the
database is VACUUM ANALYZEd before measuring. The data is the same for the same options (fixed
seed), so the printed digest of the results can be compared between two versions of the code.

Measured in the same run, after one warm-up of each, ``--repeat`` times alternately (the best counts):

(a) the yardstick: one plain SQL ``GROUP BY`` of the approved lines of the year per provider ×
    municipality × segment (the sums the settlement needs), fetched to the client with psycopg;
(b) the settlement: :func:`portal.settlement.inputs.gather` + :meth:`Year.settle`, in a fresh app
    context each time (``create_app`` on the bench database): the code path a settlement run uses
    to compute, without storing anything and without formatting explanations (they are lazy);
(c) with ``--store``: :func:`portal.settlement.runs.run_settlement` + commit once (it also builds
    every explanation and stores every line): informational, not part of the ratio.

Reported: seconds, rows, agreements, the growth of the process's maximum RSS, the tracemalloc peak
of (b) in a separate untimed run, and **(b) ÷ (a)** against the target of 2×. The exit code is 0
when the target is missed too (this is a report); 3 when PostgreSQL cannot be reached. Writes
``bench/results/settlement.json``. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import os
import platform
import pstats
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
REPORT_TOTALS_SQL = """
WITH sums AS (
    SELECT report_id, SUM(value) AS value, COUNT(*) AS lines, COALESCE(SUM(place_days), 0) AS place_days,
           COALESCE(SUM(ended), 0) AS ended
    FROM realisation_line GROUP BY report_id),
per_figure AS (
    SELECT l.report_id, kv.key, SUM(CAST(kv.value AS NUMERIC)) AS total
    FROM realisation_line l, json_each_text(l.extra) kv
    WHERE json_typeof(l.extra) = 'object'
    GROUP BY l.report_id, kv.key),
figures AS (
    SELECT report_id, json_object_agg(key, total::text ORDER BY key) AS figures FROM per_figure GROUP BY report_id)
UPDATE realisation_report r
SET total_value = sums.value, line_count = sums.lines, place_days_total = sums.place_days,
    ended_total = sums.ended, figures = figures.figures
FROM sums LEFT JOIN figures ON figures.report_id = sums.report_id
WHERE r.id = sums.report_id
"""
RESULTS = ROOT / "bench" / "results" / "settlement.json"
REGION_CODE = "bench-landelijk"
YEAR = 2025
MUNICIPALITIES = 300
PROVIDERS = 2000
TARGET = 2.0
SEED = 2026

BASELINE_SQL = """
SELECT r.organisation_id, r.municipality_id, r.segment_key,
       SUM(l.value), SUM(l.place_days), SUM(l.ended)
FROM realisation_line l JOIN realisation_report r ON r.id = l.report_id
WHERE r.region_id = %s AND r.year = %s AND r.state = 'approved'
GROUP BY r.organisation_id, r.municipality_id, r.segment_key
"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def server_url() -> str:
    url = os.environ.get("PORTAL_BENCH_POSTGRES_URL", DEFAULT_SERVER)
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def postgres_reachable() -> str | None:
    try:
        import psycopg

        psycopg.connect(server_url(), connect_timeout=3).close()
        return None
    except Exception as error:  # noqa: BLE001
        return f"{error.__class__.__name__}: {error}".strip()


def create_database() -> tuple[str, str]:
    """A fresh database; returns its plain psycopg URL and its name."""
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url(), autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url().rsplit("/", 1)[0] + f"/{name}", name


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(server_url(), autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def make_app(url: str, folder: Path):
    from portal import create_app

    return create_app({
        "ENV": "testing", "DATABASE_URL": sqlalchemy_url(url),
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789", "MAIL_ECHO": False,
        "SERVER_NAME": "portaal.bench", "INSTANCE_PATH": str(folder / "instance"),
        "UPLOAD_FOLDER": str(folder / "uploads"),
    })


# --- The generated year ---------------------------------------------------------------------------


def copy_rows(connection, table: str, columns: tuple[str, ...], rows) -> int:
    """Write ``rows`` (tuples, None for NULL) into ``table`` with COPY; returns the count."""
    count = 0
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def generate(url: str, segments: list[str], agreements: int, lines: int) -> dict:
    """Fill the migrated database with one region year; returns what it holds."""
    import psycopg

    rng = random.Random(SEED)
    now = datetime(YEAR, 12, 1, 9, 0, tzinfo=timezone.utc)
    made: dict[str, int] = {}
    with psycopg.connect(url) as connection:
        region_id = connection.execute("INSERT INTO region (code, name) VALUES (%s, %s) RETURNING id",
                                       (REGION_CODE, "Benchmark landelijk")).fetchone()[0]
        # Organisations: ids 1..300 municipalities, then providers, then the purchasing office.
        municipalities = list(range(1, MUNICIPALITIES + 1))
        providers = list(range(MUNICIPALITIES + 1, MUNICIPALITIES + PROVIDERS + 1))
        office = MUNICIPALITIES + PROVIDERS + 1
        organisations = [(m, region_id, "municipality", f"Gemeente {m:03d}", None, None, 10_000 + 997 * m % 250_000,
                          f"{m:04d}", True, now) for m in municipalities]
        organisations += [(p, region_id, "provider", f"Zorgaanbieder {p:05d}", f"{p:08d}", None, None, None, True, now)
                          for p in providers]
        organisations.append((office, region_id, "purchasing_office", "Inkoopbureau landelijk", None, None, None,
                              None, True, now))
        made["organisations"] = copy_rows(connection, "organisation", (
            "id", "region_id", "kind", "name", "kvk_number", "agb_code", "residents", "municipality_code",
            "is_active", "created_at"), organisations)
        frameworks = {p: p for p in providers}  # framework agreement id = provider id
        made["framework_agreements"] = copy_rows(connection, "framework_agreement", (
            "id", "region_id", "organisation_id", "reference", "domain", "lot", "contract_form", "start_date",
            "initial_years", "extension_options", "extensions_used", "bow_wave", "created_at"),
            ((f, region_id, p, f"RO-{p}", "bench", "regional", "a", f"{YEAR - 1}-01-01", 4, "[]", 0, False, now)
             for p, f in frameworks.items()))

        # Municipal choices in force on 1 January: 5% buy places, 10% population funding.
        choices = {}
        choice_rows = []
        for m in municipalities:
            for segment in segments:
                draw = rng.random()
                if draw < 0.05:
                    choices[(m, segment)] = "places"
                    details = json.dumps({"volume": str(rng.randint(10, 200))})
                    choice_rows.append((region_id, m, segment, f"{YEAR - 1}-01-01", '["regional"]', "places",
                                        "budget_agreement", details, now))
                elif draw < 0.15:
                    choices[(m, segment)] = "population"
                    choice_rows.append((region_id, m, segment, f"{YEAR - 1}-01-01", '["regional"]', "trajectories",
                                        "population", None, now))
                else:
                    choice_rows.append((region_id, m, segment, f"{YEAR - 1}-01-01", '["regional"]', "trajectories",
                                        "budget_agreement", None, now))
        made["municipal_choices"] = copy_rows(connection, "municipal_choice", (
            "region_id", "municipality_id", "segment_key", "effective_from", "lots", "volume_basis",
            "funding_form", "details", "created_at"), choice_rows)

        # Budget agreements and ceilings: unique provider × municipality × segment.
        combos: dict[tuple[int, int, str], tuple[str, int]] = {}
        agreement_rows = []
        while len(agreement_rows) < agreements:
            provider = rng.choice(providers)
            key = (provider, (provider * 7 + rng.randrange(60)) % MUNICIPALITIES + 1, rng.choice(segments))
            if key in combos:
                continue
            kind = "ceiling" if rng.random() < 0.2 else "budget"
            cents = rng.randint(1_000_000, 200_000_000)
            bandwidth = rng.choice((None, "5.00", "5.00", "10.00", "2.50"))
            combos[key] = (kind, cents)
            agreement_rows.append((len(agreement_rows) + 1, region_id, *key, frameworks[provider], YEAR, kind,
                                   f"{cents // 100}.{cents % 100:02d}", bandwidth if kind == "budget" else None,
                                   12 if kind == "budget" else None, now, now))
        made["budget_agreements"] = copy_rows(connection, "budget_agreement", (
            "id", "region_id", "organisation_id", "municipality_id", "segment_key", "framework_agreement_id", "year",
            "kind", "amount", "bandwidth_percentage", "advance_installments", "created_at", "updated_at"),
            agreement_rows)
        # Realisation without an agreement too (trajectory funding): 5% more combinations.
        while len(combos) < agreements * 1.05:
            provider = rng.choice(providers)
            key = (provider, (provider * 7 + rng.randrange(60)) % MUNICIPALITIES + 1, rng.choice(segments))
            combos.setdefault(key, ("none", rng.randint(1_000_000, 50_000_000)))

        # Four approved quarterly reports per combination; 2% of them also a newer version still
        # waiting for review (state submitted: not counted).
        report_rows, line_plan = [], []
        for (provider, municipality, segment), (kind, cents) in combos.items():
            factor = rng.uniform(0.75, 1.25)  # realisation against the budget: inside and outside the band
            for quarter in (1, 2, 3, 4):
                report_id = len(report_rows) + 1
                report_rows.append((report_id, region_id, provider, municipality, segment, YEAR, "quarter", quarter, 1,
                                    "approved", 0, 0, 0, now))
                line_plan.append((report_id, cents * factor / 4, segment, choices.get((municipality, segment))))
                if rng.random() < 0.02:
                    report_rows.append((len(report_rows) + 1, region_id, provider, municipality, segment, YEAR,
                                        "quarter", quarter, 2, "submitted", 0, 0, 0, now))
                    line_plan.append((len(report_rows), cents / 4, segment, None))
        made["realisation_reports"] = copy_rows(connection, "realisation_report", (
            "id", "region_id", "organisation_id", "municipality_id", "segment_key", "year", "period_kind", "period",
            "version", "state", "total_value", "line_count", "lock_version", "submitted_at"), report_rows)

        per_report, rest = divmod(lines, len(line_plan))

        def line_rows():
            line_id = 0
            for index, (report_id, report_cents, segment, choice) in enumerate(line_plan):
                count = per_report + (1 if index < rest else 0)
                if not count:
                    continue
                each = max(1, int(report_cents / count))
                for number in range(count):
                    line_id += 1
                    ended = line_id % 4
                    # As the import writes them: JSON null where a line has no figures (SQLAlchemy's
                    # JSON type stores None as 'null', not SQL NULL); SQL NULL for every 10th line.
                    extra = None if line_id % 10 == 0 else "null"
                    if segment == "jeugd.S1" and line_id % 7 == 0:
                        extra = json.dumps({"resultaat_behaald": min(ended, 2)})
                    elif segment.startswith("participatie.") and line_id % 11 == 0:
                        extra = json.dumps({"uitstroom_werk": 1})
                    place_days = 20 + line_id % 60 if choice == "places" else None
                    value = f"{each // 100}.{each % 100:02d}"
                    yield (line_id, report_id, f"T{number:03d}", line_id % 3, 2 + line_id % 5, ended,
                           2 + line_id % 5, None, place_days, "100.00", value, extra)

        made["realisation_lines"] = copy_rows(connection, "realisation_line", (
            "id", "report_id", "trajectory_code", "started", "running", "ended", "clients", "units", "place_days",
            "unit_price", "value", "extra"), line_rows())
        made["lines_with_extra"] = connection.execute(
            "SELECT count(*) FROM realisation_line WHERE json_typeof(extra) <> 'null'").fetchone()[0]
        # Each report's own sums, as the realisation import writes them with its lines (the settlement
        # reads these; the yardstick (a) adds up the lines themselves).
        connection.execute(REPORT_TOTALS_SQL)

        # A contract manager of the region (only --store needs one).
        user_id = connection.execute(
            'INSERT INTO "user" (email, name, is_active, created_at) VALUES (%s, %s, true, %s) RETURNING id',
            ("contractmanager@bench.example", "Contractmanager Bench", now)).fetchone()[0]
        connection.execute("INSERT INTO membership (user_id, organisation_id, role, created_at) VALUES (%s, %s, %s, %s)",
                           (user_id, office, "contract_manager", now))
        for table in ("organisation", "framework_agreement", "budget_agreement", "realisation_report",
                      "realisation_line"):
            connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        connection.commit()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    made.update(region_id=region_id, user_id=user_id)
    return made


# --- Measuring ------------------------------------------------------------------------------------


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def baseline(url: str, region_id: int) -> int:
    """(a) The plain GROUP BY, every row fetched to the client."""
    import psycopg

    with psycopg.connect(url) as connection:
        return len(connection.execute(BASELINE_SQL, (region_id, YEAR)).fetchall())


def settlement(app, region_id: int):
    """(b) What a settlement run computes: gather the year, settle it (nothing stored)."""
    from portal import db
    from portal.models import Region
    from portal.settlement.inputs import gather

    with app.app_context():
        region = db.session().get(Region, region_id)
        year = gather(region, YEAR)
        return year, year.settle()


def digest(year, result) -> str:
    """A fingerprint of the results: every agreement's kind, inputs and amounts, and the full
    explanation of every 250th agreement (explanations are lazy; formatting all would dominate)."""
    from portal.settlement.inputs import inputs_of

    sha = hashlib.sha256()
    for index, (source, settled) in enumerate(zip(year.sources, result.settlements)):
        sha.update(json.dumps([source.budget_agreement_id, inputs_of(source), str(settled.settled_value),
                               str(settled.paid), str(settled.due)], sort_keys=True).encode())
        if index % 250 == 0:
            sha.update("\n".join(settled.explanation).encode())
    sha.update(json.dumps({str(k): str(v) for k, v in sorted(year.realisation_by_municipality.items())}).encode())
    return sha.hexdigest()[:16]


def timed(function, *arguments) -> tuple[float, object]:
    gc.collect()
    started = time.perf_counter()
    outcome = function(*arguments)
    return time.perf_counter() - started, outcome


def store(app, region_id: int, user_id: int) -> float:
    """(c) A stored settlement run (explanations built and stored for every line)."""
    from portal import db
    from portal.models import Region, User
    from portal.settlement.runs import run_settlement

    with app.app_context():
        session = db.session()
        started = time.perf_counter()
        run_settlement(session.get(Region, region_id), YEAR, session.get(User, user_id), note="Benchmark")
        session.commit()
        return time.perf_counter() - started


def fmt(value, pattern: str) -> str:
    return "—" if value is None else format(value, pattern)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="realisation lines (default 1000000)")
    parser.add_argument("--agreements", type=int, default=50_000, help="budget agreements and ceilings (default 50000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each, after a warm-up (default 3)")
    parser.add_argument("--runs", type=int, default=3,
                        help="independent rounds of --repeat timings each, one ratio per round (default 3): "
                             "min, median and max ratio and the margin to the target")
    parser.add_argument("--store", action="store_true", help="also store one settlement run (informational)")
    parser.add_argument("--no-tracemalloc", dest="memory", action="store_false",
                        help="skip the untimed run of the settlement under tracemalloc (no peak memory then)")
    parser.add_argument("--profile", action="store_true", help="cProfile one settlement; hot spots on stderr")
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument("--output", default=str(RESULTS), help=f"JSON results (default {RESULTS.relative_to(ROOT)})")
    args = parser.parse_args()
    if args.agreements < 1 or args.lines < 1 or args.repeat < 1 or args.runs < 1:
        parser.error("--lines, --agreements, --repeat and --runs must be at least 1")
    if args.agreements > 60 * PROVIDERS * 5:
        parser.error(f"--agreements can be at most {60 * PROVIDERS * 5}")
    if problem := postgres_reachable():
        print(f"PostgreSQL is not reachable at {server_url()} ({problem}); start it or set "
              f"PORTAL_BENCH_POSTGRES_URL.", file=sys.stderr)
        return 3

    from portal import migrate

    folder = Path(tempfile.mkdtemp(prefix="portal-bench-settlement-"))
    url, name = create_database()
    app = None
    load_before = os.getloadavg()[0]
    try:
        log(f"migrating {name}")
        migrate.upgrade(sqlalchemy_url(url))
        app = make_app(url, folder)
        segments = sorted(app.extensions["portal.registry"].segments)
        log(f"generating {args.agreements} agreements and {args.lines} lines over {len(segments)} segments")
        started = time.perf_counter()
        made = generate(url, segments, args.agreements, args.lines)
        log(f"generated in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{k} {v}" for k, v in made.items() if k not in ("region_id", "user_id")))
        region_id = made["region_id"]

        log("warming up")
        groups = baseline(url, region_id)
        year, result = settlement(app, region_id)
        fingerprint = digest(year, result)
        settled = len(result.settlements)
        del year, result
        rss_before = max_rss_mb()
        baseline_runs, settlement_runs = [], []
        rounds = []  # per round: (best GROUP BY, best settlement, ratio)
        for round_number in range(args.runs):
            round_baseline, round_settlement = [], []
            for number in range(args.repeat):
                seconds, _rows = timed(baseline, url, region_id)
                round_baseline.append(seconds)
                seconds, _outcome = timed(settlement, app, region_id)
                round_settlement.append(seconds)
                del _outcome
                log(f"round {round_number + 1} run {number + 1}: GROUP BY {round_baseline[-1]:.2f} s, "
                    f"settlement {round_settlement[-1]:.2f} s")
            baseline_runs += round_baseline
            settlement_runs += round_settlement
            best = (min(round_baseline), min(round_settlement))
            rounds.append((*best, best[1] / best[0]))
            log(f"round {round_number + 1}: {rounds[-1][2]:.2f}× GROUP BY")
        rss_growth = max_rss_mb() - rss_before
        peak = None
        if args.memory:
            gc.collect()
            tracemalloc.start()
            settlement(app, region_id)
            peak = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(settlement, app, region_id)
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
            print(out.getvalue(), file=sys.stderr)
        stored = store(app, region_id, made["user_id"]) if args.store else None
        if stored is not None:
            log(f"stored run: {stored:.2f} s")
    finally:
        if app is not None:
            app.extensions["portal.engine"].dispose()
        if args.keep:
            log(f"kept database {name} ({url})")
        else:
            drop_database(name)
        shutil.rmtree(folder, ignore_errors=True)

    best_baseline, best_settlement = min(baseline_runs), min(settlement_runs)
    ratios = sorted(r[2] for r in rounds)
    ratio = statistics.median(ratios)
    # Met when every round is within the target; the margin is what the worst round leaves.
    met = ratios[-1] <= TARGET
    margin = TARGET - ratios[-1]
    print()
    print(f"Settlement of a generated year ({YEAR}), {datetime.now().date()}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after")
    print(f"{made['realisation_lines']} realisation lines ({made['lines_with_extra']} with result figures) in "
          f"{made['realisation_reports']} reports; {made['budget_agreements']} agreements; "
          f"{made['organisations']} organisations")
    header = f"{'measurement':<26} {'rows':>8} {'best s':>8} {'all runs (s)':<24} {'× GROUP BY':>10}"
    print(header)
    print("-" * len(header))
    print(f"{'(a) SQL GROUP BY':<26} {groups:>8} {best_baseline:>8.2f} "
          f"{', '.join(f'{t:.2f}' for t in baseline_runs):<24} {1.0:>10.2f}")
    print(f"{'(b) gather + settle':<26} {settled:>8} {best_settlement:>8.2f} "
          f"{', '.join(f'{t:.2f}' for t in settlement_runs):<24} {ratio:>10.2f}")
    if stored is not None:
        print(f"{'(c) stored run (info)':<26} {settled:>8} {stored:>8.2f} {'1 run':<24} {stored / best_baseline:>10.2f}")
    print(f"peak memory of (b): tracemalloc {fmt(peak, '.1f')} MB (separate run); max RSS growth during the timed "
          f"runs {rss_growth:.1f} MB")
    print(f"results digest {fingerprint} (same options, same data: compare between versions of the code)")
    if args.profile:
        print("NOTE: --profile was on (a separate, untimed run).")
    print(f"{'round':<8} {'GROUP BY s':>10} {'settle s':>9} {'× GROUP BY':>10}")
    for number, (group_by, settle, round_ratio) in enumerate(rounds, 1):
        print(f"{number:<8} {group_by:>10.2f} {settle:>9.2f} {round_ratio:>10.2f}")
    print(f"over {len(ratios)} rounds: min {ratios[0]:.2f}, median {ratio:.2f}, max {ratios[-1]:.2f}; "
          f"margin to {TARGET:.0f}× {margin:+.2f} ({margin / TARGET:+.0%}) on the worst round")
    verdict = "MET" if met else "NOT MET"
    print(f"TARGET {verdict}: settlement ÷ GROUP BY = {ratio:.2f} median (target ≤ {TARGET:.0f}× in every round)")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "benchmark": "settlement", "year": YEAR, "options": {"lines": args.lines, "agreements": args.agreements,
                                                             "repeat": args.repeat, "runs": args.runs},
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(), "cpus": os.cpu_count(),
        "load_average": {"before": load_before, "after": os.getloadavg()[0]},
        "postgresql_server": server_url().split("@")[-1], "generated": made,
        "group_by": {"rows": groups, "best_seconds": best_baseline, "runs": baseline_runs},
        "settlement": {"agreements": settled, "best_seconds": best_settlement, "runs": settlement_runs,
                       "tracemalloc_peak_mb": peak, "max_rss_growth_mb": rss_growth, "digest": fingerprint},
        "rounds": [{"group_by_seconds": g, "settlement_seconds": b, "ratio": r} for g, b, r in rounds],
        "ratio_min": ratios[0], "ratio_median": ratio, "ratio_max": ratios[-1], "margin": margin,
        "stored_run_seconds": stored, "ratio": ratio, "target": TARGET, "target_met": met}, indent=2) + "\n")
    print(f"Results written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
