#!/usr/bin/env bash
# Starts or stops the project-local PostGIS cluster, Redis and Celery worker of this checkout (state in
# $GRIDCITY_STATE; the cluster as described at pg_home below).
# A server given by DATABASE_URL / CELERY_BROKER_URL that is not the local default is left alone.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
state="${GRIDCITY_STATE:-$here/.local}"
pg_port="${LOCAL_PG_PORT:-54329}"
redis_port="${LOCAL_REDIS_PORT:-63799}"
venv="${VENV:-$here/.venv}"

# Where the local cluster lives. As root, initdb and the server run as the postgres user, who may not
# be able to enter the checkout (root's home and `mktemp -d` are mode 700): the cluster then lives in
# the postgres user's own directory, one per checkout (named by a digest of this checkout's state
# path, which is written beside it), and $state/pg-cluster points to it. A cluster made inside the
# checkout by an earlier version, or by a user who runs everything as themselves, stays where it is.
pg_home() {
  if [ -n "${LOCAL_PG_DIR:-}" ]; then echo "$LOCAL_PG_DIR"; return; fi
  if [ -s "$state/pg/data/PG_VERSION" ] || [ "$(id -u)" -ne 0 ]; then echo "$state/pg"; return; fi
  local digest; digest="$(printf %s "$(realpath -m "$state")" | sha1sum | cut -c1-12)"
  echo "${LOCAL_PG_PARENT:-/var/lib/postgresql}/gridcity-$digest"
}
pghome="$(pg_home)"
pgdata="$pghome/data"
pgrun="$pghome/run"

local_db()     { [[ "${DATABASE_URL:-}" == *"127.0.0.1:$pg_port/"* ]]; }
local_broker() { [[ "${CELERY_BROKER_URL:-}" == *"127.0.0.1:$redis_port/"* ]]; }

pg_bindir() {
  local d
  for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -Vr); do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  echo "PostgreSQL server binaries not found (run scripts/install-deps.sh)" >&2; exit 1
}

# initdb and pg_ctl refuse to run as root: as root, run them as the postgres user (from /, since
# the postgres user may not be allowed into the current directory).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

pg_start() {
  local bin; bin="$(pg_bindir)"
  if pg_isready -q -h 127.0.0.1 -p "$pg_port" && ! as_pg "$bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    # Another checkout's local cluster already serves this port: use it rather than fail to bind.
    echo "Using the PostgreSQL server already on 127.0.0.1:$pg_port"
    pg_ensure_db; return
  fi
  mkdir -p "$pghome" "$state"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$pghome"
    chmod 700 "$pghome"
    [ "$pghome" = "$state/pg" ] || { realpath -m "$state" > "$pghome/checkout"; ln -sfn "$pghome" "$state/pg-cluster"; }
  fi
  if [ ! -s "$pgdata/PG_VERSION" ]; then
    echo "Creating the local PostGIS cluster in $pgdata"
    as_pg mkdir -p "$pgdata" "$pgrun"
    as_pg "$bin/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pgrun'
max_connections = 200
shared_buffers = 1GB
work_mem = 32MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
synchronous_commit = off
jit = off
CONF
  fi
  as_pg mkdir -p "$pgrun"
  if ! as_pg "$bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    # The port asked for now wins over the one written at creation (a second instance of one checkout).
    as_pg "$bin/pg_ctl" -D "$pgdata" -l "$pghome/server.log" -o "-p $pg_port" -w -t 60 start >/dev/null
  fi
  pg_ensure_db
}

pg_ensure_db() {
  local db; db="$(python3 -c 'import sys,urllib.parse as u; print(u.urlparse(sys.argv[1]).path.lstrip("/"))' "$DATABASE_URL")"
  if ! psql -h 127.0.0.1 -p "$pg_port" -U postgres -tAc "select 1 from pg_database where datname='$db'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$pg_port" -U postgres -q -c "create database \"$db\""
  fi
  psql -h 127.0.0.1 -p "$pg_port" -U postgres -d "$db" -q -c "create extension if not exists postgis" 2>/dev/null
}

pg_stop() {
  [ -s "$pgdata/PG_VERSION" ] || return 0
  as_pg "$(pg_bindir)/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true
}

redis_start() {
  mkdir -p "$state/redis"
  if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
      --dir "$state/redis" --pidfile "$state/redis/redis.pid" --logfile "$state/redis/redis.log"
    for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
}

# Only the Redis this checkout started (its pid file): another checkout's on the same port is left alone.
redis_stop() {
  stop_pidfile "$state/redis/redis.pid"
}

stop_pidfile() {
  local f="$1" pid
  [ -s "$f" ] || return 0
  pid="$(cat "$f")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$f"
}

worker_start() {
  mkdir -p "$state/celery"
  if [ -s "$state/celery/worker.pid" ] && kill -0 "$(cat "$state/celery/worker.pid")" 2>/dev/null; then return; fi
  rm -f "$state/celery/worker.pid"
  (cd "$here" && "$venv/bin/celery" -A gis_core worker --detach --concurrency 2 -l info \
    --pidfile "$state/celery/worker.pid" --logfile "$state/celery/worker.log")
}

beat_start() {
  mkdir -p "$state/celery"
  # One beat process for the periodic tasks (escalation, reminders): a second beat would send each twice.
  if [ -s "$state/celery/beat.pid" ] && kill -0 "$(cat "$state/celery/beat.pid")" 2>/dev/null; then return; fi
  rm -f "$state/celery/beat.pid"
  (cd "$here" && "$venv/bin/celery" -A gis_core beat --detach -l info \
    --schedule "$state/celery/beat-schedule" \
    --pidfile "$state/celery/beat.pid" --logfile "$state/celery/beat.log")
}

case "${1:-}" in
  start)
    if local_db; then pg_start; fi
    if local_broker; then redis_start; fi ;;
  worker-start) worker_start; beat_start ;;
  pg-dir) echo "$pghome" ;;
  stop)
    stop_pidfile "$state/gunicorn.pid"
    stop_pidfile "$state/celery/worker.pid"
    stop_pidfile "$state/celery/beat.pid"
    if local_broker; then redis_stop; fi
    if local_db; then pg_stop; fi ;;
  *) echo "usage: $0 start|worker-start|stop|pg-dir" >&2; exit 2 ;;
esac
