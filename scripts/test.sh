#!/usr/bin/env bash
# Keel's test command. From a fresh clone on a fresh Debian machine it:
#   1. installs what is missing (libpq-dev, libsqlite3-dev, postgresql, redis-server,
#      libhiredis-dev, pgbouncer, openssl) with apt-get,
#   2. starts a throwaway PostgreSQL in a temporary folder (127.0.0.1 on a free port plus a
#      unix socket in that folder, password authentication, a role and database for tests),
#      a PgBouncer in transaction mode in front of it, a second server that the reliability
#      scenarios restart and disturb, a primary with a streaming-replication standby (for
#      PostgresCluster; the failover scenario promotes the standby), a server that speaks TLS with
#      a certificate from a throwaway authority (openssl), and a throwaway Redis
#      (127.0.0.1 on a free port, an ACL user with a password, nothing persisted),
#   3. exports TEST_DATABASE_URL, TEST_PGBOUNCER_URL, TEST_CLUSTER_URL, TEST_TLS_DATABASE_URL and
#      TEST_REDIS_URL (and TEST_CLUSTER_STANDBY_URL, KEEL_CLUSTER_STOP_PRIMARY, KEEL_CLUSTER_PROMOTE_STANDBY,
#      TEST_TLS_OTHER_CA, KEEL_RELIABILITY_PG_STOP, KEEL_RELIABILITY_PG_START,
#      KEEL_RELIABILITY_DATABASE_URL, KEEL_RELIABILITY_PG_RESTART, KEEL_REDIS_PID_FILE)
#      and runs `swift test "$@"` (with scripts/tsan-suppressions.txt in TSAN_OPTIONS when "$@"
#      has --sanitize=thread); with no arguments, the tests, then the reliability scenarios
#      (RELIABILITY.md) in a second run of their own, then the Examples package's tests; the
#      PostgreSQL and Redis suites, and the reliability scenarios, run a second time on the poll(2)
#      reactor (KEEL_REACTOR=poll),
#   4. stops the servers and deletes their folders on exit, failure or Ctrl-C.
# Usage: scripts/test.sh [swift test arguments...]   e.g. scripts/test.sh --filter SQLCoreTests
#        scripts/test.sh --filter Reliability           (the fault-injection scenarios, RELIABILITY.md)
set -euo pipefail

cd "$(dirname "$0")/.."
source scripts/postgres.sh
source scripts/redis.sh
source scripts/pgbouncer.sh

keel_install_missing_packages
keel_install_missing_redis
keel_install_missing_pgbouncer
keel_start_postgres
trap 'status=$?; keel_stop_redis; keel_stop_pgbouncer; keel_stop_postgres; exit $status' EXIT
echo "test.sh: PostgreSQL ready at ${TEST_DATABASE_URL//:${KEEL_PG_PASSWORD}@/:***@}"
keel_start_pgbouncer
echo "test.sh: PgBouncer (transaction mode) ready at ${TEST_PGBOUNCER_URL//:${KEEL_PG_PASSWORD}@/:***@}"
keel_start_reliability_postgres
echo "test.sh: PostgreSQL for the reliability scenarios ready at ${KEEL_RELIABILITY_DATABASE_URL//:${KEEL_PG_PASSWORD}@/:***@}"
keel_start_replicated_postgres
echo "test.sh: a primary and its standby ready at ${TEST_CLUSTER_URL//:${KEEL_PG_PASSWORD}@/:***@}"
keel_start_tls_postgres
echo "test.sh: PostgreSQL with TLS (verify-full) ready at ${TEST_TLS_DATABASE_URL//:${KEEL_PG_PASSWORD}@/:***@}"
keel_start_redis
echo "test.sh: Redis ready at ${TEST_REDIS_URL//:${KEEL_REDIS_PASSWORD}@/:***@}"

case " $* " in
  *" --sanitize=thread "*) export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan-suppressions.txt ${TSAN_OPTIONS:-}" ;;
esac
if [ $# -eq 0 ]; then
  # Everything: the unit and integration tests, then the reliability scenarios on their own, so
  # that their timing checks do not share the two cores with the other suites.
  swift test --skip Reliability
  # The network clients' suites again on the portable poll(2) reactor, the one platforms without
  # epoll use.
  KEEL_REACTOR=poll swift test --skip-build \
    --filter 'PostgresPoolTests|BatchingTests|MigrationsTests|RedisTests|RedisRateLimitTests|CacheRedisTests|CircuitBreakerRedisTests|SocketReactorTests'
  swift test --filter Reliability
  # The failover scenario used up the primary and its standby: a new pair for the second run.
  keel_restart_replicated_postgres
  KEEL_REACTOR=poll swift test --skip-build --filter Reliability
  # The example services' integration tests (Examples/, a package of its own), on both databases.
  swift test --package-path Examples
else
  swift test "$@"
fi
