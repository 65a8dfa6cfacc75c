import CircuitBreaker
import Foundation
import KeelCore
import Pooling
import PostgresPool
import SQLCore
import KeelTesting
import Testing

extension Reliability {
    /// Scenario 3: the pool reaches PostgreSQL through ``TCPFaultProxy``. The network first adds
    /// 200 ms of round-trip latency, then drops everything (blackhole), then resets every
    /// connection and recovers. Queries go through a circuit breaker.
    @Suite struct NetworkFaults {
        static let queryTimeout = Duration.seconds(2)
        static let acquireTimeout = Duration.seconds(1)
        static let connectTimeout = Duration.seconds(1)

        /// One call through the breaker.
        struct Call {
            var elapsed: Duration
            var error: (any Error)?
        }

        /// The deadline an error should have been raised at, and what it was.
        static func deadline(of error: any Error) -> (kind: String, deadline: Duration?) {
            if let error = error as? PostgresError {
                if error.isTimeout { return ("query timeout", queryTimeout) }
                return ("PostgresError \(error.code)", nil)
            }
            if let error = error as? PoolError {
                return ("PoolError \(error.code)", error.code == .acquireTimeout ? acquireTimeout : nil)
            }
            if error is CircuitBreakerError { return ("breaker open", nil) }
            return (String(describing: type(of: error)), nil)
        }

        @Test(.enabled(if: ReliabilityEnvironment.runsPostgresScenarios, ReliabilityEnvironment.skipReason))
        func timeoutsFireOnTimeAndTheBreakerOpensAndClosesAroundABlackhole() async throws {
            let url = try #require(URL(string: try ReliabilityEnvironment.url(applicationName: "keel-network")))
            let upstreamPort = try #require(url.port)
            let proxy = try TCPFaultProxy(upstreamPort: upstreamPort)
            defer { proxy.stop() }
            let proxied = url.absoluteString.replacingOccurrences(of: ":\(upstreamPort)/", with: ":\(proxy.port)/")
            var configuration = try PostgresConfiguration(connectionString: proxied)
            configuration.logger.logLevel = .warning
            configuration.queryTimeout = Self.queryTimeout
            configuration.checkTimeout = .milliseconds(500)
            let connectionSettings = configuration
            var pool = ReliabilityEnvironment.quietPool()
            pool.maxConnections = 4
            pool.acquireTimeout = Self.acquireTimeout
            pool.connectTimeout = Self.connectTimeout
            pool.maxConnectRetryDelay = .milliseconds(200)

            var breakerConfiguration = CircuitBreakerConfiguration()
            breakerConfiguration.consecutiveFailures = 3
            breakerConfiguration.openDuration = .seconds(1)
            breakerConfiguration.isFailure = { !($0 is CancellationError) }
            let transitions = Locked<[(CircuitBreakerTransition, ContinuousClock.Instant)]>([])
            let breaker = try CircuitBreaker(name: "postgres", configuration: breakerConfiguration) { transition in
                transitions.withLock { $0.append((transition, .now)) }
            }
            var figures = ScenarioFigures("3 network stall and reset (6 tasks, 4 connections; proxy: +200 ms, blackhole 5 s, reset; timeouts: query 2 s, acquire 1 s, connect 1 s)")

            try await ReliabilityEnvironment.withDatabase(configuration, pool: pool) { database in
                /// Six tasks calling for `duration` (two more than there are connections), each call timed.
                func load(for duration: Duration) async -> [Call] {
                    let calls = Locked<[Call]>([])
                    let start = ContinuousClock.now
                    await withTaskGroup(of: Void.self) { group in
                        for task in 0..<6 {
                            group.addTask {
                                var call = 0
                                while ContinuousClock.now - start < duration {
                                    call += 1
                                    let began = ContinuousClock.now
                                    do {
                                        let rows = try await breaker.run {
                                            try await database.query("SELECT \(task * 100_000 + call)::bigint")
                                        }
                                        guard try rows.first?.decode(Int.self, at: 0) == task * 100_000 + call else {
                                            throw PostgresError(code: .client, message: "wrong answer")
                                        }
                                        calls.withLock { $0.append(Call(elapsed: .now - began, error: nil)) }
                                    } catch {
                                        calls.withLock { $0.append(Call(elapsed: .now - began, error: error)) }
                                        // An open breaker answers at once: pace the retries.
                                        if error is CircuitBreakerError { try? await Task.sleep(for: .milliseconds(50)) }
                                    }
                                }
                            }
                        }
                    }
                    return calls.withLock { $0 }
                }

                // Warm-up on a clean network.
                let clean = await load(for: .milliseconds(500))
                #expect(clean.allSatisfy { $0.error == nil }, "queries failed on a clean network")
                let cleanMedian = percentile(clean.map(\.elapsed.milliseconds), 0.5)

                // 1. 100 ms each way: every query still succeeds, each about 200 ms slower.
                proxy.mode = .delay(.milliseconds(100))
                let slow = await load(for: .seconds(2))
                let slowFailures = slow.filter { $0.error != nil }
                let slowMedian = percentile(slow.map(\.elapsed.milliseconds), 0.5)
                figures.record("clean / +200 ms round trip: median query", String(format: "%.1f ms / %.1f ms", cleanMedian, slowMedian))
                figures.record("+200 ms: queries / failed", "\(slow.count) / \(slowFailures.count)")
                #expect(slowFailures.isEmpty, "\(slowFailures.prefix(3).map { "\($0.error!)" })")
                #expect(slowMedian >= 200 && slowMedian < 600)

                // 2. Blackhole: statements time out on time, the pool's waits end on time, the
                // breaker opens; nothing outlasts its deadline.
                proxy.mode = .blackhole
                let blackholeStart = ContinuousClock.now
                async let connectAttempt: Duration = {
                    let began = ContinuousClock.now
                    _ = try? await PostgresConnection.connect(configuration: connectionSettings, timeout: Self.connectTimeout)
                    return .now - began
                }()
                let stalled = await load(for: .seconds(5))
                let blackholeEnd = ContinuousClock.now
                let connectTook = await connectAttempt
                figures.record("blackhole: a connection attempt gave up after", "\(connectTook.formattedMilliseconds) (connect timeout 1 s)")
                #expect(connectTook >= Self.connectTimeout && connectTook <= Self.connectTimeout * 1.1)
                var lateness: [String: Double] = [:]
                var byKind: [String: Int] = [:]
                var unexpected: [String] = []
                for call in stalled {
                    guard let error = call.error else {
                        unexpected.append("a query succeeded through the blackhole")
                        continue
                    }
                    let (kind, deadline) = Self.deadline(of: error)
                    byKind[kind, default: 0] += 1
                    if let deadline {
                        let ratio = call.elapsed.milliseconds / deadline.milliseconds
                        lateness[kind] = max(lateness[kind] ?? 0, ratio)
                        if ratio < 1 || ratio > 1.1 {
                            unexpected.append("\(kind) after \(call.elapsed.formattedMilliseconds), deadline \(deadline)")
                        }
                    } else if kind != "breaker open" && kind != "PoolError connectionUnavailable" {
                        unexpected.append("\(kind): \(error)")
                    }
                    // No call outlasts the longest deadline by more than 10%.
                    if call.elapsed > Self.queryTimeout * 1.1 {
                        unexpected.append("a call took \(call.elapsed.formattedMilliseconds): \(error)")
                    }
                }
                let openedAt = transitions.withLock { $0.first { $0.0.to == .open }?.1 }
                figures.record("blackhole: calls by outcome", byKind.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
                figures.record("blackhole: latest error relative to its deadline", lateness.sorted { $0.key < $1.key }.map { String(format: "%@ ×%.3f", $0.key, $0.value) }.joined(separator: ", "))
                figures.record("blackhole: longest call", (stalled.map(\.elapsed).max() ?? .zero).formattedMilliseconds)
                figures.record("breaker opened after the blackhole began", openedAt.map { blackholeStart.duration(to: $0).formattedMilliseconds } ?? "never")
                for problem in unexpected.prefix(5) { Issue.record("\(problem)") }
                #expect(unexpected.isEmpty)
                #expect((byKind["query timeout"] ?? 0) > 0, "no statement timed out in the blackhole")
                #expect((byKind["PoolError acquireTimeout"] ?? 0) > 0, "no acquire timed out in the blackhole")
                #expect((byKind["breaker open"] ?? 0) > 0, "the breaker never rejected a call")
                #expect(openedAt.map { $0 > blackholeStart && $0 < blackholeEnd } == true, "the breaker did not open during the blackhole")

                // 3. Reset every connection and recover: the breaker closes, queries succeed.
                proxy.resetConnections()
                proxy.mode = .pass
                let recoveryStart = ContinuousClock.now
                let recovered = await load(for: .seconds(3))
                let closedAt = transitions.withLock { $0.last { $0.0.to == .closed }?.1 }
                let successes = recovered.filter { $0.error == nil }.count
                let lastFailure = recovered.filter { $0.error != nil }.map(\.elapsed).max()
                figures.record("after the reset: breaker closed after", closedAt.map { recoveryStart.duration(to: $0).formattedMilliseconds } ?? "never")
                figures.record("after the reset: queries succeeded / failed", "\(successes) / \(recovered.count - successes)")
                figures.record("after the reset: longest failed call", lastFailure?.formattedMilliseconds ?? "none")
                #expect(closedAt.map { $0 > recoveryStart } == true, "the breaker did not close after recovery")
                #expect(breaker.state == .closed)
                #expect(successes > 100)
                let statistics = database.pool.statistics
                figures.record("pool at the end: in use / waiting / open; closed as broken",
                               "\(statistics.inUse) / \(statistics.waiting) / \(statistics.open); \(statistics.closed(.broken))")
                figures.record("breaker transitions", transitions.withLock { $0.map { "\($0.0.from)→\($0.0.to)" }.joined(separator: ", ") })
                #expect(statistics.inUse == 0 && statistics.waiting == 0)
            }
            figures.print()
        }
    }
}
