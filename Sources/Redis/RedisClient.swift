import KeelCore
import Tracing
public import Pooling
public import ServiceLifecycle

/// Redis behind a connection pool: what applications use.
///
/// ```swift
/// let redis = try RedisClient(configuration: RedisConfiguration(environment: ProcessInfo.processInfo.environment))
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await redis.run() }          // or add it to a ServiceGroup
///     try await redis.send(RedisCommand("SET", "greeting", "hello"))
///     let greeting = try await redis.send(RedisCommand("GET", "greeting")).string
///     await redis.shutdown()
/// }
/// ```
///
/// The pool brings its timeouts, validation, statistics, metrics and graceful shutdown. A command
/// that finds its pooled connection already closed by the server before anything was sent is
/// retried on another connection; one that fails after it was sent is not retried, since it may
/// have run.
public final class RedisClient: Service {
    /// The pool of connections.
    public let pool: ConnectionPool<RedisConnectionSource, ContinuousClock>
    private let maxAttempts: Int

    /// A client over a new pool. The pool's `waitsForReconnection` is turned off: while Redis
    /// refuses connections, commands fail at once (callers fall back) rather than wait.
    ///
    /// #### Errors
    /// `PoolConfigurationError` when `pool` is out of range; ``RedisError`` with code
    /// ``RedisError/Code/misuse`` when `configuration` does not validate.
    public init(configuration: RedisConfiguration, pool: PoolConfiguration = PoolConfiguration()) throws {
        try configuration.validate()
        var pool = pool
        pool.waitsForReconnection = false
        self.pool = try ConnectionPool(source: RedisConnectionSource(configuration: configuration), configuration: pool)
        maxAttempts = pool.maxConnections + pool.maxOverflow + 1
    }

    /// The executor of the thread that waits for every Redis (and PostgreSQL) socket of the
    /// process.
    ///
    /// Every command runs its exchange there, and a caller on another executor hops there and
    /// back. A task that prefers it saves both hops: it runs between the reactor's waits, and a
    /// reply resumes it on the same thread with no wake-up. For many tasks that mostly talk to
    /// Redis, this is the fastest way to run them:
    ///
    /// ```swift
    /// try await withTaskExecutorPreference(redis.taskExecutor) {
    ///     try await redis.send(RedisCommand("INCR", "visits"))
    /// }
    /// ```
    ///
    /// It is one thread: a task that prefers it must not compute for long between its commands,
    /// since every connection of the process waits meanwhile (as on a SwiftNIO event loop).
    public var taskExecutor: any TaskExecutor { SocketReactor.shared }

    /// Runs the pool (opens connections, maintenance) until ``shutdown()`` or cancellation.
    public func run() async throws {
        try await pool.run()
    }

    /// Closes the pool: waits for leased connections, then closes every connection.
    public func shutdown() async {
        await pool.shutdown()
    }

    /// Sends `command` on a pooled connection and returns its reply, in a `redis.command` span
    /// (``pipeline(_:)`` and ``evaluate(_:keys:arguments:)`` too).
    ///
    /// #### Errors
    /// ``RedisError``, `PoolError`, or `CancellationError`.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisValue {
        try await traced(command.name) { try await withRetry { try await $0.send(command) } }
    }

    /// Sends `commands` on one pooled connection in one write; their replies in order, an error
    /// reply failing only its own element.
    ///
    /// #### Errors
    /// ``RedisError`` (not for error replies), `PoolError`, or `CancellationError`.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [Result<RedisValue, RedisError>] {
        try await traced("PIPELINE", batchSize: commands.count) { try await withRetry { try await $0.pipeline(commands) } }
    }

    /// Runs `body` in a `redis.command` span with OpenTelemetry's database attributes: the
    /// command's name, never its arguments.
    private func traced<Result>(
        _ operation: String, batchSize: Int? = nil, isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async throws -> Result {
        try await withSpanIfTracing("redis.command", ofKind: .client, isolation: isolation) { span in
            if span.isRecording {
                span.attributes["db.system.name"] = "redis"
                span.attributes["db.operation.name"] = operation
                if let batchSize { span.attributes["db.operation.batch.size"] = batchSize }
            }
            return try await body()
        }
    }

    /// Runs `script` with `EVALSHA`; when its digest is not known yet or the server answers
    /// `NOSCRIPT`, runs it by its source (`EVAL`) and learns the digest (`SCRIPT LOAD`) in the same
    /// round trip.
    ///
    /// #### Errors
    /// ``RedisError`` (``RedisError/Code/server`` for an error the script raised), `PoolError`, or
    /// `CancellationError`.
    @discardableResult
    public func evaluate(_ script: RedisScript, keys: [String] = [], arguments: [String] = []) async throws -> RedisValue {
        try await traced("EVALSHA") {
            try await withRetry { connection in
                try await Self.evaluate(script, keys: keys, arguments: arguments, on: connection)
            }
        }
    }

    /// `evaluate(_:keys:arguments:)` on a connection the caller holds.
    static func evaluate(
        _ script: RedisScript, keys: [String], arguments: [String], on connection: RedisConnection
    ) async throws -> RedisValue {
        if let sha1 = script.sha1 {
            do {
                return try await connection.send(
                    RedisCommand("EVALSHA", [sha1, String(keys.count)] + keys + arguments))
            } catch let error as RedisError where error.kind == "NOSCRIPT" {}
        }
        // The source itself, so that a `SCRIPT FLUSH` in between cannot fail the call, and the
        // digest for the next calls, in one round trip.
        let replies = try await connection.pipeline([
            RedisCommand("EVAL", [script.source, String(keys.count)] + keys + arguments),
            RedisCommand("SCRIPT", "LOAD", script.source),
        ])
        if case .success(let loaded) = replies[1], let sha1 = loaded.string { script.remember(sha1) }
        return try replies[0].get()
    }

    /// Runs `body` with a pooled connection (one task at a time uses it), then returns it to the
    /// pool: for several commands that must share a connection (`WATCH` … `EXEC`).
    ///
    /// #### Errors
    /// `PoolError`, `CancellationError`, or whatever `body` throws.
    public func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (RedisConnection) async throws -> Result
    ) async throws -> Result {
        try await pool.withConnection { try await body($0) }
    }

    /// Runs `body` on a pooled connection, on the reactor's thread (so the reply resumes the
    /// exchange where it arrives, with no thread hop), again on another connection when the first
    /// was found closed before anything was sent.
    private func withRetry<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (RedisConnection) async throws -> Result
    ) async throws -> Result {
        try await withTaskExecutorPreference(SocketReactor.shared, isolation: isolation) {
            var attempts = 0
            while true {
                do {
                    return try await pool.withConnection { try await body($0) }
                } catch RedisError.Code.connectionBeforeSend where attempts + 1 < maxAttempts {
                    attempts += 1
                }
            }
        }
    }
}
