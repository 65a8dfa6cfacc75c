import ExampleSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresPool
import Testing

/// How the examples' error middleware answers: 503 with Retry-After while the database cannot be
/// reached, 500 without internals for anything else.
@Suite struct JSONErrorMiddlewareTests {
    static func withRouter(_ error: any Error & Sendable, _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        let router = Router()
        router.add(middleware: JSONErrorMiddleware())
        router.get("fail") { _, _ -> String in throw error }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/fail", method: .get) { try check($0) }
        }
    }

    @Test func aDatabaseThatCannotBeReachedIsA503WithRetryAfter() async throws {
        for error in [
            PostgresError(code: .connection, message: "server closed the connection unexpectedly"),
            PostgresError(code: .connectionBeforeSend, message: "the connection was lost"),
            PostgresError(code: .server, sqlState: "57P01", message: "terminating connection due to administrator command"),
        ] {
            try await Self.withRouter(error) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "1")
                #expect(String(buffer: response.body).contains("unreachable"))
            }
        }
    }

    @Test func otherErrorsAreA500ThatShowsNothingOfThem() async throws {
        try await Self.withRouter(PostgresError(code: .server, sqlState: "23505", message: "duplicate key secret-value")) { response in
            #expect(response.status == .internalServerError)
            #expect(response.headers[.retryAfter] == nil)
            #expect(!String(buffer: response.body).contains("secret-value"))
        }
    }
}
