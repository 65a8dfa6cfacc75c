#!/usr/bin/env python3
"""The `postgres` suite's peers outside Swift, on the suite's workload, in the same run as Keel.

    scripts/bench_postgres_peers.py <keel report> <pgbench> <HikariPeer class path>

For each workload (workers, pool) in (1, 1), (16, 10), (64, 20), on the server and `kv` table of
$TEST_DATABASE_URL:
  - pgbench in prepared mode (`-M prepared`), as many clients as the pool has connections
    (pgbench has no pool: its clients are the connections, each never waiting for one);
  - HikariCP over pgjdbc (Benchmarks/Peers/HikariCP/HikariPeer.java), <workers> threads sharing a
    pool of <pool> connections, as Keel's benchmark does.
Each runs a 2 s warm-up, then two rounds of 8 s; the figures are the mean of the rounds:
    figure: postgres/<metric>/select-<W>x<P>/<peer> value=<v> unit=<unit>
for qps, p50 and p99 latency, client CPU per query (the client process's user + system time over
its queries) and busy cores (the whole machine's, from /proc/stat). Then, against Keel's figures of
the same run (the report of scripts/bench_report.py, <keel report>):
    compare: postgres/select-<W>x<P>-vs-<peer> keel=<qps> <peer>=<qps> ratio=<keel/peer> unit=qps
for Keel's default mode (`keel`), and the same for Keel on the reactor's executor
(`select-<W>x<P>-on-reactor-vs-<peer>`), multiplexed (`select-<W>x<P>-multiplexed-vs-<peer>`) and
multiplexed with the tasks on the reactor (`select-<W>x<P>-multiplexed-on-reactor-vs-<peer>`).
"""
import glob
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import urllib.parse

WORKLOADS = [(1, 1), (16, 10), (64, 20)]
WARM_UP = 2
MEASURED = 8
ROUNDS = 2


def jiffies():
    """The machine's busy and total jiffies over all CPUs."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def busy_cores(before, after):
    return (after[0] - before[0]) / max(after[1] - before[1], 1) * os.cpu_count()


def percentile(sorted_values, fraction):
    return sorted_values[min(int(len(sorted_values) * fraction), len(sorted_values) - 1)]


def pgbench_round(pgbench, script, url, connections, seconds, log_dir):
    """One pgbench run; its figures when `log_dir` is given (latencies from its transaction log)."""
    threads = 1 if connections < 2 else 2
    command = [pgbench, "-n", "-M", "prepared", "-f", script, "-c", str(connections), "-j", str(threads),
               "-T", str(seconds)]
    if log_dir:
        command += ["-l", "--log-prefix", os.path.join(log_dir, "pgbench")]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    stat_before = jiffies()
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    stat_after = jiffies()
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not log_dir:
        return None
    qps = float(re.search(r"^tps = ([0-9.]+)", output, re.M).group(1))
    latencies = []
    for path in glob.glob(os.path.join(log_dir, "pgbench*")):
        with open(path) as log:
            latencies += [int(line.split()[2]) for line in log if line.strip()]
        os.remove(path)
    latencies.sort()
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {
        "qps": qps, "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
        "cpu": cpu * 1e6 / max(len(latencies), 1), "busy": busy_cores(stat_before, stat_after),
    }


def pgbench_figures(pgbench, url, connections):
    with tempfile.TemporaryDirectory() as folder:
        script = os.path.join(folder, "select.sql")
        with open(script, "w") as file:
            file.write("\\set k random(1, 10000)\nSELECT v FROM kv WHERE k = :k;\n")
        logs = os.path.join(folder, "logs")
        os.mkdir(logs)
        pgbench_round(pgbench, script, url, connections, WARM_UP, None)
        return [pgbench_round(pgbench, script, url, connections, MEASURED, logs) for _ in range(ROUNDS)]


def hikari_figures(class_path, url, workers, connections):
    parsed = urllib.parse.urlparse(url)
    jdbc = f"jdbc:postgresql://{parsed.hostname}:{parsed.port}{parsed.path}"
    command = ["java", "-cp", class_path, "HikariPeer", jdbc, urllib.parse.unquote(parsed.username),
               urllib.parse.unquote(parsed.password), str(workers), str(connections), str(WARM_UP), str(MEASURED),
               str(ROUNDS)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rounds = []
    for line in output.splitlines():
        if not line.startswith("round "):
            continue
        values = dict(field.split("=") for field in line.split()[1:])
        rounds.append({
            "qps": float(values["qps"]), "p50": float(values["p50_us"]), "p99": float(values["p99_us"]),
            "cpu": float(values["cpu_us_per_query"]), "busy": float(values["busy_cores"]),
        })
    if len(rounds) != ROUNDS:
        raise SystemExit(f"HikariPeer printed {len(rounds)} rounds:\n{output}")
    return rounds


def keel_qps(report, label):
    """Keel's qps for `label` (`select-16x10`, or `select-16x10/on-reactor` for a mode) from the
    report's compare lines against PostgresNIO, or None."""
    prefix = f"compare: postgres/{label} keel="
    for line in report:
        if line.startswith(prefix):
            return float(line[len(prefix):].split()[0])
    return None


def main():
    report_path, pgbench, class_path = sys.argv[1:4]
    with open(report_path) as file:
        report = file.read().splitlines()
    url = os.environ["TEST_DATABASE_URL"]
    units = {"qps": "qps", "p50": "us", "p99": "us", "cpu": "us", "busy": "cores"}
    names = {"qps": "qps", "p50": "p50-latency", "p99": "p99-latency", "cpu": "client-cpu-per-query",
             "busy": "busy-cores"}
    for workers, connections in WORKLOADS:
        workload = f"select-{workers}x{connections}"
        peers = {
            "pgbench": pgbench_figures(pgbench, url, connections),
            "hikaricp": hikari_figures(class_path, url, workers, connections),
        }
        for peer, rounds in peers.items():
            for key, name in names.items():
                value = sum(round_[key] for round_ in rounds) / len(rounds)
                print(f"figure: postgres/{name}/{workload}/{peer} value={value:.2f} unit={units[key]}")
        modes = [(workload, workload), (f"{workload}/on-reactor", f"{workload}-on-reactor"),
                 (f"{workload}/multiplexed", f"{workload}-multiplexed"),
                 (f"{workload}/multiplexed-on-reactor", f"{workload}-multiplexed-on-reactor")]
        for source, label in modes:
            keel = keel_qps(report, source)
            if keel is None:
                print(f"postgres peers: no Keel figure for {source} in the report", file=sys.stderr)
                continue
            for peer, rounds in peers.items():
                qps = sum(round_["qps"] for round_ in rounds) / len(rounds)
                print(f"compare: postgres/{label}-vs-{peer} keel={keel:.0f} {peer}={qps:.0f} ratio={keel / qps:.2f} unit=qps")


if __name__ == "__main__":
    main()
