public import Tracing
public import KeelCore

extension ConnectionPool {
    /// Records a `pool.acquire` span for a lease an idle connection served at once (no wait), when
    /// a tracer may record it.
    @usableFromInline
    func traceImmediateAcquire() {
        guard InstrumentationSystem.isTracing else { return }
        let span = startSpan("pool.acquire")
        if span.isRecording {
            span.attributes["keel.pool.name"] = configuration.name
            span.attributes["keel.pool.wait_seconds"] = 0.0
        }
        span.end()
    }

    /// Carries on from `first`, inside a `pool.acquire` span when a tracer may record it: the span
    /// records the time the lease took (`keel.pool.wait_seconds`) and, when it fails, the error.
    @inlinable
    func acquireTraced(
        isolation: isolated (any Actor)?, after first: Machine.LeaseDecision, deadline: PoolClock.Instant?,
        location: LeaseLocation
    ) async throws -> Machine.Lease {
        try await withSpanIfTracing("pool.acquire", isolation: isolation) { span in
            let start = ContinuousClock.now
            defer {
                if span.isRecording {
                    span.attributes["keel.pool.name"] = configuration.name
                    span.attributes["keel.pool.wait_seconds"] = start.duration(to: .now).inSeconds
                }
            }
            return try await acquire(after: first, deadline: deadline, location: location)
        }
    }
}
