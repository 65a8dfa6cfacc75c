import Pooling
import Testing

@Suite struct PoolConfigurationTests {
    @Test func everyReferenceServiceShapeIsExpressible() throws {
        // Rust/sqlx: max_connections=100, min_connections=5, connect 30 s, acquire 30 s, idle 600 s, lifetime 1800 s.
        let sqlx = try PoolConfiguration(environment: [
            "DB_MAX_CONNECTIONS": "100", "DB_MIN_CONNECTIONS": "5", "DB_CONNECT_TIMEOUT_SECS": "30",
            "DB_ACQUIRE_TIMEOUT_SECS": "30", "DB_IDLE_TIMEOUT_SECS": "600", "DB_MAX_LIFETIME_SECS": "1800",
        ])
        #expect(sqlx.maxConnections == 100 && sqlx.minConnections == 5)
        #expect(sqlx.connectTimeout == .seconds(30) && sqlx.acquireTimeout == .seconds(30))
        #expect(sqlx.idleTimeout == .seconds(600) && sqlx.maxLifetime == .seconds(1800))

        // SQLAlchemy: pool_size=20, max_overflow=80, pool_recycle=3600, pool_pre_ping=True.
        let sqlalchemy = try PoolConfiguration(environment: [
            "DB_MAX_CONNECTIONS": "20", "DB_MAX_OVERFLOW": "80", "DB_MAX_LIFETIME_SECS": "3600", "DB_VALIDATION": "always",
        ])
        #expect(sqlalchemy.maxOverflow == 80 && sqlalchemy.validation == .always)
        #expect(sqlalchemy.overflowIdleTimeout == .seconds(1))
        let queuePool = try PoolConfiguration(environment: ["DB_MAX_OVERFLOW": "80", "DB_OVERFLOW_IDLE_TIMEOUT_SECS": "none"])
        #expect(queuePool.overflowIdleTimeout == nil)

        // Go: MaxOpenConns=100, MaxIdleConns=10 (a ceiling Keel does not need), ConnMaxLifetime=1h, ConnMaxIdleTime=10m.
        var go = PoolConfiguration()
        go.maxConnections = 100
        go.maxLifetime = .seconds(3600)
        go.idleTimeout = .seconds(600)
        try go.validate()
    }

    @Test func validationAndLimitsParse() throws {
        let configuration = try PoolConfiguration(
            environment: [
                "APP_DB_VALIDATION": "0.5", "APP_DB_IDLE_TIMEOUT_SECS": "none", "APP_DB_LEAK_DETECTION_SECS": "2.5",
                "APP_DB_MAX_LIFETIME_SECS": " off ",
            ],
            prefix: "APP_DB_")
        #expect(configuration.validation == .whenIdleFor(.milliseconds(500)))
        #expect(configuration.idleTimeout == nil && configuration.maxLifetime == nil)
        #expect(configuration.leakDetectionThreshold == .milliseconds(2500))
        #expect(try PoolConfiguration(environment: ["DB_VALIDATION": "never"]).validation == .never)
        #expect(try PoolConfiguration(environment: ["DB_MAX_CONNECTIONS": ""]).maxConnections == 10, "empty keeps the default")
    }

    @Test(arguments: [
        (["DB_MAX_CONNECTIONS": "abc"], "DB_MAX_CONNECTIONS", "abc"),
        (["DB_MAX_CONNECTIONS": "0"], "DB_MAX_CONNECTIONS", "0"),
        (["DB_MIN_CONNECTIONS": "-1"], "DB_MIN_CONNECTIONS", "-1"),
        (["DB_MIN_CONNECTIONS": "20", "DB_MAX_CONNECTIONS": "10"], "DB_MIN_CONNECTIONS", "20"),
        (["DB_CONNECT_TIMEOUT_SECS": "-5"], "DB_CONNECT_TIMEOUT_SECS", "-5"),
        (["DB_ACQUIRE_TIMEOUT_SECS": "0"], "DB_ACQUIRE_TIMEOUT_SECS", "0"),
        (["DB_IDLE_TIMEOUT_SECS": "soon"], "DB_IDLE_TIMEOUT_SECS", "soon"),
        (["DB_MAX_LIFETIME_SECS": "nan"], "DB_MAX_LIFETIME_SECS", "nan"),
        (["DB_MAX_OVERFLOW": "1.5"], "DB_MAX_OVERFLOW", "1.5"),
        (["DB_OVERFLOW_IDLE_TIMEOUT_SECS": "0"], "DB_OVERFLOW_IDLE_TIMEOUT_SECS", "0"),
        (["DB_VALIDATION": "sometimes"], "DB_VALIDATION", "sometimes"),
    ])
    func badValuesFailNamingTheVariableAndValue(environment: [String: String], variable: String, value: String) {
        #expect {
            try PoolConfiguration(environment: environment)
        } throws: { error in
            guard let error = error as? PoolConfigurationError else { return false }
            return error.setting == variable && error.value == value && error.description.contains(variable)
                && error.description.contains("\"\(value)\"")
        }
    }

    @Test func programmaticConfigurationsAreCheckedToo() {
        var configuration = PoolConfiguration()
        configuration.minConnections = 20
        #expect {
            try configuration.validate()
        } throws: { error in
            (error as? PoolConfigurationError)?.description == "minConnections is 20 but must not exceed maxConnections (10)"
        }
        configuration = PoolConfiguration()
        configuration.maxConnections = 0
        #expect(throws: PoolConfigurationError.self) {
            try ConnectionPool(source: FakeConnectionSource(), configuration: configuration)
        }
    }
}
