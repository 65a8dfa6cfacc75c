/// When a ``CircuitBreaker`` opens, how long it stays open, and how it tests recovery.
///
/// ```swift
/// var configuration = CircuitBreakerConfiguration()
/// configuration.consecutiveFailures = 5            // gobreaker's ReadyToTrip
/// configuration.failureRateThreshold = 0.5         // or half of the last 20 calls
/// configuration.window = .count(20)
/// configuration.slowCallThreshold = .seconds(2)    // a call over 2 s counts as a failure
/// configuration.isFailure = { !($0 is ValidationError) }
/// ```
public struct CircuitBreakerConfiguration: Sendable {
    /// The calls a failure rate is computed over.
    public enum Window: Sendable, Hashable {
        /// The last `calls` calls.
        case count(Int)
        /// The calls of the last `duration`, kept in `buckets` buckets (the oldest bucket leaves
        /// whole, so the window is exact to `duration / buckets`).
        case time(Duration, buckets: Int = 10)
    }

    /// Opens after this many failures in a row; `nil` for no such rule. Default 5.
    public var consecutiveFailures: Int? = 5
    /// Opens when the failure rate over ``window`` reaches this fraction (0 < rate <= 1), once the
    /// window holds ``minimumCalls`` calls; `nil` for no such rule. Default `nil`.
    public var failureRateThreshold: Double?
    /// The calls the failure rate is computed over. Default the last 100 calls.
    public var window: Window = .count(100)
    /// The fewest calls in the window before the failure rate can open the breaker. Default 10.
    public var minimumCalls = 10
    /// A call that takes longer counts as a failure (and as a slow call in the metrics), even when
    /// it succeeds; `nil` to not time calls. Default `nil`.
    public var slowCallThreshold: Duration?
    /// How long the breaker stays open before it lets probes through. Default 30 seconds.
    public var openDuration: Duration = .seconds(30)
    /// Each trip that follows a failed recovery multiplies the open duration by this factor, up to
    /// ``maxOpenDuration``; a close starts again from ``openDuration``. Default 1 (no growth).
    public var openDurationMultiplier = 1.0
    /// The longest open duration when it grows. Default 5 minutes.
    public var maxOpenDuration: Duration = .seconds(300)
    /// How many probes half-open lets through at once. Default 1.
    public var halfOpenMaxCalls = 1
    /// How many successful probes close the breaker. Default 1.
    public var halfOpenSuccesses = 1
    /// Whether an error is a failure of the service. An error for which it returns `false` (a 404,
    /// a validation error) counts as a success: the service answered. Default: every error.
    public var isFailure: @Sendable (any Error) -> Bool = { _ in true }
    /// Whether an error is not counted at all, neither success nor failure. Task cancellation
    /// (`CancellationError`) never counts. Default: none.
    public var isIgnored: @Sendable (any Error) -> Bool = { _ in false }

    /// The defaults: open after 5 failures in a row for 30 seconds, one probe closes.
    public init() {}

    /// Throws for the first setting that is out of range; `CircuitBreaker`'s initialisers call it.
    public func validate() throws(CircuitBreakerConfigurationError) {
        func fail(_ setting: String, _ value: Any, _ rule: String) throws(CircuitBreakerConfigurationError) {
            throw CircuitBreakerConfigurationError(setting: setting, value: "\(value)", message: "\(setting) is \(value) but \(rule)")
        }
        if let consecutiveFailures, consecutiveFailures < 1 { try fail("consecutiveFailures", consecutiveFailures, "must be at least 1") }
        if let rate = failureRateThreshold, !(rate > 0 && rate <= 1) { try fail("failureRateThreshold", rate, "must be in 0 < rate <= 1") }
        switch window {
        case .count(let calls) where calls < 1: try fail("window", window, "a count window needs at least 1 call")
        case .time(let duration, let buckets) where duration <= .zero || buckets < 1:
            try fail("window", window, "a time window needs a positive duration and at least 1 bucket")
        default: break
        }
        if minimumCalls < 1 { try fail("minimumCalls", minimumCalls, "must be at least 1") }
        if openDuration < .zero { try fail("openDuration", openDuration, "must not be negative") }
        if maxOpenDuration < openDuration { try fail("maxOpenDuration", maxOpenDuration, "must not be below openDuration (\(openDuration))") }
        if !(openDurationMultiplier >= 1) { try fail("openDurationMultiplier", openDurationMultiplier, "must be at least 1") }
        if halfOpenMaxCalls < 1 { try fail("halfOpenMaxCalls", halfOpenMaxCalls, "must be at least 1") }
        if halfOpenSuccesses < 1 { try fail("halfOpenSuccesses", halfOpenSuccesses, "must be at least 1") }
    }
}
