#!/usr/bin/env bash
# Load-tests the two HTTP examples (Examples/: crypto-butler and saas-api) the way the issue asks:
#   1. installs wrk (Debian's package) when missing, and what scripts/test.sh needs,
#   2. starts a throwaway PostgreSQL (scripts/postgres.sh),
#   3. builds the examples in release mode and starts each against that PostgreSQL,
#   4. runs `wrk -c 100 -d 15s` on crypto-butler's GET /v1/portfolios (with a valid token) and on
#      saas-api's GET /leads?limit=100 (ENV=production), and prints requests/s, p50/p99 and errors.
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

port=$(keel_free_port)
DATABASE_URL="$TEST_DATABASE_URL" "$bin/crypto-butler" --port "$port" --jobs-interval 3600 >"$KEEL_PG_DIR/crypto-butler.log" 2>&1 &
servers+=($!)
wait_for "http://127.0.0.1:$port/health"
token="Authorization: Bearer butler-demo-token"
for name in "Long term" "Trading"; do
  curl -fs -X POST -H "$token" -H "Content-Type: application/json" \
    -d "{\"name\":\"$name\",\"holdings\":[{\"coin\":\"bitcoin\",\"amount\":0.5},{\"coin\":\"ethereum\",\"amount\":2},{\"coin\":\"solana\",\"amount\":10}]}" \
    "http://127.0.0.1:$port/v1/portfolios" >/dev/null
done
psql -X -q "$TEST_DATABASE_URL" -c "ANALYZE butler_portfolios, butler_holdings" >/dev/null
echo "load-test.sh: wrk -c 100 -d ${duration}s GET /v1/portfolios (crypto-butler, PostgreSQL)"
output=$(wrk -t 2 -c 100 -d "${duration}s" --latency -H "$token" "http://127.0.0.1:$port/v1/portfolios")
echo "$output"
summarize "crypto-butler GET /v1/portfolios" "$output"
kill "${servers[0]}"; wait "${servers[0]}" 2>/dev/null || true

port=$(keel_free_port)
ENV=production DATABASE_URL="$TEST_DATABASE_URL" "$bin/saas-api" --port "$port" >"$KEEL_PG_DIR/saas-api.log" 2>&1 &
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
