import Foundation
import KeelCore
import KeelTesting
import PostgresPool
import SQLCore
import Testing

extension Reliability {
    /// Scenario 16: LISTEN/NOTIFY through lost connections.
    @Suite(.enabled(if: ReliabilityEnvironment.runsPostgresScenarios, ReliabilityEnvironment.skipReason))
    struct NotificationGaps {
        /// What the listener delivered, in order.
        final class Received: Sendable {
            let events = Locked<[PostgresListenerEvent]>([])
            var afterLoss: Int { events.withLock { $0.filter { $0 == .listening(afterLoss: true) }.count } }
            var listening: Bool { events.withLock { !$0.isEmpty } }
            var last: String? {
                events.withLock { events in
                    guard case .notification(let notification)? = events.last else { return nil }
                    return notification.payload
                }
            }
        }

        @Test func tenThousandNotificationsThroughTwoKilledListenerConnections() async throws {
            let suffix = UUID().uuidString.prefix(8).lowercased()
            let listenerName = "listener-\(suffix)"
            let channel = "keel_gaps_\(suffix)"
            let count = 10_000
            let kills = [3_000, 6_500]
            var pool = ReliabilityEnvironment.quietPool()
            pool.maxConnections = 2
            let received = Received()
            var killedAt: [ContinuousClock.Instant] = []
            try await ReliabilityEnvironment.withDatabase(
                ReliabilityEnvironment.configuration(applicationName: listenerName), pool: pool
            ) { listener in
                try await ReliabilityEnvironment.withDatabase(
                    ReliabilityEnvironment.configuration(applicationName: "sender-\(suffix)"), pool: pool
                ) { sender in
                    let admin = try await PostgresConnection.connect(
                        configuration: ReliabilityEnvironment.configuration(applicationName: "admin-\(suffix)"))
                    defer { admin.close() }
                    let events = listener.notifications(
                        channel: channel, reconnectDelay: Backoff(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200), jitter: .equal))
                    let consumer = Task {
                        for try await event in events {
                            received.events.withLock { $0.append(event) }
                            if case .notification(let notification) = event, notification.payload == "end" { return }
                        }
                    }
                    defer { consumer.cancel() }
                    for _ in 0..<2_000 where !received.listening { try await Task.sleep(for: .milliseconds(5)) }
                    try #require(received.listening, "the listener never listened")
                    for index in 0..<count {
                        if kills.contains(index) {
                            let ended = try await ReliabilityEnvironment.terminateSessions(of: listenerName, using: admin)
                            #expect(ended >= 1)
                            killedAt.append(.now)
                        }
                        try await sender.notify(channel: channel, payload: String(index))
                    }
                    // The end marker goes out only once the listener is back after the second loss.
                    for _ in 0..<4_000 where received.afterLoss < kills.count { try await Task.sleep(for: .milliseconds(5)) }
                    try await sender.notify(channel: channel, payload: "end")
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await consumer.value }
                        group.addTask {
                            try await Task.sleep(for: .seconds(30))
                            throw CancellationError()
                        }
                        try await group.next()
                        group.cancelAll()
                    }
                }
            }

            // Segments: the notifications between two `listening` events.
            var segments: [[Int]] = []
            var ended = false
            for event in received.events.withLock({ $0 }) {
                switch event {
                case .listening: segments.append([])
                case .notification(let notification) where notification.payload == "end": ended = true
                case .notification(let notification): segments[segments.count - 1].append(Int(notification.payload) ?? -1)
                }
            }
            let distinct = Set(segments.joined())
            let contiguous = segments.allSatisfy { segment in zip(segment, segment.dropFirst()).allSatisfy { $1 == $0 + 1 } }
            var figures = ScenarioFigures("16 LISTEN/NOTIFY: 10,000 notifications, the listener's connection killed twice")
            figures.record("listening events (first, after a loss)", "\(segments.count) (1, \(segments.count - 1))")
            figures.record("notifications per connection", segments.map { String($0.count) }.joined(separator: " / "))
            figures.record("delivered / sent", "\(distinct.count) / \(count)")
            figures.record("missing, all sent while no connection listened", count - distinct.count)
            figures.print()
            #expect(segments.count == kills.count + 1)
            #expect(contiguous, "a notification went missing while a connection listened")
            #expect(segments.dropLast().allSatisfy { !$0.isEmpty })
            #expect(ended, "the end marker, sent after the last loss, never arrived")
            #expect(distinct.isSubset(of: Set(0..<count)))
            #expect(distinct.count > count / 2)
            #expect(killedAt.count == kills.count)
        }
    }
}
