// swift-tools-version: 6.1
//
// Keel: concurrency and persistence primitives for Swift server developers.
// Every module is its own library product, so an app that needs only one of them
// links only that one. Examples and Benchmarks are separate packages (see DESIGN.md):
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
        .library(name: "SQLCore", targets: ["SQLCore"]),
    ],
    targets: [
        // MARK: C system libraries

        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
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

        // MARK: Test support

        // Shared by the SQL test targets: the SQLDatabase conformance suite every backend runs
        // against a real database, and how tests find the throwaway PostgreSQL.
        .target(
            name: "SQLTestSupport",
            dependencies: ["SQLCore"],
            swiftSettings: strictSettings
        ),

        // MARK: Tests

        .testTarget(
            name: "SQLCoreTests",
            dependencies: ["SQLCore", "SQLTestSupport", "CSQLite3", "CLibPQ"],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
