// Suite `pool`: lease + release of an in-memory connection (no I/O), Keel's ConnectionPool
// against PostgresNIO's generic pool (`_ConnectionPoolModule` 1.33.2) in the same run.
//
// Both pools run in their fastest shape: minimum connections = maximum (no idle timers), no
// keep-alive, no metrics, validation off, on the continuous clock. Each sample is 1,000
// lease+release cycles (scaling factor kilo), as in PostgresNIO's own pool benchmark.
//
// - uncontended: one task, a pool of one connection.
// - contended-64x20: 64 tasks share 20 connections.

import Benchmark
import Logging
import Pooling
import Synchronization
import _ConnectionPoolModule

// MARK: Keel

final class KeelConnection: Sendable {
    let id: Int
    init(id: Int) { self.id = id }
}

final class KeelSource: ConnectionSource {
    let opened = Atomic<Int>(0)
    func makeConnection(timeout: Duration) async throws -> KeelConnection {
        KeelConnection(id: opened.add(1, ordering: .relaxed).newValue)
    }
    func close(_ connection: KeelConnection) async {}
}

func keelPool(connections: Int) throws -> Pooling.ConnectionPool<KeelSource, ContinuousClock> {
    var configuration = PoolConfiguration(logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
    configuration.minConnections = connections
    configuration.maxConnections = connections
    configuration.validation = .never
    configuration.idleTimeout = nil
    configuration.maxLifetime = nil
    return try Pooling.ConnectionPool(source: KeelSource(), configuration: configuration)
}

// MARK: PostgresNIO

final class NIOConnection: PooledConnection {
    let id: Int
    private let closeHandlers = Mutex<[@Sendable ((any Error)?) -> Void]>([])
    init(id: Int) { self.id = id }
    func onClose(_ closure: @escaping @Sendable ((any Error)?) -> Void) { closeHandlers.withLock { $0.append(closure) } }
    func close() {
        let handlers = closeHandlers.withLock { $0 }
        for handler in handlers { handler(nil) }
    }
}

func postgresNIOPool(connections: Int) -> _ConnectionPoolModule.ConnectionPool<
    NIOConnection, Int, _ConnectionPoolModule.ConnectionIDGenerator, ConnectionRequest<NIOConnection>, Int,
    NoOpKeepAliveBehavior<NIOConnection>, NoOpConnectionPoolMetrics<Int>, ContinuousClock
> {
    var configuration = ConnectionPoolConfiguration()
    configuration.minimumConnectionCount = connections
    configuration.maximumConnectionSoftLimit = connections
    configuration.maximumConnectionHardLimit = connections
    return _ConnectionPoolModule.ConnectionPool(
        configuration: configuration,
        keepAliveBehavior: NoOpKeepAliveBehavior(connectionType: NIOConnection.self),
        observabilityDelegate: NoOpConnectionPoolMetrics(connectionIDType: Int.self),
        clock: ContinuousClock()
    ) { id, _ in
        ConnectionAndMetadata(connection: NIOConnection(id: id), maximalStreamsOnConnection: 1)
    }
}

// MARK: Workloads

/// Runs `operations` lease+release cycles split over `tasks` tasks, measuring only the cycles.
func measure(
    _ benchmark: Benchmark, tasks: Int, warmUp: () async throws -> Void, cycle: @escaping @Sendable () async throws -> Void
) async throws {
    try await warmUp()
    let total = benchmark.scaledIterations.count
    benchmark.startMeasurement()
    if tasks == 1 {
        for _ in 0..<total { try await cycle() }
    } else {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                let share = total / tasks + (task < total % tasks ? 1 : 0)
                group.addTask { for _ in 0..<share { try await cycle() } }
            }
            try await group.waitForAll()
        }
    }
    benchmark.stopMeasurement()
}

func runKeel(_ benchmark: Benchmark, connections: Int, tasks: Int) async throws {
    let pool = try keelPool(connections: connections)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await pool.run() }
        try await measure(
            benchmark, tasks: tasks,
            warmUp: {
                // Open every connection first, as the NIO pool does from its minimum.
                while pool.statistics.open < connections { await Task.yield() }
            },
            cycle: { try await pool.withConnection { blackHole($0) } })
        await pool.shutdown()
        try await group.waitForAll()
    }
}

func runPostgresNIO(_ benchmark: Benchmark, connections: Int, tasks: Int) async throws {
    let pool = postgresNIOPool(connections: connections)
    await withTaskGroup(of: Void.self) { group in
        group.addTask { await pool.run() }
        try? await measure(
            benchmark, tasks: tasks,
            warmUp: {
                for _ in 0..<connections { try await pool.withConnection { blackHole($0) } }
            },
            cycle: { try await pool.withConnection { blackHole($0) } })
        group.cancelAll()
    }
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .mallocCountTotal, .wallClock],
        tags: ["opsPerSample": "1000"],  // each sample is 1,000 cycles (scaling factor kilo): read by bench_report.py
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 400
    )

    Benchmark("uncontended/keel", configuration: configuration) { benchmark in
        try await runKeel(benchmark, connections: 1, tasks: 1)
    }
    Benchmark("uncontended/postgresnio", configuration: configuration) { benchmark in
        try await runPostgresNIO(benchmark, connections: 1, tasks: 1)
    }
    Benchmark("contended-64x20/keel", configuration: configuration) { benchmark in
        try await runKeel(benchmark, connections: 20, tasks: 64)
    }
    Benchmark("contended-64x20/postgresnio", configuration: configuration) { benchmark in
        try await runPostgresNIO(benchmark, connections: 20, tasks: 64)
    }
}
