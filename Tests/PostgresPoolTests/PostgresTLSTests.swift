import Foundation
import Pooling
import PostgresPool
import SQLCore
import KeelTesting
import Testing

/// TLS to scripts/test.sh's server with a certificate for `localhost` from a throwaway authority,
/// verified in full (`sslmode=verify-full`).
extension PostgresServerTests {
    @Suite(.enabled(if: TestDatabaseEnvironment.runsTLSTests, "TEST_TLS_DATABASE_URL is not set: run scripts/test.sh"))
    struct PostgresTLSTests {
        static func url() throws -> String { try TestDatabaseEnvironment.require("TEST_TLS_DATABASE_URL") }

        /// The URL's password, to check that no error shows it.
        static func password() throws -> String {
            try #require(URLComponents(string: url())?.password)
        }

        @Test func aVerifiedConnectionIsEncrypted() async throws {
            var pool = PoolConfiguration()
            pool.maxConnections = 2
            let database = try PostgresDatabase(configuration: PostgresConfiguration(connectionString: Self.url()), pool: pool)
            try await withRunning(database.run, shutdown: database.shutdown) {
                let rows = try await database.query("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                #expect(rows.first?["ssl"] == .bool(true))
                #expect(try rows.first?.decode(String.self, "version").hasPrefix("TLS") == true)
            }
        }

        @Test func aHostNameTheCertificateDoesNotNameIsRefusedClearly() async throws {
            let wrongHost = try Self.url().replacingOccurrences(of: "@localhost:", with: "@127.0.0.1:")
            let error = await #expect(throws: PostgresError.self) {
                _ = try await PostgresConnection.connect(configuration: PostgresConfiguration(connectionString: wrongHost))
            }
            #expect(error?.code == .connection)
            #expect(error?.message.contains("does not match host name") == true, "\(error?.message ?? "")")
            #expect(error?.description.contains(try Self.password()) == false)
        }

        @Test func aCertificateFromAnotherAuthorityIsRefusedClearly() async throws {
            let otherAuthority = try TestDatabaseEnvironment.require("TEST_TLS_OTHER_CA")
            let base = try Self.url()
            let rootCertificate = try #require(base.range(of: "sslrootcert="))
            let untrusted = String(base[..<rootCertificate.upperBound]) + otherAuthority
            let error = await #expect(throws: PostgresError.self) {
                _ = try await PostgresConnection.connect(configuration: PostgresConfiguration(connectionString: untrusted))
            }
            #expect(error?.code == .connection)
            #expect(error?.message.contains("certificate verify failed") == true, "\(error?.message ?? "")")
            #expect(error?.description.contains(try Self.password()) == false)
        }
    }
}
