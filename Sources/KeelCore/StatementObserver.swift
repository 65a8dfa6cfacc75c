package import CoreMetrics
package import Logging
import Tracing

/// What the SQL backends record about each statement they run: a `db.query` span with
/// OpenTelemetry's database attributes, the `keel_sql_statement_duration` timer of its pool, and a
/// log line when it ran longer than a threshold.
///
/// With no tracer bootstrapped or bound to the task, no span is started (``InstrumentationSystem/isTracing``).
///
/// The SQL text recorded is the statement's text with placeholders (`$1`, `?`): bind values never
/// reach a span or a log. The text is only rendered when a span records or the statement was slow.
package struct StatementObserver: Sendable {
    /// `db.system.name`: `postgresql` or `sqlite`.
    package let system: String
    private let duration: Timer
    private let slowThreshold: Duration?
    private let slowLogLevel: Logger.Level
    private let logger: Logger

    /// An observer for the statements of the pool named `poolName`, whose timer is made in
    /// `factory` (none when `nil`).
    package init(
        system: String, poolName: String, factory: (any MetricsFactory)?, slowThreshold: Duration?,
        slowLogLevel: Logger.Level, logger: Logger
    ) {
        self.system = system
        duration = Timer(
            label: "keel_sql_statement_duration", dimensions: [("pool", poolName), ("system", system)],
            factory: factory ?? NOOPMetricsHandler.instance)
        self.slowThreshold = slowThreshold
        self.slowLogLevel = slowLogLevel
        self.logger = logger
    }

    /// Runs `body`, the statement whose text `sql` renders, inside a `db.query` span; records its
    /// duration, and logs it when it took the slow-statement threshold or longer.
    ///
    /// `operation` names the statement's kind when it is not the text's first word (`COPY`, `BATCH`).
    @inline(__always)
    package func observe<Result>(
        isolation: isolated (any Actor)? = #isolation, operation: String? = nil, batchSize: Int? = nil,
        sql: () -> String, _ body: () async throws -> Result
    ) async throws -> Result {
        let start = ContinuousClock.now
        guard InstrumentationSystem.isTracing else {
            // No span: `body`'s value is passed straight through, so no generic tuple or
            // `Result` is built around it.
            do {
                let value = try await body()
                finish(since: start, sql: nil, fallback: sql, operation: operation, failed: false)
                return value
            } catch {
                finish(since: start, sql: nil, fallback: sql, operation: operation, failed: true)
                throw error
            }
        }
        return try await observeInSpan(since: start, operation: operation, batchSize: batchSize, sql: sql, body)
    }

    /// ``observe(isolation:operation:batchSize:sql:_:)`` when a tracer may record its span; apart,
    /// so that the untraced path's frame holds nothing built around `body`'s value.
    private func observeInSpan<Result>(
        isolation: isolated (any Actor)? = #isolation, since start: ContinuousClock.Instant, operation: String?,
        batchSize: Int?, sql: () -> String, _ body: () async throws -> Result
    ) async throws -> Result {
        let (outcome, recordedText) = await withSpan("db.query", ofKind: .client) { span in
            var text: String?
            if span.isRecording {
                let sql = sql()
                text = sql
                span.attributes["db.system.name"] = system
                span.attributes["db.operation.name"] = operation ?? Self.operationName(of: sql)
                span.attributes["db.query.text"] = sql
                if let batchSize { span.attributes["db.operation.batch.size"] = batchSize }
            }
            do {
                return (Swift.Result<Result, any Error>.success(try await body()), text)
            } catch {
                span.recordError(error)
                span.setStatus(SpanStatus(code: .error))
                return (.failure(error), text)
            }
        }
        var failed = false
        if case .failure = outcome { failed = true }
        finish(since: start, sql: recordedText, fallback: sql, operation: operation, failed: failed)
        return try outcome.get()
    }

    /// Records the duration of a statement begun at `start`, and logs it when it was slow, with
    /// `sql`, or `fallback`'s text when the span did not record it.
    private func finish(since start: ContinuousClock.Instant, sql: String?, fallback: () -> String, operation: String?, failed: Bool) {
        let elapsed = start.duration(to: .now)
        duration.recordNanoseconds(elapsed.inNanoseconds)
        if let slowThreshold, elapsed >= slowThreshold {
            logSlow(sql: sql ?? fallback(), operation: operation, elapsed: elapsed, failed: failed)
        }
    }

    private func logSlow(sql: String, operation: String?, elapsed: Duration, failed: Bool) {
        logger.log(
            level: slowLogLevel, "slow statement",
            metadata: [
                "db.system.name": "\(system)",
                "db.operation.name": "\(operation ?? Self.operationName(of: sql))",
                "db.query.text": "\(sql)",
                "duration_ms": "\(Double(elapsed.inNanoseconds) / 1_000_000)",
                "outcome": "\(failed ? "failed" : "succeeded")",
            ])
    }

    /// The first word of `sql` in upper case (`SELECT`, `INSERT`, `WITH`), or `SQL` when it has none.
    package static func operationName(of sql: String) -> String {
        let word = sql.drop(while: { $0.isWhitespace || $0 == "(" }).prefix(while: { $0.isLetter })
        return word.isEmpty ? "SQL" : word.uppercased()
    }
}
