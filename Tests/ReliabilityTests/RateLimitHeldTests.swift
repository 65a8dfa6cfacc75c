import KeelCore
import KeelTesting
import RateLimit
import Testing

extension Reliability {
    /// Scenario 8: 10,000 tasks through the EVM limiter's settings (5 at once, starts ≥ 50 ms apart).
    ///
    /// Time is a ``ManualClock`` moved to the next sleeper's deadline whenever every task is either
    /// queued, sleeping or done, so 500 s of limiter time take a few seconds and every start is
    /// measured exactly on the limiter's clock.
    @Suite struct RateLimitsHeld {
        final class Observations: Sendable {
            struct State {
                var inFlight = 0
                var maxInFlight = 0
                var starts: [(task: Int, at: ManualClock.Instant)] = []
                var finished = 0
            }

            let state = Locked(State())
        }

        @Test func tenThousandTasksNeverExceedFiveAtOnceNorStartCloserThanFiftyMilliseconds() async throws {
            let taskCount = 10_000
            let clock = ManualClock()
            let limiter = RateLimiter(maxConcurrent: 5, minInterval: .milliseconds(50), clock: clock)
            let observations = Observations()
            var generator = SystemRandomNumberGenerator()
            let holds = (0..<taskCount).map { _ in Duration.milliseconds(Int.random(in: 0...400, using: &generator)) }

            /// Every task is queued in the limiter, sleeping on the clock, or done: nothing can move
            /// until the clock does.
            func settled(spawned: Int) -> Bool {
                let queued = limiter.statistics.queued
                let finished = observations.state.withLock { $0.finished }
                return queued + clock.sleeperCount + finished == spawned
            }
            func settle(spawned: Int) async throws {
                for _ in 0..<1_000_000 {
                    if settled(spawned: spawned) { return }
                    await Task.yield()
                }
                Issue.record("the tasks never settled: \(limiter.statistics)")
                throw CancellationError()
            }

            try await withThrowingTaskGroup(of: Void.self) { group in
                // Spawned one at a time, each settled (queued or running) before the next: the
                // spawn order is the order they asked in.
                for task in 0..<taskCount {
                    group.addTask {
                        try await limiter.withPermit {
                            let now = clock.now
                            observations.state.withLock { state in
                                state.inFlight += 1
                                state.maxInFlight = max(state.maxInFlight, state.inFlight)
                                state.starts.append((task, now))
                            }
                            try await clock.sleep(for: holds[task])
                            observations.state.withLock { $0.inFlight -= 1 }
                        }
                        observations.state.withLock { $0.finished += 1 }
                    }
                    try await settle(spawned: task + 1)
                }
                while observations.state.withLock({ $0.finished }) < taskCount {
                    let deadline = try #require(clock.nextDeadline, "tasks wait but nobody sleeps: \(limiter.statistics)")
                    clock.advance(to: deadline)
                    try await settle(spawned: taskCount)
                }
                try await group.waitForAll()
            }

            let state = observations.state.withLock { $0 }
            let gaps = zip(state.starts, state.starts.dropFirst()).map { $0.at.duration(to: $1.at) }
            let minimumGap = try #require(gaps.min())
            let order = state.starts.map(\.task)
            let outOfOrder = zip(order, order.dropFirst()).filter { $0 > $1 }.count
            let elapsed = clock.now.offset
            let statistics = limiter.statistics

            var figures = ScenarioFigures("8 rate limits held (10,000 tasks, 5 at once, starts ≥ 50 ms apart, manual clock)")
            figures.record("tasks served", state.starts.count)
            figures.record("most in flight", state.maxInFlight)
            figures.record("smallest gap between starts", minimumGap.formattedMilliseconds)
            figures.record("starts out of FIFO order", outOfOrder)
            figures.record("limiter time for all", elapsed)
            figures.record("waited / acquired", "\(statistics.waited) / \(statistics.acquired)")
            figures.print()

            #expect(state.starts.count == taskCount)
            #expect(state.maxInFlight <= 5)
            #expect(state.maxInFlight == 5, "the holds overlap, so the limiter should have been full at times")
            #expect(minimumGap >= .milliseconds(50))
            #expect(outOfOrder == 0)
            #expect(statistics.inFlight == 0 && statistics.queued == 0)
            // 9,999 gaps of at least 50 ms.
            #expect(elapsed >= .milliseconds(50 * (taskCount - 1)))
        }
    }
}
