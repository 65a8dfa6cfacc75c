import Foundation
public import Testing

/// How tests find their databases.
///
/// PostgreSQL tests read `TEST_DATABASE_URL` and Redis tests `TEST_REDIS_URL`, which
/// `scripts/test.sh` sets after starting throwaway servers. Without it they are skipped with ``skipReason``, except when `CI=true`:
/// there the tests run and fail, because a CI run that skipped them would prove nothing.
public enum TestDatabaseEnvironment {
    /// The message a skipped PostgreSQL test shows.
    public static let skipReason: Comment =
        "TEST_DATABASE_URL is not set: run scripts/test.sh, which starts a throwaway PostgreSQL and sets it"

    /// `TEST_DATABASE_URL`, when set and not empty.
    public static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty else { return nil }
        return url
    }

    /// `TEST_PGBOUNCER_URL`, when set and not empty: scripts/test.sh's PgBouncer in transaction
    /// mode, in front of the server of ``postgresURL``.
    public static var pgBouncerURL: String? {
        guard let url = ProcessInfo.processInfo.environment["TEST_PGBOUNCER_URL"], !url.isEmpty else { return nil }
        return url
    }

    /// Whether tests through PgBouncer run: a URL is set, or this is CI (where a missing URL then fails).
    public static var runsPgBouncerTests: Bool { pgBouncerURL != nil || isCI }

    /// The PgBouncer URL, or a test failure saying how to get one.
    public static func requirePgBouncerURL(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try #require(
            pgBouncerURL,
            "CI=true but TEST_PGBOUNCER_URL is not set: run the tests through scripts/test.sh",
            sourceLocation: sourceLocation)
    }

    /// `TEST_CLUSTER_URL`, when set and not empty: scripts/test.sh's primary and its
    /// streaming-replication standby, in one multi-host URL.
    public static var clusterURL: String? {
        guard let url = ProcessInfo.processInfo.environment["TEST_CLUSTER_URL"], !url.isEmpty else { return nil }
        return url
    }

    /// Whether tests on the primary and standby run: a URL is set, or this is CI (where a missing URL then fails).
    public static var runsClusterTests: Bool { clusterURL != nil || isCI }

    /// The message a skipped primary-and-standby test shows.
    public static let clusterSkipReason: Comment =
        "TEST_CLUSTER_URL is not set: run scripts/test.sh, which starts a primary and a standby and sets it"

    /// Whether the TLS tests run: scripts/test.sh started its TLS server (`TEST_TLS_DATABASE_URL`),
    /// or this is CI (where a missing one then fails).
    public static var runsTLSTests: Bool {
        !(ProcessInfo.processInfo.environment["TEST_TLS_DATABASE_URL"] ?? "").isEmpty || isCI
    }

    /// The value of `variable` (`TEST_CLUSTER_URL`, `TEST_CLUSTER_STANDBY_URL`,
    /// `KEEL_CLUSTER_STOP_PRIMARY`, …), or a test failure saying how to get it.
    public static func require(_ variable: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try #require(
            ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 },
            "\(variable) is not set: run the tests through scripts/test.sh", sourceLocation: sourceLocation)
    }

    /// Whether this is a CI run (`CI=true`).
    public static var isCI: Bool {
        ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true"
    }

    /// Whether the tests run under ThreadSanitizer (scripts/test.sh sets `TSAN_OPTIONS` then), which
    /// slows every thread hop several times: latency bounds that hold in the plain run are
    /// loosened there to ``timingBound(_:)``.
    public static var isThreadSanitized: Bool {
        ProcessInfo.processInfo.environment["TSAN_OPTIONS"] != nil
    }

    /// `bound` in the plain run; under ThreadSanitizer five times `bound`, at least one second
    /// more: there the tests check that the deadline machinery works, the plain run checks timing.
    public static func timingBound(_ bound: Duration) -> Duration {
        isThreadSanitized ? max(bound * 5, bound + .seconds(1)) : bound
    }

    /// Whether PostgreSQL tests run: a URL is set, or this is CI (where a missing URL then fails).
    public static var runsPostgresTests: Bool { postgresURL != nil || isCI }

    /// The URL, or a test failure saying how to get one.
    public static func requirePostgresURL(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try #require(
            postgresURL,
            "CI=true but TEST_DATABASE_URL is not set: run the tests through scripts/test.sh",
            sourceLocation: sourceLocation)
    }

    /// The message a skipped Redis test shows.
    public static let redisSkipReason: Comment =
        "TEST_REDIS_URL is not set: run scripts/test.sh, which starts a throwaway Redis and sets it"

    /// `TEST_REDIS_URL`, when set and not empty: the throwaway Redis of `scripts/test.sh`.
    public static var redisURL: String? {
        guard let url = ProcessInfo.processInfo.environment["TEST_REDIS_URL"], !url.isEmpty else { return nil }
        return url
    }

    /// Whether Redis tests run: a URL is set, or this is CI (where a missing URL then fails).
    public static var runsRedisTests: Bool { redisURL != nil || isCI }

    /// The Redis URL, or a test failure saying how to get one.
    public static func requireRedisURL(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try #require(
            redisURL,
            "CI=true but TEST_REDIS_URL is not set: run the tests through scripts/test.sh",
            sourceLocation: sourceLocation)
    }

    /// A fresh path for a SQLite database file in a new temporary folder.
    public static func temporarySQLitePath(name: String = "test.sqlite") throws -> String {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("keel-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(name).path
    }
}
