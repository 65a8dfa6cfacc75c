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
  command -v openssl >/dev/null || missing+=(openssl)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "postgres.sh: installing ${missing[*]}"
    keel_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    keel_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# A Java peer of the benchmarks: installs the Debian package `$1` (and a JDK) unless the jar `$2`
# and javac are there.
keel_install_missing_java_peer() {
  local missing=()
  [ -f "$2" ] || missing+=("$1")
  command -v javac >/dev/null || missing+=(default-jdk-headless)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "postgres.sh: installing ${missing[*]}"
    keel_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    keel_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# Stops the daemon whose pid file is $2 (waiting up to 5 s for it to exit), then deletes its
# folder $1. For the Redis and PgBouncer of redis.sh and pgbouncer.sh.
keel_stop_daemon_folder() {
  local dir=$1 pid_file=$2
  if [ -n "$dir" ] && [ -d "$dir" ]; then
    if [ -f "$pid_file" ]; then
      # Read once: a daemon may delete its pid file as it exits.
      local pid
      pid=$(cat "$pid_file")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      # A daemon started again by a test inherits the test thread's blocked signals, SIGTERM
      # among them, and never sees it.
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
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

# Stops the server whose folder is $1 (if it runs) and deletes the folder.
keel_stop_cluster_folder() {
  local dir=$1
  if [ -n "$dir" ] && [ -d "$dir" ]; then
    if [ -f "$dir/data/postmaster.pid" ]; then
      keel_pg_run "$KEEL_PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
  fi
}

keel_stop_postgres() {
  local dir
  for dir in "${KEEL_PG_STANDBY_DIR:-}" "${KEEL_PG_PRIMARY_DIR:-}" "${KEEL_PG_TLS_DIR:-}" "${KEEL_PG_DIR:-}" "${KEEL_PG_RELIABILITY_DIR:-}"; do
    keel_stop_cluster_folder "$dir"
  done
  KEEL_PG_DIR=
  KEEL_PG_RELIABILITY_DIR=
  KEEL_PG_PRIMARY_DIR=
  KEEL_PG_STANDBY_DIR=
  KEEL_PG_TLS_DIR=
}

keel_pg_run() {
  # initdb and pg_ctl refuse to run as root: run them as the postgres OS user.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

keel_start_postgres() {
  KEEL_PG_BIN=$(keel_postgres_bindir)
  [ -n "$KEEL_PG_BIN" ] || { echo "postgres.sh: initdb not found after install" >&2; return 1; }
  trap 'status=$?; keel_stop_postgres; exit $status' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  KEEL_PG_DIR=$(mktemp -d /tmp/keel-pg.XXXXXX)
  keel_init_and_start_cluster "$KEEL_PG_DIR"
  export TEST_DATABASE_URL="$KEEL_CLUSTER_URL"
  export KEEL_PG_SOCKET_DIR="$KEEL_PG_DIR"
}

# A second throwaway server for the reliability scenarios (Tests/ReliabilityTests), which restart
# it and end its connections: the other tests' server is never disturbed. Exports
# KEEL_RELIABILITY_DATABASE_URL and KEEL_RELIABILITY_PG_RESTART (a script that restarts it with
# `pg_ctl restart -m fast` and returns once it accepts connections again), and
# KEEL_RELIABILITY_PG_STOP and KEEL_RELIABILITY_PG_START (stop it, start it again: the start
# returns once it accepts connections).
keel_start_reliability_postgres() {
  KEEL_PG_RELIABILITY_DIR=$(mktemp -d /tmp/keel-pg-reliability.XXXXXX)
  keel_init_and_start_cluster "$KEEL_PG_RELIABILITY_DIR"
  local restart="$KEEL_PG_RELIABILITY_DIR/restart.sh"
  local as_postgres=""
  if [ "$(id -u)" -eq 0 ]; then as_postgres="runuser -u postgres --"; fi
  printf '#!/bin/sh\nexec %s "%s/pg_ctl" -D "%s/data" -l "%s/server.log" -w -t 60 -m fast restart >/dev/null\n' \
    "$as_postgres" "$KEEL_PG_BIN" "$KEEL_PG_RELIABILITY_DIR" "$KEEL_PG_RELIABILITY_DIR" > "$restart"
  printf '#!/bin/sh\nexec %s "%s/pg_ctl" -D "%s/data" -w -t 60 -m fast stop >/dev/null\n' \
    "$as_postgres" "$KEEL_PG_BIN" "$KEEL_PG_RELIABILITY_DIR" > "$KEEL_PG_RELIABILITY_DIR/stop.sh"
  printf '#!/bin/sh\nexec %s "%s/pg_ctl" -D "%s/data" -l "%s/server.log" -w -t 60 -o "%s" start >/dev/null\n' \
    "$as_postgres" "$KEEL_PG_BIN" "$KEEL_PG_RELIABILITY_DIR" "$KEEL_PG_RELIABILITY_DIR" "$KEEL_CLUSTER_OPTIONS" \
    > "$KEEL_PG_RELIABILITY_DIR/start.sh"
  chmod 755 "$restart" "$KEEL_PG_RELIABILITY_DIR/stop.sh" "$KEEL_PG_RELIABILITY_DIR/start.sh"
  export KEEL_RELIABILITY_PG_STOP="$KEEL_PG_RELIABILITY_DIR/stop.sh"
  export KEEL_RELIABILITY_PG_START="$KEEL_PG_RELIABILITY_DIR/start.sh"
  export KEEL_RELIABILITY_DATABASE_URL="$KEEL_CLUSTER_URL"
  export KEEL_RELIABILITY_PG_RESTART="$restart"
}

# A server that speaks TLS with a certificate for `localhost` from a certificate authority made
# here with openssl (and a second authority that signed nothing of it). Exports
# TEST_TLS_DATABASE_URL (host localhost, sslmode=verify-full, the authority as sslrootcert),
# TEST_TLS_OTHER_CA (the other authority's certificate) and TEST_TLS_PORT.
keel_start_tls_postgres() {
  KEEL_PG_TLS_DIR=$(mktemp -d /tmp/keel-pg-tls.XXXXXX)
  local dir=$KEEL_PG_TLS_DIR
  chmod 755 "$dir"
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Keel test CA" -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Keel other CA" -keyout other-ca.key -out other-ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost\n' > san.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt 2>/dev/null
    chmod 600 server.key
    chmod 644 ca.pem other-ca.pem server.crt
  ) || { echo "postgres.sh: openssl could not make the test certificates" >&2; return 1; }
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir" "$dir/server.key" "$dir/server.crt"; fi
  keel_init_and_start_cluster "$dir" "-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
  export TEST_TLS_PORT=$KEEL_CLUSTER_PORT
  export TEST_TLS_OTHER_CA="$dir/other-ca.pem"
  export TEST_TLS_DATABASE_URL="postgresql://keel_test:${KEEL_PG_PASSWORD}@localhost:${KEEL_CLUSTER_PORT}/keel_test?sslmode=verify-full&sslrootcert=$dir/ca.pem"
}

# A primary and a streaming-replication standby of it (pg_basebackup -R), for PostgresCluster's
# tests and the failover scenarios. Exports TEST_CLUSTER_URL (both servers in one multi-host
# URL, primary first), TEST_CLUSTER_STANDBY_URL (the standby alone; keel_test may pause and
# resume its replay), KEEL_CLUSTER_STOP_PRIMARY (a script that stops the primary with
# `pg_ctl stop -m fast`, which first sends the standby every change) and
# KEEL_CLUSTER_PROMOTE_STANDBY (a script that promotes the standby and returns once it accepts
# writes).
keel_start_replicated_postgres() {
  KEEL_PG_PRIMARY_DIR=$(mktemp -d /tmp/keel-pg-primary.XXXXXX)
  # Commits wait for their log flush (PostgreSQL's default), so that the walsender, which sends
  # only flushed log, streams each one at once rather than at the next background flush.
  keel_init_and_start_cluster "$KEEL_PG_PRIMARY_DIR" "-c synchronous_commit=on"
  local primary_port=$KEEL_CLUSTER_PORT superpass=$KEEL_CLUSTER_SUPERPASS
  PGPASSWORD=$superpass psql -X -q -v ON_ERROR_STOP=1 -h "$KEEL_PG_PRIMARY_DIR" -p "$primary_port" -U postgres -d keel_test \
    -c "GRANT EXECUTE ON FUNCTION pg_wal_replay_pause() TO keel_test" \
    -c "GRANT EXECUTE ON FUNCTION pg_wal_replay_resume() TO keel_test" >/dev/null

  KEEL_PG_STANDBY_DIR=$(mktemp -d /tmp/keel-pg-standby.XXXXXX)
  chmod 755 "$KEEL_PG_STANDBY_DIR"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$KEEL_PG_STANDBY_DIR"; fi
  local standby_port
  standby_port=$(keel_free_port)
  keel_pg_run env PGPASSWORD="$superpass" "$KEEL_PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
    -D "$KEEL_PG_STANDBY_DIR/data" -R -X stream -c fast >"$KEEL_PG_STANDBY_DIR/basebackup.log" 2>&1 \
    || { cat "$KEEL_PG_STANDBY_DIR/basebackup.log" >&2; return 1; }
  if ! keel_pg_run "$KEEL_PG_BIN/pg_ctl" -D "$KEEL_PG_STANDBY_DIR/data" -l "$KEEL_PG_STANDBY_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $standby_port -k $KEEL_PG_STANDBY_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null; then
    cat "$KEEL_PG_STANDBY_DIR/server.log" >&2
    return 1
  fi

  local as_postgres=""
  if [ "$(id -u)" -eq 0 ]; then as_postgres="runuser -u postgres --"; fi
  printf '#!/bin/sh\nexec %s "%s/pg_ctl" -D "%s/data" -w -t 60 -m fast stop >/dev/null\n' \
    "$as_postgres" "$KEEL_PG_BIN" "$KEEL_PG_PRIMARY_DIR" > "$KEEL_PG_PRIMARY_DIR/stop.sh"
  printf '#!/bin/sh\nexec %s "%s/pg_ctl" -D "%s/data" -w -t 60 promote >/dev/null\n' \
    "$as_postgres" "$KEEL_PG_BIN" "$KEEL_PG_STANDBY_DIR" > "$KEEL_PG_STANDBY_DIR/promote.sh"
  chmod 755 "$KEEL_PG_PRIMARY_DIR/stop.sh" "$KEEL_PG_STANDBY_DIR/promote.sh"
  export TEST_CLUSTER_URL="postgresql://keel_test:${KEEL_PG_PASSWORD}@127.0.0.1:${primary_port},127.0.0.1:${standby_port}/keel_test"
  export TEST_CLUSTER_STANDBY_URL="postgresql://keel_test:${KEEL_PG_PASSWORD}@127.0.0.1:${standby_port}/keel_test"
  export KEEL_CLUSTER_STOP_PRIMARY="$KEEL_PG_PRIMARY_DIR/stop.sh"
  export KEEL_CLUSTER_PROMOTE_STANDBY="$KEEL_PG_STANDBY_DIR/promote.sh"
}

# Stops the primary and standby of keel_start_replicated_postgres and starts a new pair (the
# failover scenario leaves the standby promoted and the primary stopped).
keel_restart_replicated_postgres() {
  keel_stop_cluster_folder "${KEEL_PG_STANDBY_DIR:-}"
  keel_stop_cluster_folder "${KEEL_PG_PRIMARY_DIR:-}"
  keel_start_replicated_postgres
}

# Creates a cluster in the folder $1 (owned by the postgres OS user when run as root), starts it
# on a free port with the server options $2 (if any) last, creates the keel_test role and
# database, and sets KEEL_CLUSTER_URL.
keel_init_and_start_cluster() {
  local dir=$1 extra=${2:-}
  chmod 755 "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi

  local superpass password port
  superpass=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  port=$(keel_free_port)
  keel_pg_run sh -c "umask 077; printf '%s\n' '$superpass' > '$dir/superpass'"
  keel_pg_run "$KEEL_PG_BIN/initdb" -D "$dir/data" -U postgres --pwfile="$dir/superpass" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  # Tests skip flushing to disk; with KEEL_PG_DURABLE=1 (scripts/bench.sh) the server keeps
  # PostgreSQL's default durability, every commit flushed, as in production.
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  if [ "${KEEL_PG_DURABLE:-0}" = 1 ]; then durability=""; fi
  KEEL_CLUSTER_OPTIONS="-c listen_addresses=127.0.0.1 -p $port -k $dir $durability -c max_connections=200 $extra"
  if ! keel_pg_run "$KEEL_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$KEEL_CLUSTER_OPTIONS" \
    start >/dev/null; then
    cat "$dir/server.log" >&2
    return 1
  fi
  PGPASSWORD=$superpass psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres \
    -c "CREATE ROLE keel_test LOGIN PASSWORD '$password'" \
    -c "CREATE DATABASE keel_test OWNER keel_test" >/dev/null
  KEEL_PG_PASSWORD=$password
  KEEL_CLUSTER_PORT=$port
  KEEL_CLUSTER_SUPERPASS=$superpass
  KEEL_CLUSTER_URL="postgresql://keel_test:${password}@127.0.0.1:${port}/keel_test"
}
