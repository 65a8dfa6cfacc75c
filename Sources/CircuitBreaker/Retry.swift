import KeelCore
import Tracing

/// Calls `body` until it succeeds, retrying errors the policy allows after a back-off delay on
/// `clock`, and returns its result.
///
/// ```swift
/// let price = try await retry(.init(maxAttempts: 3)) {
///     try await breaker.run { try await limiter.withPermit { try await api.price("bitcoin") } }
/// }
/// ```
///
/// An open breaker's ``CircuitBreakerError`` is not retried by default, so the composition above
/// fails fast while the service is down instead of looping.
///
/// Each attempt runs in a `retry.attempt` span (`keel.retry.attempt`: 1, 2, …; a failed attempt
/// records its error, and `keel.retry.delay_seconds` the wait before the next one).
///
/// #### Errors
/// The last attempt's error, when attempts run out, the error is not retryable, or the next delay
/// would pass the policy's deadline. `CancellationError` when the task is cancelled while waiting.
public func retry<Result, RetryClock: Clock>(
    _ policy: RetryPolicy, clock: RetryClock, isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> Result
) async throws -> Result where RetryClock.Duration == Duration {
    let start = clock.now
    var previous: Duration?
    // A generator with state of its own: the zero-sized SystemRandomNumberGenerator, passed
    // inout from many tasks at once, is one shared address to ThreadSanitizer.
    var generator = SplitMix64(seed: .random(in: .min ... .max))
    var attempt = 1
    while true {
        // The attempt's value, or the delay before the next attempt.
        let (value, delay): (Result?, Duration) = try await withSpanIfTracing(
            "retry.attempt", isolation: isolation
        ) { span in
            if span.isRecording { span.attributes["keel.retry.attempt"] = attempt }
            do {
                return (try await body(), .zero)
            } catch {
                guard attempt < policy.maxAttempts, policy.shouldRetry(error) else { throw error }
                var delay = policy.delay(afterAttempt: attempt, previous: previous, using: &generator)
                if let asked = policy.retryAfter(error), asked > delay { delay = asked }
                if let deadline = policy.deadline, start.duration(to: clock.now) + delay > deadline { throw error }
                span.recordError(error)
                if span.isRecording { span.attributes["keel.retry.delay_seconds"] = delay.inSeconds }
                return (nil, delay)
            }
        }
        if let value { return value }
        try await clock.sleep(for: delay)
        previous = delay
        attempt += 1
    }
}

/// ``retry(_:clock:isolation:_:)`` on the continuous clock.
public func retry<Result>(
    _ policy: RetryPolicy, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
) async throws -> Result {
    try await retry(policy, clock: ContinuousClock(), body)
}
