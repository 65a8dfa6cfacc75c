public import Tracing

extension InstrumentationSystem {
    /// Whether a span could be recorded: an instrument other than the no-op one is bound to the
    /// task (`withTracer`) or bootstrapped. Per-operation spans (a statement, a pool lease, a Redis
    /// command, a cache load) start only then: with no tracer, finding the no-op one (a lock and two
    /// casts to protocols) and binding its span's context to the task cost about a tenth of a pooled
    /// PostgreSQL query's client CPU (BENCHMARKS.md, postgres).
    @usableFromInline package static var isTracing: Bool {
        type(of: instrument) != NoOpInstrument.self
    }
}
