#!/usr/bin/env bash
# Shared by scripts/test.sh and scripts/bench.sh: a throwaway Redis. Source it after
# scripts/postgres.sh (whose keel_as_root and keel_free_port it uses), then call
# keel_install_missing_redis and keel_start_redis. keel_start_redis exports TEST_REDIS_URL
# (redis://keel_test:<password>@127.0.0.1:<port>/0, an ACL user), KEEL_REDIS_PID_FILE (for the
# reliability scenario that stops the server for a while) and sets KEEL_REDIS_DIR;
# keel_stop_redis (called by the trap keel_start_postgres sets) stops it and deletes its folder.

keel_install_missing_redis() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v redis-cli >/dev/null || missing+=(redis-tools)
  [ -f /usr/include/hiredis/hiredis.h ] || missing+=(libhiredis-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "redis.sh: installing ${missing[*]}"
    keel_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    keel_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

keel_stop_redis() {
  keel_stop_daemon_folder "${KEEL_REDIS_DIR:-}" "${KEEL_REDIS_DIR:-}/redis.pid"
  KEEL_REDIS_DIR=
}

# Starts redis-server on 127.0.0.1 and a free port, in a new folder, with no persistence, the
# default user disabled and one ACL user `keel_test` with a random password.
keel_start_redis() {
  KEEL_REDIS_DIR=$(mktemp -d /tmp/keel-redis.XXXXXX)
  local password port
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  port=$(keel_free_port)
  (
    umask 077
    cat >"$KEEL_REDIS_DIR/redis.conf" <<CONF
bind 127.0.0.1
port $port
dir $KEEL_REDIS_DIR
pidfile $KEEL_REDIS_DIR/redis.pid
logfile $KEEL_REDIS_DIR/redis.log
daemonize yes
save ""
appendonly no
user default off
user keel_test on >$password ~* &* +@all
CONF
  )
  redis-server "$KEEL_REDIS_DIR/redis.conf" || { cat "$KEEL_REDIS_DIR/redis.log" >&2; return 1; }
  for _ in $(seq 1 100); do
    if redis-cli -h 127.0.0.1 -p "$port" --user keel_test --pass "$password" --no-auth-warning PING 2>/dev/null | grep -q PONG; then
      export TEST_REDIS_URL="redis://keel_test:${password}@127.0.0.1:${port}/0"
      export KEEL_REDIS_PID_FILE="$KEEL_REDIS_DIR/redis.pid"
      KEEL_REDIS_PASSWORD=$password
      return 0
    fi
    sleep 0.1
  done
  echo "redis.sh: redis-server did not answer on port $port" >&2
  cat "$KEEL_REDIS_DIR/redis.log" >&2
  return 1
}
