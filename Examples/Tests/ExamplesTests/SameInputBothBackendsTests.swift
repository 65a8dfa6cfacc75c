import ButlerKit
import ExampleSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import SaasKit
import Testing

/// The same hostile input on both databases: refused with a 400 before it reaches either (never
/// a 500 from one and stored by the other), and identities written the same way on every path.
extension SaasAPITests {
    @Suite struct SameInputBothBackends {
        static let json: HTTPFields = [.contentType: "application/json"]

        @Test(arguments: ExampleDatabases.kinds)
        func textThatOneDatabaseWouldRefuseIsRefusedOnBoth(_ kind: ExampleDatabases.Kind) async throws {
            try await SaasAPITests().withAPI(kind) { api, client in
                let bodies = [
                    #"{"email":"nul@example.com","name":"A\u0000B"}"#, #"{"email":"nul@example.com","name":"A","company":"x\u0000"}"#,
                    #"{"email":"n\u0000ul@example.com","name":"A"}"#, #"{"email":"esc@example.com","name":"bell\u0007"}"#,
                    #"{"email":"line@example.com","name":"two\nlines"}"#, #"{"email":"  @example.com","name":"A"}"#,
                    #"{"email":"x@example.com","name":"   "}"#,
                ]
                for body in bodies {
                    try await client.execute(uri: "/leads", method: .post, headers: Self.json, body: ByteBuffer(string: body)) { response in
                        #expect(response.status == .badRequest, "\(body): \(response.status)")
                    }
                }
                for body in [#"{"name":"Spring\u0000","subject":"Hi"}"#, #"{"name":"Spring","subject":"\u001b[31m"}"#, #"{"name":" ","subject":"Hi"}"#] {
                    try await client.execute(uri: "/campaigns", method: .post, headers: Self.json, body: ByteBuffer(string: body)) { response in
                        #expect(response.status == .badRequest, "\(body): \(response.status)")
                    }
                }
                #expect(try await api.store.leadCount() == 0)
                let csv = "email,name,company\nok@example.com,Ok,\nnul@example.com,A\u{0}B,\n"
                try await client.execute(uri: "/leads/upload", method: .post, headers: [.contentType: "text/csv"], body: ByteBuffer(string: csv)) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(String(buffer: response.body).contains("control characters"))
                }
                #expect(try await api.store.leadCount() == 0)
            }
        }

        @Test(arguments: ExampleDatabases.kinds)
        func anEmailIsOneIdentityOnEveryWritePath(_ kind: ExampleDatabases.Kind) async throws {
            try await SaasAPITests().withAPI(kind) { api, client in
                let created = try await client.execute(
                    uri: "/leads", method: .post, headers: Self.json,
                    body: ByteBuffer(string: #"{"email":"  Ada@Example.COM ","name":"  Ada  ","company":" "}"#)
                ) { response in
                    #expect(response.status == .created)
                    return try SaasAPITests.decode(Lead.self, response)
                }
                #expect(created.email == "ada@example.com" && created.name == "Ada" && created.company == nil)
                // The same person again, by another spelling: a conflict by POST, an update by CSV.
                try await client.execute(
                    uri: "/leads", method: .post, headers: Self.json, body: ByteBuffer(string: #"{"email":"ADA@example.com","name":"Ada"}"#)
                ) { #expect($0.status == .conflict) }
                let report = try await client.execute(
                    uri: "/leads/upload", method: .post, headers: [.contentType: "text/csv"],
                    body: ByteBuffer(string: "email,name,company\n Ada@EXAMPLE.com ,Ada Lovelace,Engines\n")
                ) { response in
                    #expect(response.status == .ok)
                    return try SaasAPITests.decode(ImportReport.self, response)
                }
                #expect(report.inserted == 0 && report.updated == 1)
                #expect(try await api.store.leadCount() == 1)
                // An update to another lead's email, spelled differently, is refused as a conflict.
                let other = try await client.execute(
                    uri: "/leads", method: .post, headers: Self.json, body: ByteBuffer(string: #"{"email":"bob@example.com","name":"Bob"}"#)
                ) { try SaasAPITests.decode(Lead.self, $0) }
                try await client.execute(
                    uri: "/leads/\(other.id)", method: .put, headers: Self.json, body: ByteBuffer(string: #"{"email":"ADA@example.com","name":"Bob"}"#)
                ) { #expect($0.status == .conflict) }
            }
        }
    }
}

extension CryptoButlerTests {
    @Test(arguments: ExampleDatabases.kinds)
    func portfoliosAreStoredAsTheyCanBeServed(_ kind: ExampleDatabases.Kind) async throws {
        try await ButlerTesting.withButler(kind) { butler, client in
            for body in [
                #"{"name":"A\u0000B","holdings":[]}"#, #"{"name":"   ","holdings":[]}"#,
                #"{"name":"Big","holdings":[{"coin":"bitcoin","amount":1e300}]}"#,
                #"{"name":"Twice","holdings":[{"coin":"bitcoin","amount":1},{"coin":" Bitcoin","amount":2}]}"#,
                #"{"name":"Odd coin","holdings":[{"coin":"bit coin","amount":1}]}"#,
                #"{"name":"Odd coin","holdings":[{"coin":"bitcoin\u0000","amount":1}]}"#,
            ] {
                try await client.execute(uri: "/v1/portfolios", method: .post, headers: Self.alice, body: Self.body(body)) { response in
                    #expect(response.status == .badRequest, "\(body): \(response.status)")
                }
            }
            let created = try await client.execute(
                uri: "/v1/portfolios", method: .post, headers: Self.alice,
                body: Self.body(#"{"name":"  Savings ","holdings":[{"coin":" Bitcoin ","amount":1e15}]}"#)
            ) { response in
                #expect(response.status == .created)
                return try Self.decode(Portfolio.self, response)
            }
            #expect(created.name == "Savings" && created.holdings.map(\.coin) == ["bitcoin"])
            // The largest amount allowed is valued, not answered with a 500.
            try await butler.jobs.collectPrices()
            try await client.execute(uri: "/v1/portfolios/\(created.id)/valuation", method: .get, headers: Self.alice) { response in
                #expect(response.status == .ok)
                let valuation = try Self.decode(Valuation.self, response)
                #expect(valuation.totalUSD.isFinite)
            }
        }
    }
}
