import CircuitBreaker
import KeelCore
import KeelTesting
import Testing

/// A store in memory that delivers what one breaker shares to every other breaker of the name at
/// once, standing for a server the processes share (the Redis store is tested against Redis).
final class MemoryStore: CircuitBreakerStore {
    private let followers = Locked<[String: [@Sendable (CircuitBreakerSharedState) -> Bool]]>([:])
    private let sharedStates = Locked<[CircuitBreakerSharedState]>([])
    /// What breakers shared, in order.
    var shared: [CircuitBreakerSharedState] { sharedStates.withLock { $0 } }
    /// The breakers following `name`.
    func followerCount(_ name: String) -> Int { followers.withLock { $0[name]?.count ?? 0 } }

    /// Delivers `state` to every follower of `name`, the sender too (it finds nothing to change),
    /// and forgets those that are gone.
    func share(_ state: CircuitBreakerSharedState, name: String) {
        sharedStates.withLock { $0.append(state) }
        let alive = followers.withLock { $0[name] ?? [] }.filter { $0(state) }
        followers.withLock { $0[name] = alive }
    }

    func follow(name: String, _ receive: @escaping @Sendable (CircuitBreakerSharedState) -> Bool) {
        followers.withLock { $0[name, default: []].append(receive) }
    }
}

@Suite struct SharedStateTests {
    static func breakers(
        _ count: Int, clock: ManualClock, store: MemoryStore, name: String = "rpc"
    ) throws -> [CircuitBreaker<ManualClock>] {
        var configuration = CircuitBreakerConfiguration()
        configuration.consecutiveFailures = 2
        configuration.openDuration = .seconds(10)
        return try (0..<count).map { _ in
            try CircuitBreaker(name: name, configuration: configuration, clock: clock, store: store)
        }
    }

    @Test func whenOneOpensTheOthersStopCallingAndOneProbeClosesThemAll() async throws {
        let clock = ManualClock()
        let store = MemoryStore()
        let processes = try Self.breakers(3, clock: clock, store: store)
        for _ in 0..<2 { try? await processes[0].run { try await failing() } }
        #expect(processes.map(\.state) == [.open, .open, .open])
        #expect(store.shared == [.open(remaining: .seconds(10))])
        #expect(processes[0].statistics.trips == 1)
        #expect(processes[1].statistics.trips == 0)
        #expect(processes[1].statistics.sharedOpens == 1)
        let calls = Shared()
        await #expect(throws: CircuitBreakerError.self) {
            try await processes[2].run { calls.count.add(1, ordering: .relaxed) }
        }
        #expect(calls.count.load(ordering: .relaxed) == 0)

        // The open duration passes in every process; the first probe that succeeds closes them all.
        clock.advance(by: .seconds(10))
        try await processes[1].run { try await succeeding() }
        #expect(processes.map(\.state) == [.closed, .closed, .closed])
        #expect(store.shared == [.open(remaining: .seconds(10)), .closed])
        #expect(processes[0].statistics.sharedCloses == 1)
        #expect(processes[2].statistics.sharedCloses == 1)
        #expect(processes[1].statistics.sharedCloses == 0)
    }

    @Test func aFailedProbeOpensTheOthersAgainAndBreakersOfOtherNamesAreLeftAlone() async throws {
        let clock = ManualClock()
        let store = MemoryStore()
        let processes = try Self.breakers(2, clock: clock, store: store)
        let other = try Self.breakers(1, clock: clock, store: store, name: "db")[0]
        for _ in 0..<2 { try? await processes[0].run { try await failing() } }
        clock.advance(by: .seconds(10))
        try? await processes[1].run { try await failing() }
        #expect(processes.map(\.state) == [.open, .open])
        #expect(store.shared == [.open(remaining: .seconds(10)), .open(remaining: .seconds(10))])
        // The first process was still open (its open duration had passed, no call had probed):
        // it stays open for the failed probe's duration instead of probing itself.
        #expect(processes[0].statistics.sharedOpens == 0)
        await #expect(throws: CircuitBreakerError.open(remaining: .seconds(10))) {
            try await processes[0].run { try await succeeding() }
        }
        #expect(other.state == .closed)
        #expect(other.statistics.sharedOpens == 0)
    }

    @Test func aForcedOrDisabledBreakerKeepsItsStateAndAnOpenOneTheLaterDeadline() async throws {
        let clock = ManualClock()
        let store = MemoryStore()
        let processes = try Self.breakers(3, clock: clock, store: store)
        processes[1].forceOpen()
        processes[2].disable()
        #expect(store.shared.isEmpty)
        for _ in 0..<2 { try? await processes[0].run { try await failing() } }
        #expect(processes.map(\.state) == [.open, .forcedOpen, .disabled])

        // A process opened later for longer keeps its own, later deadline.
        processes[1].reset()
        clock.advance(by: .seconds(5))
        for _ in 0..<2 { try? await processes[1].run { try await failing() } }
        #expect(store.shared.last == .open(remaining: .seconds(10)))
        clock.advance(by: .seconds(5))
        await #expect(throws: CircuitBreakerError.open(remaining: .seconds(5))) {
            try await processes[0].run { try await succeeding() }
        }
    }

    @Test func aBreakerThatIsGoneIsForgotten() throws {
        let clock = ManualClock()
        let store = MemoryStore()
        var processes = try Self.breakers(2, clock: clock, store: store)
        #expect(store.followerCount("rpc") == 2)
        processes.removeLast()
        store.share(.open(remaining: .seconds(1)), name: "rpc")
        #expect(processes[0].state == .open)
        #expect(store.followerCount("rpc") == 1)
    }
}
