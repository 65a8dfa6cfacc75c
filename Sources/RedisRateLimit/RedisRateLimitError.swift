/// Why a fleet limiter gave no decision.
///
/// ```swift
/// do { try await bucket.acquire() }
/// catch RedisRateLimitError.Code.unavailable { /* Redis is down and the policy is failClosed */ }
/// ```
public struct RedisRateLimitError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let description: String

        /// Redis cannot be reached and the limiter's policy is ``RedisFailurePolicy/failClosed``.
        public static let unavailable = Code(description: "unavailable")
        /// A setting or argument out of range (named in the message); nothing was sent.
        public static let invalidArgument = Code(description: "invalidArgument")

        /// Matches a ``RedisRateLimitError`` of this code: `catch RedisRateLimitError.Code.unavailable { … }`.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? RedisRateLimitError)?.code == code
        }
    }

    /// What went wrong.
    public let code: Code
    /// The limiter's name.
    public let limiter: String
    /// What happened, in a sentence (for ``Code/unavailable``, the Redis error's description,
    /// which holds no password).
    public let message: String

    /// An error of `code` for the limiter `limiter`.
    public init(code: Code, limiter: String, message: String) {
        self.code = code
        self.limiter = limiter
        self.message = message
    }

    /// The code, the limiter and the message.
    public var description: String {
        "RedisRateLimitError.\(code) (limiter \(limiter)): \(message)"
    }
}
