import Foundation
import KeelTesting
import Pooling
import Redis
import RedisTestSupport
import Testing

@Suite(.enabled(if: TestDatabaseEnvironment.runsRedisTests, TestDatabaseEnvironment.redisSkipReason))
struct RedisSubscriberTests {
    /// Publishes `payload` until `receivers` subscribers are there to receive it (a subscription
    /// takes a round trip to be confirmed); returns how many got it.
    static func publish(_ payload: String, to channel: String, on client: RedisClient) async throws -> Int64 {
        for _ in 0..<2_000 {
            let receivers = try await client.send(RedisCommand("PUBLISH", channel, payload)).integer ?? 0
            if receivers > 0 { return receivers }
            try await Task.sleep(for: .milliseconds(5))
        }
        return 0
    }

    @Test func messagesArriveAndTheSubscriptionSurvivesALostConnection() async throws {
        let channel = "keel-test:\(UUID().uuidString):events"
        let other = channel + ":other"
        let client = try RedisClient(configuration: RedisTestSupport.configuration())
        try await withRunning({ try await client.run() }, shutdown: { await client.shutdown() }) {
            try await RedisTestSupport.withOwnUser(on: client) { configuration, user in
                let subscriber = try RedisSubscriber(configuration: configuration, channels: [channel, other])
                let listening = Task { await subscriber.run() }
                var messages = subscriber.messages.makeAsyncIterator()
                #expect(try await Self.publish("first", to: channel, on: client) == 1)
                #expect(await messages.next() == RedisMessage(channel: channel, payload: Array("first".utf8)))
                #expect(try await client.send(RedisCommand("PUBLISH", other, "second")).integer == 1)
                #expect(await messages.next()?.string == "second")
                #expect(subscriber.isSubscribed)

                // The server drops the subscriber's connection: it reconnects and subscribes again.
                #expect(try await client.send(RedisCommand("CLIENT", "KILL", "TYPE", "pubsub", "USER", user)) == .integer(1))
                #expect(try await Self.publish("after", to: channel, on: client) == 1)
                #expect(await messages.next()?.string == "after")
                #expect(subscriber.reconnects >= 1)
                #expect(subscriber.delivered == 3)

                listening.cancel()
                await listening.value
                #expect(await messages.next() == nil)
            }
        }
    }

    @Test func aSubscriberWithoutChannelsIsRefused() throws {
        let configuration = RedisConfiguration(host: "127.0.0.1")
        #expect(throws: RedisError.self) { _ = try RedisSubscriber(configuration: configuration, channels: []) }
        let message = RedisMessage(channel: "c", payload: Array("secret".utf8))
        #expect(message.description == "message on c (6 bytes)")
    }
}
