import CSQLite3
import SQLCore
import Testing

@Suite struct SQLDialectTests {
    @Test func postgresLimitsAndPlaceholders() {
        let dialect = SQLDialect.postgres
        #expect(dialect.maxBindParameters == 65_535)
        #expect(dialect.placeholder(12) == "$12")
        #expect(dialect.supports(.returning) && dialect.supports(.onConflict))
        #expect(dialect.maxIdentifierLength == 63)
    }

    @Test func sqliteFeaturesFollowTheVersion() {
        let old = SQLDialect.sqlite(versionNumber: 3_023_000)
        #expect(!old.supports(.onConflict) && !old.supports(.returning) && old.maxBindParameters == 999)
        let upsertOnly = SQLDialect.sqlite(versionNumber: 3_024_000)
        #expect(upsertOnly.supports(.onConflict) && !upsertOnly.supports(.returning))
        let modern = SQLDialect.sqlite(versionNumber: 3_035_000)
        #expect(modern.supports(.returning) && modern.maxBindParameters == 32_766)
        #expect(modern.placeholder(3) == "?")
    }

    @Test func onlyPostgresHasItsOwnCapabilities() {
        let postgresOnly: SQLDialect.Capabilities = [
            .onConflictOnConstraint, .insertFlag, .arrayBinds, .rowValueComparison, .bulkLoadStaging, .transactionAdvisoryLocks,
        ]
        #expect(SQLDialect.postgres.capabilities.isSuperset(of: postgresOnly))
        #expect(SQLDialect.sqlite(versionNumber: 3_045_000).capabilities.isDisjoint(with: postgresOnly))
        #expect(SQLDialect.sqlite(versionNumber: 3_045_000).capabilities == [.returning, .onConflict])
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
        #expect(dialect.supports(.onConflict) == (version >= 3_024_000))
    }
}

@Suite struct SQLArrayBindTests {
    @Test func valuesOfOneKindBecomeOneTextBindAndItsArrayType() throws {
        let numbers = try #require(SQLDialect.postgres.arrayBind(of: [.int64(1), .null, .int64(-3)]))
        #expect(numbers.value == .text("{1,NULL,-3}") && numbers.arrayType == "bigint[]")
        let texts = try #require(SQLDialect.postgres.arrayBind(of: [.text(#"a"b\c"#), .text("")]))
        #expect(texts.value == .text(#"{"a\"b\\c",""}"#) && texts.arrayType == "text[]")
        let blobs = try #require(SQLDialect.postgres.arrayBind(of: [.blob([0x0a, 0xff])]))
        #expect(blobs.value == .text(#"{"\\x0aff"}"#) && blobs.arrayType == "bytea[]")
    }

    @Test func mixedKindsAllNullsAndDialectsWithoutArraysGiveNone() {
        #expect(SQLDialect.postgres.arrayBind(of: [.int64(1), .text("1")]) == nil)
        #expect(SQLDialect.postgres.arrayBind(of: [.null, .null]) == nil)
        #expect(SQLDialect.sqlite(versionNumber: 3_045_000).arrayBind(of: [.int64(1)]) == nil)
    }
}
