#!/usr/bin/env bash
# The portal's two set-up commands for a fresh Debian machine with Python 3.11:
#   ./dev.sh start   install, migrate, load the demo region on SQLite and serve on :5000
#   ./dev.sh test    install what the tests need, then run the whole suite on SQLite,
#                    PostgreSQL and Chromium (the job-queue tests on Redis)
#   ./dev.sh bench   install like test, then benchmark the realisation import on SQLite and
#                    PostgreSQL against COPY (bench/realisation_import.py; options pass through)
#   ./dev.sh bench settlement   the same set-up, then benchmark settling a national-scale year on
#                    PostgreSQL against a plain GROUP BY, three rounds (bench/settlement.py; options pass through)
#   ./dev.sh bench pages   the same set-up (and wrk from Debian), then the region-size demo under
#                    gunicorn with 50 users per page against the bare route (bench/pages.py)
# Under CI=true a missing PostgreSQL, Chromium or Redis is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")"

VENV=${PORTAL_VENV:-.venv}
PY=${PYTHON:-python3}
DEMO_PASSWORD=${PORTAL_DEMO_PASSWORD:-demo-wachtwoord-2026}
in_ci() { [ "${CI:-}" = "true" ]; }
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
fail() { printf '\033[31mFOUT: %s\033[0m\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

apt_install() {
  say "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

python_env() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv && "$PY" -m venv "$VENV"; } ||
      fail "kan geen virtual environment maken (python3-venv ontbreekt)"
  fi
  say "Python-pakketten installeren ($1)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[$1]" 2>&1 |
    grep -v -e "is ignored: it is neither" -e "^$" >&2 || true
  "$VENV/bin/python" -c "import portal" || fail "installatie van het portaal mislukt"
  # The region packs: each its own distribution with an entry point in portal.plugins.
  local packs=() pack
  for pack in plugins/regions/*/pyproject.toml; do [ -f "$pack" ] && packs+=(-e "$(dirname "$pack")"); done
  if [ "${#packs[@]}" -gt 0 ]; then
    say "Regiopakketten installeren"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "${packs[@]}" 2>&1 |
      grep -v -e "is ignored: it is neither" -e "^$" >&2 || true
  fi
}

chromium() {
  local bin=${PORTAL_CHROMIUM:-/usr/bin/chromium}
  if [ ! -x "$bin" ]; then apt_install chromium || true; fi
  if [ ! -x "$bin" ]; then
    if in_ci; then fail "Chromium ontbreekt ($bin) en kon niet worden geïnstalleerd"; fi
    say "LET OP: Chromium ontbreekt; de browsertests worden overgeslagen"
  fi
}

# Prints a PostgreSQL URL for the tests: the running server on 127.0.0.1:5432 if there is one,
# else a throw-away cluster (Debian's postgresql package) on port 54329.
postgres_url() {
  local url=${PORTAL_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}
  if "$VENV/bin/python" - "$url" <<'PY' 2>/dev/null; then echo "$url"; return 0; fi
import sys, psycopg
psycopg.connect(sys.argv[1].replace("+psycopg", ""), connect_timeout=3).close()
PY
  [ -n "${PORTAL_TEST_POSTGRES_URL:-}" ] && return 1
  local pgbin; pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$pgbin" ]; then apt_install postgresql || return 1; pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1); fi
  local data; data=$(mktemp -d /tmp/portal-pg.XXXXXX)
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$data"
    runuser -u postgres -- "$pgbin/initdb" -D "$data" -U postgres -A trust --no-sync >/dev/null &&
      runuser -u postgres -- "$pgbin/pg_ctl" -D "$data" -w -l "$data/log" \
        -o "-p 54329 -k $data -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null || return 1
  else
    "$pgbin/initdb" -D "$data" -U postgres -A trust --no-sync >/dev/null &&
      "$pgbin/pg_ctl" -D "$data" -w -l "$data/log" \
        -o "-p 54329 -k $data -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null || return 1
  fi
  echo "postgresql+psycopg://postgres@127.0.0.1:54329/postgres"
}

# Prints the Redis URL of the job-queue tests (database 5): the running server on 127.0.0.1:6379, else
# Debian's redis-server started in the background (installed when missing).
redis_url() {
  local url=${PORTAL_TEST_QUEUE_REDIS_URL:-redis://127.0.0.1:6379/5}
  redis_answers() { "$VENV/bin/python" -c "import sys, redis; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=2).ping()" "$url" 2>/dev/null; }
  if redis_answers; then echo "$url"; return 0; fi
  [ -n "${PORTAL_TEST_QUEUE_REDIS_URL:-}" ] && return 1
  command -v redis-server >/dev/null || apt_install redis-server || return 1
  redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no --daemonize yes >/dev/null || return 1
  local tries
  for tries in 1 2 3 4 5 6 7 8 9 10; do redis_answers && { echo "$url"; return 0; }; sleep 0.5; done
  return 1
}

cmd_start() {
  python_env test
  "$VENV/bin/flask" --app wsgi demo --password "$DEMO_PASSWORD"
  say "Het portaal draait op http://127.0.0.1:${PORT:-5000} — log in met een account hierboven en wachtwoord $DEMO_PASSWORD"
  exec "$VENV/bin/flask" --app wsgi run --host 127.0.0.1 --port "${PORT:-5000}"
}

cmd_test() {
  python_env test
  chromium
  local pg_url redis status=0
  if redis=$(redis_url); then
    # Database 5 for the job queue's tests (flushed by them), 6 for the throttle's (own keys only).
    export PORTAL_TEST_QUEUE_REDIS_URL="$redis" PORTAL_TEST_REDIS_URL="${PORTAL_TEST_REDIS_URL:-${redis%/*}/6}"
  elif in_ci; then
    fail "Redis is niet bereikbaar en kon niet worden gestart (de tests van de takenwachtrij hebben het nodig)"
  else
    say "LET OP: geen Redis gevonden; de tests van de takenwachtrij worden overgeslagen"
  fi
  if ! pg_url=$(postgres_url); then
    if in_ci; then fail "PostgreSQL is niet bereikbaar en kon niet worden gestart"; fi
    say "LET OP: geen PostgreSQL gevonden; alleen de SQLite-ronde draait"
    pg_url=""
  fi
  say "Testronde 1/2: SQLite (met Chromium)"
  "$VENV/bin/python" -m pytest --db sqlite "$@" || status=$?
  if [ -n "$pg_url" ]; then
    say "Testronde 2/2: PostgreSQL ($pg_url)"
    PORTAL_TEST_POSTGRES_URL="$pg_url" "$VENV/bin/python" -m pytest --db postgresql "$@" || status=$?
  fi
  # pytest exits 5 when it collects nothing: that is not a pass.
  [ "$status" = 0 ] && say "Alle tests geslaagd." || say "Tests mislukt (exitcode $status)."
  return "$status"
}

cmd_bench() {
  python_env test
  local pg_url=${PORTAL_BENCH_POSTGRES_URL:-}
  if [ -z "$pg_url" ] && ! pg_url=$(postgres_url); then
    fail "PostgreSQL is niet bereikbaar en kon niet worden gestart (zet PORTAL_BENCH_POSTGRES_URL)"
  fi
  if [ "${1:-}" = settlement ]; then
    shift
    say "Benchmark afrekening (PostgreSQL: $pg_url)"
    PORTAL_BENCH_POSTGRES_URL="$pg_url" exec "$VENV/bin/python" bench/settlement.py "$@"
  fi
  if [ "${1:-}" = pages ]; then
    shift
    command -v wrk >/dev/null || apt_install wrk || fail "wrk ontbreekt en kon niet worden geïnstalleerd"
    say "Benchmark pagina's op regiogrootte (PostgreSQL: $pg_url)"
    PORTAL_BENCH_POSTGRES_URL="$pg_url" exec "$VENV/bin/python" bench/pages.py "$@"
  fi
  say "Benchmark realisatie-import (PostgreSQL: $pg_url)"
  PORTAL_BENCH_POSTGRES_URL="$pg_url" exec "$VENV/bin/python" bench/realisation_import.py "$@"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  test) shift; cmd_test "$@" ;;
  bench) shift; cmd_bench "$@" ;;
  *) echo "gebruik: ./dev.sh start | ./dev.sh test [pytest-opties] | ./dev.sh bench [--rows N] | ./dev.sh bench settlement [--lines N] | ./dev.sh bench pages [--duration S]" >&2; exit 2 ;;
esac
