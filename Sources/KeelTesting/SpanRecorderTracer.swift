public import InMemoryTracing
public import Tracing

/// The tracer of ``SpanRecorder``: an `InMemoryTracer` for the traces ``SpanRecorder/record(_:isolation:_:)``
/// begins, and spans that record nothing (and whose children record nothing) for every other trace.
public struct SpanRecorderTracer: Tracer {
    /// The in-memory tracer that keeps the recorded traces.
    public let recorder = InMemoryTracer()
    private static let droppedTraceID = "keel-not-recorded"

    /// Starts a root span whose trace is recorded.
    func startRecordedRoot(_ name: String) -> InMemorySpan {
        recorder.startSpan(name, context: .topLevel, ofKind: .internal, at: DefaultTracerClock.now, function: #function, file: #fileID, line: #line)
    }

    /// A span of the recorded trace its parent belongs to; a span that records nothing otherwise.
    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> InMemorySpan {
        let parent = context()
        if let parentSpan = parent.inMemorySpanContext, parentSpan.traceID != Self.droppedTraceID {
            return recorder.startSpan(
                operationName, context: parent, ofKind: kind, at: instant(), function: function, file: fileID, line: line)
        }
        let span = InMemorySpan(
            operationName: operationName, context: parent,
            spanContext: InMemorySpanContext(traceID: Self.droppedTraceID, spanID: "", parentSpanID: nil), kind: kind,
            startInstant: instant(), onEnd: { _ in })
        span.end()
        return span
    }

    /// The active span of `context`, when its trace is recorded.
    public func activeSpan(identifiedBy context: ServiceContext) -> InMemorySpan? {
        recorder.activeSpan(identifiedBy: context)
    }

    /// Does nothing: spans are kept as they finish.
    public func forceFlush() {}

    /// Injects `context` as the in-memory tracer does.
    public func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        recorder.inject(context, into: &carrier, using: injector)
    }

    /// Extracts a context as the in-memory tracer does.
    public func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        recorder.extract(carrier, into: &context, using: extractor)
    }
}
