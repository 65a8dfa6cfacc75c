/// An external API simulated in-process: each call waits a random latency on the continuous
/// clock and fails at a configured rate, or always while an outage is on.
///
/// ```swift
/// let rpc = SimulatedService(name: "RPC", latency: .milliseconds(100)...(.milliseconds(100)), failureRate: 0.05)
/// let transaction = try await rpc.call { Transaction(hash: hash) }
/// ```
public struct SimulatedService: Sendable {
    /// The API's name, in errors.
    public let name: String
    /// The range each call's latency is drawn from.
    public let latency: ClosedRange<Duration>
    /// The chance of a call failing, 0...1.
    public let failureRate: Double
    /// When set, calls fail during this window after ``start``.
    public let outage: (start: Duration, length: Duration)?
    /// The instant outages are measured from.
    public let start: ContinuousClock.Instant

    /// A service with this behaviour, its outage window counted from now.
    public init(
        name: String, latency: ClosedRange<Duration>, failureRate: Double = 0,
        outage: (start: Duration, length: Duration)? = nil
    ) {
        self.name = name
        self.latency = latency
        self.failureRate = failureRate
        self.outage = outage
        start = .now
    }

    /// Whether the outage window is on now.
    public var isDown: Bool {
        guard let outage else { return false }
        let elapsed = start.duration(to: .now)
        return elapsed >= outage.start && elapsed < outage.start + outage.length
    }

    /// Waits the latency, then fails (``SimulatedServiceError``) or returns `body()`.
    public func call<Result>(_ body: () throws -> Result) async throws -> Result {
        let low = latency.lowerBound.milliseconds
        let high = latency.upperBound.milliseconds
        let wait = low == high ? low : Double.random(in: low...high)
        try await Task.sleep(for: .microseconds(Int(wait * 1_000)))
        if isDown { throw SimulatedServiceError(service: name, reason: "unavailable (simulated outage)") }
        if failureRate > 0, Double.random(in: 0..<1) < failureRate {
            throw SimulatedServiceError(service: name, reason: "failed (simulated error rate)")
        }
        return try body()
    }
}
