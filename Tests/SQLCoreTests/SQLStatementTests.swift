import Foundation
import SQLCore
import Testing

@Suite struct SQLStatementTests {
    @Test func interpolatedValuesBecomeBindsAndNeverText() throws {
        let symbol = "BTC'; DROP TABLE tokens; --"
        let statement: SQLStatement = "SELECT * FROM tokens WHERE symbol = \(symbol) AND price > \(42.5) AND id = \(7)"
        let postgres = try statement.render(for: .postgres)
        #expect(postgres.sql == "SELECT * FROM tokens WHERE symbol = $1 AND price > $2 AND id = $3")
        #expect(postgres.binds == [.text(symbol), .double(42.5), .int64(7)])
        #expect(!postgres.sql.contains("BTC"))
        #expect(!postgres.sql.contains("42.5"))

        let sqlite = try statement.render(for: .sqlite(versionNumber: 3_040_001))
        #expect(sqlite.sql == "SELECT * FROM tokens WHERE symbol = ? AND price > ? AND id = ?")
        #expect(sqlite.binds == postgres.binds)
    }

    @Test func everySQLValueCaseTravelsAsABind() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000.5)
        let uuid = UUID()
        let values: [SQLValue] = [
            .null, .bool(true), .int64(-9), .double(2.5), .text("hello"), .blob([1, 2, 3]),
            .date(date), .uuid(uuid), .json(#"{"k":1}"#),
        ]
        var statement: SQLStatement = "INSERT INTO t VALUES ("
        for (index, value) in values.enumerated() {
            if index > 0 { statement.append(unsafeRaw: ", ") }
            statement.append(bind: value)
        }
        statement.append(unsafeRaw: ")")
        let rendered = try statement.render(for: .postgres)
        #expect(rendered.sql == "INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        #expect(rendered.binds == values)

        let typed: SQLStatement = """
            VALUES (\(true), \(Int64(-9)), \(Int32(3)), \(Int(4)), \(2.5), \("hello"), \([UInt8]([1, 2, 3])), \
            \(Data([4, 5])), \(date), \(uuid), \(String?.none), \(Int?.some(5)), \(SQLValue.json("[]")))
            """
        #expect(
            typed.binds == [
                .bool(true), .int64(-9), .int64(3), .int64(4), .double(2.5), .text("hello"), .blob([1, 2, 3]),
                .blob([4, 5]), .date(date), .uuid(uuid), .null, .int64(5), .json("[]"),
            ])
        #expect(try typed.render(for: .postgres).sql.contains("hello") == false)
    }

    @Test func fragmentsComposeWithBindsRenumbered() throws {
        let filter: SQLStatement = "active = \(true) AND venue = \("okx")"
        let statement: SQLStatement = "SELECT id FROM t WHERE id > \(10) AND \(filter) LIMIT \(5)"
        let rendered = try statement.render(for: .postgres)
        #expect(rendered.sql == "SELECT id FROM t WHERE id > $1 AND active = $2 AND venue = $3 LIMIT $4")
        #expect(rendered.binds == [.int64(10), .bool(true), .text("okx"), .int64(5)])

        let joined = [filter, "id = \(1)" as SQLStatement].joined(separator: " OR ")
        #expect(try joined.render(for: .postgres).sql == "active = $1 AND venue = $2 OR id = $3")
        #expect(try (filter + " LIMIT \(2)").render(for: .postgres).binds.count == 3)
    }

    @Test func placeholdersAreNumberedPastOneAndTwoDigits() throws {
        let values = Array(0..<120)
        let statement: SQLStatement = "VALUES (\(list: values))"
        let rendered = try statement.render(for: .postgres)
        let expected = "VALUES (" + (1...120).map { "$\($0)" }.joined(separator: ", ") + ")"
        #expect(rendered.sql == expected)
        #expect(rendered.binds == values.map { .int64(Int64($0)) })
        #expect(statement.bindCount == 120)
    }

    @Test func listsAndIdentifierListsAreCommaSeparated() throws {
        let ids = [3, 1, 2]
        let statement: SQLStatement = "INSERT INTO \(identifier: "t") (\(identifiers: ["a", "b c"])) SELECT * FROM u WHERE id IN (\(list: ids))"
        let rendered = try statement.render(for: .postgres)
        #expect(rendered.sql == #"INSERT INTO "t" ("a", "b c") SELECT * FROM u WHERE id IN ($1, $2, $3)"#)
        #expect(rendered.binds == [.int64(3), .int64(1), .int64(2)])
    }

    @Test(arguments: [
        ("a\"b", #""a""b""#),
        ("select", #""select""#),
        ("my column", #""my column""#),
        ("MixedCase", #""MixedCase""#),
        ("ünï", #""ünï""#),
    ])
    func identifiersAreQuoted(name: String, quoted: String) throws {
        #expect(try SQLDialect.postgres.quoteIdentifier(name) == quoted)
        #expect(try SQLDialect.sqlite(versionNumber: 3_040_001).quoteIdentifier(name) == quoted)
        let statement: SQLStatement = "SELECT \(identifier: name) FROM t"
        #expect(try statement.render(for: .postgres).sql == "SELECT \(quoted) FROM t")
    }

    @Test func identifierWithNULIsRejected() {
        let name = "bad\u{0}name"
        #expect {
            try SQLDialect.postgres.quoteIdentifier(name)
        } throws: { error in
            (error as? SQLStatementError)?.code == .invalidIdentifier
        }
        let statement: SQLStatement = "SELECT * FROM \(identifier: name) WHERE id = \(1)"
        #expect {
            try statement.render(for: .postgres)
        } throws: { error in
            let error = error as? SQLStatementError
            return error?.code == .invalidIdentifier && error?.message.contains("NUL") == true
        }
    }

    @Test func emptyAndOverlongIdentifiersAreRejected() throws {
        #expect(throws: SQLStatementError.self) { try SQLDialect.postgres.quoteIdentifier("") }
        let long = String(repeating: "x", count: 64)
        #expect(throws: SQLStatementError.self) { try SQLDialect.postgres.quoteIdentifier(long) }
        let statement: SQLStatement = "SELECT \(identifier: long)"
        #expect(throws: SQLStatementError.self) { try statement.render(for: .postgres) }
        // SQLite has no such limit.
        #expect(try statement.render(for: .sqlite(versionNumber: 3_040_001)).sql == "SELECT \"\(long)\"")
    }

    @Test func tooManyBindsIsAClearError() throws {
        let dialect = SQLDialect.sqlite(versionNumber: 3_031_000)
        #expect(dialect.maxBindParameters == 999)
        var statement: SQLStatement = "VALUES (\(list: Array(0..<999)))"
        #expect(try statement.render(for: dialect).binds.count == 999)
        statement.append(", \(1000)")
        #expect {
            try statement.render(for: dialect)
        } throws: { error in
            let error = error as? SQLStatementError
            return error?.code == .tooManyBinds && error?.message.contains("1000 binds") == true
        }
    }

    @Test func descriptionShowsPlaceholdersNeverValues() {
        let password = "hunter2-secret"
        let statement: SQLStatement = "UPDATE users SET password = \(password) WHERE id = \(1)"
        #expect(statement.description == "UPDATE users SET password = $1 WHERE id = $2 [2 binds]")
        #expect(!String(reflecting: statement).contains(password))
        #expect(!"\(statement.binds)".contains(password))
        #expect(!(try! statement.render(for: .postgres)).description.contains(password))
    }

    @Test func literalOnlyStatementHasNoBinds() throws {
        let statement: SQLStatement = "SELECT 1"
        #expect(statement.binds.isEmpty)
        #expect(try statement.render(for: .postgres).sql == "SELECT 1")
        #expect(SQLStatement().isEmpty)
    }

    /// Statements share a shape exactly when they render to the same SQL, whatever their values.
    @Test func shapesMatchWhenTheSQLIsTheSame() throws {
        func insert(_ a: Int, _ b: String) -> SQLStatement { "INSERT INTO t (a, b) VALUES (\(a), \(b))" }
        let shape = insert(1, "x").shape
        #expect(insert(2, "a much longer text than before").hasShape(shape))
        // The same text with the bind in another place renders to other SQL.
        var moved = SQLStatement(unsafeRaw: "SELECT ")
        moved.append(unsafeRaw: " AS v")
        moved.append(bind: 1)
        let first: SQLStatement = "SELECT \(1) AS v"
        #expect(try first.render(for: .postgres).sql != moved.render(for: .postgres).sql)
        #expect(!moved.hasShape(first.shape))
        #expect(!first.hasShape(moved.shape))
        // Other text, or another number of binds.
        #expect(!SQLStatement("INSERT INTO u (a, b) VALUES (\(1), \("x"))").hasShape(shape))
        #expect(!SQLStatement("INSERT INTO t (a, b) VALUES (\(1), \("x")\(2))").hasShape(shape))
    }

    /// `forEachBind` gives every bind in order with its position, as `binds` has them.
    @Test func forEachBindVisitsTheBindsInOrder() {
        let statement: SQLStatement = "SELECT \(1), \("two"), \(Optional<Int>.none)"
        var visited: [SQLValue] = []
        statement.forEachBind { position, value in
            #expect(position == visited.count)
            visited.append(value)
        }
        #expect(visited == statement.binds)
    }
}
