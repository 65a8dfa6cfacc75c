/// Named phases of a piece of work and how long each took, in the order they ran.
///
/// ```swift
/// var timings = PhaseTimings()
/// let tokens = try await timings.measure("API") { try await exchange.fetchTokens() }
/// print(timings.total)
/// ```
public struct PhaseTimings: Sendable {
    /// The phases measured so far.
    public private(set) var phases: [(name: String, duration: Duration)] = []

    /// No phases yet.
    public init() {}

    /// Runs `body` as the phase `name` and records how long it took (when it throws too).
    public mutating func measure<Result>(
        _ name: String, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async rethrows -> Result {
        let start = ContinuousClock.now
        defer { phases.append((name, ContinuousClock.now - start)) }
        return try await body()
    }

    /// Adds a phase measured elsewhere.
    public mutating func record(_ name: String, _ duration: Duration) {
        phases.append((name, duration))
    }

    /// The duration of the phase `name` (summed when it ran more than once).
    public func duration(of name: String) -> Duration {
        phases.filter { $0.name == name }.reduce(.zero) { $0 + $1.duration }
    }

    /// All phases together.
    public var total: Duration { phases.reduce(.zero) { $0 + $1.duration } }
}

extension Duration {
    /// The duration in milliseconds.
    public var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }

    /// `"1234.56ms"`, as the reference services print timings.
    public var formattedMilliseconds: String {
        let hundredths = Int((milliseconds * 100).rounded())
        let fraction = String(hundredths % 100)
        return "\(hundredths / 100).\(fraction.count == 1 ? "0" + fraction : fraction)ms"
    }
}

extension PhaseTimings {
    /// Runs synchronous `body` as the phase `name` and records how long it took.
    public mutating func measureNow<Result>(_ name: String, _ body: () throws -> Result) rethrows -> Result {
        let start = ContinuousClock.now
        defer { phases.append((name, ContinuousClock.now - start)) }
        return try body()
    }
}
