// swift-tools-version: 6.2
//
// Keel's benchmarks: a separate package, so package-benchmark (and the peers measured side
// by side) never enter a library consumer's dependency graph. Run them with scripts/bench.sh.

import PackageDescription

let package = Package(
    name: "keel-benchmarks",
    // macOS 26: the cache suite keeps its keys in an InlineArray.
    platforms: [.macOS(.v26)],
    dependencies: [
        .package(name: "keel", path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        // The peer of the `pool` suite: PostgresNIO's generic connection pool.
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
        // The peer of the `sqlite` suite: GRDB's DatabasePool.
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
    ],
    targets: [
        // Suite `sqlcore`: building and rendering statements.
        .executableTarget(
            name: "SQLCoreBenchmarks",
            dependencies: [
                .product(name: "SQLCore", package: "keel"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/SQLCoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // Suite `pool`: lease + release against PostgresNIO's pool, in-memory connections.
        .executableTarget(
            name: "PoolBenchmarks",
            dependencies: [
                .product(name: "Pooling", package: "keel"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/PoolBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // Suite `postgres`: Keel's PostgresDatabase against PostgresNIO's PostgresClient on a real server.
        .executableTarget(
            name: "PostgresBenchmarks",
            dependencies: [
                .product(name: "PostgresPool", package: "keel"),
                .product(name: "Pooling", package: "keel"),
                .product(name: "SQLCore", package: "keel"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/PostgresBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // Suite `sqlite`: Keel's SQLiteDatabase against GRDB's DatabasePool on the same file settings.
        .executableTarget(
            name: "SQLiteBenchmarks",
            dependencies: [
                .product(name: "SQLitePool", package: "keel"),
                .product(name: "SQLCore", package: "keel"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/SQLiteBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // Suite `batching`: 100,000-row upserts, Keel's chunks and fast path against row-by-row
        // statements and COPY into a staging table, on PostgreSQL and SQLite.
        .executableTarget(
            name: "BatchingBenchmarks",
            dependencies: [
                .product(name: "Batching", package: "keel"),
                .product(name: "PostgresPool", package: "keel"),
                .product(name: "SQLitePool", package: "keel"),
                .product(name: "Pooling", package: "keel"),
                .product(name: "SQLCore", package: "keel"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/BatchingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // Suite `ratelimit`: permits and GCRA against a Mutex-guarded counter.
        .executableTarget(
            name: "RateLimitBenchmarks",
            dependencies: [
                .product(name: "RateLimit", package: "keel"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/RateLimitBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // Suite `breaker`: a circuit breaker's closed-path overhead and open-path rejection.
        .executableTarget(
            name: "RedisBenchmarks",
            dependencies: [
                .product(name: "Redis", package: "keel"),
                .product(name: "RedisRateLimit", package: "keel"),
                .product(name: "RateLimit", package: "keel"),
                .product(name: "CacheRedis", package: "keel"),
                .product(name: "Cache", package: "keel"),
                .product(name: "Pooling", package: "keel"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/RedisBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .executableTarget(
            name: "CircuitBreakerBenchmarks",
            dependencies: [
                .product(name: "CircuitBreaker", package: "keel"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/CircuitBreakerBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // Suite `cache`: reads and 75/25 reads/writes against a Mutex LRU (CacheBaselines), and the
        // hit-ratio harness (CacheHitRatio, run by scripts/bench.sh cache).
        .target(
            name: "CacheBaselines",
            dependencies: [.product(name: "KeelCore", package: "keel")],
            path: "Support/CacheBaselines"
        ),
        .executableTarget(
            name: "CacheBenchmarks",
            dependencies: [
                "CacheBaselines",
                .product(name: "Cache", package: "keel"),
                .product(name: "KeelCore", package: "keel"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/CacheBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .executableTarget(
            name: "CacheHitRatio",
            dependencies: [
                "CacheBaselines", .product(name: "Cache", package: "keel"), .product(name: "KeelCore", package: "keel"),
            ],
            path: "Tools/CacheHitRatio"
        ),
    ],
    swiftLanguageModes: [.v6]
)
