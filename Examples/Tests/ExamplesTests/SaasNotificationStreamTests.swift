import ExampleSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SaasKit
import SQLCore
import Synchronization
import Testing

/// saas-api's `GET /notifications/stream` (Server-Sent Events) on both databases, served live;
/// inside SaasAPITests, whose tests it must not run beside (they share the tables).
extension SaasAPITests {
    @Suite struct SaasNotificationStreamTests {
        static let json: HTTPFields = [.contentType: "application/json"]

        /// Runs `body` with a live saas-api on a fresh database of `kind`; `reset` empties the tables first.
        static func withLiveAPI(
            _ kind: ExampleDatabases.Kind, reset: Bool = true, _ body: @escaping @Sendable (SaasAPI, any TestClientProtocol) async throws -> Void
        ) async throws {
            try await SaasAPITests.withAPI(kind, live: true, reset: reset, body)
        }

        static func createLead(_ client: some TestClientProtocol, _ email: String) async throws {
            try await client.execute(
                uri: "/leads", method: .post, headers: json, body: ByteBuffer(string: #"{"email":"\#(email)","name":"N"}"#)
            ) { #expect($0.status == .created) }
        }

        @Test(arguments: ExampleDatabases.kinds)
        func newNotificationsArriveAsEventsAndTheStreamEndsWithTheServer(_ kind: ExampleDatabases.Kind) async throws {
            let readers = ReaderBox()
            try await Self.withLiveAPI(kind) { api, client in
                let port = try #require(client.port)
                try await Self.createLead(client, "before@example.com")
                let reader = try EventStreamReader(port: port, path: "/notifications/stream?since=0")
                readers.add(reader)
                #expect(try await reader.wait { $0.events.count == 1 })
                let head = try #require(reader.head)
                #expect(head.hasPrefix("HTTP/1.1 200"))
                #expect(head.lowercased().contains("content-type: text/event-stream"))

                // New notifications, committed after the stream began, arrive in order.
                for index in 0..<5 { try await Self.createLead(client, "live\(index)@example.com") }
                try await client.execute(
                    uri: "/campaigns", method: .post, headers: Self.json, body: ByteBuffer(string: #"{"name":"Spring","subject":"Hi"}"#)
                ) { #expect($0.status == .created) }
                #expect(try await reader.wait { $0.events.count == 7 })
                let events = reader.events
                #expect(events.map(\.event) == Array(repeating: "lead.created", count: 6) + ["campaign.created"])
                let ids = events.compactMap { $0.id.flatMap { Int64($0) } }
                try #require(ids.count == 7)
                #expect(ids == ids.sorted() && Set(ids).count == 7)
                let last = try JSONDecoder().decode(NotificationItem.self, from: Data(events[6].data.utf8))
                #expect(last.kind == "campaign.created" && last.id == ids[6])

                // A client that reconnects with Last-Event-ID gets only what came after it.
                let resumed = try EventStreamReader(
                    port: port, path: "/notifications/stream", headers: ["Last-Event-ID": String(ids[4])])
                readers.add(resumed)
                #expect(try await resumed.wait { $0.events.count == 2 })
                #expect(resumed.events.map(\.id) == [String(ids[5]), String(ids[6])])

                try await client.execute(uri: "/notifications/stream?since=-1", method: .get) { #expect($0.status == .badRequest) }
            }
            // The application has shut down: it ended both streams rather than wait for them.
            for reader in readers.all {
                #expect(try await reader.wait(timeout: .seconds(5)) { $0.ended })
            }
        }

        @Test(.enabled(if: ExampleDatabases.kinds.contains(.postgres)))
        func onPostgreSQLAnotherInstancesWritesReachTheStream() async throws {
            try await Self.withLiveAPI(.postgres) { api, listening in
                let port = try #require(listening.port)
                let reader = try EventStreamReader(port: port, path: "/notifications/stream?since=0")
                defer { reader.stop() }
                #expect(try await reader.wait { $0.head != nil })
                #expect(try await reader.wait { _ in api.store.feed.isListening }, "the feed listens on PostgreSQL")
                // Other instances, each with a pool of its own, on the same database: their writes
                // wake this instance's stream through LISTEN/NOTIFY only.
                for email in ["elsewhere1@example.com", "elsewhere2@example.com"] {
                    try await Self.withLiveAPI(.postgres, reset: false) { _, writing in try await Self.createLead(writing, email) }
                }
                #expect(try await reader.wait { $0.events.count == 2 })
                #expect(reader.events.map(\.event) == ["lead.created", "lead.created"])
            }
        }
    }
}

/// The readers a test opened, for checks after its application stopped.
final class ReaderBox: Sendable {
    private let readers = Mutex<[EventStreamReader]>([])
    func add(_ reader: EventStreamReader) { readers.withLock { $0.append(reader) } }
    var all: [EventStreamReader] { readers.withLock { $0 } }
}
