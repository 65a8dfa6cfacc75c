/// Why a ``CircuitBreaker`` did not make a call.
///
/// ```swift
/// do {
///     try await breaker.run { try await client.get(url) }
/// } catch let error as CircuitBreakerError where error.code == .open {
///     serveFallback(retryIn: error.remaining)
/// }
/// ```
public struct CircuitBreakerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Why the call was not made. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The kind, as a number: the rejection path builds errors without touching a reference count.
        @usableFromInline let rawValue: UInt8

        @usableFromInline init(rawValue: UInt8) { self.rawValue = rawValue }

        /// The breaker is open.
        @inlinable public static var open: Code { Code(rawValue: 0) }
        /// The breaker is half-open and all its probe slots are taken.
        @inlinable public static var halfOpenFull: Code { Code(rawValue: 1) }

        /// The code's name.
        public var description: String { rawValue == 0 ? "open" : "halfOpenFull" }

        /// Matches a ``CircuitBreakerError`` of this code: `catch CircuitBreakerError.Code.open { … }`.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? CircuitBreakerError)?.code == code
        }
    }

    /// Why the call was not made.
    public let code: Code
    /// For ``Code/open``: how long until the breaker lets probes through; `nil` when it was forced
    /// open and waits for a reset, and for ``Code/halfOpenFull``.
    public let remaining: Duration?

    @usableFromInline init(code: Code, remaining: Duration?) {
        self.code = code
        self.remaining = remaining
    }

    /// The breaker is open: it lets probes through after `remaining` (`nil` when it was forced
    /// open and waits for a reset).
    @inlinable
    public static func open(remaining: Duration?) -> CircuitBreakerError {
        CircuitBreakerError(code: .open, remaining: remaining)
    }

    /// The breaker is half-open and all its probe slots are taken.
    @inlinable public static var halfOpenFull: CircuitBreakerError { CircuitBreakerError(code: .halfOpenFull, remaining: nil) }

    /// A sentence saying what happened.
    public var description: String {
        if code == .halfOpenFull { return "the circuit breaker is half-open and its probe calls are all in flight" }
        guard let remaining else { return "the circuit breaker was forced open" }
        return "the circuit breaker is open; it lets probes through in \(remaining)"
    }
}
