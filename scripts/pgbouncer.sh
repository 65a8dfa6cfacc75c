#!/usr/bin/env bash
# Shared by scripts/test.sh and scripts/bench.sh: a throwaway PgBouncer in transaction pooling
# mode in front of the throwaway PostgreSQL. Source it after scripts/postgres.sh (whose
# keel_as_root, keel_free_port and keel_pg_run it uses), then call keel_install_missing_pgbouncer
# and, after keel_start_postgres, keel_start_pgbouncer. keel_start_pgbouncer exports
# TEST_PGBOUNCER_URL (the same role, password and database as TEST_DATABASE_URL, through the
# bouncer); keel_stop_pgbouncer stops it and deletes its folder.

keel_install_missing_pgbouncer() {
  if ! command -v pgbouncer >/dev/null; then
    echo "pgbouncer.sh: installing pgbouncer"
    keel_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    keel_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer
  fi
}

keel_stop_pgbouncer() {
  keel_stop_daemon_folder "${KEEL_PGBOUNCER_DIR:-}" "${KEEL_PGBOUNCER_DIR:-}/pgbouncer.pid"
  KEEL_PGBOUNCER_DIR=
}

# Starts pgbouncer (as the postgres OS user when run as root: it refuses to run as root) on
# 127.0.0.1 and a free port, in transaction pooling mode, with SCRAM authentication of the
# keel_test role and up to 20 server connections, in front of the server keel_start_postgres
# started (KEEL_CLUSTER_PORT, KEEL_PG_PASSWORD).
keel_start_pgbouncer() {
  KEEL_PGBOUNCER_DIR=$(mktemp -d /tmp/keel-pgbouncer.XXXXXX)
  chmod 755 "$KEEL_PGBOUNCER_DIR"
  local port
  port=$(keel_free_port)
  (
    umask 077
    printf '"keel_test" "%s"\n' "$KEEL_PG_PASSWORD" >"$KEEL_PGBOUNCER_DIR/userlist.txt"
    cat >"$KEEL_PGBOUNCER_DIR/pgbouncer.ini" <<CONF
[databases]
keel_test = host=127.0.0.1 port=$KEEL_CLUSTER_PORT dbname=keel_test

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $KEEL_PGBOUNCER_DIR/userlist.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 1000
logfile = $KEEL_PGBOUNCER_DIR/pgbouncer.log
pidfile = $KEEL_PGBOUNCER_DIR/pgbouncer.pid
CONF
  )
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$KEEL_PGBOUNCER_DIR"; fi
  keel_pg_run pgbouncer -d "$KEEL_PGBOUNCER_DIR/pgbouncer.ini" \
    || { cat "$KEEL_PGBOUNCER_DIR/pgbouncer.log" >&2; return 1; }
  local url="postgresql://keel_test:${KEEL_PG_PASSWORD}@127.0.0.1:${port}/keel_test"
  for _ in $(seq 1 100); do
    if psql -X -q -d "$url" -c "SELECT 1" >/dev/null 2>&1; then
      export TEST_PGBOUNCER_URL="$url"
      return 0
    fi
    sleep 0.1
  done
  echo "pgbouncer.sh: pgbouncer did not accept connections" >&2
  cat "$KEEL_PGBOUNCER_DIR/pgbouncer.log" >&2
  return 1
}
