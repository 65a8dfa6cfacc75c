#!/usr/bin/env bash
# Shared by scripts/test.sh and scripts/bench.sh: install what is missing and run a throwaway
# PostgreSQL. Source it, then call keel_install_missing_packages and keel_start_postgres.
# keel_start_postgres exports TEST_DATABASE_URL and sets a trap that stops the server and
# deletes its folder when the calling script exits, fails or is interrupted.

keel_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "postgres.sh: need root to run: $*" >&2; return 1
  fi
}

keel_postgres_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
  dir=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
  [ -x "$dir/initdb" ] && echo "$dir"
}

keel_install_missing_packages() {
  local missing=()
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  pkg-config --exists libpq 2>/dev/null || missing+=(libpq-dev)
  pkg-config --exists sqlite3 2>/dev/null || missing+=(libsqlite3-dev)
  [ -n "$(keel_postgres_bindir)" ] || missing+=(postgresql)
  command -v psql >/dev/null || missing+=(postgresql-client)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "postgres.sh: installing ${missing[*]}"
    keel_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    keel_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

keel_free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  local port
  for port in $(seq 54320 54420); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "postgres.sh: no free port found" >&2; return 1
}

keel_stop_postgres() {
  if [ -n "${KEEL_PG_DIR:-}" ] && [ -d "$KEEL_PG_DIR" ]; then
    if [ -f "$KEEL_PG_DIR/data/postmaster.pid" ]; then
      keel_pg_run "$KEEL_PG_BIN/pg_ctl" -D "$KEEL_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$KEEL_PG_DIR"
  fi
  KEEL_PG_DIR=
}

keel_pg_run() {
  # initdb and pg_ctl refuse to run as root: run them as the postgres OS user.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

keel_start_postgres() {
  KEEL_PG_BIN=$(keel_postgres_bindir)
  [ -n "$KEEL_PG_BIN" ] || { echo "postgres.sh: initdb not found after install" >&2; return 1; }
  KEEL_PG_DIR=$(mktemp -d /tmp/keel-pg.XXXXXX)
  trap 'status=$?; keel_stop_postgres; exit $status' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  chmod 755 "$KEEL_PG_DIR"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$KEEL_PG_DIR"; fi

  local superpass
  superpass=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  KEEL_PG_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  KEEL_PG_PORT=$(keel_free_port)
  keel_pg_run sh -c "umask 077; printf '%s\n' '$superpass' > '$KEEL_PG_DIR/superpass'"
  keel_pg_run "$KEEL_PG_BIN/initdb" -D "$KEEL_PG_DIR/data" -U postgres --pwfile="$KEEL_PG_DIR/superpass" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$KEEL_PG_DIR/initdb.log" 2>&1 \
    || { cat "$KEEL_PG_DIR/initdb.log" >&2; return 1; }
  # Tests skip flushing to disk; with KEEL_PG_DURABLE=1 (scripts/bench.sh) the server keeps
  # PostgreSQL's default durability, every commit flushed, as in production.
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  if [ "${KEEL_PG_DURABLE:-0}" = 1 ]; then durability=""; fi
  if ! keel_pg_run "$KEEL_PG_BIN/pg_ctl" -D "$KEEL_PG_DIR/data" -l "$KEEL_PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $KEEL_PG_PORT -k $KEEL_PG_DIR $durability -c max_connections=200" \
    start >/dev/null; then
    cat "$KEEL_PG_DIR/server.log" >&2
    return 1
  fi
  PGPASSWORD=$superpass psql -X -q -v ON_ERROR_STOP=1 -h "$KEEL_PG_DIR" -p "$KEEL_PG_PORT" -U postgres -d postgres \
    -c "CREATE ROLE keel_test LOGIN PASSWORD '$KEEL_PG_PASSWORD'" \
    -c "CREATE DATABASE keel_test OWNER keel_test" >/dev/null
  export TEST_DATABASE_URL="postgresql://keel_test:${KEEL_PG_PASSWORD}@127.0.0.1:${KEEL_PG_PORT}/keel_test"
  export KEEL_PG_SOCKET_DIR="$KEEL_PG_DIR"
}
