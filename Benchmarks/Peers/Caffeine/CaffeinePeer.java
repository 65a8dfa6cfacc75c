// The `cache` suite's peer: Caffeine (Debian's libcaffeine-java), driven by Keel's benchmarks on the
// same workload and the same traces as Keel's Cache. Built and run by scripts/bench.sh.
//
//   java CaffeinePeer throughput <accesses file> <workers> <writes: 0|1>
//     Fills a cache of 10,000 entries keyed "token-symbol-100000"... (as CacheBenchmarks does),
//     warms it up for 3 s on the workload, prints "ready", then answers each line "<operations>"
//     on stdin with the nanoseconds <workers> threads took to run that many operations (every
//     fourth an insert when <writes> is 1), over the Zipf positions of the accesses file (65,536
//     little-endian 32-bit positions), as CacheBenchmarks' loop does.
//   java CaffeinePeer replay <trace file> <capacity>...
//     Replays a trace (little-endian 64-bit keys) through a cache of each capacity, inserting on a
//     miss, and prints "<capacity> <hits> <requests>" per capacity.

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.IntBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

public final class CaffeinePeer {
    static final int ENTRY_COUNT = 10_000;
    /** Operations a worker takes at a time, as in CacheBenchmarks. */
    static final int CHUNK_SIZE = 2_048;

    public static void main(String[] arguments) throws Exception {
        switch (arguments[0]) {
            case "throughput" -> throughput(Path.of(arguments[1]), Integer.parseInt(arguments[2]), arguments[3].equals("1"));
            case "replay" -> replay(Path.of(arguments[1]), arguments);
            default -> throw new IllegalArgumentException("unknown mode " + arguments[0]);
        }
    }

    static volatile Object sink;

    static void throughput(Path accessesFile, int workers, boolean writes) throws Exception {
        int[] accesses = readInts(accessesFile);
        Cache<String, Integer> cache = Caffeine.newBuilder().maximumSize(ENTRY_COUNT).build();
        String[][] workerKeys = new String[workers][ENTRY_COUNT];
        for (int position = 0; position < ENTRY_COUNT; position++) {
            String key = "token-symbol-" + (100_000 + position);
            cache.put(key, position);
            // Each worker's own copies of the keys (equal strings, separate objects).
            for (int worker = 0; worker < workers; worker++) workerKeys[worker][position] = new String(key.toCharArray());
        }
        ExecutorService threads = Executors.newFixedThreadPool(workers);
        long warmUpEnd = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < warmUpEnd) run(cache, threads, workerKeys, accesses, workers, 100_000, writes);
        System.out.println("ready");
        System.out.flush();
        BufferedReader input = new BufferedReader(new InputStreamReader(System.in));
        for (String line; (line = input.readLine()) != null;) {
            int operations = Integer.parseInt(line.trim());
            long start = System.nanoTime();
            run(cache, threads, workerKeys, accesses, workers, operations, writes);
            System.out.println(System.nanoTime() - start);
            System.out.flush();
        }
        threads.shutdown();
    }

    /** Runs `total` operations: on this thread for one worker, else in chunks taken in turn. */
    static void run(Cache<String, Integer> cache, ExecutorService threads, String[][] workerKeys, int[] accesses,
                    int workers, int total, boolean writes) throws Exception {
        if (workers == 1) {
            loop(cache, workerKeys[0], accesses, total, 0, writes);
            return;
        }
        AtomicInteger chunks = new AtomicInteger();
        Future<?>[] running = new Future<?>[workers];
        for (int worker = 0; worker < workers; worker++) {
            String[] keys = workerKeys[worker];
            running[worker] = threads.submit(() -> {
                while (true) {
                    int start = chunks.getAndIncrement() * CHUNK_SIZE;
                    if (start >= total) return;
                    loop(cache, keys, accesses, Math.min(CHUNK_SIZE, total - start), start, writes);
                }
            });
        }
        for (Future<?> worker : running) worker.get();
    }

    static void loop(Cache<String, Integer> cache, String[] keys, int[] accesses, int count, int start, boolean writes) {
        int cursor = start;
        Object last = null;
        for (int step = 0; step < count; step++) {
            String key = keys[accesses[cursor & 65_535]];
            if (writes && (step & 3) == 3) cache.put(key, step); else last = cache.getIfPresent(key);
            cursor++;
        }
        sink = last;
    }

    static void replay(Path traceFile, String[] arguments) throws IOException {
        long[] trace = readLongs(traceFile);
        for (int argument = 2; argument < arguments.length; argument++) {
            int capacity = Integer.parseInt(arguments[argument]);
            // Maintenance on the calling thread, so the replay is deterministic.
            Cache<Long, Long> cache = Caffeine.newBuilder().maximumSize(capacity).executor(Runnable::run).build();
            long hits = 0;
            for (long key : trace) {
                if (cache.getIfPresent(key) != null) hits++; else cache.put(key, key);
            }
            System.out.println(capacity + " " + hits + " " + trace.length);
        }
    }

    static int[] readInts(Path path) throws IOException {
        IntBuffer buffer = map(path).asIntBuffer();
        int[] values = new int[buffer.remaining()];
        buffer.get(values);
        return values;
    }

    static long[] readLongs(Path path) throws IOException {
        LongBuffer buffer = map(path).asLongBuffer();
        long[] values = new long[buffer.remaining()];
        buffer.get(values);
        return values;
    }

    /** The file at `path`, mapped, little-endian. */
    static ByteBuffer map(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size()).order(ByteOrder.LITTLE_ENDIAN);
        }
    }
}
