import Foundation
import KeelCore
import Logging
import Pooling
import PostgresPool
import SQLCore
import KeelTesting
import Testing

/// The fault-injection scenarios of RELIABILITY.md, one after another: each one loads the machine's
/// two cores, restarts or disturbs the reliability server, and measures timings that must not be
/// skewed by the scenario next to it.
@Suite("Reliability", .serialized) struct Reliability {}

/// How the scenarios find the second throwaway PostgreSQL that scripts/test.sh starts for them.
enum ReliabilityEnvironment {
    /// `KEEL_RELIABILITY_DATABASE_URL`, when set.
    static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["KEEL_RELIABILITY_DATABASE_URL"], !url.isEmpty else { return nil }
        return url
    }

    /// `KEEL_RELIABILITY_PG_RESTART`: a script that restarts the server (`pg_ctl restart -m fast`).
    static var restartScript: String? {
        guard let path = ProcessInfo.processInfo.environment["KEEL_RELIABILITY_PG_RESTART"], !path.isEmpty else { return nil }
        return path
    }

    /// Why a PostgreSQL scenario was skipped.
    static let skipReason: Comment =
        "KEEL_RELIABILITY_DATABASE_URL is not set: run scripts/test.sh --filter Reliability, which starts the server"

    /// Whether the PostgreSQL scenarios run: the server is there, or this is CI (where its absence fails).
    static var runsPostgresScenarios: Bool { postgresURL != nil || TestDatabaseEnvironment.isCI }

    /// The URL with `application_name` set, so a scenario can find its own server sessions.
    static func url(applicationName: String) throws -> String {
        let url = try #require(
            postgresURL, "KEEL_RELIABILITY_DATABASE_URL is not set: run the scenarios through scripts/test.sh")
        return url + (url.contains("?") ? "&" : "?") + "application_name=\(applicationName)"
    }

    /// A quiet configuration for the reliability server.
    static func configuration(
        applicationName: String, _ adjust: (inout PostgresConfiguration) -> Void = { _ in }
    ) throws -> PostgresConfiguration {
        var logger = Logger(label: "keel.reliability")
        logger.logLevel = .warning
        var configuration = try PostgresConfiguration(connectionString: url(applicationName: applicationName), logger: logger)
        adjust(&configuration)
        return configuration
    }

    /// Pool defaults that log only warnings: the scenarios provoke connection failures by design.
    static func quietPool() -> PoolConfiguration {
        var logger = Logger(label: "keel.reliability.pool")
        logger.logLevel = .warning
        return PoolConfiguration(logger: logger)
    }

    /// Runs `body` with a running pool-backed database, shut down afterwards.
    static func withDatabase<Result: Sendable>(
        _ configuration: PostgresConfiguration, pool: PoolConfiguration,
        _ body: (PostgresDatabase) async throws -> Result
    ) async throws -> Result {
        let database = try PostgresDatabase(configuration: configuration, pool: pool)
        return try await withRunning(database.run, shutdown: database.shutdown) { try await body(database) }
    }

    /// Ends every session of `applicationName` on the reliability server (`pg_terminate_backend`)
    /// and returns how many there were.
    @discardableResult
    static func terminateSessions(of applicationName: String, using connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.query("""
            SELECT count(pg_terminate_backend(pid)) AS ended FROM pg_stat_activity
            WHERE application_name = \(applicationName) AND pid <> pg_backend_pid()
            """)
        return try rows.first.map { try $0.decode(Int.self, at: 0) } ?? 0
    }

    /// How many sessions of `applicationName` the server has now.
    static func sessionCount(of applicationName: String, using connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.query(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = \(applicationName)")
        return try rows.first.map { try $0.decode(Int.self, at: 0) } ?? 0
    }
}

/// The figures a scenario measured, printed as one block so CI logs and RELIABILITY.md can quote them.
struct ScenarioFigures {
    let scenario: String
    private var lines: [(String, String)] = []

    init(_ scenario: String) {
        self.scenario = scenario
    }

    mutating func record(_ name: String, _ value: some CustomStringConvertible) {
        // One line per figure: multi-line error messages are joined.
        let flat = value.description.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        lines.append((name, flat))
    }

    func print() {
        var text = "[reliability] \(scenario)\n"
        for (name, value) in lines { text += "[reliability]   \(name): \(value)\n" }
        Swift.print(text, terminator: "")
        // At once: a log cut short (a hang, CI's time limit) then still shows the scenarios that ended.
        fflush(nil)  // every output stream: `stdout` is a global Swift 6 will not read
    }
}

/// Counters shared by many tasks.
final class Tally: Sendable {
    private let counts = Locked<[String: Int]>([:])

    func add(_ name: String, _ amount: Int = 1) {
        counts.withLock { $0[name, default: 0] += amount }
    }

    subscript(_ name: String) -> Int { counts.withLock { $0[name, default: 0] } }
}

/// Durations in milliseconds with one decimal, for figures.
extension Duration {
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }

    var formattedMilliseconds: String { String(format: "%.1f ms", milliseconds) }
}

/// A percentile of `values` (nearest rank); 0 when empty.
func percentile(_ values: [Double], _ fraction: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let rank = min(sorted.count - 1, max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))
    return sorted[rank]
}

/// Runs a program and waits for it (see `ProgramRun`).
func runProgram(_ path: String, arguments: [String] = [], environment: [String: String]? = nil) async throws -> (status: Int32, output: String) {
    try await ProgramRun.run([path] + arguments, environment: environment)
}
