import ExampleSupport
import SQLCore
import Testing
import TokenRegistryKit

/// token-registry's core flow at a small size on both databases.
@Suite(.serialized) struct TokenRegistryTests {
    @Test(arguments: ExampleDatabases.kinds)
    func syncsListsDelistsAndReSyncsIdempotently(_ kind: ExampleDatabases.Kind) async throws {
        let store = try await ExampleDatabases.open(kind)
        try await store.run { database in
            let registry = try TokenRegistry(database: database)
            try await registry.resetSchema()

            // First sync: every token is new, written in chunks of 100.
            let first = SimulatedExchange.listing(tokenCount: 250, cycle: 0)
            let report = try await registry.sync(first, at: 1_000)
            #expect(report.newListings.count == 250)
            #expect(report.delisted.isEmpty)
            // 1 load + 3 token chunks + 3 history chunks.
            #expect(report.statements == 7)
            var known = try await registry.loadAll()
            #expect(known.count == 250)
            #expect(known.values.allSatisfy { $0.status == "active" && $0.isNew && $0.firstSeen == 1_000 })
            #expect(registry.cache.count == 250)
            #expect(try await registry.historyCount() == 250)

            // The same listing again: nothing new, nothing delisted, no history, same rows.
            let again = try await registry.sync(first, at: 2_000)
            #expect(again.newListings.isEmpty && again.delisted.isEmpty && again.historyEvents == 0)
            #expect(again.updated == 250)
            known = try await registry.loadAll()
            #expect(known.count == 250)
            #expect(known.values.allSatisfy { !$0.isNew && $0.lastSeen == 2_000 && $0.firstSeen == 1_000 })
            #expect(try await registry.historyCount() == 250)

            // The next cycle: some delisted (set difference), some listed.
            let second = SimulatedExchange.listing(tokenCount: 250, cycle: 1)
            let listed = Set(second.map(\.symbol))
            let expectedDelisted = Set(first.map(\.symbol)).subtracting(listed)
            let expectedNew = listed.subtracting(first.map(\.symbol))
            #expect(!expectedDelisted.isEmpty && !expectedNew.isEmpty)
            let cycle = try await registry.sync(second, at: 3_000)
            #expect(Set(cycle.delisted) == expectedDelisted)
            #expect(Set(cycle.newListings) == expectedNew)
            known = try await registry.loadAll()
            for symbol in expectedDelisted {
                #expect(known[symbol]?.status == "delisted")
                #expect(registry.cache.value(for: symbol)?.status == "delisted")
            }
            for symbol in expectedNew { #expect(known[symbol]?.isNew == true) }
            #expect(try await registry.historyCount() == 250 + expectedDelisted.count + expectedNew.count)
        }
    }

    @Test(arguments: ExampleDatabases.kinds)
    func theNaiveSyncWritesTheSameRowsWithAStatementPerToken(_ kind: ExampleDatabases.Kind) async throws {
        let store = try await ExampleDatabases.open(kind)
        try await store.run { database in
            let registry = try TokenRegistry(database: database)
            try await registry.resetSchema()
            let listing = SimulatedExchange.listing(tokenCount: 120, cycle: 0)
            let naive = try await registry.naiveSync(listing, at: 1_000)
            let naiveRows = try await registry.loadAll()
            try await registry.resetSchema()
            let batched = try await registry.sync(listing, at: 1_000)
            let batchedRows = try await registry.loadAll()
            #expect(naiveRows == batchedRows)
            // 3 statements per new token (lookup, upsert, history) plus the delisting scan.
            #expect(naive.statements == 3 * 120 + 1)
            #expect(batched.statements == 5)
        }
    }
}
