#!/usr/bin/env bash
# Builds every library module's DocC catalog with warnings as errors (a broken symbol link, an
# undocumented parameter): `swift package generate-documentation` from swift-docc-plugin.
# Usage: scripts/docs.sh [TARGET...]    (every library module when none is named)
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(KeelCore SQLCore Pooling PostgresPool SQLitePool Redis RedisRateLimit CacheRedis CircuitBreakerRedis Batching Migrations RateLimit Cache CircuitBreaker KeelTesting KeelConfiguration)
fi
for target in "${targets[@]}"; do
  echo "docs.sh: $target"
  swift package generate-documentation --target "$target" --warnings-as-errors >/tmp/keel-docs-$$.log 2>&1 || {
    grep -A3 -E '^(error|warning):' /tmp/keel-docs-$$.log >&2 || cat /tmp/keel-docs-$$.log >&2
    rm -f /tmp/keel-docs-$$.log
    exit 1
  }
done
rm -f /tmp/keel-docs-$$.log
echo "docs.sh: ${#targets[@]} catalogs built with no warnings"
