public import CoreMetrics
import KeelCore
public import Pooling

/// Opens, checks and closes PostgreSQL connections for a `ConnectionPool`.
public struct PostgresConnectionSource: ConnectionSource {
    /// How connections are opened.
    public let configuration: PostgresConfiguration
    /// Spans, the statement timer and the slow-statement log of the connections' statements.
    let observer: StatementObserver

    /// A source for `configuration` whose connections time their statements in the
    /// `keel_sql_statement_duration` timer of `metricsFactory` (none when `nil`), with the `pool`
    /// dimension `poolName`: give the pool's `PoolConfiguration.name` and
    /// `PoolConfiguration.metricsFactory`, as ``PostgresDatabase`` does.
    public init(
        configuration: PostgresConfiguration, poolName: String = "default",
        metricsFactory: (any MetricsFactory)? = MetricsSystem.factory
    ) {
        self.configuration = configuration
        observer = PostgresConnection.observer(for: configuration, poolName: poolName, metricsFactory: metricsFactory)
    }

    /// Opens a connection within `timeout`.
    ///
    /// #### Errors
    /// ``PostgresError`` when the server cannot be reached or refuses the login.
    public func makeConnection(timeout: Duration) async throws -> PostgresConnection {
        try await PostgresConnection.connect(configuration: configuration, timeout: timeout, observer: observer)
    }

    /// One round trip (`SELECT 1`), within ``PostgresConfiguration/checkTimeout``.
    public func validate(_ connection: PostgresConnection) async -> Bool {
        guard !connection.isBroken else { return false }
        return (try? await connection.run(.init(sql: "SELECT 1", binds: []), cancellable: false, timeout: configuration.checkTimeout)) != nil
    }

    /// Rolls back a transaction left open; `false` (discard it) when the connection is broken or
    /// the rollback fails or takes longer than ``PostgresConfiguration/checkTimeout``.
    public func reset(_ connection: PostgresConnection) async -> Bool {
        guard !connection.isBroken else { return false }
        if connection.isIdle { return true }
        guard connection.isInTransaction else { return false }
        return (try? await connection.run(.init(sql: "ROLLBACK", binds: []), cancellable: false, timeout: configuration.checkTimeout)) != nil
    }

    /// `.serverGone` once the connection was lost (the pool then checks its other idle
    /// connections before use), `.healthy` otherwise.
    public func health(of connection: PostgresConnection) -> ConnectionHealth {
        connection.isBroken ? .serverGone : .healthy
    }

    /// Whether the attempt gave up waiting for the server: the pool's connect timeout, or the
    /// connection string's `connect_timeout` (a ``PostgresError/Code/timeout`` error).
    public func isTimeout(_ error: any Error) -> Bool {
        error is ConnectTimeoutError || (error as? PostgresError)?.code == .timeout
    }

    /// The servers the connection string names (`host:port`, …).
    public var connectionTarget: String? { configuration.serverNames }

    /// Closes the connection.
    public func close(_ connection: PostgresConnection) async {
        connection.close()
    }
}
