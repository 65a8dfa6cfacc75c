import CSQLite3
import SQLCore
import Testing

@Suite struct SQLDialectTests {
    @Test func postgresLimitsAndPlaceholders() {
        let dialect = SQLDialect.postgres
        #expect(dialect.maxBindParameters == 65_535)
        #expect(dialect.placeholder(12) == "$12")
        #expect(dialect.supportsReturning && dialect.supportsOnConflict)
        #expect(dialect.maxIdentifierLength == 63)
    }

    @Test func sqliteFeaturesFollowTheVersion() {
        let old = SQLDialect.sqlite(versionNumber: 3_023_000)
        #expect(!old.supportsOnConflict && !old.supportsReturning && old.maxBindParameters == 999)
        let upsertOnly = SQLDialect.sqlite(versionNumber: 3_024_000)
        #expect(upsertOnly.supportsOnConflict && !upsertOnly.supportsReturning)
        let modern = SQLDialect.sqlite(versionNumber: 3_035_000)
        #expect(modern.supportsReturning && modern.maxBindParameters == 32_766)
        #expect(modern.placeholder(3) == "?")
    }

    @Test func sqliteDialectFromTheLinkedLibraryMatchesItsLimit() throws {
        var handle: OpaquePointer?
        try #require(sqlite3_open(":memory:", &handle) == SQLITE_OK)
        defer { sqlite3_close(handle) }
        let limit = Int(sqlite3_limit(handle, SQLITE_LIMIT_VARIABLE_NUMBER, -1))
        let version = Int(sqlite3_libversion_number())
        let dialect = SQLDialect.sqlite(versionNumber: version, maxBindParameters: limit)
        #expect(dialect.maxBindParameters == limit)
        // Builds differ (Debian's raises the limit to 250,000), hence reading it at run time;
        // every build allows at least the historical 999.
        #expect(limit >= 999)
        #expect(dialect.supportsOnConflict == (version >= 3_024_000))
    }
}
