public import Tracing

extension InstrumentationSystem {
    /// Whether a span could be recorded: an instrument other than the no-op one is bound to the
    /// task (`withTracer`) or bootstrapped. Keel's spans start only then (``withSpanIfTracing``):
    /// with no tracer, finding the no-op one (a lock and two casts to protocols) and binding its
    /// span's context to the task cost about a tenth of a pooled PostgreSQL query's client CPU
    /// (BENCHMARKS.md, postgres).
    @usableFromInline package static var isTracing: Bool {
        type(of: instrument) != NoOpInstrument.self
    }
}

/// Runs `body` inside a span named `name` when a tracer may record it
/// (``InstrumentationSystem/isTracing``), as `withSpan` does; otherwise runs it at once with a span
/// that records nothing and binds no context to the task.
@inlinable @inline(__always)
package func withSpanIfTracing<Result>(
    _ name: String, ofKind kind: SpanKind = .internal, isolation: isolated (any Actor)? = #isolation,
    _ body: (any Span) async throws -> Result
) async rethrows -> Result {
    guard InstrumentationSystem.isTracing else {
        return try await body(NoOpTracer.NoOpSpan(context: .topLevel))
    }
    return try await withSpan(name, ofKind: kind, isolation: isolation, body)
}
