import Foundation
public import SQLCore
import Testing

/// The checks every `SQLDatabase` backend must pass, run against a real database.
///
/// A backend's test suite creates one and calls each check from its own `@Test`, so a failure
/// names the behaviour that broke:
///
/// ```swift
/// @Test func roundTripsEveryValue() async throws {
///     try await SQLDatabaseConformance(database: try await makeDatabase()).roundTripsEveryValue()
/// }
/// ```
///
/// Each check creates its own table with a unique name and drops it afterwards, so checks can
/// run in parallel against one database.
public struct SQLDatabaseConformance: Sendable {
    /// The database under test.
    public let database: any SQLDatabase

    /// Creates the suite for a database.
    public init(database: any SQLDatabase) {
        self.database = database
    }

    /// Every `SQLValue` case goes in as a bind and comes back as the same Swift value.
    public func roundTripsEveryValue() async throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000.123456)
        let uuid = UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!
        let text = "Ünïcødé ✓ 'quoted' \"double\" ; DROP TABLE x; --"
        let json = #"{"a": [1, 2], "b": "c"}"#
        let blob: [UInt8] = [0, 1, 2, 127, 128, 254, 255]

        try await withTable(
            columns: [
                ("b", .bool), ("i", .int64), ("d", .double), ("t", .text), ("x", .blob),
                ("ts", .date), ("u", .uuid), ("j", .json), ("n", .int64),
            ]
        ) { table in
            let inserted = try await database.execute(
                """
                INSERT INTO \(identifier: table) (b, i, d, t, x, ts, u, j, n)
                VALUES (\(SQLValue.bool(true)), \(SQLValue.int64(.min)), \(SQLValue.double(-1.5e300)),
                        \(SQLValue.text(text)), \(SQLValue.blob(blob)), \(SQLValue.date(date)),
                        \(SQLValue.uuid(uuid)), \(SQLValue.json(json)), \(SQLValue.null))
                """)
            #expect(inserted == 1)
            _ = try await database.execute(
                """
                INSERT INTO \(identifier: table) (b, i, d, t, x, ts, u, j, n)
                VALUES (\(false), \(Int64.max), \(0.1), \(""), \([UInt8]()), \(Date(timeIntervalSince1970: 0)),
                        \(UUID?.none), \(String?.none), \(Int?.none))
                """)

            let rows = try await database.query("SELECT b, i, d, t, x, ts, u, j, n FROM \(identifier: table) ORDER BY i")
            try #require(rows.count == 2)
            let first = rows[0]
            #expect(try first.decode(Bool.self, "b") == true)
            #expect(try first.decode(Int64.self, "i") == .min)
            #expect(try first.decode(Double.self, "d") == -1.5e300)
            #expect(try first.decode(String.self, "t") == text)
            #expect(try first.decode([UInt8].self, "x") == blob)
            let decodedDate = try first.decode(Date.self, "ts")
            #expect(abs(decodedDate.timeIntervalSince(date)) < 0.000_001, "timestamps keep microseconds")
            #expect(try first.decode(UUID.self, "u") == uuid)
            #expect(try JSONObject(first.decode(String.self, "j")) == JSONObject(json))
            #expect(try first.decode(Int?.self, "n") == nil)
            #expect(first["n"] == .null)

            let second = rows[1]
            #expect(try second.decode(Bool.self, "b") == false)
            #expect(try second.decode(Int64.self, "i") == .max)
            #expect(try second.decode(Double.self, "d") == 0.1)
            #expect(try second.decode(String.self, "t") == "")
            #expect(try second.decode([UInt8].self, "x") == [])
            #expect(try second.decode(Date.self, "ts") == Date(timeIntervalSince1970: 0))
            #expect(try second.decode(UUID?.self, "u") == nil)
            #expect(try second.decode(String?.self, "j") == nil)
        }
    }

    /// `execute` returns the rows an insert, update or delete affected, and 0 for DDL.
    public func reportsRowsAffected() async throws {
        try await withTable(columns: [("id", .int64), ("name", .text)]) { table in
            let inserted = try await database.execute(
                "INSERT INTO \(identifier: table) (id, name) VALUES (\(1), \("a")), (\(2), \("b")), (\(3), \("c"))")
            #expect(inserted == 3)
            let updated = try await database.execute("UPDATE \(identifier: table) SET name = \("z") WHERE id >= \(2)")
            #expect(updated == 2)
            let updatedNone = try await database.execute("UPDATE \(identifier: table) SET name = \("z") WHERE id > \(100)")
            #expect(updatedNone == 0)
            let deleted = try await database.execute("DELETE FROM \(identifier: table) WHERE id = \(1)")
            #expect(deleted == 1)
            #expect(try await count(table) == 2)
        }
    }

    /// A transaction commits its changes when the body returns and hands back its result.
    public func commitsOnReturn() async throws {
        try await withTable(columns: [("id", .int64)]) { table in
            let result = try await database.transaction { db in
                try await db.execute("INSERT INTO \(identifier: table) (id) VALUES (\(1)), (\(2))")
            }
            #expect(result == 2)
            #expect(try await count(table) == 2)
        }
    }

    /// A transaction rolls back when the body throws, and rethrows the body's error.
    public func rollsBackOnThrow() async throws {
        struct Boom: Error, Equatable {}
        try await withTable(columns: [("id", .int64)]) { table in
            await #expect(throws: Boom.self) {
                try await database.transaction { db in
                    try await db.execute("INSERT INTO \(identifier: table) (id) VALUES (\(1))")
                    throw Boom()
                }
            }
            #expect(try await count(table) == 0)
            // The connection is usable afterwards, outside any transaction.
            _ = try await database.execute("INSERT INTO \(identifier: table) (id) VALUES (\(2))")
            #expect(try await count(table) == 1)
        }
    }

    /// A transaction whose task is cancelled while the body waits rolls back and throws
    /// `CancellationError`.
    public func rollsBackOnCancellation() async throws {
        try await withTable(columns: [("id", .int64)]) { table in
            let (inserted, insertedContinuation) = AsyncStream<Void>.makeStream()
            let database = database
            let task = Task {
                try await database.transaction { db in
                    try await db.execute("INSERT INTO \(identifier: table) (id) VALUES (\(1))")
                    insertedContinuation.yield()
                    // Waits for the cancellation: the stream ends when its task is cancelled.
                    let (never, neverContinuation) = AsyncStream<Void>.makeStream()
                    for await _ in never {}
                    neverContinuation.finish()
                    try Task.checkCancellation()
                }
            }
            for await _ in inserted { break }
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            let remaining = try await count(table)
            #expect(remaining == 0, "the cancelled transaction's insert was rolled back")
        }
    }

    /// A transaction on the database a transaction body receives is a savepoint: a failing inner
    /// transaction rolls back only its own changes, a successful one commits with the outer one.
    public func nestsTransactionsAsSavepoints() async throws {
        struct Boom: Error {}
        try await withTable(columns: [("id", .int64)]) { table in
            try await database.transaction { db in
                try await db.execute("INSERT INTO \(identifier: table) (id) VALUES (\(1))")
                await #expect(throws: Boom.self) {
                    try await db.transaction { inner in
                        try await inner.execute("INSERT INTO \(identifier: table) (id) VALUES (\(2))")
                        throw Boom()
                    }
                }
                try await db.transaction { inner in
                    try await inner.execute("INSERT INTO \(identifier: table) (id) VALUES (\(3))")
                }
            }
            let ids = try await database.query("SELECT id FROM \(identifier: table) ORDER BY id")
                .map { try $0.decode(Int.self, "id") }
            #expect(ids == [1, 3])
        }
    }

    /// A database error (here a unique violation) says what happened without the bind values.
    public func keepsBindValuesOutOfErrors() async throws {
        let secret = "s3cr3t-\(UUID().uuidString)"
        try await withTable(columns: [("token", .text)], constraints: "UNIQUE (token)") { table in
            _ = try await database.execute("INSERT INTO \(identifier: table) (token) VALUES (\(secret))")
            do {
                _ = try await database.execute("INSERT INTO \(identifier: table) (token) VALUES (\(secret))")
                Issue.record("a duplicate insert into a UNIQUE column must fail")
            } catch {
                #expect(!String(describing: error).contains(secret))
                #expect(!String(reflecting: error).contains(secret))
                #expect(!error.localizedDescription.contains(secret))
            }
        }
    }

    /// Runs every check in turn.
    public func runAll() async throws {
        try await roundTripsEveryValue()
        try await reportsRowsAffected()
        try await commitsOnReturn()
        try await rollsBackOnThrow()
        try await rollsBackOnCancellation()
        try await nestsTransactionsAsSavepoints()
        try await keepsBindValuesOutOfErrors()
    }

    // MARK: Helpers

    private func count(_ table: String) async throws -> Int {
        let rows = try await database.query("SELECT COUNT(*) AS n FROM \(identifier: table)")
        return try rows[0].decode(Int.self, "n")
    }

    private func withTable(
        columns: [(name: String, kind: ColumnKind)],
        constraints: String? = nil,
        _ body: (String) async throws -> Void
    ) async throws {
        let table = "keel_conformance_\(UUID().uuidString.prefix(8).lowercased())"
        var definition = columns.map { "\($0.name) \($0.kind.typeName(in: database.dialect))" }
        if let constraints { definition.append(constraints) }
        _ = try await database.execute("CREATE TABLE \(identifier: table) (\(unsafeRaw: definition.joined(separator: ", ")))")
        do {
            try await body(table)
        } catch {
            _ = try? await database.execute("DROP TABLE \(identifier: table)")
            throw error
        }
        _ = try await database.execute("DROP TABLE \(identifier: table)")
    }
}

/// A column type of the conformance tables, named per dialect.
enum ColumnKind {
    case bool, int64, double, text, blob, date, uuid, json

    func typeName(in dialect: SQLDialect) -> String {
        guard dialect.name == "postgres" else {
            // SQLite: declared types only give affinity; BLOB affinity stores values as bound.
            return switch self {
            case .int64, .bool: "INTEGER"
            case .double: "REAL"
            case .text, .date, .uuid, .json: "TEXT"
            case .blob: "BLOB"
            }
        }
        return switch self {
        case .bool: "BOOLEAN"
        case .int64: "BIGINT"
        case .double: "DOUBLE PRECISION"
        case .text: "TEXT"
        case .blob: "BYTEA"
        case .date: "TIMESTAMPTZ"
        case .uuid: "UUID"
        case .json: "JSONB"
        }
    }
}

/// A JSON document compared by meaning, not by whitespace or key order.
struct JSONObject: Equatable {
    let value: NSObject

    init(_ text: String) throws {
        value = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! NSObject
    }
}
