import CKeelIO
import CLibPQ
import CoreMetrics
import Foundation
package import KeelCore

/// Opening a connection: libpq's connect on a thread of its own, the session's set-up, the hook.
extension PostgresConnection {
    /// Opens a connection.
    ///
    /// libpq's connect (name resolution, TCP, TLS, authentication) runs on a thread of its own with
    /// `PQconnectStartParams` and `PQconnectPoll`, bounded by `timeout`; the session is then set to
    /// `DateStyle=ISO` (and `statement_timeout`, when configured), ``PostgresConfiguration/setupSQL``
    /// runs on that thread too (the simple protocol: nothing is prepared), and the connection is
    /// switched to non-blocking mode; then ``PostgresConfiguration/onConnect`` runs on it.
    ///
    /// #### Errors
    /// ``PostgresError`` with code ``PostgresError/Code/connection`` when the server cannot be
    /// reached or refuses the login; ``PostgresError/Code/timeout`` when `timeout` or the
    /// connection string's `connect_timeout` (the shorter) runs out, naming the server;
    /// ``PostgresError/Code/client`` when
    /// ``PostgresConfiguration/statementTimeout`` is set in
    /// ``PostgresConfiguration/pgBouncerTransactionMode``.
    ///
    /// Its statements' durations go to the `keel_sql_statement_duration` timer of
    /// `MetricsSystem.factory` with the `pool` dimension `standalone`; a pool's connections use
    /// their pool's name and factory (``PostgresConnectionSource``).
    public static func connect(
        configuration: PostgresConfiguration, timeout: Duration = .seconds(30)
    ) async throws(PostgresError) -> PostgresConnection {
        try await connect(
            configuration: configuration, timeout: timeout,
            observer: Self.observer(for: configuration, poolName: "standalone", metricsFactory: MetricsSystem.factory))
    }

    /// The statement observer of a connection opened with `configuration` for the pool `poolName`.
    static func observer(
        for configuration: PostgresConfiguration, poolName: String, metricsFactory: (any MetricsFactory)?
    ) -> StatementObserver {
        StatementObserver(
            system: "postgresql", poolName: poolName, factory: metricsFactory,
            slowThreshold: configuration.slowStatementThreshold, slowLogLevel: configuration.slowStatementLogLevel,
            logger: configuration.logger)
    }

    /// Opens a connection whose socket `reactor` waits for (Keel's shared one by default).
    package static func connect(
        configuration: PostgresConfiguration, timeout: Duration, observer: StatementObserver,
        reactor: SocketReactor = .shared
    ) async throws(PostgresError) -> PostgresConnection {
        if configuration.pgBouncerTransactionMode && configuration.statementTimeout != nil {
            throw .client(
                "statementTimeout is a session setting, which pgBouncerTransactionMode does not keep: set statement_timeout on the role (ALTER ROLE ... SET statement_timeout) or PgBouncer's query_timeout, or use queryTimeout")
        }
        let outcome = await BlockingThread.run(name: "keel-postgres-connect") { () -> Result<UnsafeSendableHandle, PostgresError> in
            openBlocking(configuration: configuration, timeout: timeout)
        }
        let handle = try outcome.get().handle
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection(handle: handle, configuration: configuration, reactor: reactor, observer: observer)
        } catch {
            PQfinish(handle)
            throw error
        }
        do {
            try await configuration.onConnect?(connection)
        } catch {
            connection.close()
            if let error = error as? PostgresError { throw error }
            throw .connection("the connection's set-up (onConnect) failed: \(error)")
        }
        return connection
    }

    private static func openBlocking(
        configuration: PostgresConfiguration, timeout: Duration
    ) -> Result<UnsafeSendableHandle, PostgresError> {
        // libpq enforces connect_timeout only in its blocking connect: here it is applied to the
        // whole attempt, as the pool's connect timeout is.
        let limit = configuration.connectTimeout.map { min($0, timeout) } ?? timeout
        let limitName = limit < timeout ? "connect_timeout" : "the connect timeout"
        let deadline = ContinuousClock.now.advanced(by: limit)
        var generator = SystemRandomNumberGenerator()
        let (keywords, values, expand) = configuration.connectionParameters(using: &generator)
        let handle = withCStrings(keywords) { keywords in
            withCStrings(values) { values in PQconnectStartParams(keywords, values, expand ? 1 : 0) }
        }
        guard let handle else { return .failure(.connection("out of memory")) }
        func fail(_ message: String) -> Result<UnsafeSendableHandle, PostgresError> {
            PQfinish(handle)
            return .failure(.connection(message))
        }
        guard PQstatus(handle) != CONNECTION_BAD else { return fail(PostgresResultReader.errorMessage(of: handle)) }
        var state = PGRES_POLLING_WRITING
        while state != PGRES_POLLING_OK {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else {
                PQfinish(handle)
                return .failure(PostgresError(
                    code: .timeout,
                    message: "connecting to \(configuration.serverNames) took longer than \(limit) (\(limitName)): the server accepted no session in time"))
            }
            switch state {
            case PGRES_POLLING_FAILED:
                return fail(PostgresResultReader.errorMessage(of: handle))
            case PGRES_POLLING_READING, PGRES_POLLING_WRITING:
                let ready = keel_poll_wait(
                    PQsocket(handle), state == PGRES_POLLING_WRITING ? 1 : 0, Int32(clamping: remaining.inNanoseconds / 1_000_000 + 1))
                if ready < 0 && ready != -EINTR { return fail("waiting for the server failed (errno \(-ready))") }
                if ready == 0 { continue }
            default:
                break
            }
            state = PQconnectPoll(handle)
        }
        var setup = "SET DateStyle = 'ISO'"
        if let statementTimeout = configuration.statementTimeout {
            setup += "; SET statement_timeout = \(max(statementTimeout.inNanoseconds / 1_000_000, 1))"
        }
        for sql in [setup] + configuration.setupSQL {
            guard let result = PQexec(handle, sql) else { return fail(PostgresResultReader.errorMessage(of: handle)) }
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
                let error = PostgresResultReader.serverError(of: result, binds: [])
                PQfinish(handle)
                return .failure(error)
            }
        }
        guard PQsetnonblocking(handle, 1) == 0 else { return fail(PostgresResultReader.errorMessage(of: handle)) }
        return .success(UnsafeSendableHandle(handle: handle))
    }

    private static func withCStrings<Result>(
        _ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> Result
    ) -> Result {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
