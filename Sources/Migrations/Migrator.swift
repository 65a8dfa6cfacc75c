import Foundation
public import SQLCore

/// Brings a database's schema up to date: applies, in order of version, the steps the database
/// has not recorded yet, and records each in a table of its own.
///
/// ```swift
/// let migrator = try Migrator([
///     Migration(version: 1, name: "create tokens", statements: [
///         "CREATE TABLE tokens (symbol TEXT PRIMARY KEY, price DOUBLE PRECISION)",
///     ]),
///     Migration(version: 2, name: "index prices", statements: [
///         "CREATE INDEX tokens_price ON tokens (price)",
///     ]),
/// ])
/// let report = try await migrator.migrate(database)   // any SQLDatabase
/// print(report)                                       // applied 2 steps (1, 2), 0 already applied
/// ```
///
/// ## One run, one transaction
/// A run is one transaction on the database: the pending steps all commit together, or, when one
/// fails, none does and the error names it (``MigrationError/Code/stepFailed``). Both PostgreSQL
/// and SQLite run schema changes in transactions. Statements that cannot run inside one
/// (`CREATE INDEX CONCURRENTLY`, `VACUUM`) do not belong in a step.
///
/// ## Concurrent migrators
/// Several processes may start at once and each run the migrator: the runs take turns. On
/// PostgreSQL a run first takes a transaction-level advisory lock (`pg_advisory_xact_lock`, keyed
/// by the table's name); on SQLite the transaction begins with `BEGIN IMMEDIATE`, which takes the
/// write lock. The second run then finds the steps recorded and applies nothing.
///
/// ## Checks
/// Before anything runs, every recorded step is compared with the migrator's: a step whose
/// checksum changed is ``MigrationError/Code/changedAfterApplied``, a recorded version the
/// migrator does not have (below its newest) is ``MigrationError/Code/missingFromCode``. Recorded
/// versions above the newest step come from newer code (a rolling deploy) and are left alone.
public struct Migrator: Sendable {
    /// The steps, in ascending order of version.
    public let steps: [Migration]
    /// The table the applied steps are recorded in. Default `keel_schema_migrations`.
    public let table: String

    /// A migrator for `steps`, in any order.
    ///
    /// #### Errors
    /// ``MigrationError`` (``MigrationError/Code/invalidSteps``) when a version is not positive or
    /// appears twice, a name is empty, or the table name is empty.
    public init(_ steps: [Migration], table: String = "keel_schema_migrations") throws(MigrationError) {
        guard !table.isEmpty else {
            throw MigrationError(code: .invalidSteps, version: nil, message: "the migrations table's name is empty")
        }
        let sorted = steps.sorted { $0.version < $1.version }
        var previous: Int?
        for step in sorted {
            guard step.version > 0 else {
                throw MigrationError(
                    code: .invalidSteps, version: step.version,
                    message: "step \"\(step.name)\" has version \(step.version): versions start at 1")
            }
            guard !step.name.isEmpty else {
                throw MigrationError(code: .invalidSteps, version: step.version, message: "step \(step.version) has no name")
            }
            if previous == step.version {
                throw MigrationError(
                    code: .invalidSteps, version: step.version, message: "two steps have version \(step.version)")
            }
            previous = step.version
        }
        self.steps = sorted
        self.table = table
    }

    /// The steps to apply to a database that records `applied`, after checking the records.
    ///
    /// #### Errors
    /// ``MigrationError`` (``MigrationError/Code/changedAfterApplied``,
    /// ``MigrationError/Code/missingFromCode``), or one with ``MigrationError/Code/invalidSteps``
    /// when a step does not render for `dialect`.
    public func plan(applied: [AppliedMigration], dialect: SQLDialect) throws(MigrationError) -> [Migration] {
        let newest = steps.last?.version ?? 0
        let byVersion = Dictionary(steps.map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
        var done = Set<Int>()
        for record in applied where record.version <= newest {
            guard let step = byVersion[record.version] else {
                throw MigrationError(
                    code: .missingFromCode, version: record.version,
                    message: "the database records step \(record.version) (\"\(record.name)\"), which this migrator does not have")
            }
            guard try checksum(of: step, for: dialect) == record.checksum else {
                throw MigrationError(
                    code: .changedAfterApplied, version: step.version,
                    message: "step \(step.version) (\"\(step.name)\") was changed after it was applied: restore it and add a new step instead")
            }
            done.insert(record.version)
        }
        return steps.filter { !done.contains($0.version) }
    }

    /// Applies the steps `database` has not recorded, in one transaction.
    ///
    /// #### Errors
    /// ``MigrationError`` for a changed, missing or failing step; the database's error when the
    /// migrations table cannot be read or written; `CancellationError`. Nothing is applied then.
    @discardableResult
    public func migrate(_ database: any SQLDatabase) async throws -> MigrationReport {
        try await database.transaction { db in
            if db.dialect.supports(.transactionAdvisoryLocks) {
                try await db.execute("SELECT pg_advisory_xact_lock(\(lockKey))")
                // `CREATE TABLE IF NOT EXISTS` would log a NOTICE on every run once the table exists.
                try await db.execute("SET LOCAL client_min_messages = warning")
            }
            try await db.execute(createTableStatement)
            let records = try await appliedSteps(in: db)
            let pending = try plan(applied: records, dialect: db.dialect)
            let newest = steps.last?.version ?? 0
            for step in pending {
                let checksum = try checksum(of: step, for: db.dialect)
                for statement in step.statements(for: db.dialect) {
                    do {
                        try await db.execute(statement)
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        throw MigrationError(
                            code: .stepFailed, version: step.version,
                            message: "step \(step.version) (\"\(step.name)\") failed; nothing of this run was applied",
                            underlying: String(describing: error))
                    }
                }
                let appliedAt = Int64((Date().timeIntervalSince1970 * 1000).rounded())
                try await db.execute("""
                    INSERT INTO \(identifier: table) (version, name, checksum, applied_at_ms)
                    VALUES (\(step.version), \(step.name), \(checksum), \(appliedAt))
                    """)
            }
            return MigrationReport(
                applied: pending.map(\.version),
                alreadyApplied: steps.count - pending.count,
                newerInDatabase: records.map(\.version).filter { $0 > newest })
        }
    }

    /// The steps `database` records as applied, in order of version. Creates the (empty)
    /// migrations table when it does not exist yet, so it runs as a write.
    ///
    /// #### Errors
    /// The database's error, or `CancellationError`.
    public func applied(on database: any SQLDatabase) async throws -> [AppliedMigration] {
        try await database.transaction { db in
            try await db.execute(createTableStatement)
            return try await appliedSteps(in: db)
        }
    }

    private var createTableStatement: SQLStatement {
        """
        CREATE TABLE IF NOT EXISTS \(identifier: table) (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at_ms BIGINT NOT NULL
        )
        """
    }

    private func appliedSteps(in database: any SQLDatabase) async throws -> [AppliedMigration] {
        try await database.query("SELECT version, name, checksum FROM \(identifier: table) ORDER BY version").map { row in
            AppliedMigration(
                version: try row.decode(Int.self, "version"), name: try row.decode(String.self, "name"),
                checksum: try row.decode(String.self, "checksum"))
        }
    }

    private func checksum(of step: Migration, for dialect: SQLDialect) throws(MigrationError) -> String {
        do {
            return try step.checksum(for: dialect)
        } catch {
            throw MigrationError(
                code: .invalidSteps, version: step.version,
                message: "step \(step.version) (\"\(step.name)\") does not render for \(dialect): \(error.message)")
        }
    }

    /// The advisory lock's key on PostgreSQL: a hash of the table's name, so migrators of different
    /// tables do not wait for each other.
    private var lockKey: Int64 {
        var hash = FNV1a()
        hash.mix("keel.migrations.\(table)")
        return Int64(bitPattern: hash.value)
    }
}
