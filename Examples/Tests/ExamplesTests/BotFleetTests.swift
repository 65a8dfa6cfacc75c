import BotFleetKit
import ExampleSupport
import SQLCore
import Testing

/// bot-fleet's core flow at a small size on both databases.
@Suite(.serialized) struct BotFleetTests {
    @Test(arguments: ExampleDatabases.kinds)
    func cyclesHitTheCacheUseTwoQueriesForPositionsAndPageTheHistory(_ kind: ExampleDatabases.Kind) async throws {
        let store = try await ExampleDatabases.open(kind)
        try await store.run { database in
            try await BotFleet.resetSchema(on: database)
            try await BotFleet.seed(bots: 10, positions: 5, trades: 150, on: database)
            let market = SimulatedMarket(latency: .milliseconds(1)...(.milliseconds(3)))
            let fleetStore = FleetStore(pooled: database)
            let fleet = try BotFleet(store: fleetStore, market: market)

            var pages: [TradePage] = []
            for iteration in 0..<10 {
                try await withThrowingTaskGroup(of: TradePage.self) { group in
                    for bot in 0..<10 { group.addTask { try await fleet.runCycle(bot: bot, iteration: iteration) } }
                    for try await page in group { pages.append(page) }
                }
            }
            // 100 cycles, 5 statements each whatever the number of positions: no N+1.
            #expect(fleetStore.statements == 100 * 5)
            #expect(fleet.cacheHitRatio > 0.7, "hit rate \(fleet.cacheHitRatio)")
            // Each bot recorded 10 trades on top of 150: 160 in 2 pages of at most 100.
            let last = try #require(pages.last)
            #expect(last.total == 160 && last.pages == 2 && last.limit == 100)
            #expect(pages.allSatisfy { $0.tradeIDs.count == ($0.page == 1 ? 100 : $0.total - 100) })
            let trades = try await database.query("SELECT count(*) FROM fleet_trades")[0].decode(Int.self, at: 0)
            #expect(trades == 10 * 160)
        }
    }

    @Test(arguments: ExampleDatabases.kinds)
    func theNaiveCycleReadsOneSnapshotQueryPerPosition(_ kind: ExampleDatabases.Kind) async throws {
        let store = try await ExampleDatabases.open(kind)
        try await store.run { database in
            try await BotFleet.resetSchema(on: database)
            try await BotFleet.seed(bots: 2, positions: 7, trades: 10, on: database)
            let fleetStore = FleetStore(pooled: database)
            let fleet = try BotFleet(
                store: fleetStore, market: SimulatedMarket(latency: .zero...(.zero)), caching: false, readsOnePositionAtATime: true)
            _ = try await fleet.runCycle(bot: 1, iteration: 0)
            // positions + 7 snapshot queries + trade + count + page.
            #expect(fleetStore.statements == 1 + 7 + 3)
            #expect(fleet.cacheHitRatio == 0)
        }
    }

    @Test func pageLimitsDefaultToOneHundredAndStopAtOneThousand() {
        #expect(TradePage.clampedLimit(nil) == 100)
        #expect(TradePage.clampedLimit(5_000) == 1_000)
        #expect(TradePage.clampedLimit(0) == 1)
        #expect(TradePage.clampedLimit(250) == 250)
    }
}
