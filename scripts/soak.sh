#!/usr/bin/env bash
# Runs the soak scenario (Examples/Tests/ExamplesTests/SoakTests.swift) for longer than CI does:
# both HTTP services as processes under a steady mixed load, on SQLite and on a throwaway
# PostgreSQL, their resident memory and file descriptors sampled every second.
# Usage: scripts/soak.sh [SECONDS]    (600 when not given; CI runs 45)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
keel_install_missing_packages
keel_start_postgres
export KEEL_SOAK_SECONDS="${1:-600}"
swift test --package-path Examples --filter SoakTests
