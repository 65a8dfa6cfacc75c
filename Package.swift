// swift-tools-version: 6.1
//
// Keel: concurrency and persistence primitives for Swift server developers.
// Every module is its own library product, so an app that needs only one of them
// links only that one. Examples and Benchmarks are separate packages (docs/architecture.md):
// their dependencies never enter a consumer's graph.

import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "keel",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KeelCore", targets: ["KeelCore"]),
        .library(name: "SQLCore", targets: ["SQLCore"]),
        .library(name: "Pooling", targets: ["Pooling"]),
        .library(name: "RateLimit", targets: ["RateLimit"]),
        .library(name: "CircuitBreaker", targets: ["CircuitBreaker"]),
        .library(name: "Cache", targets: ["Cache"]),
        .library(name: "PostgresPool", targets: ["PostgresPool"]),
        .library(name: "SQLitePool", targets: ["SQLitePool"]),
        .library(name: "Batching", targets: ["Batching"]),
        .library(name: "Migrations", targets: ["Migrations"]),
        .library(name: "Redis", targets: ["Redis"]),
        .library(name: "RedisRateLimit", targets: ["RedisRateLimit"]),
        .library(name: "CacheRedis", targets: ["CacheRedis"]),
        .library(name: "CircuitBreakerRedis", targets: ["CircuitBreakerRedis"]),
        .library(name: "KeelTesting", targets: ["KeelTesting"]),
        .library(name: "KeelConfiguration", targets: ["KeelConfiguration"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.0.0"),
        // `swift package generate-documentation`: builds every module's DocC catalog (CI does, with
        // warnings as errors). A plugin: nothing of it is linked into the products.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.4.0"),
    ],
    targets: [
        // MARK: C system libraries

        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // hiredis (Debian: libhiredis-dev). Not through pkg-config: its flags carry a define that
        // SwiftPM refuses with a warning; the header is in the system include path.
        .systemLibrary(name: "CHiredis"),
        // The system calls of the socket reactor and the TCP clients (header only, libc).
        .systemLibrary(name: "CKeelIO"),
        .systemLibrary(
            name: "CSQLite3",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),

        // MARK: Library modules

        .target(
            name: "SQLCore",
            swiftSettings: strictSettings
        ),
        // The building blocks every module shares: the lock, a lock with a condition for Keel's own
        // threads, threads for blocking work, duration conversion, the back-off, a seeded
        // generator, the statistics-to-metrics exporter, and (package access) the socket reactor
        // of the network clients.
        .target(
            name: "KeelCore",
            dependencies: [
                "CKeelIO",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Pooling",
            dependencies: [
                "KeelCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),

        // PostgreSQL over libpq in non-blocking mode, driven by an epoll reactor.
        .target(
            name: "PostgresPool",
            dependencies: [
                "CLibPQ", "CKeelIO", "SQLCore", "Pooling", "KeelCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        // SQLite over the system libsqlite3: one writer and parallel readers, each on its own thread,
        // pooled by Pooling as PostgreSQL's connections are.
        .target(
            name: "SQLitePool",
            dependencies: [
                "CSQLite3", "SQLCore", "Pooling", "KeelCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),

        // Redis over hiredis's protocol code (encoding commands, parsing replies), its sockets
        // non-blocking on the socket reactor, pooled by Pooling.
        .target(
            name: "Redis",
            dependencies: [
                "CHiredis", "CKeelIO", "Pooling", "KeelCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        // Rate limits a fleet of processes shares, kept in Redis; RateLimit's shapes.
        .target(
            name: "RedisRateLimit",
            dependencies: [
                "Redis", "RateLimit", "Pooling", "KeelCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),

        // A cache a fleet shares: Cache in memory, Redis behind it, invalidation by pub/sub.
        .target(
            name: "CacheRedis",
            dependencies: [
                "Cache", "Redis", "KeelCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),

        // Circuit breakers whose state a fleet shares through Redis.
        .target(
            name: "CircuitBreakerRedis",
            dependencies: [
                "CircuitBreaker", "Redis", "KeelCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        // Chunked ON CONFLICT upserts and keyed batch updates over any SQLDatabase.
        .target(
            name: "Batching",
            dependencies: ["SQLCore", "KeelCore", .product(name: "Tracing", package: "swift-distributed-tracing")],
            swiftSettings: strictSettings
        ),

        // Versioned, checksummed schema steps over any SQLDatabase.
        .target(
            name: "Migrations",
            dependencies: ["SQLCore"],
            swiftSettings: strictSettings
        ),

        // Initialisers from a swift-configuration ConfigReader for every module's configuration:
        // a target of its own, so the other products do not depend on swift-configuration.
        .target(
            name: "KeelConfiguration",
            dependencies: [
                "Pooling", "PostgresPool", "SQLitePool", "Cache", "CircuitBreaker", "RateLimit",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Test support

        // For the tests of Keel and of the apps that use it: ManualClock (a Clock whose time moves
        // only when a test says so), the SQLDatabase conformance suite every backend runs against
        // a real database, a throwaway PostgreSQL server, how tests find the servers
        // scripts/test.sh starts, and a TCP proxy that injects network faults.
        .target(
            name: "KeelTesting",
            dependencies: [
                "SQLCore", "KeelCore", .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),

        .target(
            name: "RateLimit",
            dependencies: [
                "KeelCore",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),

        .target(
            name: "Cache",
            dependencies: [
                "KeelCore",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CircuitBreaker",
            dependencies: ["KeelCore", .product(name: "Metrics", package: "swift-metrics"), .product(name: "Tracing", package: "swift-distributed-tracing")],
            swiftSettings: strictSettings
        ),

        // MARK: Tests

        .testTarget(
            name: "SQLCoreTests",
            dependencies: ["SQLCore", "KeelTesting", "KeelCore", "CSQLite3", "CLibPQ"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KeelCoreTests",
            dependencies: ["KeelCore", .product(name: "MetricsTestKit", package: "swift-metrics")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PoolingTests",
            dependencies: [
                "Pooling", "KeelTesting", "KeelCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RateLimitTests",
            dependencies: [
                "RateLimit", "KeelTesting", "KeelCore",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CacheTests",
            dependencies: [
                "Cache", "KeelTesting", "KeelCore",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CircuitBreakerTests",
            dependencies: [
                "CircuitBreaker", "KeelTesting", "KeelCore",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PostgresPoolTests",
            dependencies: [
                "PostgresPool", "KeelTesting", "Pooling", "KeelCore", "SQLCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The throwaway Redis for the Redis test targets (Redis, RedisRateLimit, CacheRedis).
        .target(
            name: "RedisTestSupport",
            dependencies: ["Redis", "KeelTesting", "Pooling"],
            path: "Tests/RedisTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RedisTests",
            dependencies: [
                "Redis", "RedisTestSupport", "CHiredis", "KeelTesting", "Pooling", "KeelCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RedisRateLimitTests",
            dependencies: [
                "RedisRateLimit", "RedisTestSupport", "Redis", "RateLimit", "KeelTesting", "Pooling", "KeelCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CacheRedisTests",
            dependencies: [
                "CacheRedis", "RedisTestSupport", "Cache", "Redis", "KeelTesting", "Pooling", "KeelCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CircuitBreakerRedisTests",
            dependencies: [
                "CircuitBreakerRedis", "RedisTestSupport", "CircuitBreaker", "Redis", "KeelTesting", "Pooling", "KeelCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SQLitePoolTests",
            dependencies: [
                "SQLitePool", "KeelTesting", "CSQLite3", "KeelCore", "Pooling",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        // Spans, statement timers and the slow-statement log, across modules: one target, since a
        // process bootstraps its tracer once (KeelTesting's SpanRecorder).
        .testTarget(
            name: "ObservabilityTests",
            dependencies: [
                "KeelTesting", "SQLBackendTestSupport", "RedisTestSupport", "PostgresPool", "SQLitePool", "Pooling",
                "SQLCore", "Cache", "CacheRedis", "CircuitBreaker", "Batching", "Redis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BatchingTests",
            dependencies: ["Batching", "SQLCore", "KeelTesting", "SQLitePool", "PostgresPool", "Pooling", "SQLBackendTestSupport"],
            swiftSettings: strictSettings
        ),
        // A database of each backend for the SQL integration tests (Batching, Migrations).
        .target(
            name: "SQLBackendTestSupport",
            dependencies: ["SQLCore", "KeelTesting", "SQLitePool", "PostgresPool", "Pooling"],
            path: "Tests/SQLBackendTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "MigrationsTests",
            dependencies: ["Migrations", "SQLCore", "KeelTesting", "SQLitePool", "PostgresPool", "SQLBackendTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KeelConfigurationTests",
            dependencies: [
                "KeelConfiguration", "Pooling", "PostgresPool", "SQLitePool", "Cache", "CircuitBreaker", "RateLimit",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KeelTestingTests",
            dependencies: ["KeelTesting", "PostgresPool", "Pooling", "Cache"],
            swiftSettings: strictSettings
        ),
        // The fault-injection scenarios of RELIABILITY.md: restarts, killed connections, network
        // faults, cancellation storms, interrupted batches, SQLite contention, hostile input and
        // rate limits held. They use the second PostgreSQL server of scripts/test.sh.
        // A second process for the SQLite contention scenario (run by ReliabilityTests, not a product).
        .executableTarget(
            name: "ReliabilitySQLiteWriter",
            dependencies: ["SQLitePool", "SQLCore"],
            path: "Tests/ReliabilitySQLiteWriter",
            swiftSettings: strictSettings
        ),
        // The processes of the fleet-limit scenarios (run by ReliabilityTests, not a product).
        .executableTarget(
            name: "ReliabilityRedisWorker",
            dependencies: ["Redis", "RedisRateLimit", "CacheRedis", "Pooling"],
            path: "Tests/ReliabilityRedisWorker",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ReliabilityTests",
            dependencies: [
                "PostgresPool", "SQLitePool", "Pooling", "RateLimit", "Cache", "CircuitBreaker", "Batching",
                "SQLCore", "KeelTesting", "KeelCore", "ReliabilitySQLiteWriter", "ReliabilityRedisWorker",
                "Redis", "RedisRateLimit", "CacheRedis",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
