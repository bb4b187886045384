"""Page bench (issue 14 point 4): the busiest screens at region size under 50 concurrent users,
each page's throughput as a ratio to a bare route measured in the same run.

1. a fresh PostgreSQL database ``bench_pages_<random>`` with the region-size demo, loaded by the
   real command (``flask --app wsgi demo --size region``) — or ``--database URL`` to reuse one;
2. gunicorn (``gunicorn wsgi:app``, gthread workers, production settings) against it;
3. signs in as the contract manager and a provider (session cookies);
4. ``wrk`` (Debian's package: a C load generator, so the driver costs the two shared cores little)
   with ``--connections`` users for ``--duration`` seconds per page: the bare route ``/gezond``
   first and last (their mean is the yardstick), the pages in between;
5. a table of requests/s, the ratio to the bare route and PASS/FAIL against ``--goal`` (0.3), and
   the same as JSON (``bench/results/pages.json``).

Exit code 0 also when a page misses the goal (the last line says so); 3 when PostgreSQL or wrk is
missing.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
DEFAULT_SERVER = os.environ.get("PORTAL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-wachtwoord-2026"
MANAGER = "contractmanager@mgr-noord-limburg.example"
PROVIDER = "beheer@zorggroep-maasland.example"

# name, path, who asks (None: nobody signed in)
PAGES = [
    ("kale route /gezond", "/gezond", None),
    ("budgetdashboard (regio)", "/realisatie/dashboard/", MANAGER),
    ("budgetdashboard (aanbieder)", "/realisatie/dashboard/", PROVIDER),
    ("realisatie (aanbieder)", "/realisatie/", PROVIDER),
    ("beoordelen (contractmanager)", "/realisatie/beoordelen/", MANAGER),
    ("raamovereenkomsten", "/afspraken/", MANAGER),
    ("afrekening", "/afrekening/", MANAGER),
]


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if "+psycopg" not in url else url


def plain_url(url: str) -> str:
    return url.replace("+psycopg", "")


def make_database(server: str) -> tuple[str, str]:
    import psycopg
    name = f"bench_pages_{secrets.token_hex(4)}"
    with psycopg.connect(plain_url(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(plain_url(server))
    return name, urllib.parse.urlunsplit(parts._replace(path="/" + name))


def drop_database(server: str, name: str) -> None:
    import psycopg
    with psycopg.connect(plain_url(server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(database_url: str, instance: str, redis_url: str | None, prefix: str) -> dict:
    env = {**os.environ, "PORTAL_DATABASE_URL": sqlalchemy_url(database_url), "PORTAL_INSTANCE_PATH": instance,
           "PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "bench-" + "k" * 40,
           "PORTAL_REALISATION_IN_BACKGROUND": "0", "PORTAL_REDIS_KEY_PREFIX": prefix}
    env.pop("PORTAL_REDIS_URL", None)
    if redis_url:  # as in production: the throttle, the jobs and the page cache in Redis
        env["PORTAL_REDIS_URL"] = redis_url
    return env


def forget_keys(redis_url: str, prefix: str) -> None:
    from redis import Redis

    client = Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def load_demo(env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "demo", "--size", "region", "--password", PASSWORD,
                    "--region", "noord-limburg"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def start_gunicorn(env: dict, port: int, workers: int, threads: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "wsgi:app", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--worker-class", "gthread", "--threads", str(threads), "--backlog", "2048", "--timeout", "60",
         "--log-level", "warning"], cwd=ROOT, env=env, start_new_session=True)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/gezond", timeout=2) as response:
                if response.status == 200:
                    return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn kwam niet op")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_in(base: str, email: str, password: str = PASSWORD) -> str:
    """The session cookie (``name=value``) of a fresh sign-in. Cookies are kept by hand: production
    marks them Secure, and the bench speaks plain HTTP on the loopback."""
    opener = urllib.request.build_opener(_NoRedirect)
    cookies: dict[str, str] = {}

    def remember(response) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name] = rest.split(";", 1)[0]

    def cookie_header() -> dict:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}

    with opener.open(urllib.request.Request(base + "/inloggen", headers=cookie_header())) as response:
        remember(response)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.read().decode()).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()
    try:
        opener.open(urllib.request.Request(base + "/inloggen", data=data, headers=cookie_header()))
        raise SystemExit(f"inloggen als {email} mislukt (geen doorverwijzing)")
    except urllib.error.HTTPError as answer:
        if answer.code != 302:
            raise SystemExit(f"inloggen als {email} mislukt ({answer.code})") from None
        remember(answer)
    # As a browser does: the first page after sign-in gives the renewed session its CSRF token in a
    # new cookie, which every later request carries.
    with opener.open(urllib.request.Request(base + "/", headers=cookie_header())) as response:
        remember(response)
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def fetch(base: str, path: str, cookie: str | None) -> tuple[int, int]:
    request = urllib.request.Request(base + path, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=120) as response:
            return response.status, len(response.read())
    except urllib.error.HTTPError as answer:
        return answer.code, 0


def wrk(base: str, path: str, cookie: str | None, connections: int, duration: int, threads: int) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "30s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command + [base + path], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*timeout (\d+)", output)
    latency = {q: re.search(rf"\s{q}%\s+([\d.]+\w+)", output).group(1) for q in ("50", "99")}
    return {"rps": rps, "requests": requests, "non_2xx": int(bad.group(1)) if bad else 0,
            "timeouts": int(errors.group(1)) if errors else 0, "latency_p50": latency["50"],
            "latency_p99": latency["99"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="reuse this database (URL) with the region-size demo already loaded")
    parser.add_argument("--password", default=PASSWORD, help="the demo password of a reused database")
    parser.add_argument("--connections", type=int, default=50, help="concurrent users (default 50)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per page (default 10)")
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2) * 2,
                        help="gunicorn workers (default 2 × cores)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--goal", type=float, default=0.3, help="the least ratio to the bare route (0.3)")
    parser.add_argument("--redis", default=os.environ.get("PORTAL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"),
                        help="Redis for the portal (page cache, throttle), as in production; "
                             "'none' measures the pages built on every request")
    parser.add_argument("--keep", action="store_true", help="keep the bench database (its URL is printed)")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "pages.json"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk ontbreekt: apt-get install wrk", file=sys.stderr)
        return 3

    created = None
    try:
        if args.database:
            database_url = args.database
            load_seconds = None
        else:
            created, database_url = make_database(DEFAULT_SERVER)
    except Exception as error:  # noqa: BLE001 — any connection problem: say so and stop
        print(f"PostgreSQL niet bereikbaar: {error}", file=sys.stderr)
        return 3
    instance = tempfile.mkdtemp(prefix="bench-pages-")
    redis_url = None if args.redis.lower() == "none" else args.redis
    prefix = f"bench-pages-{secrets.token_hex(4)}"
    env = environment(database_url, instance, redis_url, prefix)
    server = None
    try:
        if created:
            print(f"Demo op regiogrootte laden in {created} ...", file=sys.stderr)
            load_seconds = load_demo(env)
            print(f"  geladen in {load_seconds:.0f} s", file=sys.stderr)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_gunicorn(env, port, args.workers, args.threads)
        cookies = {None: None, MANAGER: sign_in(base, MANAGER, args.password),
                   PROVIDER: sign_in(base, PROVIDER, args.password)}
        wrk_threads = 2
        results = []
        plan = PAGES + [PAGES[0]]  # the bare route first and last
        for name, path, who in plan:
            status, size = fetch(base, path, cookies[who])  # warm the workers' caches, and check
            if status != 200:
                raise SystemExit(f"{path} als {who}: HTTP {status}")
            for _ in range(args.workers):
                fetch(base, path, cookies[who])
            found = wrk(base, path, cookies[who], args.connections, args.duration, wrk_threads)
            results.append({"page": name, "path": path, "as": who, "bytes": size, **found})
            print(f"  {name:32} {found['rps']:8.1f} req/s", file=sys.stderr)
        bare = (results[0]["rps"] + results[-1]["rps"]) / 2
        print()
        print(f"Pagina's op regiogrootte, {args.connections} gelijktijdige gebruikers, {args.duration} s per pagina; "
              f"gunicorn {args.workers} workers × {args.threads} threads; wrk; "
              + ("paginacache in Redis" if redis_url else "zonder Redis: elke pagina opnieuw opgebouwd"))
        print(f"{'pagina':32} {'req/s':>8} {'p50':>8} {'p99':>8} {'× kaal':>7}  doel {args.goal}")
        failed = []
        for row in results:
            row["ratio"] = row["rps"] / bare
            bare_row = row["path"] == "/gezond"
            verdict = "" if bare_row else ("PASS" if row["ratio"] >= args.goal and not row["non_2xx"] else "FAIL")
            if verdict == "FAIL":
                failed.append(row["page"])
            row["verdict"] = verdict
            print(f"{row['page']:32} {row['rps']:8.1f} {row['latency_p50']:>8} {row['latency_p99']:>8} "
                  f"{row['ratio']:7.2f}  {verdict}" + (f"  ({row['non_2xx']} niet-2xx)" if row["non_2xx"] else ""))
        output = Path(args.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps({
            "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                        "load_average": os.getloadavg()},
            "redis": redis_url, "page_cache": bool(redis_url),
            "connections": args.connections, "duration": args.duration, "workers": args.workers,
            "threads": args.threads, "load_seconds": load_seconds, "bare_rps": bare, "results": results},
            indent=2) + "\n")
        print("GOAL MET" if not failed else f"GOAL NOT MET: {', '.join(failed)}")
        return 0
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(instance, ignore_errors=True)
        if redis_url:
            forget_keys(redis_url, prefix)
        if created:
            if args.keep:
                print(f"Database bewaard: {database_url}", file=sys.stderr)
            else:
                drop_database(DEFAULT_SERVER, created)


if __name__ == "__main__":
    sys.exit(main())
