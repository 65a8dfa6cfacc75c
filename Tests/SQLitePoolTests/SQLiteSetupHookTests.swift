import Foundation
import KeelCore
import SQLCore
import KeelTesting
import SQLitePool
import Testing

/// The connection set-up hook: `setupSQL` and `onConnect` run on every connection before use.
@Suite struct SQLiteSetupHookTests {
    struct HookFailure: Error {}

    @Test func setupSQLAndOnConnectRunOnTheWriterAndEveryReader() async throws {
        let kinds = Locked<[Bool]>([])
        var configuration = SQLiteConfiguration(path: try TestDatabaseEnvironment.temporarySQLitePath())
        configuration.readerCount = 3
        configuration.setupSQL = ["PRAGMA temp_store = MEMORY"]
        configuration.onConnect = { connection in
            // The hook runs after setupSQL, on the connection itself.
            let store = try connection.query("PRAGMA temp_store")[0][0]
            guard store == .int64(2) else { throw HookFailure() }
            kinds.withLock { $0.append(connection.isReader) }
        }
        let database = try await SQLiteDatabase(configuration: configuration)
        // The writer first, then three readers.
        #expect(kinds.withLock { $0 }.count == 4)
        #expect(kinds.withLock { $0 }.first == false)
        #expect(kinds.withLock { $0 }.filter { $0 }.count == 3)
        let store = try await database.read { try $0.query("PRAGMA temp_store")[0][0] }
        #expect(store == .int64(2))
        await database.close()
    }

    @Test func aThrowingHookFailsTheOpeningAndLeavesNoConnectionOpen() async throws {
        let calls = Locked(0)
        var configuration = SQLiteConfiguration(path: try TestDatabaseEnvironment.temporarySQLitePath())
        configuration.readerCount = 2
        configuration.onConnect = { connection in
            calls.withLock { $0 += 1 }
            if connection.isReader { throw HookFailure() }
        }
        await #expect(throws: HookFailure.self) { try await SQLiteDatabase(configuration: configuration) }
        #expect(calls.withLock { $0 } >= 2)
        // Every connection was closed: the file opens again, without the hook.
        configuration.onConnect = nil
        let database = try await SQLiteDatabase(configuration: configuration)
        #expect(try await database.query("SELECT 1 AS one")[0]["one"] == .int64(1))
        await database.close()
    }
}
