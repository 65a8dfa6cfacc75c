import Logging

/// What every fleet limiter says about Redis being unreachable: the checks of its outage
/// settings, the one warning when an outage starts, the notice when Redis answers again, and the
/// error a ``RedisFailurePolicy/failClosed`` limiter throws meanwhile.
struct RedisOutageReport: Sendable {
    /// The limiter's name, in every line and error.
    let limiter: String
    let failurePolicy: RedisFailurePolicy
    let logger: Logger

    /// A report for `limiter`, once its name, probe interval and policy are checked.
    ///
    /// #### Errors
    /// ``RedisRateLimitError`` with code ``RedisRateLimitError/Code/invalidArgument`` for an
    /// empty name, a probe interval that is not positive or a local share outside (0, 1].
    init(limiter: String, failurePolicy: RedisFailurePolicy, probeInterval: Duration, logger: Logger) throws(RedisRateLimitError) {
        self.limiter = limiter
        self.failurePolicy = failurePolicy
        self.logger = logger
        guard !limiter.isEmpty else { throw invalidArgument("name must not be empty") }
        guard probeInterval > .zero else { throw invalidArgument("probeInterval must be positive, not \(probeInterval)") }
        if let share = failurePolicy.localShare, !(share > 0 && share <= 1) {
            throw invalidArgument("localFallback's share must be in (0, 1], not \(share)")
        }
    }

    /// The error for a setting or argument out of range, described by `message`.
    func invalidArgument(_ message: String) -> RedisRateLimitError {
        RedisRateLimitError(code: .invalidArgument, limiter: limiter, message: message)
    }

    /// The error of a ``RedisFailurePolicy/failClosed`` limiter while Redis is unreachable:
    /// `error` when this call found it so, else the outage already known.
    func unavailable(because error: (any Error)?) -> RedisRateLimitError {
        RedisRateLimitError(
            code: .unavailable, limiter: limiter,
            message: error.map { "Redis is unreachable: \($0)" } ?? "Redis is unreachable; it is tried again every probe interval")
    }

    /// Logs the start of an outage, found by `error`.
    func outageStarted(_ error: any Error) {
        logger.warning(
            "Redis is unreachable; the limiter follows its failure policy until it answers",
            metadata: ["limiter": "\(limiter)", "policy": "\(failurePolicy)", "error": "\(error)"])
    }

    /// Logs the end of an outage.
    func outageEnded() {
        logger.notice("Redis answers again; the limiter uses it", metadata: ["limiter": "\(limiter)"])
    }
}
