public import InMemoryTracing
import Tracing

/// Records the spans a block of code starts, for tests of tracing.
///
/// The first use bootstraps swift-distributed-tracing with ``SpanRecorderTracer`` (once per
/// process: a process that bootstraps a tracer of its own cannot use this). Only spans inside a
/// ``record(_:isolation:_:)`` block are kept, so the rest of a test run costs nothing and keeps nothing.
///
/// ```swift
/// let (rows, spans) = try await SpanRecorder.record { try await database.query("SELECT 1") }
/// #expect(spans.contains { $0.operationName == "db.query" })
/// ```
public enum SpanRecorder {
    /// The tracer every span of the process goes to.
    public static let tracer: SpanRecorderTracer = {
        let tracer = SpanRecorderTracer()
        InstrumentationSystem.bootstrap(tracer)
        return tracer
    }()

    /// Runs `body` inside a root span named `name` and returns its result with every span of
    /// that trace that has finished (the root last), in the order they finished.
    public static func record<Result>(
        _ name: String = "test", isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> (Result, [FinishedInMemorySpan]) {
        let tracer = tracer
        let root = tracer.startRecordedRoot(name)
        let outcome: Swift.Result<Result, any Error>
        do {
            outcome = .success(try await ServiceContext.withValue(root.context) { try await body() })
        } catch {
            outcome = .failure(error)
        }
        root.end()
        let traceID = root.traceID
        return (try outcome.get(), tracer.recorder.finishedSpans.filter { $0.traceID == traceID })
    }
}
