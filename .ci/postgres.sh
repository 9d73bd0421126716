#!/usr/bin/env bash
# A throwaway PostgreSQL server from Debian's packages for the customer store's SQL tests.
# Sourced by .ci/run: installs the server if absent, starts a cluster in a temporary folder
# on 127.0.0.1, and exports RECO_POSTGRES_URL; the cluster stops when the shell exits.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "installing PostgreSQL from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
PG_DIR="$(mktemp -d /tmp/reco-pg.XXXXXX)"
PG_PORT="${RECO_PG_PORT:-54329}"
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust >/dev/null
as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null
stop_postgres() {
    as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null || true
    rm -rf "$PG_DIR"
}
trap stop_postgres EXIT
as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres reco
export RECO_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/reco"
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') at $RECO_POSTGRES_URL"
