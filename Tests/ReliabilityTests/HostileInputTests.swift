import Batching
import Foundation
import KeelCore
import Pooling
import PostgresPool
import SQLCore
import KeelTesting
import SQLitePool
import Testing

extension Reliability {
    /// Scenario 7: 100,000 generated identifiers and values built from injection fragments (quotes,
    /// semicolons, comment markers, NUL, bytes that are not UTF-8, huge strings) go through
    /// `SQLStatement` and the upsert builder, then to SQLite and PostgreSQL.
    @Suite struct HostileInput {
        static let count = 100_000

        static let fragments: [String] = [
            "'", "''", "\"", "\"\"", ";", "--", "/*", "*/", "\\", "\\'", "$1", "$$", "$tag$", "?", ":name", "@p", "%s",
            "\0", "\n", "\r\n", "\t", " ", "`", "[", "]", "é", "𝒳", "🙂", "\u{202E}", "e\u{0301}", "\u{FEFF}",
            "DROP TABLE keel_canary; --", "' OR '1'='1", "\" OR \"\"=\"", "); DELETE FROM keel_canary; --",
            "Robert'); DROP TABLE Students;--", "SELECT", "NULL", "x", "keel_canary",
            // Bytes that are not UTF-8, as a Swift string receives them (repaired to U+FFFD).
            String(decoding: [0xC3, 0x28, 0xFF, 0xFE, 0xED, 0xA0, 0x80, 0xF0, 0x28, 0x8C, 0x28], as: UTF8.self),
        ]

        /// The hostile strings: 1 to 8 fragments, the empty string, and a few huge ones.
        static func strings(seed: UInt64, hugeLength: Int) -> [String] {
            var generator = SplitMix64(seed: seed)  // repeatable, so a failure can be reproduced
            return (0..<count).map { index in
                if index == 0 { return "" }
                if index % 20_000 == 1 {
                    return String(repeating: "'; --\"", count: hugeLength / 6)
                }
                let parts = Int.random(in: 1...8, using: &generator)
                return (0..<parts).map { _ in fragments.randomElement(using: &generator)! }.joined()
            }
        }

        /// Raw bytes that are not valid UTF-8, for blob values.
        static func invalidUTF8(_ index: Int) -> [UInt8] {
            [0xFF, 0xFE, UInt8(truncatingIfNeeded: index), 0xC0, 0x80, 0xED, 0xA0, 0x80, 0x00, 0x27, 0x22, 0x3B]
        }

        /// Whether `dialect` must refuse `name` as an identifier.
        static func mustReject(_ name: String, _ dialect: SQLDialect) -> Bool {
            name.isEmpty || name.contains("\0") || (dialect.maxIdentifierLength.map { name.utf8.count > $0 } ?? false)
        }

        // MARK: Identifiers

        /// Every identifier is quoted (and then names exactly one column) or refused before sending.
        func checkIdentifiers(on database: any SQLDatabase, figures: inout ScenarioFigures) async throws {
            let dialect = database.dialect
            let names = Self.strings(seed: 7, hugeLength: 10_000)
            var accepted: [String] = []
            var rejected = 0
            var wrongOutcome = 0
            for name in names {
                let statement: SQLStatement = "SELECT 1 AS \(identifier: name)"
                do {
                    _ = try statement.render(for: dialect)
                    accepted.append(name)
                    if Self.mustReject(name, dialect) { wrongOutcome += 1 }
                } catch {
                    rejected += 1
                    if error.code != .invalidIdentifier || !Self.mustReject(name, dialect) { wrongOutcome += 1 }
                }
            }
            // Run every accepted one, 1,000 columns per statement: the column names that come back
            // must be exactly the names given, in order (a quoting mistake would break the statement
            // or split a name).
            var columnsChecked = 0
            var start = 0
            while start < accepted.count {
                let slice = accepted[start..<min(start + 1_000, accepted.count)]
                let list = slice.enumerated().map { offset, name -> SQLStatement in "\(unsafeRaw: String(offset)) AS \(identifier: name)" }
                let rows = try await database.query("SELECT \(list.joined(separator: ", "))")
                let columns = try #require(rows.first).columns.names
                #expect(columns == Array(slice), "column names differ from the identifiers given (\(dialect))")
                columnsChecked += columns.count
                start += 1_000
            }
            #expect(wrongOutcome == 0)
            #expect(columnsChecked == accepted.count)
            figures.record("\(dialect) identifiers quoted and returned intact / rejected before sending / wrong outcome",
                           "\(columnsChecked) / \(rejected) / \(wrongOutcome)")
        }

        // MARK: Values

        /// Every value goes in as a bind through the upsert builder and comes back byte for byte.
        func checkValues(on database: any SQLDatabase, figures: inout ScenarioFigures) async throws {
            let dialect = database.dialect
            let isPostgres = dialect == .postgres
            let values = Self.strings(seed: 11, hugeLength: 1_000_000)
            try await database.execute("DROP TABLE IF EXISTS keel_hostile_values")
            try await database.execute(
                "CREATE TABLE keel_hostile_values (id BIGINT PRIMARY KEY, v TEXT NOT NULL, b \(unsafeRaw: isPostgres ? "BYTEA" : "BLOB") NOT NULL)")
            // PostgreSQL cannot store NUL in text: those values must be refused with a clear error.
            var refusedNUL = 0
            var rows: [[SQLValue]] = []
            for (index, value) in values.enumerated() {
                if isPostgres && value.contains("\0") {
                    do {
                        try await database.execute("INSERT INTO keel_hostile_values VALUES (\(index), \(value), \(Data()))")
                        Issue.record("text with NUL was stored on PostgreSQL")
                    } catch let error as PostgresError {
                        #expect(error.code == .client && error.message.contains("NUL"))
                        refusedNUL += 1
                    }
                    continue
                }
                rows.append([.int64(Int64(index)), .text(value), .blob(Self.invalidUTF8(index) + Array(value.utf8))])
            }
            var upsert = Upsert(table: "keel_hostile_values", columns: ["id", "v", "b"], conflictColumns: ["id"])
            upsert.chunkSize = 500
            let report = try await upsert.run(rows, on: database)
            #expect(report.rowsCommitted == rows.count)

            var mismatches = 0
            var read = 0
            let expected = Dictionary(uniqueKeysWithValues: rows.map { ($0[0], ($0[1], $0[2])) })
            var lastID: Int64 = -1
            while true {
                let page = try await database.query(
                    "SELECT id, v, b FROM keel_hostile_values WHERE id > \(lastID) ORDER BY id LIMIT 5000")
                guard let last = page.last else { break }
                for row in page {
                    read += 1
                    guard let (text, blob) = expected[row[0]], text == row[1], blob == row[2] else {
                        mismatches += 1
                        continue
                    }
                }
                lastID = try last.decode(Int64.self, at: 0)
            }
            #expect(read == rows.count)
            #expect(mismatches == 0)
            figures.record("\(dialect) values stored through the upsert builder and read back equal / refused (NUL in text)",
                           "\(read - mismatches) / \(refusedNUL)")
            try await database.execute("DROP TABLE keel_hostile_values")
        }

        // MARK: Upsert builder with hostile names

        /// The builder quotes hostile table and column names or refuses them before sending; a sample
        /// of tables with hostile names is created and written through it.
        func checkUpsertNames(on database: any SQLDatabase, figures: inout ScenarioFigures) async throws {
            let dialect = database.dialect
            let names = Self.strings(seed: 13, hugeLength: 1_000)
            var planned = 0
            var refused = 0
            var wrongOutcome = 0
            var sample: [(table: String, column: String)] = []
            for index in stride(from: 0, to: names.count - 1, by: 2) {
                // A prefix keeps table names apart; the hostile part follows it.
                let table = "t\(index)" + names[index]
                let column = names[index + 1]
                let upsert = Upsert(table: table, columns: ["id", column], conflictColumns: ["id"])
                let shouldRefuse = Self.mustReject(table, dialect) || Self.mustReject(column, dialect) || column == "id"
                do {
                    _ = try upsert.plan(for: [[.int64(1), .text(column)]], dialect: dialect)
                    planned += 1
                    if shouldRefuse { wrongOutcome += 1 } else if sample.count < 40 && index % 97 == 0 { sample.append((table, column)) }
                } catch {
                    refused += 1
                    if !shouldRefuse { wrongOutcome += 1 }
                }
            }
            #expect(wrongOutcome == 0)
            for (table, column) in sample {
                try await database.execute("CREATE TABLE \(identifier: table) (id BIGINT PRIMARY KEY, \(identifier: column) TEXT)")
                let upsert = Upsert(table: table, columns: ["id", column], conflictColumns: ["id"])
                let rows: [[SQLValue]] = (1...3).map { [.int64(Int64($0)), .text(column + table)] }
                _ = try await upsert.run(rows, on: database)
                _ = try await upsert.run(rows.map { [$0[0], .text("again " + column)] }, on: database)
                let stored = try await database.query("SELECT id, \(identifier: column) FROM \(identifier: table) ORDER BY id")
                #expect(stored.map { $0[1] } == Array(repeating: .text("again " + column), count: 3))
                try await database.execute("DROP TABLE \(identifier: table)")
            }
            figures.record("\(dialect) upserts with hostile names planned / refused / wrong outcome / written to real tables",
                           "\(planned) / \(refused) / \(wrongOutcome) / \(sample.count)")
        }

        /// Runs the three checks and verifies the canary table and the table list are untouched.
        func run(on database: any SQLDatabase, tables: SQLStatement, figures: inout ScenarioFigures) async throws {
            try await database.execute("DROP TABLE IF EXISTS keel_canary")
            try await database.execute("CREATE TABLE keel_canary (id BIGINT PRIMARY KEY, note TEXT NOT NULL)")
            try await database.execute("INSERT INTO keel_canary VALUES (1, 'intact'), (2, 'intact')")
            let tablesBefore = try await database.query(tables).map { $0[0] }

            try await checkIdentifiers(on: database, figures: &figures)
            try await checkValues(on: database, figures: &figures)
            try await checkUpsertNames(on: database, figures: &figures)

            let canary = try await database.query("SELECT id, note FROM keel_canary ORDER BY id")
            #expect(canary.map { $0[1] } == [.text("intact"), .text("intact")])
            let tablesAfter = try await database.query(tables).map { $0[0] }
            #expect(tablesAfter == tablesBefore, "tables appeared or disappeared")
            figures.record("\(database.dialect) canary rows intact, tables unchanged", canary.count == 2 && tablesAfter == tablesBefore)
            try await database.execute("DROP TABLE keel_canary")
        }

        @Test func sqliteQuotesOrRefusesEveryHostileInput() async throws {
            let database = try await SQLiteDatabase(path: TestDatabaseEnvironment.temporarySQLitePath())
            var figures = ScenarioFigures("7 hostile input on SQLite (100,000 identifiers, values, upsert names)")
            do {
                try await run(
                    on: database, tables: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                    figures: &figures)
            } catch {
                await database.close()
                throw error
            }
            await database.close()
            figures.print()
        }

        @Test(.enabled(if: ReliabilityEnvironment.runsPostgresScenarios, ReliabilityEnvironment.skipReason))
        func postgresQuotesOrRefusesEveryHostileInput() async throws {
            var figures = ScenarioFigures("7 hostile input on PostgreSQL (100,000 identifiers, values, upsert names)")
            var pool = ReliabilityEnvironment.quietPool()
            pool.maxConnections = 2
            try await ReliabilityEnvironment.withDatabase(
                ReliabilityEnvironment.configuration(applicationName: "keel-hostile"), pool: pool
            ) { database in
                try await run(
                    on: database,
                    tables: "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1",
                    figures: &figures)
            }
            figures.print()
        }

        // MARK: Configuration

        /// Malformed settings name the setting at fault; connection strings never show the password.
        @Test func malformedConfigurationNamesTheFieldAndHidesThePassword() async throws {
            var figures = ScenarioFigures("7 hostile configuration")
            let badEnvironments: [(String, String)] = [
                ("DB_MAX_CONNECTIONS", "twenty"), ("DB_MAX_CONNECTIONS", "0"), ("DB_MIN_CONNECTIONS", "-1"),
                ("DB_MAX_OVERFLOW", "1e99"), ("DB_ACQUIRE_TIMEOUT_SECS", "-5"), ("DB_CONNECT_TIMEOUT_SECS", "nan"),
                ("DB_IDLE_TIMEOUT_SECS", "forever"), ("DB_VALIDATION", "sometimes"), ("DB_MAX_LIFETIME_SECS", "'; DROP"),
            ]
            for (name, value) in badEnvironments {
                #expect {
                    _ = try PoolConfiguration(environment: [name: value])
                } throws: { error in
                    guard let error = error as? PoolConfigurationError else { return false }
                    return error.setting == name && error.description.contains(name)
                }
            }
            figures.record("malformed DB_ variables refused, each error naming its variable", badEnvironments.count)

            let secret = "s3cr3t-P@ss'word"
            let encoded = "s3cr3t-P%40ss'word"
            let badStrings = [
                "postgres://app:\(encoded)@db:99999999/app", "postgres://app:\(encoded)@[::1/app",
                "host=db password='\(secret)", "host=db password=\(secret) port=", "host=db password=\(secret) nonsense",
                "postgres://app:\(encoded)@db/app?sslmode=sometimes", "postgresql://app:\(encoded)@db:5432/app?bogus=1",
                // Every part of a URL broken in turn, the password beside it.
                "postgres://app:\(encoded)%zz@db/app", "postgres://app:\(encoded)%2@db/app", "postgres://app:\(encoded)%@db/app",
                "postgres://app:\(secret)@db/app", "postgres://app:\(encoded)@db:port/app", "postgres://app:\(encoded)@db:-1/app",
                "postgres://app:\(encoded)@[::1]x:5432/app", "postgres://app:\(encoded)@db]/app", "postgres://app:\(encoded)@/app?host=",
                "postgres://app:\(encoded)@db/app?sslmode", "postgres://app:\(encoded)@db/app?=x", "postgres://app:\(encoded)@db/app?&&sslmode=x",
                "postgres://app:\(encoded)@db/app?connect_timeout=soon", "postgres://app:\(encoded)@db/app?port=abc",
                "postgres://db/app?user=app&password=\(encoded)&sslmode=maybe", "postgres://db/app?password=\(encoded)%zz",
                "postgres:/app:\(encoded)@db/app", "postgres//app:\(encoded)@db/app", "postgre://app:\(encoded)@db/app",
                "postgres://app:\(encoded)@db:5432:5433/app", "postgres://app:\(encoded)@db,/app?target_session_attrs=nope",
                "postgres://app:\(encoded)@db/app#fragment", "postgres://app:\(encoded)@d b/app", " postgres://app:\(encoded)@db/app?sslmode=x",
                "host=db password='\(secret)\\", "host=db password=\(secret)' user=app", "host=db password = \(secret) = x",
                "host=db password=\(secret) sslmode=never", "password=\(secret) host=db port=65536x",
                "host=db password='\(secret)' connect_timeout=soon", "host=db 'password'=\(secret)",
                // An "@" left unencoded in the password: libpq would take the rest as the host.
                "postgres://app:pass@s3cr3t@db/app", "postgresql://app:p@ss@s3cr3t@127.0.0.1:1/app?sslmode=disable",
            ]
            var refused = 0
            for string in badStrings {
                do {
                    let configuration = try PostgresConfiguration(connectionString: string)
                    // Some are only refused when connecting; the description must still hide the password.
                    #expect(!configuration.description.contains(secret) && !configuration.description.contains(encoded))
                    do {
                        _ = try await PostgresConnection.connect(configuration: configuration, timeout: .seconds(2))
                        Issue.record("connected with a malformed connection string")
                    } catch {
                        refused += 1
                        #expect(!"\(error)".contains(secret) && !"\(error)".contains("s3cr3t"), "\(error)")
                    }
                } catch {
                    refused += 1
                    #expect(!"\(error)".contains("s3cr3t"), "the error shows the password: \(error)")
                }
            }
            #expect(refused == badStrings.count)
            #expect(throws: PostgresError.self) { _ = try PostgresConfiguration(environment: ["DATABASE_URL": ""]) }
            figures.record("malformed connection strings refused without showing the password", "\(refused) / \(badStrings.count)")

            if ReliabilityEnvironment.runsPostgresScenarios {
                // A wrong password, sent to the real server: the error must not echo it.
                let url = try ReliabilityEnvironment.url(applicationName: "keel-hostile")
                let wrong = url.replacingOccurrences(
                    of: #"://([^:]+):[^@]+@"#, with: "://$1:\(encoded)@", options: .regularExpression)
                let configuration = try PostgresConfiguration(connectionString: wrong)
                do {
                    _ = try await PostgresConnection.connect(configuration: configuration, timeout: .seconds(5))
                    Issue.record("logged in with a wrong password")
                } catch {
                    #expect(!"\(error)".contains("s3cr3t"), "\(error)")
                    #expect("\(error)".contains("password authentication failed"), "\(error)")
                }
                figures.record("wrong password refused by the server, error without the password", true)
            }
            figures.print()
        }
    }
}
