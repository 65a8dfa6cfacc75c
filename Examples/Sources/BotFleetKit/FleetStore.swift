public import SQLCore
import Synchronization

/// Where the bots' queries go: a pooled database (Keel's way), or a new connection opened and
/// closed for every query (the reference's `NullPool` anti-pattern, for `--naive`). Times and
/// counts every statement.
public final class FleetStore: Sendable {
    /// Opens a connection for one query and returns it with the way to close it.
    public typealias ConnectionOpener = @Sendable () async throws -> (database: any SQLDatabase, close: @Sendable () async -> Void)

    /// Every query's latency, connection set-up included.
    public let latencies = LatencyRecorder()
    private let pooled: (any SQLDatabase)?
    private let opener: ConnectionOpener?
    private let counter = Atomic<Int>(0)

    /// Queries through a pooled database.
    public init(pooled database: any SQLDatabase) {
        pooled = database
        opener = nil
    }

    /// Queries each on a connection of its own, opened by `opener` and closed after.
    public init(connectingPerQuery opener: @escaping ConnectionOpener) {
        pooled = nil
        self.opener = opener
    }

    /// Statements sent so far.
    public var statements: Int { counter.load(ordering: .relaxed) }

    /// Runs a statement and returns its rows (none for writes).
    @discardableResult
    public func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        let start = ContinuousClock.now
        defer {
            latencies.record(ContinuousClock.now - start)
            counter.add(1, ordering: .relaxed)
        }
        if let pooled { return try await pooled.query(statement) }
        let connection = try await opener!()
        do {
            let rows = try await connection.database.query(statement)
            await connection.close()
            return rows
        } catch {
            await connection.close()
            throw error
        }
    }
}
