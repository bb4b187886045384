#!/bin/sh
# The first start makes the cluster: POSTGRES_USER (default postgres) as its superuser with
# POSTGRES_PASSWORD, and the database POSTGRES_DB (default: the user's name). Connections over the
# network need the password (scram-sha-256); inside the container the socket trusts.
set -eu
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
user=${POSTGRES_USER:-postgres}
database=${POSTGRES_DB:-$user}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256
    rm -f "$pwfile"
    echo 'host all all all scram-sha-256' >> "$PGDATA/pg_hba.conf"
    # The set-up server listens on a socket of its own, so a health check (pg_isready) does not
    # call the database ready before the real server runs.
    init_socket=$(mktemp -d)
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=$init_socket" start
    if [ "$database" != postgres ]; then
        psql -v ON_ERROR_STOP=1 -h "$init_socket" -U "$user" -d postgres \
            -c "CREATE DATABASE \"$database\" OWNER \"$user\""
    fi
    pg_ctl -D "$PGDATA" -w -m fast stop
    rmdir "$init_socket"
fi
if [ "$1" = postgres ]; then
    shift
    exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
fi
exec "$@"
