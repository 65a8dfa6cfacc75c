public import CoreMetrics
import KeelCore

/// Circuit breakers by name (one per endpoint or per RPC method), each created on first use from a
/// shared configuration or its own override.
///
/// ```swift
/// var slow = CircuitBreakerConfiguration()
/// slow.slowCallThreshold = .seconds(5)
/// let breakers = try CircuitBreakerRegistry(overrides: ["eth_getLogs": slow])
/// let block = try await breakers.breaker("eth_blockNumber").run { try await rpc.blockNumber() }
/// ```
///
/// Breakers are independent: one method's failures never open another's breaker.
public final class CircuitBreakerRegistry<BreakerClock: Clock>: Sendable where BreakerClock.Duration == Duration {
    /// The configuration of breakers without an override.
    public let configuration: CircuitBreakerConfiguration
    /// Configurations by breaker name.
    public let overrides: [String: CircuitBreakerConfiguration]
    private let clock: BreakerClock
    private let store: (any CircuitBreakerStore)?
    private let metricsFactory: (any MetricsFactory)?
    private let onTransition: (@Sendable (CircuitBreakerTransition) -> Void)?
    private let breakers = Locked<[String: CircuitBreaker<BreakerClock>]>([:])

    /// A registry whose breakers use `clock`, `store`, `metricsFactory` and `onTransition` (see
    /// ``CircuitBreaker/init(name:configuration:clock:store:metricsFactory:onTransition:)``).
    ///
    /// #### Errors
    /// ``CircuitBreakerConfigurationError`` for the first configuration, shared or override, with a
    /// setting out of range.
    public init(
        configuration: CircuitBreakerConfiguration = CircuitBreakerConfiguration(),
        overrides: [String: CircuitBreakerConfiguration] = [:], clock: BreakerClock, store: (any CircuitBreakerStore)? = nil,
        metricsFactory: (any MetricsFactory)? = MetricsSystem.factory, onTransition: (@Sendable (CircuitBreakerTransition) -> Void)? = nil
    ) throws(CircuitBreakerConfigurationError) {
        try configuration.validate()
        for name in overrides.keys.sorted() { try overrides[name]!.validate() }
        self.configuration = configuration
        self.overrides = overrides
        self.clock = clock
        self.store = store
        self.metricsFactory = metricsFactory
        self.onTransition = onTransition
    }

    /// The breaker named `name`, created the first time it is asked for.
    public func breaker(_ name: String) -> CircuitBreaker<BreakerClock> {
        breakers.withLock { breakers in
            if let breaker = breakers[name] { return breaker }
            let breaker = CircuitBreaker(
                name: name, validatedConfiguration: overrides[name] ?? configuration, clock: clock, store: store,
                metricsFactory: metricsFactory, onTransition: onTransition)
            breakers[name] = breaker
            return breaker
        }
    }

    /// The names of the breakers created so far, sorted.
    public var names: [String] { breakers.withLock { $0.keys.sorted() } }

    /// Publishes every breaker's metrics (``CircuitBreaker/publishMetrics()``).
    public func publishMetrics() {
        for breaker in breakers.withLock({ Array($0.values) }) { breaker.publishMetrics() }
    }
}

extension CircuitBreakerRegistry where BreakerClock == ContinuousClock {
    /// A registry on the continuous clock.
    public convenience init(
        configuration: CircuitBreakerConfiguration = CircuitBreakerConfiguration(),
        overrides: [String: CircuitBreakerConfiguration] = [:], store: (any CircuitBreakerStore)? = nil,
        metricsFactory: (any MetricsFactory)? = MetricsSystem.factory, onTransition: (@Sendable (CircuitBreakerTransition) -> Void)? = nil
    ) throws(CircuitBreakerConfigurationError) {
        try self.init(
            configuration: configuration, overrides: overrides, clock: ContinuousClock(), store: store,
            metricsFactory: metricsFactory, onTransition: onTransition)
    }
}
