#!/usr/bin/env python3
"""Turns package-benchmark's JMH export into Keel's report lines (DESIGN.md, "Benchmark reporting").

Benchmarks are named `<workload>/<implementation>` inside a target `<Suite>Benchmarks`.
For each workload, `keel` is compared with every other implementation:
    compare: <suite>/<workload> keel=<ops/s> <peer>=<ops/s> ratio=<keel/peer> unit=ops/s
and Keel's allocations per operation are printed as
    figure: <suite>/<workload>-mallocs-per-op value=<n> unit=mallocs/op
Throughput is the median of the samples (robust on a shared, noisy machine); package-benchmark
reports it per operation, scaled by the benchmark's scaling factor. Allocations are the median
malloc count of one sample (benchmarks run one operation per sample unless they say otherwise).
"""
import json
import re
import sys
from collections import defaultdict

SUITES = {
    "SQLCoreBenchmarks": "sqlcore", "PoolBenchmarks": "pool", "PostgresBenchmarks": "postgres",
    "SQLiteBenchmarks": "sqlite", "BatchingBenchmarks": "batching", "RateLimitBenchmarks": "ratelimit",
    "CacheBenchmarks": "cache", "CircuitBreakerBenchmarks": "breaker",
}
SCALE = {"(K)": 1e3, "(M)": 1e6, "(G)": 1e9}


def median(metric):
    return metric["scorePercentiles"]["50.0"]


def main(paths):
    results = defaultdict(dict)  # (suite, workload) -> implementation -> (ops/s, mallocs/op)
    for path in paths:
        for entry in json.load(open(path)):
            # "package.benchmark.<Target>.<workload>/<implementation>"
            name = entry["benchmark"].split(".", 3)[3]
            target = entry["benchmark"].split(".")[2]
            suite = SUITES.get(target, target)
            workload, _, implementation = name.rpartition("/")
            if not workload:
                workload, implementation = name, "keel"
            primary = entry["primaryMetric"]
            throughput = median(primary)
            for marker, factor in SCALE.items():
                if marker in primary.get("scoreUnit", ""):
                    throughput *= factor
            mallocs = None
            for key, metric in entry.get("secondaryMetrics", {}).items():
                if key.startswith("Malloc (total)"):
                    mallocs = median(metric)
            results[(suite, workload)][implementation] = (throughput, mallocs)

    for (suite, workload), implementations in sorted(results.items()):
        keel = implementations.get("keel")
        if keel is None:
            continue
        for peer, (peer_throughput, _) in sorted(implementations.items()):
            if peer == "keel":
                continue
            ratio = keel[0] / peer_throughput if peer_throughput else float("nan")
            print(f"compare: {suite}/{workload} keel={keel[0]:.0f} {peer}={peer_throughput:.0f} "
                  f"ratio={ratio:.2f} unit=ops/s")
        if keel[1] is not None:
            print(f"figure: {suite}/{workload}-mallocs-per-op value={keel[1]:g} unit=mallocs/op")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: bench_report.py RESULTS.jmh.json...")
    main(sys.argv[1:])
