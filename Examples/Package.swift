// swift-tools-version: 6.1
//
// Keel's example services: each executable rebuilds one of the services described in
// docs/reference-services.md on Keel's modules. A separate package, so swift-argument-parser never
// enters a library consumer's dependency graph.
//
//   swift run --package-path Examples token-registry
//   swift run --package-path Examples chain-indexer
//   swift run --package-path Examples bot-fleet
//   swift run --package-path Examples crypto-butler --port 8080
//   swift run --package-path Examples saas-api --port 8081

import PackageDescription

let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "keel-examples",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "keel", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.1.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
    ],
    targets: [
        // Opening the example database (SQLite by default, PostgreSQL with DATABASE_URL), phase
        // timings, tables, simulated external APIs.
        .target(
            name: "ExampleSupport",
            dependencies: [
                .product(name: "SQLCore", package: "keel"),
                .product(name: "Cache", package: "keel"),
                .product(name: "CacheRedis", package: "keel"),
                .product(name: "Redis", package: "keel"),
                .product(name: "SQLitePool", package: "keel"),
                .product(name: "PostgresPool", package: "keel"),
                .product(name: "Pooling", package: "keel"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "RateLimit", package: "keel"),
                .product(name: "RedisRateLimit", package: "keel"),
                .product(name: "KeelCore", package: "keel"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: settings
        ),

        // token-registry: the trading bot's exchange token registry (reference 001).
        .target(
            name: "TokenRegistryKit",
            dependencies: [
                "ExampleSupport",
                .product(name: "SQLCore", package: "keel"),
                .product(name: "Migrations", package: "keel"),
                .product(name: "SQLitePool", package: "keel"),
                .product(name: "Batching", package: "keel"),
                .product(name: "Cache", package: "keel"),
                .product(name: "CircuitBreaker", package: "keel"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "token-registry",
            dependencies: [
                "TokenRegistryKit", "ExampleSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: settings
        ),

        // chain-indexer: the blockchain indexer's Phase 3 (reference 002).
        .target(
            name: "ChainIndexerKit",
            dependencies: [
                "ExampleSupport",
                .product(name: "SQLCore", package: "keel"),
                .product(name: "Migrations", package: "keel"),
                .product(name: "Batching", package: "keel"),
                .product(name: "RateLimit", package: "keel"),
                .product(name: "Redis", package: "keel"),
                .product(name: "RedisRateLimit", package: "keel"),
                .product(name: "CircuitBreaker", package: "keel"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "chain-indexer",
            dependencies: [
                "ChainIndexerKit", "ExampleSupport",
                .product(name: "RateLimit", package: "keel"),
                .product(name: "Redis", package: "keel"),
                .product(name: "RedisRateLimit", package: "keel"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: settings
        ),

        // bot-fleet: 0xBot's concurrent trading bots (reference 003).
        .target(
            name: "BotFleetKit",
            dependencies: [
                "ExampleSupport",
                .product(name: "SQLCore", package: "keel"),
                .product(name: "Migrations", package: "keel"),
                .product(name: "Cache", package: "keel"),
                .product(name: "Redis", package: "keel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "bot-fleet",
            dependencies: [
                "BotFleetKit", "ExampleSupport",
                .product(name: "SQLCore", package: "keel"),
                .product(name: "SQLitePool", package: "keel"),
                .product(name: "PostgresPool", package: "keel"),
                .product(name: "Pooling", package: "keel"),
                .product(name: "Redis", package: "keel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: settings
        ),

        // crypto-butler: the portfolio backend (reference 000), an HTTP server on Hummingbird.
        .target(
            name: "ButlerKit",
            dependencies: [
                "ExampleSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "SQLCore", package: "keel"),
                .product(name: "Migrations", package: "keel"),
                .product(name: "Pooling", package: "keel"),
                .product(name: "Batching", package: "keel"),
                .product(name: "Cache", package: "keel"),
                .product(name: "RateLimit", package: "keel"),
                .product(name: "Redis", package: "keel"),
                .product(name: "RedisRateLimit", package: "keel"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "CircuitBreaker", package: "keel"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "crypto-butler",
            dependencies: [
                "ButlerKit", "ExampleSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Pooling", package: "keel"),
                .product(name: "Redis", package: "keel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings
        ),

        // saas-api: the leads and campaigns API (reference 004), an HTTP server on Hummingbird.
        .target(
            name: "SaasKit",
            dependencies: [
                "ExampleSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "SQLCore", package: "keel"),
                .product(name: "PostgresPool", package: "keel"),
                .product(name: "Migrations", package: "keel"),
                .product(name: "Batching", package: "keel"),
                .product(name: "Cache", package: "keel"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "saas-api",
            dependencies: [
                "SaasKit", "ExampleSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Pooling", package: "keel"),
                .product(name: "Redis", package: "keel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings
        ),

        .executableTarget(
            name: "keel-fuzz",
            dependencies: [
                "SaasKit", "ButlerKit",
                .product(name: "PostgresPool", package: "keel"),
                .product(name: "SQLCore", package: "keel"),
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "ExamplesTests",
            dependencies: [
                "ExampleSupport", "TokenRegistryKit", "ChainIndexerKit", "BotFleetKit", "ButlerKit", "SaasKit",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "KeelTesting", package: "keel"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "CircuitBreaker", package: "keel"),
                .product(name: "SQLCore", package: "keel"),
                .product(name: "PostgresPool", package: "keel"),
            ],
            swiftSettings: settings
        ),
    ],
    swiftLanguageModes: [.v6]
)
