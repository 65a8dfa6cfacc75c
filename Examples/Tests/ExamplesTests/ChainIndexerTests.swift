import ChainIndexerKit
import CircuitBreaker
import ExampleSupport
import Synchronization
import Testing

/// chain-indexer's core flow at a small size on both databases.
@Suite(.serialized) struct ChainIndexerTests {
    final class Messages: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test(arguments: ExampleDatabases.kinds)
    func indexesEveryRowInBatchesAndAgainIdempotently(_ kind: ExampleDatabases.Kind) async throws {
        let store = try await ExampleDatabases.open(kind)
        try await store.run { database in
            let chain = SimulatedChain(
                eventCount: 300, transactionCount: 60, rpcLatency: .milliseconds(2), eventsLatency: .zero, errorRate: 0.1)
            let indexer = try ChainIndexer(database: database, chain: chain, concurrency: 8, batchSize: 100)
            try await indexer.resetSchema()
            let report = try await indexer.index()
            let expectedOperations = (0..<60).map { SimulatedChain.transaction(SimulatedChain.hash($0)).operations.count }.reduce(0, +)
            #expect(report.events == 300 && report.transactions == 60 && report.operations == expectedOperations)
            // 3 event chunks, 1 transaction chunk, 2 or fewer operation chunks: batched, not per row.
            #expect(report.writeStatements == 3 + 1 + (expectedOperations + 99) / 100)
            // Failed calls (10 %) were retried: every transaction arrived.
            #expect(report.rpcCalls == 60 + report.rpcFailures)
            var stored = try await indexer.storedCounts()
            #expect(stored.events == 300 && stored.transactions == 60 && stored.operations == expectedOperations)

            _ = try await indexer.index()
            stored = try await indexer.storedCounts()
            #expect(stored.events == 300 && stored.transactions == 60 && stored.operations == expectedOperations)

            // The sequential version stores the same rows, one statement per row.
            try await indexer.resetSchema()
            let sequential = try await indexer.indexSequentially()
            #expect(sequential.writeStatements == 300 + 60 + expectedOperations)
            stored = try await indexer.storedCounts()
            #expect(stored.events == 300 && stored.transactions == 60 && stored.operations == expectedOperations)
        }
    }

    @Test func theBreakerOpensDuringAnOutageAndTheIndexerResumesAfterIt() async throws {
        let store = try await ExampleDatabases.open(.sqlite)
        try await store.run { database in
            let messages = Messages()
            let chain = SimulatedChain(
                eventCount: 200, transactionCount: 100, rpcLatency: .milliseconds(5), eventsLatency: .zero, errorRate: 0,
                outage: (start: .zero, length: .milliseconds(400)))
            let indexer = try ChainIndexer(
                database: database, chain: chain, concurrency: 4, batchSize: 50, openDuration: .milliseconds(100),
                log: { messages.append($0) })
            try await indexer.resetSchema()
            let report = try await indexer.index()
            #expect(report.transactions == 100)
            #expect(report.rejectedByBreaker > 0, "the open breaker should have refused calls")
            #expect(messages.all.contains { $0.contains("closed -> open") })
            #expect(messages.all.contains { $0.contains("halfOpen -> closed") })
            #expect(indexer.breaker.state == .closed)
            // Backing off: far fewer calls reached the RPC than the breaker refused or the outage lasted.
            #expect(report.rpcFailures < 100)
            #expect(try await indexer.storedCounts().transactions == 100)
        }
    }
}
