// The `postgres` suite's JVM peer: HikariCP (Debian's libhikaricp-java) over pgjdbc
// (libpostgresql-jdbc-java), on the suite's workload. Built and run by scripts/bench.sh.
//
//   java HikariPeer <jdbc url> <user> <password> <workers> <pool size> <warm-up s> <measured s> <rounds>
//
// <workers> threads share a pool of <pool size> connections; each loops: take a connection,
// prepare `SELECT v FROM kv WHERE k = ?` (pgjdbc keeps it prepared on the server after its
// prepareThreshold), bind a random key in 1...10,000, read the row, give the connection back. After
// the warm-up, each round runs for <measured> seconds and prints one line:
//
//   round qps=<queries per second> p50_us=<µs> p99_us=<µs> cpu_us_per_query=<µs> busy_cores=<n>
//
// cpu_us_per_query is this process's CPU time (user + system) over the round divided by its
// queries; busy_cores is the whole machine's (client and server) from /proc/stat.

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

public final class HikariPeer {
    static final String SQL = "SELECT v FROM kv WHERE k = ?";

    /// One worker's latencies (ns) of the round in progress.
    static final class Worker extends Thread {
        final HikariDataSource pool;
        final AtomicBoolean running;
        volatile boolean recording;
        long[] latencies = new long[1 << 16];
        int count;

        Worker(HikariDataSource pool, AtomicBoolean running) {
            this.pool = pool;
            this.running = running;
        }

        void record(long nanos) {
            if (count == latencies.length) latencies = Arrays.copyOf(latencies, count * 2);
            latencies[count++] = nanos;
        }

        @Override public void run() {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            long sink = 0;
            while (running.get()) {
                long start = System.nanoTime();
                try (Connection connection = pool.getConnection();
                     PreparedStatement statement = connection.prepareStatement(SQL)) {
                    statement.setInt(1, random.nextInt(1, 10_001));
                    try (ResultSet rows = statement.executeQuery()) {
                        while (rows.next()) sink += rows.getString(1).length();
                    }
                } catch (Exception error) {
                    throw new RuntimeException(error);
                }
                if (recording) {
                    synchronized (this) { record(System.nanoTime() - start); }
                }
            }
            if (sink == 42) System.err.print("");
        }

        /// The latencies recorded since the last call, and starts anew.
        synchronized long[] take() {
            long[] taken = Arrays.copyOf(latencies, count);
            count = 0;
            return taken;
        }
    }

    /// The machine's busy and total jiffies (all CPUs) from /proc/stat's first line.
    static long[] jiffies() throws Exception {
        String[] fields = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long total = 0, idle = 0;
        for (int index = 1; index < fields.length; index++) {
            long value = Long.parseLong(fields[index]);
            total += value;
            if (index == 4 || index == 5) idle += value;
        }
        return new long[] { total - idle, total };
    }

    public static void main(String[] arguments) throws Exception {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(arguments[0]);
        config.setUsername(arguments[1]);
        config.setPassword(arguments[2]);
        int workers = Integer.parseInt(arguments[3]);
        int poolSize = Integer.parseInt(arguments[4]);
        long warmUp = Long.parseLong(arguments[5]);
        long measured = Long.parseLong(arguments[6]);
        int rounds = Integer.parseInt(arguments[7]);
        config.setMaximumPoolSize(poolSize);
        config.setMinimumIdle(poolSize);
        config.setAutoCommit(true);
        com.sun.management.OperatingSystemMXBean system =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        int cores = Runtime.getRuntime().availableProcessors();
        try (HikariDataSource pool = new HikariDataSource(config)) {
            AtomicBoolean running = new AtomicBoolean(true);
            List<Worker> threads = new ArrayList<>();
            for (int index = 0; index < workers; index++) threads.add(new Worker(pool, running));
            threads.forEach(Thread::start);
            Thread.sleep(warmUp * 1000);
            for (int round = 0; round < rounds; round++) {
                for (Worker worker : threads) { worker.take(); worker.recording = true; }
                long cpuBefore = system.getProcessCpuTime();
                long[] jiffiesBefore = jiffies();
                long started = System.nanoTime();
                Thread.sleep(measured * 1000);
                long wall = System.nanoTime() - started;
                long cpu = system.getProcessCpuTime() - cpuBefore;
                long[] jiffiesAfter = jiffies();
                List<long[]> parts = new ArrayList<>();
                int total = 0;
                for (Worker worker : threads) {
                    worker.recording = false;
                    long[] part = worker.take();
                    parts.add(part);
                    total += part.length;
                }
                long[] all = new long[total];
                int at = 0;
                for (long[] part : parts) {
                    System.arraycopy(part, 0, all, at, part.length);
                    at += part.length;
                }
                Arrays.sort(all);
                double busy = (double) (jiffiesAfter[0] - jiffiesBefore[0]) / (jiffiesAfter[1] - jiffiesBefore[1]) * cores;
                System.out.printf("round qps=%.0f p50_us=%.1f p99_us=%.1f cpu_us_per_query=%.2f busy_cores=%.2f%n",
                    total * 1e9 / wall, all[total / 2] / 1e3, all[total * 99 / 100] / 1e3,
                    cpu / 1e3 / Math.max(total, 1), busy);
            }
            running.set(false);
            for (Worker worker : threads) worker.join();
        }
    }
}
