import KeelCore
public import Pooling
public import SQLCore
public import ServiceLifecycle
import Synchronization

/// A primary server and its streaming-replication standbys, each side behind a pool: writes and
/// transactions go to the primary, reads to a standby, and every read sees the writes this
/// cluster made before it.
///
/// One connection string lists every server; the cluster connects to the primary with
/// `target_session_attrs=read-write` and to the standbys with `prefer-standby` (a primary when no
/// standby is reachable), spreading the standby connections over the hosts at random:
///
/// ```swift
/// let cluster = try PostgresCluster(configuration: PostgresConfiguration(
///     connectionString: "postgres://app:secret@db-a:5432,db-b:5432,db-c:5432/app"))
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await cluster.run() }
///     try await cluster.write { try await $0.execute("UPDATE users SET name = \(name) WHERE id = \(id)") }
///     let rows = try await cluster.read { try await $0.query("SELECT name FROM users WHERE id = \(id)") }
///     await cluster.shutdown()
/// }
/// ```
///
/// **Reading your writes.** After each write the cluster notes the primary's write-ahead log
/// position; a read runs on a standby once that standby has replayed up to the latest position
/// noted (a connection remembers how far its standby got, so a caught-up standby costs no extra
/// round trip). A standby that is behind is asked again every ``replicaPollInterval`` for up to
/// ``replicaWait``; then the read runs on the primary. So a read never returns a value older than
/// a write this cluster acknowledged, whatever the lag, and it waits at most ``replicaWait`` for
/// it. (Reading from the primary for a fixed window after each write would be cheaper but
/// wrong whenever the lag outgrows the window.) Writes made by other processes are seen when the
/// standby has replayed them.
///
/// **Failover.** When the primary stops (or is stopped) and a standby is promoted, connections
/// to the old primary fail (lost, SQLSTATE 57P01, or 25006 from a server that is now read-only)
/// and are closed, and new ones reach the promoted server, which accepts writes. A ``write(isolation:_:)``
/// or ``transaction(_:)`` that fails before anything of it reached a server (no connection could
/// be opened, the connection was found closed before sending, or its first statement met a
/// read-only server) runs again, with back-off, for up to ``failoverTimeout``; one that fails
/// after a statement was sent is not run again, since it may have taken effect. Meanwhile the
/// pools keep trying to connect at most `maxConnectRetryDelay` apart (500 ms by default), so the
/// promoted server is found within that.
public final class PostgresCluster<ClusterClock: Clock>: Service, Sendable where ClusterClock.Duration == Duration {
    /// The pool of connections to the primary.
    public let primary: PostgresDatabase
    /// The pool of connections to the standbys (to the primary when none is reachable).
    public let replicas: PostgresDatabase
    /// How long a read waits for a standby to replay the cluster's latest write before it reads
    /// from the primary.
    public let replicaWait: Duration
    /// How often a read that waits asks the standby again.
    public let replicaPollInterval: Duration
    /// How long a write that reached no server yet keeps trying (a failover in progress).
    public let failoverTimeout: Duration
    private let clock: ClusterClock
    private let retryBackoff = Backoff(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(250), jitter: .equal)
    /// The primary's write-ahead log position after the latest write this cluster made.
    private let latestWrite = Atomic<UInt64>(0)

    /// A cluster on `clock` (the waits of reads and the retries of writes).
    ///
    /// - Parameters:
    ///   - configuration: Connects to every server: a multi-host connection string. Its
    ///     `target_session_attrs` is set by the cluster for each side.
    ///   - primaryPool: The primary side's pool.
    ///   - replicaPool: The standby side's pool.
    ///   - replicaWait: How long a read waits for a standby to catch up; see the type's notes.
    ///   - replicaPollInterval: How often a waiting read asks again.
    ///   - failoverTimeout: How long a write that reached no server keeps trying.
    ///   - clock: The clock of those waits.
    ///
    /// #### Errors
    /// `PoolConfigurationError` when a pool configuration is out of range.
    public init(
        configuration: PostgresConfiguration, primaryPool: PoolConfiguration = PoolConfiguration(),
        replicaPool: PoolConfiguration = PoolConfiguration(), replicaWait: Duration = .seconds(1),
        replicaPollInterval: Duration = .milliseconds(2), failoverTimeout: Duration = .seconds(10), clock: ClusterClock
    ) throws(PoolConfigurationError) {
        var primaryConfiguration = configuration
        primaryConfiguration.targetSessionAttributes = .readWrite
        var replicaConfiguration = configuration
        replicaConfiguration.targetSessionAttributes = .preferStandby
        replicaConfiguration.loadBalancesHosts = true
        var primaryPool = primaryPool
        if primaryPool.name == "default" { primaryPool.name = "primary" }
        var replicaPool = replicaPool
        if replicaPool.name == "default" { replicaPool.name = "replicas" }
        primary = try PostgresDatabase(configuration: primaryConfiguration, pool: primaryPool)
        replicas = try PostgresDatabase(configuration: replicaConfiguration, pool: replicaPool)
        self.replicaWait = replicaWait
        self.replicaPollInterval = replicaPollInterval
        self.failoverTimeout = failoverTimeout
        self.clock = clock
    }

    /// Runs both pools until ``shutdown()`` or cancellation.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.primary.run() }
            group.addTask { try await self.replicas.run() }
        }
    }

    /// Closes both pools.
    public func shutdown() async {
        async let primaryClosed: Void = primary.shutdown()
        await replicas.shutdown()
        await primaryClosed
    }

    /// Runs `body` with a connection to the primary; its statements commit one by one (use
    /// ``transaction(_:)`` for all or nothing). Reads through the cluster see what it wrote.
    ///
    /// #### Errors
    /// ``PostgresError``, `PoolError` (after ``failoverTimeout`` when no primary could be
    /// reached), `CancellationError`, or what `body` throws. After `body` returned, the write
    /// position is read on its connection or, when that connection was lost just then, on
    /// another; only when no primary answers within ``failoverTimeout`` is that error thrown,
    /// though what `body` did took effect.
    @discardableResult
    public func write<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await onPrimary { try await body($0) }
    }

    /// Runs `body` in a transaction on the primary: committed when it returns, rolled back when it
    /// throws. Reads through the cluster see what it committed.
    ///
    /// #### Errors
    /// As ``write(isolation:_:)``.
    @discardableResult
    public func transaction<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await onPrimary { try await $0.transaction(body) }
    }

    /// Runs `body` with a connection to a standby that has replayed every write this cluster
    /// made, or to the primary when none has within ``replicaWait``. Statements that change
    /// data fail there with SQLSTATE 25006 (read-only). A read of which nothing reached a server
    /// (no connection could be opened, or the connection was found closed before sending) runs
    /// again, as a write does.
    ///
    /// #### Errors
    /// ``PostgresError``, `PoolError`, `CancellationError`, or what `body` throws.
    public func read<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let needed = latestWrite.load(ordering: .acquiring)
        return try await retryingUnsent { deadline in
            let outcome: Result? = try await replicas.withConnection { connection in
                do {
                    guard try await hasReplayed(needed, on: connection) else { return nil }
                } catch let error as PostgresError where error.code == .connectionBeforeSend {
                    throw Unsent(error: error)
                }
                return try await run(body, on: connection, readOnlyMeansUnsent: false)
            }
            if let outcome { return outcome }
            return try await primary.withConnection { try await run(body, on: $0, readOnlyMeansUnsent: false) }
        }
    }

    // MARK: Internals

    /// Whether `connection`'s server has replayed the log up to `position`, asking again until
    /// ``replicaWait`` has passed.
    private func hasReplayed(_ position: UInt64, on connection: PostgresConnection) async throws -> Bool {
        if position == 0 || connection.replayedPosition.load(ordering: .relaxed) >= position { return true }
        let deadline = clock.now.advanced(by: replicaWait)
        while true {
            let rows = try await connection.query("SELECT pg_last_wal_replay_lsn()::text AS replayed")
            // NULL: the server is not in recovery (a primary, as prefer-standby allows), so it
            // has every write.
            guard case .text(let text) = rows.first?[0] else { return true }
            let replayed = Self.position(of: text) ?? 0
            connection.replayedPosition.store(replayed, ordering: .relaxed)
            if replayed >= position { return true }
            guard clock.now < deadline else { return false }
            try await clock.sleep(for: replicaPollInterval)
        }
    }

    /// Runs `body` on a primary connection, then notes the log position it reached; runs it again
    /// while it fails before anything of it reached a server, for up to ``failoverTimeout``.
    private func onPrimary<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await retryingUnsent { deadline in
            let (result, noted) = try await primary.withConnection { connection in
                let result = try await run(body, on: connection, readOnlyMeansUnsent: true)
                // The body's work is done: a connection lost now costs only the note, which is
                // then taken on another connection.
                let noted = (try? await noteWritePosition(on: connection)) != nil
                return (result, noted)
            }
            if !noted { try await noteWritePositionOnAnotherConnection(until: deadline) }
            return result
        }
    }

    /// Runs `body` on `connection`. A failure of its first round trip of which nothing took
    /// effect is thrown as ``Unsent``: the connection found closed before sending or, when
    /// `readOnlyMeansUnsent`, the statement refused by a server that is read-only now (a demoted
    /// primary, whose connection is then discarded).
    private func run<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> Result,
        on connection: PostgresConnection, readOnlyMeansUnsent: Bool
    ) async throws -> Result {
        let begun = connection.roundTripsBegun.load(ordering: .relaxed)
        do {
            return try await body(connection)
        } catch let error as PostgresError where error.code == .connectionBeforeSend || (readOnlyMeansUnsent && error.sqlState == "25006") {
            if error.sqlState == "25006" { connection.discard() }
            if connection.roundTripsBegun.load(ordering: .relaxed) - begun == 1 { throw Unsent(error: error) }
            throw error
        }
    }

    /// Runs `attempt` (given the deadline) again, after a back-off, while it fails with nothing of
    /// it reaching a server (``Unsent``, or no connection could be opened), for up to
    /// ``failoverTimeout``.
    private func retryingUnsent<Result>(
        isolation: isolated (any Actor)? = #isolation, _ attempt: (ClusterClock.Instant) async throws -> Result
    ) async throws -> Result {
        let deadline = clock.now.advanced(by: failoverTimeout)
        var failures = 0
        var random = SystemRandomNumberGenerator()
        while true {
            do {
                return try await attempt(deadline)
            } catch {
                let retryable: any Error
                switch error {
                case let unsent as Unsent: retryable = unsent.error
                case let error as PoolError where error.code == .connectionUnavailable: retryable = error
                default: throw error
                }
                try await sleepBeforeRetry(after: &failures, until: deadline, random: &random, failure: retryable)
            }
        }
    }

    /// Notes the write position on any primary connection (one opened after a failover
    /// included: positions only grow, across a promotion too), trying until `deadline`.
    private func noteWritePositionOnAnotherConnection(until deadline: ClusterClock.Instant) async throws {
        var failures = 0
        var random = SystemRandomNumberGenerator()
        while true {
            do {
                try await primary.withConnection { try await noteWritePosition(on: $0) }
                return
            } catch let error as PostgresError where error.isConnectionFailure {
                try await sleepBeforeRetry(after: &failures, until: deadline, random: &random, failure: error)
            } catch let error as PoolError where error.code == .connectionUnavailable {
                try await sleepBeforeRetry(after: &failures, until: deadline, random: &random, failure: error)
            }
        }
    }

    /// Waits the back-off after one more failure, or throws `failure` when that would pass `deadline`.
    private func sleepBeforeRetry(
        after failures: inout Int, until deadline: ClusterClock.Instant, random: inout SystemRandomNumberGenerator,
        failure: any Error
    ) async throws {
        failures += 1
        let delay = retryBackoff.delay(afterFailure: failures, using: &random)
        guard clock.now.advanced(by: delay) < deadline else { throw failure }
        try await clock.sleep(for: delay)
    }

    /// Notes the primary's current write-ahead log position as the cluster's latest write.
    private func noteWritePosition(on connection: PostgresConnection) async throws {
        // The insert position: past the commit record even when commits are not yet flushed
        // (synchronous_commit = off).
        let rows = try await connection.query("SELECT pg_current_wal_insert_lsn()::text AS position")
        guard case .text(let text) = rows.first?[0], let position = Self.position(of: text) else { return }
        latestWrite.max(Self.recordEnd(atInsertPosition: position), ordering: .releasing)
    }

    /// The end of the last record written before `position`, an insert position: the insert
    /// position skips the header of a page it has just entered (24 bytes, or 40 at the start of
    /// a 16 MiB segment), where no record ends and a standby's replay position never stops.
    static func recordEnd(atInsertPosition position: UInt64) -> UInt64 {
        let pageSize: UInt64 = 8192
        let segmentSize: UInt64 = 16 << 20
        if position % pageSize == 24 { return position - 24 }
        if position % segmentSize == 40 { return position - 40 }
        return position
    }

    /// A log position's number from its text form, `16/B374D848`.
    static func position(of text: String) -> UInt64? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16),
            high <= UInt32.max, low <= UInt32.max
        else { return nil }
        return high << 32 | low
    }

    /// A failure of a write of which nothing took effect.
    private struct Unsent: Error {
        let error: PostgresError
    }
}

extension PostgresCluster where ClusterClock == ContinuousClock {
    /// A cluster on the continuous clock; see ``init(configuration:primaryPool:replicaPool:replicaWait:replicaPollInterval:failoverTimeout:clock:)``.
    ///
    /// #### Errors
    /// `PoolConfigurationError` when a pool configuration is out of range.
    public convenience init(
        configuration: PostgresConfiguration, primaryPool: PoolConfiguration = PoolConfiguration(),
        replicaPool: PoolConfiguration = PoolConfiguration(), replicaWait: Duration = .seconds(1),
        replicaPollInterval: Duration = .milliseconds(2), failoverTimeout: Duration = .seconds(10)
    ) throws(PoolConfigurationError) {
        try self.init(
            configuration: configuration, primaryPool: primaryPool, replicaPool: replicaPool, replicaWait: replicaWait,
            replicaPollInterval: replicaPollInterval, failoverTimeout: failoverTimeout, clock: ContinuousClock())
    }
}
