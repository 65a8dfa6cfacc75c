#!/usr/bin/env bash
# Runs Keel's benchmarks in release mode and prints one line per comparison (BENCHMARKS.md,
# "Reading the figures"):
#   compare: <suite>/<workload> keel=<v> <peer>=<v> ratio=<keel/peer> unit=<unit>
#   figure: <suite>/<name> value=<v> unit=<unit>
# Usage: scripts/bench.sh [SUITE...]    (all suites that exist when none is named)
# Suites: sqlcore pool postgres sqlite batching ratelimit cache breaker redis
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A targets=(
  [sqlcore]=SQLCoreBenchmarks [pool]=PoolBenchmarks [postgres]=PostgresBenchmarks
  [sqlite]=SQLiteBenchmarks [batching]=BatchingBenchmarks [ratelimit]=RateLimitBenchmarks
  [cache]=CacheBenchmarks [breaker]=CircuitBreakerBenchmarks [redis]=RedisBenchmarks
)
needs_postgres=" postgres batching "
order=(sqlcore pool postgres sqlite batching ratelimit cache breaker redis)

suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
  for suite in "${order[@]}"; do
    [ -d "Benchmarks/Benchmarks/${targets[$suite]}" ] && suites+=("$suite")
  done
fi

args=()
postgres=false
redis=false
batching=false
for suite in "${suites[@]}"; do
  target=${targets[$suite]:-}
  if [ -z "$target" ]; then echo "bench.sh: unknown suite '$suite' (known: ${order[*]})" >&2; exit 2; fi
  if [ ! -d "Benchmarks/Benchmarks/$target" ]; then echo "bench.sh: suite '$suite' has no benchmarks yet" >&2; exit 2; fi
  # Suite batching runs on its own: its samples take seconds, which package-benchmark's JMH
  # export drops (it needs a non-zero samples-per-second), so its rows/s come from a
  # percentiles export instead.
  if [ "$suite" = batching ]; then batching=true; else args+=(--target "$target"); fi
  case "$needs_postgres" in *" $suite "*) postgres=true ;; esac
  [ "$suite" = redis ] && redis=true
done

source scripts/postgres.sh
source scripts/redis.sh
source scripts/pgbouncer.sh
keel_install_missing_packages
# The benchmarks' server flushes every commit (PostgreSQL's default), as production servers do:
# row-by-row writes pay for their commits there, so the batching ratios mean what users will see.
# The postgres suite also runs through a PgBouncer in transaction mode in front of it.
if $postgres; then
  KEEL_PG_DURABLE=1 keel_start_postgres
  keel_install_missing_pgbouncer
  keel_start_pgbouncer
  trap 'status=$?; keel_stop_redis; keel_stop_pgbouncer; keel_stop_postgres; exit $status' EXIT
fi
# The redis suite runs against a throwaway Redis (and redis-benchmark, from redis-tools).
if $redis; then
  keel_install_missing_redis
  keel_start_redis
  trap 'status=$?; keel_stop_redis; keel_stop_pgbouncer; keel_stop_postgres; exit $status' EXIT
fi

out=$(mktemp -d /tmp/keel-bench.XXXXXX)
# The cache suite's peer: Caffeine from Debian's libcaffeine-java, driven by a small Java harness
# (Benchmarks/Peers/Caffeine) that the suite's benchmarks and hit-ratio harness start.
case " ${suites[*]} " in
  *" cache "*)
    keel_install_missing_java_peer libcaffeine-java /usr/share/java/caffeine.jar
    mkdir -p "$out/caffeine"
    javac -d "$out/caffeine" -cp /usr/share/java/caffeine.jar Benchmarks/Peers/Caffeine/CaffeinePeer.java
    export KEEL_CAFFEINE_CLASSPATH="/usr/share/java/caffeine.jar:$out/caffeine"
    ;;
esac
if [ ${#args[@]} -gt 0 ]; then
  swift package --package-path Benchmarks --allow-writing-to-directory "$out" \
    benchmark "${args[@]}" --format jmh --path "$out" --no-progress >"$out/benchmark.log" 2>&1 \
    || { cat "$out/benchmark.log" >&2; exit 1; }
fi
if $batching; then
  swift package --package-path Benchmarks --allow-writing-to-directory "$out" \
    benchmark --target BatchingBenchmarks --format histogramPercentiles --path "$out" --no-progress \
    >"$out/batching.log" 2>&1 || { cat "$out/batching.log" >&2; exit 1; }
fi
python3 scripts/bench_report.py $(ls "$out"/*.jmh.json "$out"/*rows_per_second*.tsv 2>/dev/null)

# The cache suite's hit ratios come from a replay harness, not from timed samples.
case " ${suites[*]} " in
  *" cache "*)
    swift build -c release --package-path Benchmarks --product CacheHitRatio >/dev/null
    "$(swift build -c release --package-path Benchmarks --show-bin-path)/CacheHitRatio"
    ;;
esac
rm -rf "$out"

# The practical limit of the postgres suite's workload: pgbench in prepared mode, same server,
# same query, as many connections as each workload's pool (its `kv` table was made by the suite).
case " ${suites[*]} " in
  *" postgres "*)
    script=$(mktemp /tmp/keel-pgbench.XXXXXX)
    printf '\\set k random(1, 10000)\nSELECT v FROM kv WHERE k = :k;\n' >"$script"
    for workload in 1x1 16x10 64x20; do
      connections=${workload#*x}
      threads=$(( connections < 2 ? 1 : 2 ))
      tps=$("$(keel_postgres_bindir)/pgbench" -n -M prepared -f "$script" -c "$connections" -j "$threads" -T 5 \
        "$TEST_DATABASE_URL" 2>/dev/null | awk '/^tps/ { print $3; exit }')
      echo "figure: postgres/pgbench-qps/select-$workload value=${tps:-failed} unit=qps"
    done
    rm -f "$script"
    ;;
esac
