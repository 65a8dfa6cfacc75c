import ExampleSupport
import Foundation
import Testing

/// The databases the example tests run on: a SQLite file always, and the throwaway PostgreSQL of
/// scripts/test.sh when `TEST_DATABASE_URL` is set (with `CI=true` it must be).
enum ExampleDatabases {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty else { return nil }
        return url
    }

    /// The throwaway Redis of scripts/test.sh, when it runs.
    static var redisURL: String? {
        guard let url = ProcessInfo.processInfo.environment["TEST_REDIS_URL"], !url.isEmpty else { return nil }
        return url
    }

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true" }

    /// The kinds to test: PostgreSQL only with a server (or in CI, where its absence fails).
    static var kinds: [Kind] { postgresURL != nil || isCI ? Kind.allCases : [.sqlite] }

    /// Opens a fresh database of `kind`.
    static func open(_ kind: Kind) async throws -> ExampleDatabase {
        switch kind {
        case .sqlite:
            return try await ExampleDatabase.open(databasePath: nil, environment: [:])
        case .postgres:
            let url = try #require(postgresURL, "CI=true but TEST_DATABASE_URL is not set: run scripts/test.sh")
            return try await ExampleDatabase.open(databasePath: nil, environment: ["DATABASE_URL": url])
        }
    }
}
