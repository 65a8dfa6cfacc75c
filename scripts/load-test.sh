#!/usr/bin/env bash
# Load-tests the two HTTP examples (Examples/: crypto-butler and saas-api) the way the issue asks:
#   1. installs wrk (Debian's package) when missing, and what scripts/test.sh needs,
#   2. starts a throwaway PostgreSQL (scripts/postgres.sh),
#   3. builds the examples in release mode and starts each against that PostgreSQL,
#   4. runs `wrk -c 100 -d 15s` on crypto-butler's GET /v1/portfolios twice, with a JWT (the demo
#      token its generated keys sign) and with the static token table, both with Prometheus metrics
#      on, and prints the ratio of their requests/s; then on saas-api's GET /leads?limit=100
#      (ENV=production); each with requests/s, p50/p99 and errors.
# Usage: scripts/load-test.sh [seconds]   (default 15)
set -euo pipefail

cd "$(dirname "$0")/.."
source scripts/postgres.sh
duration="${1:-15}"

keel_install_missing_packages
if ! command -v wrk >/dev/null; then
  echo "load-test.sh: installing wrk"
  keel_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  keel_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk
fi
keel_start_postgres
servers=()
cleanup_servers() { for pid in "${servers[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done; }
trap 'status=$?; cleanup_servers; keel_stop_postgres; exit $status' EXIT

echo "load-test.sh: building the examples (release)"
swift build -c release --package-path Examples --product crypto-butler >/dev/null
swift build -c release --package-path Examples --product saas-api >/dev/null
bin=$(swift build -c release --package-path Examples --show-bin-path)

wait_for() {
  for _ in $(seq 1 100); do
    if curl -fs "$1" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "load-test.sh: $1 did not answer" >&2
  return 1
}

# Prints requests/s, p50, p99 and errors from wrk's output.
summarize() {
  local name=$1 output=$2
  local rps p50 p99 non2xx socket
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$output")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$output")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$output")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$output")
  socket=$(awk -F'Socket errors: ' '/Socket errors:/ {print $2}' <<<"$output")
  echo "load-test: $name requests/s=$rps p50=$p50 p99=$p99 non-2xx=${non2xx:-0} socket-errors=${socket:-none}"
}

# Runs crypto-butler with the extra environment given (VAR=value ...), two portfolios for the
# user of $token, and wrk on GET /v1/portfolios; sets $rps and $p99 (in ms) from wrk's output.
# Each user's request limit is raised out of the way: the check still runs for every request.
# Prometheus metrics are always on; the run ends with one scrape of /metrics.
load_butler() {
  local name=$1; shift
  port=$(keel_free_port)
  env "$@" DATABASE_URL="$TEST_DATABASE_URL" HTTP_RATE_LIMIT_PER_SECOND=10000000 HTTP_RATE_LIMIT_BURST=10000000 \
    "$bin/crypto-butler" --port "$port" --jobs-interval 3600 >"$KEEL_PG_DIR/crypto-butler-$name.log" 2>&1 &
  local pid=$!
  servers+=($pid)
  wait_for "http://127.0.0.1:$port/health"
  if [ -z "$token" ]; then
    token="Authorization: Bearer $(sed -n 's/.*Demo token for user demo, valid for an hour: //p' "$KEEL_PG_DIR/crypto-butler-$name.log" | head -1)"
  fi
  psql -X -q "$TEST_DATABASE_URL" -c "TRUNCATE butler_portfolios CASCADE" >/dev/null
  for portfolio in "Long term" "Trading"; do
    curl -fs -X POST -H "$token" -H "Content-Type: application/json" \
      -d "{\"name\":\"$portfolio\",\"holdings\":[{\"coin\":\"bitcoin\",\"amount\":0.5},{\"coin\":\"ethereum\",\"amount\":2},{\"coin\":\"solana\",\"amount\":10}]}" \
      "http://127.0.0.1:$port/v1/portfolios" >/dev/null
  done
  psql -X -q "$TEST_DATABASE_URL" -c "ANALYZE butler_portfolios, butler_holdings" >/dev/null
  echo "load-test.sh: wrk -c 100 -d ${duration}s GET /v1/portfolios (crypto-butler, $name, PostgreSQL)"
  local output
  output=$(wrk -t 2 -c 100 -d "${duration}s" --latency -H "$token" "http://127.0.0.1:$port/v1/portfolios")
  echo "$output"
  summarize "crypto-butler GET /v1/portfolios ($name)" "$output"
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$output")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/, "", v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v*=1000}; print v}' <<<"$output")
  curl -fs "http://127.0.0.1:$port/metrics" | grep -c '^# TYPE ' | sed "s/^/load-test.sh: \/metrics after the run: /; s/$/ metric families/"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

token=""
load_butler "JWT, metrics"
jwt_rps=$rps jwt_p99=$p99
token="Authorization: Bearer load-test-token"
load_butler "static tokens, metrics" BUTLER_TOKENS="load-test-token:demo"
static_rps=$rps
echo "compare: load/crypto-butler-jwt-vs-static-tokens jwt=$jwt_rps static=$static_rps ratio=$(awk -v a="$jwt_rps" -v b="$static_rps" 'BEGIN {printf "%.2f", a / b}') unit=req/s jwt-p99-ms=$jwt_p99"

port=$(keel_free_port)
ENV=production DATABASE_URL="$TEST_DATABASE_URL" HTTP_RATE_LIMIT_PER_SECOND=10000000 HTTP_RATE_LIMIT_BURST=10000000 "$bin/saas-api" --port "$port" >"$KEEL_PG_DIR/saas-api.log" 2>&1 &
servers+=($!)
wait_for "http://127.0.0.1:$port/health"
{
  echo "email,name,company"
  for i in $(seq 1 1000); do echo "lead$i@example.com,Lead $i,Company $((i % 50))"; done
} | curl -fs -X POST -H "Content-Type: text/csv" --data-binary @- "http://127.0.0.1:$port/leads/upload" >/dev/null
# Statistics for the new rows, as autovacuum would gather within a minute on a running server.
psql -X -q "$TEST_DATABASE_URL" -c "ANALYZE saas_leads" >/dev/null
echo "load-test.sh: wrk -c 100 -d ${duration}s GET /leads?limit=100 (saas-api, ENV=production, PostgreSQL)"
output=$(wrk -t 2 -c 100 -d "${duration}s" --latency "http://127.0.0.1:$port/leads?limit=100")
echo "$output"
summarize "saas-api GET /leads?limit=100" "$output"
