#!/usr/bin/env python3
"""Turns package-benchmark's JMH export into Keel's report lines (BENCHMARKS.md, "Reading the figures").

Benchmarks are named `<workload>/<implementation>` inside a target `<Suite>Benchmarks`.
For each workload, `keel` is compared with every other implementation:
    compare: <suite>/<workload> keel=<ops/s> <peer>=<ops/s> ratio=<keel/peer> unit=ops/s
Keel's time per operation as
    figure: <suite>/<workload> value=<ns> unit=ns
and its allocations per operation as
    figure: <suite>/mallocs-per-op/<workload> value=<n> unit=mallocs/op
A benchmark that runs several operations per sample says so with the configuration tag
`opsPerSample` (package-benchmark appends tags to the name: "uncontended/keel (opsPerSample: 1000)").
Throughput is the median of the samples (robust on a shared, noisy machine) in samples per second,
times the operations per sample. Allocations are the median malloc count of one sample divided by
the operations per sample.

The `batching` suite comes as percentiles exports (.tsv) of its per-sample "rows per second" metric
and is reported as compare lines between methods (BATCHING below) and a figure per method.

Benchmarks may also record custom per-sample metrics (see CUSTOM below); their median is printed for
every implementation as
    figure: <suite>/<metric>/<workload>/<implementation> value=<v> unit=<unit>
The `postgres` suite reports throughput in queries per second (unit=qps), from its own per-sample
"queries per second" metric; the `batching` suite in rows per second, from "rows per second".
"""
import json
import re
import sys
from collections import defaultdict

SUITES = {
    "SQLCoreBenchmarks": "sqlcore", "PoolBenchmarks": "pool", "PostgresBenchmarks": "postgres",
    "SQLiteBenchmarks": "sqlite", "BatchingBenchmarks": "batching", "RateLimitBenchmarks": "ratelimit",
    "CacheBenchmarks": "cache", "CircuitBreakerBenchmarks": "breaker", "RedisBenchmarks": "redis",
}

# Suites whose compare lines name the peer in the workload: "compare: redis/get-64tasks-vs-redis-benchmark ...".
PEER_IN_LABEL = {"redis", "cache"}


# Custom metric name -> (report name, factor, unit).
CUSTOM = {
    "p50 latency (ns)": ("p50-latency", 1e-3, "us"),
    "p99 latency (ns)": ("p99-latency", 1e-3, "us"),
    "client CPU per query (ns)": ("client-cpu-per-query", 1e-3, "us"),
    # Each reactor wake-up is two thread hops (cooperative -> reactor -> cooperative) when the
    # task runs on Swift's global executor (Keel's `keel` runs; `keel-on-reactor` runs its tasks
    # on the reactor, where a wake-up resumes the task on the same thread).
    "reactor wakeups per 1000 queries": ("thread-hops-per-query", 2e-3, "hops"),
    # A thread of the client blocked and was switched back in (getrusage's ru_nvcsw + ru_nivcsw).
    "context switches per 1000 queries": ("context-switches-per-query", 1e-3, "switches"),
    # The machine's (client and server) busy cores over the sample, from /proc/stat.
    "busy cores (x1000)": ("busy-cores", 1e-3, "cores"),
}
UNITS = {"postgres": "qps"}

# The `breaker` suite's derived figures: (report name, workload, the workload whose `direct` call
# is subtracted, or None for the time per operation itself).
BREAKER = [
    ("closed-overhead", "closed-run", "closed-run"),
    ("closed-overhead-2tasks", "closed-run-2tasks", "closed-run-2tasks"),
    ("count-window-overhead", "count-window", "closed-run"),
    ("open-rejection", "open-permit", None),
    ("open-rejection-run", "open-run", None),
]

# The `batching` suite names its benchmarks `<backend>/<method>` (throughput in rows/s) and compares
# methods of one backend: (report name, Keel's method, the method it is compared with).
BATCHING = [
    ("postgres-default-vs-rowbyrow", "postgres/default", "postgres/rowbyrow"),
    ("postgres-fastpath-vs-copystaging", "postgres/fastpath", "postgres/copystaging"),
    ("sqlite-default-vs-rowbyrow", "sqlite/default", "sqlite/rowbyrow"),
    ("sqlite-default-vs-limit", "sqlite/default", "sqlite/limit"),
]


def median(metric):
    return metric["scorePercentiles"]["50.0"]


def read_batching_percentiles(path, batching):
    """Reads the median of one `batching` benchmark's "rows per second" from package-benchmark's
    percentiles export, `<baseline>.BatchingBenchmarks.<backend>_<method>.rows_per_second.histogram.percentiles.tsv`
    (a header naming the unit scale, then `<percentile>\t<value>` lines)."""
    name = path.rsplit("/", 1)[-1].split(".")[2]
    backend, _, method = name.partition("_")
    lines = open(path).read().splitlines()
    scale = {"(K)": 1e3, "(M)": 1e6, "(G)": 1e9}.get(lines[0].split()[-1], 1.0)
    for line in lines[1:]:
        percentile, value = line.split("\t")
        if percentile == "50":
            batching[f"{backend}/{method}"] = float(value) * scale


def main(paths):
    results = defaultdict(dict)  # (suite, workload) -> implementation -> (ops/s, mallocs/op)
    interleaved = {}  # (suite, workload) -> Keel's ops/s in the Caffeine benchmark's samples
    customs = []
    batching = {}  # "<backend>/<method>" -> rows/s
    for path in paths:
        if path.endswith(".tsv"):
            read_batching_percentiles(path, batching)
            continue
        for entry in json.load(open(path)):
            # "package.benchmark.<Target>.<workload>/<implementation>"
            name = entry["benchmark"].split(".", 3)[3]
            operations = 1.0
            # The JMH export writes "name (tag: value)" with underscores for spaces.
            tagged = re.match(r"^(.*?)[ _]\((.*)\)$", name)
            if tagged:
                name = tagged.group(1)
                tags = dict(re.split(r":[ _]", part, maxsplit=1) for part in re.split(r",[ _]", tagged.group(2)))
                operations = float(tags.get("opsPerSample", "1"))
            target = entry["benchmark"].split(".")[2]
            suite = SUITES.get(target, target)
            workload, _, implementation = name.rpartition("/")
            if not workload:
                workload, implementation = name, "keel"
            primary = entry["primaryMetric"]
            throughput = median(primary) * operations
            mallocs = None
            for key, metric in entry.get("secondaryMetrics", {}).items():
                if key.startswith("keel operations per second, interleaved") and implementation == "caffeine":
                    interleaved[(suite, workload)] = median(metric)
                if key.startswith("operations per second") and implementation != "caffeine":
                    continue  # the JMH export repeats a custom metric in the benchmarks after it
                if (key.startswith("queries per second") or key.startswith("rows per second")
                        or key.startswith("operations per second")):
                    # A per-sample rate the benchmark measured itself (finer than samples/s).
                    throughput = median(metric)
                if key.startswith("Malloc (total)"):
                    mallocs = median(metric) / operations
                for custom, (report, factor, unit) in CUSTOM.items():
                    if report == "thread-hops-per-query" and implementation != "keel":
                        continue  # only Keel's reactor counts its wake-ups
                    if suite == "redis" and not implementation.startswith("keel"):
                        continue  # redis-benchmark's latencies are its own to print; only its rate is read
                    if key.startswith(custom):
                        customs.append((suite, report, workload, implementation, median(metric) * factor, unit))
            if suite == "batching":
                batching[f"{workload}/{implementation}"] = throughput
                continue
            results[(suite, workload)][implementation] = (throughput, mallocs)

    for (suite, workload), implementations in sorted(results.items()):
        # Keel's default (`keel`) is compared as `<workload>`, its other modes (`keel-<mode>`) as
        # `<workload>/<mode>`, each with every peer.
        for mode, (throughput, _) in sorted(implementations.items()):
            if mode != "keel" and not mode.startswith("keel-"):
                continue
            label = workload if mode == "keel" else f"{workload}/{mode[len('keel-'):]}"
            for peer, (peer_throughput, _) in sorted(implementations.items()):
                if peer.startswith("keel"):
                    continue
                if suite in PEER_IN_LABEL:
                    label = f"{workload}-vs-{peer}" if mode == "keel" else f"{workload}/{mode[len('keel-'):]}-vs-{peer}"
                ratio = throughput / peer_throughput if peer_throughput else float("nan")
                print(f"compare: {suite}/{label} keel={throughput:.0f} {peer}={peer_throughput:.0f} "
                      f"ratio={ratio:.2f} unit={UNITS.get(suite, 'ops/s')}")
        # Keel's rounds interleaved with Caffeine's, in the same samples.
        if (suite, workload) in interleaved and "caffeine" in implementations:
            keel_rate, caffeine_rate = interleaved[(suite, workload)], implementations["caffeine"][0]
            ratio = keel_rate / caffeine_rate if caffeine_rate else float("nan")
            print(f"compare: {suite}/{workload}-interleaved-vs-caffeine keel={keel_rate:.0f} caffeine={caffeine_rate:.0f} "
                  f"ratio={ratio:.2f} unit={UNITS.get(suite, 'ops/s')}")
        keel = implementations.get("keel")
        if keel is None:
            continue
        if keel[0]:
            print(f"figure: {suite}/{workload} value={1e9 / keel[0]:.1f} unit=ns")
        if keel[1] is not None:
            print(f"figure: {suite}/mallocs-per-op/{workload} value={keel[1]:.3g} unit=mallocs/op")
    # The `breaker` suite's figures: the closed path's overhead over a direct call, and the open
    # path's rejection (by `permit()`, typed throws; and by `run`, which boxes the error).
    def nanoseconds(workload, implementation):
        entry = results.get(("breaker", workload), {}).get(implementation)
        return (1e9 / entry[0], entry[1]) if entry and entry[0] else (None, None)
    for name, workload, subtract in BREAKER:
        keel, mallocs = nanoseconds(workload, "keel")
        if keel is None:
            continue
        value = keel - nanoseconds(subtract, "direct")[0] if subtract else keel
        print(f"figure: breaker/{name} value={value:.1f} unit=ns")
        if mallocs is not None:
            print(f"figure: breaker/mallocs-per-op/{name} value={mallocs:.3g} unit=mallocs/op")
    for name, keel, peer in BATCHING:
        if keel in batching and peer in batching:
            ratio = batching[keel] / batching[peer] if batching[peer] else float("nan")
            print(f"compare: batching/{name} keel={batching[keel]:.0f} {peer.split('/')[1]}={batching[peer]:.0f} "
                  f"ratio={ratio:.2f} unit=rows/s")
    for method, rate in sorted(batching.items()):
        print(f"figure: batching/{method} value={rate:.0f} unit=rows/s")
    for suite, report, workload, implementation, value, unit in sorted(customs):
        print(f"figure: {suite}/{report}/{workload}/{implementation} value={value:.3g} unit={unit}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: bench_report.py RESULTS.jmh.json...")
    main(sys.argv[1:])
