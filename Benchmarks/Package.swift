// swift-tools-version: 6.1
//
// Keel's benchmarks: a separate package, so package-benchmark (and the peers measured side
// by side) never enter a library consumer's dependency graph. Run them with scripts/bench.sh.

import PackageDescription

let package = Package(
    name: "keel-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "keel", path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
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
    ],
    swiftLanguageModes: [.v6]
)
