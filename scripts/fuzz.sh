#!/usr/bin/env bash
# Fuzzes Keel's input parsers with libFuzzer (Swift's -sanitize=fuzzer): the targets of
# Examples/Sources/keel-fuzz (csv, connection-string, statement, postgres-text, http-input), each
# for SECONDS, starting from the seed corpus in Examples/Fuzz/Corpus. New inputs go to a temporary
# folder, not to the committed corpus. A crash or a failed property stops with the input that
# caused it saved and its path printed; the script then exits non-zero.
# Usage: scripts/fuzz.sh [SECONDS [TARGET...]]    (300 s per target when not given; CI runs 20)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(csv connection-string statement postgres-text http-input); fi

scratch=Examples/.build-fuzz
swift build --package-path Examples --scratch-path "$scratch" --product keel-fuzz \
  -Xswiftc -sanitize=fuzzer -Xswiftc -DKEEL_FUZZ >/tmp/keel-fuzz-build.log 2>&1 \
  || { tail -40 /tmp/keel-fuzz-build.log >&2; exit 1; }
binary="$scratch/debug/keel-fuzz"
work=$(mktemp -d /tmp/keel-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
for target in "${targets[@]}"; do
  mkdir -p "$work/$target" "$work/$target-artifacts"
  echo "fuzz.sh: $target for ${seconds} s"
  if ! SWIFT_BACKTRACE=enable=no "$binary" "$target" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=4096 \
      -artifact_prefix="$work/$target-artifacts/" "$work/$target" "Examples/Fuzz/Corpus/$target" >"$work/$target.log" 2>&1; then
    tail -40 "$work/$target.log" >&2
    kept=$(mktemp -d /tmp/keel-fuzz-crash.XXXXXX)
    cp -r "$work/$target-artifacts/." "$kept/"
    echo "fuzz.sh: $target failed; the input is in $kept (replay: swift run --package-path Examples keel-fuzz $target $kept)" >&2
    exit 1
  fi
  grep -E "^Done|stat::number_of_executed_units" "$work/$target.log" | tail -1 || true
  echo "fuzz.sh: $target: $(ls "$work/$target" | wc -l) new inputs, no failure"
done
