#!/usr/bin/env bash
# The shared engines of a replicated runbook-pilot, for tests and the replica demo: a real PostgreSQL (the store) and a
# real Redis (the shared limits) on loopback, from the Debian packages. No systemd: each is started by hand, with its
# state in one directory, and found again by its pid file.
#
#   datastores.sh start     initialise (first time) and start both; wait until they answer (idempotent)
#   datastores.sh stop      stop both; wait until their ports are closed
#   datastores.sh status    one line per engine
#   datastores.sh env       the URLs to use, as shell assignments (DATABASE_URL=…, REDIS_URL=…)
#
# Settings (environment): RBP_DATASTORES_DIR (state dir), RBP_PG_PORT (25432), RBP_REDIS_PORT (26379),
# RBP_PG_BIN (the folder of initdb/pg_ctl; found under /usr/lib/postgresql when unset), RBP_START_TIMEOUT_SEC (30).
# PostgreSQL refuses to run as root: as root, the cluster is owned and run by the `postgres` user.
set -euo pipefail

DIR="${RBP_DATASTORES_DIR:-${TMPDIR:-/tmp}/runbook-pilot-datastores}"
PG_PORT="${RBP_PG_PORT:-25432}"
REDIS_PORT="${RBP_REDIS_PORT:-26379}"
START_TIMEOUT="${RBP_START_TIMEOUT_SEC:-30}"
PG_DIR="$DIR/pg"
REDIS_DIR="$DIR/redis"
PG_USER=pilot

die() { echo "datastores.sh: $*" >&2; exit 1; }

pg_bin() {
  if [ -n "${RBP_PG_BIN:-}" ]; then echo "$RBP_PG_BIN"; return; fi
  if command -v pg_ctl >/dev/null; then dirname "$(command -v pg_ctl)"; return; fi
  # Debian keeps the server binaries off PATH, one folder per major version: take the newest.
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  [ -n "$found" ] || die "PostgreSQL is not installed (apt-get install postgresql)"
  echo "$found"
}
REDIS_BIN="$(command -v redis-server || echo /usr/bin/redis-server)"

# Runs a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
not() { ! "$@"; }
wait_for() {
  local what="$1" secs="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${secs}s waiting for $what"
    sleep 0.05
  done
}
pid_alive() { [ -s "$1" ] && kill -0 "$(head -n1 "$1")" 2>/dev/null; }

pg_start() {
  local bin; bin="$(pg_bin)"
  mkdir -p "$DIR"
  chmod 755 "$DIR"
  if [ ! -s "$PG_DIR/PG_VERSION" ]; then
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$PG_DIR"; fi
    chmod 700 "$PG_DIR"
    as_pg "$bin/initdb" -D "$PG_DIR" -A trust -U "$PG_USER" -E UTF8 --no-sync >"$DIR/initdb.log" 2>&1 || die "initdb failed: see $DIR/initdb.log"
  fi
  if as_pg "$bin/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1 && tcp_open "$PG_PORT"; then return; fi
  tcp_open "$PG_PORT" && die "port $PG_PORT is in use by something else (set RBP_PG_PORT)"
  # fsync off: test data, and it keeps start-up and the tests fast on a busy machine.
  as_pg "$bin/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/log" -w -t "$START_TIMEOUT" \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || die "PostgreSQL did not start: see $PG_DIR/log"
  wait_for "PostgreSQL on port $PG_PORT" "$START_TIMEOUT" tcp_open "$PG_PORT"
}

pg_stop() {
  [ -s "$PG_DIR/PG_VERSION" ] || return 0
  local bin; bin="$(pg_bin)"
  if as_pg "$bin/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$PG_DIR" -m fast -w stop >/dev/null || true
  fi
  wait_for "port $PG_PORT to close" 15 not tcp_open "$PG_PORT"
}

redis_start() {
  [ -x "$REDIS_BIN" ] || die "Redis is not installed (apt-get install redis-server)"
  mkdir -p "$REDIS_DIR"
  if pid_alive "$REDIS_DIR/redis.pid" && tcp_open "$REDIS_PORT"; then return; fi
  tcp_open "$REDIS_PORT" && die "port $REDIS_PORT is in use by something else (set RBP_REDIS_PORT)"
  "$REDIS_BIN" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --pidfile "$REDIS_DIR/redis.pid" --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" >/dev/null
  wait_for "Redis on port $REDIS_PORT" "$START_TIMEOUT" tcp_open "$REDIS_PORT"
}

redis_stop() {
  if pid_alive "$REDIS_DIR/redis.pid"; then kill "$(head -n1 "$REDIS_DIR/redis.pid")" 2>/dev/null || true; fi
  wait_for "port $REDIS_PORT to close" 15 not tcp_open "$REDIS_PORT"
}

case "${1:-}" in
  start) pg_start; redis_start ;;
  stop) redis_stop; pg_stop ;;
  status)
    if tcp_open "$PG_PORT"; then echo "postgres: up on 127.0.0.1:$PG_PORT ($PG_DIR)"; else echo "postgres: down"; fi
    if tcp_open "$REDIS_PORT"; then echo "redis: up on 127.0.0.1:$REDIS_PORT"; else echo "redis: down"; fi
    ;;
  env)
    echo "DATABASE_URL=postgres://$PG_USER@127.0.0.1:$PG_PORT/postgres"
    echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
    ;;
  *) die "usage: datastores.sh start|stop|status|env" ;;
esac
