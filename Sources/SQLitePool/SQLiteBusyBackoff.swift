/// The waits between retries of a statement that found the database locked: exponential
/// back-off with full jitter, up to a deadline.
///
/// Attempt `n` (from 0) waits a random time between half of and the whole of
/// `min(initialDelay × 2ⁿ, maximumDelay)`, and never past the deadline. A value type with the
/// time and the randomness passed in, so the policy is tested without waiting.
struct SQLiteBusyBackoff {
    /// The first wait's upper bound.
    let initialDelay: Duration
    /// The largest wait.
    let maximumDelay: Duration
    /// How long retrying may go on in all.
    let timeout: Duration
    /// The number of waits so far.
    private(set) var attempts = 0
    /// The time waited so far.
    private(set) var waited: Duration = .zero

    init(timeout: Duration, initialDelay: Duration = .milliseconds(1), maximumDelay: Duration = .milliseconds(64)) {
        self.timeout = timeout
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    /// The next wait, or `nil` when the deadline is reached and the caller must give up.
    ///
    /// - Parameters:
    ///   - elapsed: the time since the first attempt began.
    ///   - random: a number in `0..<1`.
    mutating func nextDelay(elapsed: Duration, random: Double) -> Duration? {
        let remaining = timeout - elapsed
        guard remaining > .zero else { return nil }
        let exponent = min(attempts, 30)
        var bound = initialDelay * (1 << exponent)
        if bound > maximumDelay { bound = maximumDelay }
        let delay = min(bound * (0.5 + 0.5 * random), remaining)
        attempts += 1
        waited += delay
        return delay
    }
}
