import Foundation
import KeelCore
import PostgresPool
import SQLCore
import KeelTesting
import Testing

/// LISTEN/NOTIFY against the throwaway PostgreSQL.
extension PostgresServerTests {
    @Suite(.enabled(if: TestDatabaseEnvironment.runsPostgresTests, TestDatabaseEnvironment.skipReason))
    struct PostgresNotificationTests {
        static func uniqueChannel() -> String { PostgresTestSupport.uniqueTable("channel") }

        /// The server sessions listening to `channel` now.
        static func listeners(of channel: String, on database: PostgresDatabase) async throws -> [Int32] {
            try await database.query(
                "SELECT pid FROM pg_stat_activity WHERE query = \("LISTEN \"\(channel)\"") ORDER BY pid"
            ).map { try $0.decode(Int32.self, at: 0) }
        }

        @Test func notificationsArriveInOrderAfterTheFirstListening() async throws {
            let channel = Self.uniqueChannel()
            try await PostgresTestSupport.withDatabase { database in
                var events = database.notifications(channel: channel).makeAsyncIterator()
                #expect(try await events.next() == .listening(afterLoss: false))
                for index in 0..<100 { try await database.notify(channel: channel, payload: "n\(index)") }
                try await database.notify(channel: Self.uniqueChannel(), payload: "another channel")
                var payloads: [String] = []
                while payloads.count < 100, case .notification(let notification)? = try await events.next() {
                    #expect(notification.channel == channel)
                    #expect(notification.senderProcessID > 0)
                    payloads.append(notification.payload)
                }
                #expect(payloads == (0..<100).map { "n\($0)" })
            }
        }

        @Test func aLostConnectionIsMadeAgainAndSaysSo() async throws {
            let channel = Self.uniqueChannel()
            try await PostgresTestSupport.withDatabase { database in
                var events = database.notifications(
                    channel: channel, reconnectDelay: Backoff(initialDelay: .milliseconds(1), maximumDelay: .milliseconds(10), jitter: .equal)
                ).makeAsyncIterator()
                #expect(try await events.next() == .listening(afterLoss: false))
                try await database.notify(channel: channel, payload: "before")
                #expect(Self.payload(of: try await events.next()) == "before")
                let listening = try await Self.listeners(of: channel, on: database)
                try #require(listening.count == 1)
                try await database.execute("SELECT pg_terminate_backend(\(listening[0])::int)")
                #expect(try await events.next() == .listening(afterLoss: true))
                try await database.notify(channel: channel, payload: "after")
                #expect(Self.payload(of: try await events.next()) == "after")
            }
        }

        @Test func anInvalidChannelEndsTheSequenceWithTheError() async throws {
            try await PostgresTestSupport.withDatabase { database in
                await #expect(throws: SQLStatementError.self) {
                    for try await _ in database.notifications(channel: "") {}
                }
            }
        }

        @Test func stoppingTheIterationClosesTheConnection() async throws {
            let channel = Self.uniqueChannel()
            try await PostgresTestSupport.withDatabase { database in
                do {
                    var events = database.notifications(channel: channel).makeAsyncIterator()
                    #expect(try await events.next() == .listening(afterLoss: false))
                    #expect(try await Self.listeners(of: channel, on: database).count == 1)
                }
                var remaining = try await Self.listeners(of: channel, on: database).count
                for _ in 0..<2_000 where remaining > 0 {
                    try await Task.sleep(for: .milliseconds(5))
                    remaining = try await Self.listeners(of: channel, on: database).count
                }
                #expect(remaining == 0)
            }
        }

        static func payload(of event: PostgresListenerEvent?) -> String? {
            guard case .notification(let notification)? = event else { return nil }
            return notification.payload
        }
    }
}
