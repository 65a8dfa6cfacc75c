import Foundation
import Migrations
import SQLBackendTestSupport
import SQLCore
import SQLitePool
import KeelTesting
import Testing

@Suite struct MigrationPlanTests {
    let steps = [
        Migration(version: 2, name: "add price", statements: ["ALTER TABLE t ADD COLUMN price REAL"]),
        Migration(version: 1, name: "create t", statements: ["CREATE TABLE t (id BIGINT PRIMARY KEY)"]),
    ]

    func record(_ step: Migration) throws -> AppliedMigration {
        AppliedMigration(version: step.version, name: step.name, checksum: try step.checksum(for: .postgres))
    }

    @Test func stepsRunInOrderOfVersionAndAppliedOnesAreSkipped() throws {
        let migrator = try Migrator(steps)
        #expect(migrator.steps.map(\.version) == [1, 2])
        #expect(try migrator.plan(applied: [], dialect: .postgres).map(\.version) == [1, 2])
        #expect(try migrator.plan(applied: [record(migrator.steps[0])], dialect: .postgres).map(\.version) == [2])
        #expect(try migrator.plan(applied: migrator.steps.map(record), dialect: .postgres).isEmpty)
    }

    @Test func badStepsAreRefusedWhenTheMigratorIsMade() {
        let duplicate = Migration(version: 1, name: "again", statements: ["SELECT 1"])
        #expect(throws: MigrationError.self) { try Migrator(steps + [duplicate]) }
        let zero = Migration(version: 0, name: "zero", statements: ["SELECT 1"])
        let error = #expect(throws: MigrationError.self) { try Migrator([zero]) }
        #expect(error?.code == .invalidSteps)
        #expect(error?.version == 0)
        #expect(throws: MigrationError.self) { try Migrator([Migration(version: 1, name: "", statements: [])]) }
    }

    @Test func aChangedAppliedStepIsAnError() throws {
        let migrator = try Migrator(steps)
        let edited = AppliedMigration(version: 1, name: "create t", checksum: "0000000000000000")
        let error = #expect(throws: MigrationError.self) { try migrator.plan(applied: [edited], dialect: .postgres) }
        #expect(error?.code == .changedAfterApplied)
        #expect(error?.version == 1)
    }

    @Test func aRecordedStepTheCodeLacksIsAnErrorUnlessItIsNewer() throws {
        let migrator = try Migrator([steps[1], Migration(version: 3, name: "three", statements: ["SELECT 1"])])
        let missing = try record(steps[0])   // version 2, below the newest (3)
        let error = #expect(throws: MigrationError.self) {
            try migrator.plan(applied: [try record(migrator.steps[0]), missing], dialect: .postgres)
        }
        #expect(error?.code == .missingFromCode)
        let newer = AppliedMigration(version: 9, name: "from newer code", checksum: "x")
        #expect(try migrator.plan(applied: [try record(migrator.steps[0]), newer], dialect: .postgres).map(\.version) == [3])
    }

    @Test func theChecksumFollowsTheSQLTheNameAndTheVersion() throws {
        let base = Migration(version: 1, name: "a", statements: ["CREATE TABLE t (id INT)"])
        let checksum = try base.checksum(for: .postgres)
        #expect(checksum.count == 16)
        #expect(try Migration(version: 1, name: "a", statements: ["CREATE TABLE t (id INT)"]).checksum(for: .postgres) == checksum)
        #expect(try Migration(version: 1, name: "a", statements: ["CREATE TABLE t (id BIGINT)"]).checksum(for: .postgres) != checksum)
        #expect(try Migration(version: 1, name: "b", statements: ["CREATE TABLE t (id INT)"]).checksum(for: .postgres) != checksum)
        #expect(try Migration(version: 2, name: "a", statements: ["CREATE TABLE t (id INT)"]).checksum(for: .postgres) != checksum)
    }
}

@Suite(.serialized) struct MigratorTests {
    func steps(_ table: String) -> [Migration] {
        [
            Migration(version: 1, name: "create", statements: ["CREATE TABLE \(identifier: table) (id BIGINT PRIMARY KEY)"]),
            Migration(version: 2, name: "add name") { dialect in
                let type: SQLStatement = dialect.name == SQLDialect.postgres.name ? "VARCHAR(40)" : "TEXT"
                return ["ALTER TABLE \(identifier: table) ADD COLUMN name \(type)"]
            },
        ]
    }

    @Test(arguments: Backend.available)
    func migratingTwiceAppliesEachStepOnce(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            let migrator = try Migrator(steps(table), table: table + "_migrations")
            let first = try await migrator.migrate(database)
            #expect(first.applied == [1, 2])
            #expect(first.alreadyApplied == 0)
            try await database.execute("INSERT INTO \(identifier: table) (id, name) VALUES (\(1), \("one"))")
            let second = try await migrator.migrate(database)
            #expect(second.applied == [])
            #expect(second.alreadyApplied == 2)
            let recorded = try await migrator.applied(on: database)
            #expect(recorded.map(\.version) == [1, 2])
            #expect(recorded.map(\.name) == ["create", "add name"])
            #expect(try await database.query("SELECT name FROM \(identifier: table)")[0].decode(String.self, "name") == "one")
            try await database.execute("DROP TABLE \(identifier: table + "_migrations")")
        }
    }

    @Test(arguments: Backend.available)
    func aFailingStepLeavesNothingOfTheRunApplied(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            let migrations = table + "_migrations"
            let broken = steps(table) + [Migration(version: 3, name: "broken", statements: ["ALTER TABLE no_such_table_at_all ADD COLUMN x INT"])]
            let error = await #expect(throws: MigrationError.self) { try await Migrator(broken, table: migrations).migrate(database) }
            #expect(error?.code == .stepFailed)
            #expect(error?.version == 3)
            #expect(error?.underlying != nil)
            // Steps 1 and 2 rolled back with it: the table does not exist and nothing is recorded.
            await #expect(throws: (any Error).self) { try await database.query("SELECT id FROM \(identifier: table)") }
            #expect(try await Migrator(steps(table), table: migrations).applied(on: database).isEmpty)
            // The good steps alone then apply.
            #expect(try await Migrator(steps(table), table: migrations).migrate(database).applied == [1, 2])
            try await database.execute("DROP TABLE \(identifier: migrations)")
        }
    }

    @Test(arguments: Backend.available)
    func anEditedAppliedStepIsRefusedBeforeAnythingRuns(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            let migrations = table + "_migrations"
            try await Migrator(Array(steps(table).prefix(1)), table: migrations).migrate(database)
            var edited = steps(table)
            edited[0] = Migration(version: 1, name: "create", statements: ["CREATE TABLE \(identifier: table) (id INT PRIMARY KEY)"])
            let error = await #expect(throws: MigrationError.self) { try await Migrator(edited, table: migrations).migrate(database) }
            #expect(error?.code == .changedAfterApplied)
            #expect(try await Migrator(steps(table), table: migrations).applied(on: database).map(\.version) == [1])
            try await database.execute("DROP TABLE \(identifier: migrations)")
        }
    }

    @Test(arguments: Backend.available)
    func concurrentMigratorsTakeTurns(_ backend: Backend) async throws {
        try await backend.withDatabase { database, table in
            let migrations = table + "_migrations"
            let migrator = try Migrator(steps(table), table: migrations)
            let reports = try await withThrowingTaskGroup(of: MigrationReport.self) { group in
                for _ in 0..<8 { group.addTask { try await migrator.migrate(database) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // Exactly one run applied the steps; the others found them recorded.
            #expect(reports.filter { $0.applied == [1, 2] }.count == 1)
            #expect(reports.filter { $0.applied.isEmpty && $0.alreadyApplied == 2 }.count == 7)
            try await database.execute("DROP TABLE \(identifier: migrations)")
        }
    }

    @Test func migratorsInTwoDatabasesOnOneSQLiteFileTakeTurns() async throws {
        // Two SQLiteDatabase instances are two writers on one file, as two processes would be.
        let path = try TestDatabaseEnvironment.temporarySQLitePath()
        let first = try await SQLiteDatabase(path: path)
        let second = try await SQLiteDatabase(path: path)
        let migrator = try Migrator(steps("t"))
        async let a = migrator.migrate(first)
        async let b = migrator.migrate(second)
        let reports = try await [a, b]
        #expect(reports.map(\.applied.count).sorted() == [0, 2])
        #expect(try await migrator.applied(on: second).map(\.version) == [1, 2])
        await first.close()
        await second.close()
    }
}
