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
# The postgres suite's JVM peer: HikariCP over pgjdbc (Debian's libhikaricp-java and
# libpostgresql-jdbc-java), driven by Benchmarks/Peers/HikariCP after Keel's benchmarks.
case " ${suites[*]} " in
  *" postgres "*)
    keel_install_missing_java_peer libhikaricp-java /usr/share/java/HikariCP.jar
    keel_install_missing_java_peer libpostgresql-jdbc-java /usr/share/java/postgresql.jar
    mkdir -p "$out/hikaricp"
    javac -d "$out/hikaricp" -cp /usr/share/java/HikariCP.jar Benchmarks/Peers/HikariCP/HikariPeer.java
    hikari_classpath="/usr/share/java/HikariCP.jar:/usr/share/java/postgresql.jar:/usr/share/java/slf4j-api.jar:$out/hikaricp"
    [ -f /usr/share/java/slf4j-nop.jar ] && hikari_classpath+=":/usr/share/java/slf4j-nop.jar"
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
python3 scripts/bench_report.py $(ls "$out"/*.jmh.json "$out"/*rows_per_second*.tsv 2>/dev/null) | tee "$out/report.txt"

# The cache suite's hit ratios come from a replay harness, not from timed samples.
case " ${suites[*]} " in
  *" cache "*)
    swift build -c release --package-path Benchmarks --product CacheHitRatio >/dev/null
    "$(swift build -c release --package-path Benchmarks --show-bin-path)/CacheHitRatio"
    ;;
esac

# The postgres suite's peers outside Swift, same server, same query, after Keel's samples:
# pgbench in prepared mode (the C limit) and HikariCP, with compare lines against Keel's figures.
case " ${suites[*]} " in
  *" postgres "*)
    python3 scripts/bench_postgres_peers.py "$out/report.txt" "$(keel_postgres_bindir)/pgbench" "$hikari_classpath"
    ;;
esac
rm -rf "$out"
