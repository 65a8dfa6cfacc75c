import ExampleSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SaasKit
import SQLCore
import Testing

/// saas-api in-process on both databases: every endpoint, pagination, bad input and CSV imports.
@Suite(.serialized) struct SaasAPITests {
    static let json: HTTPFields = [.contentType: "application/json"]

    func withAPI(_ kind: ExampleDatabases.Kind, _ body: @escaping @Sendable (SaasAPI, any TestClientProtocol) async throws -> Void) async throws {
        try await Self.withAPI(kind, body)
    }

    /// Runs `body` with saas-api on a fresh database of `kind`, through Hummingbird's router test
    /// client or, when `live`, a server on a port of its own; `reset` empties the tables first.
    static func withAPI(
        _ kind: ExampleDatabases.Kind, live: Bool = false, reset: Bool = true,
        _ body: @escaping @Sendable (SaasAPI, any TestClientProtocol) async throws -> Void
    ) async throws {
        let store = try await ExampleDatabases.open(kind)
        try await store.run { database in
            var logger = Logger(label: "saas-api-test")
            logger.logLevel = .critical
            let limits = try RequestRateLimits(name: "saas-api-test", rate: 1_000_000, burst: 1_000_000, redis: nil)
            let api = try SaasAPI(database: database, slowRequestThreshold: .seconds(5), requestLimits: limits, logger: logger)
            try await api.store.migrate()
            if reset { try await api.store.reset() }
            try await api.application(port: 0, logger: logger).test(live ? .live : .router) { client in try await body(api, client) }
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(buffer: response.body))
    }

    static func csv(_ rows: Range<Int>, name: String = "Person") -> String {
        "email,name,company\n" + rows.map { "lead\($0)@example.com,\(name) \($0),\"Acme \($0), \"\"Inc\"\"\"" }.joined(separator: "\r\n") + "\n"
    }

    @Test func jsonWriterOutputDecodesToTheSameValues() throws {
        let names = ["plain", "quote \" and \\ backslash", "line\nbreak\ttab\r", "control \u{01}\u{1F}", "é 🙂 \u{202E}", ""]
        let leads = names.enumerated().map { index, name in
            Lead(id: Int64(index), email: "e\(index)@example.com", name: name, company: index % 2 == 0 ? nil : name, status: "new")
        }
        var writer = JSONWriter(capacity: 16)
        writer.raw("[")
        for (index, lead) in leads.enumerated() {
            if index > 0 { writer.raw(",") }
            lead.write(to: &writer)
        }
        writer.raw("]")
        #expect(try JSONDecoder().decode([Lead].self, from: Data(buffer: writer.buffer)) == leads)
    }

    @Test(arguments: ExampleDatabases.kinds)
    func leadsCRUD(_ kind: ExampleDatabases.Kind) async throws {
        try await withAPI(kind) { _, client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            let lead = try await client.execute(
                uri: "/leads", method: .post, headers: Self.json,
                body: ByteBuffer(string: #"{"email":"ada@example.com","name":"Ada","company":"Engines"}"#)
            ) { response in
                #expect(response.status == .created)
                return try Self.decode(Lead.self, response)
            }
            #expect(lead.status == "new" && lead.company == "Engines")
            try await client.execute(uri: "/leads", method: .post, headers: Self.json,
                                     body: ByteBuffer(string: #"{"email":"ada@example.com","name":"Ada again"}"#)) { #expect($0.status == .conflict) }
            try await client.execute(uri: "/leads/\(lead.id)", method: .get) { response in
                let fetched = try Self.decode(Lead.self, response)
                #expect(fetched == lead)
            }
            try await client.execute(uri: "/leads/\(lead.id)", method: .put, headers: Self.json,
                                     body: ByteBuffer(string: #"{"email":"ada@example.com","name":"Ada L.","status":"qualified"}"#)) { response in
                #expect(response.status == .ok)
                let updated = try Self.decode(Lead.self, response)
                #expect(updated.name == "Ada L." && updated.status == "qualified")
            }
            for (uri, method, status) in [
                ("/leads/999999", HTTPRequest.Method.get, HTTPResponse.Status.notFound), ("/leads/abc", .get, .badRequest),
                ("/leads/999999", .delete, .notFound),
            ] {
                try await client.execute(uri: uri, method: method) { #expect($0.status == status, "\(method) \(uri)") }
            }
            try await client.execute(uri: "/leads/999999", method: .put, headers: Self.json,
                                     body: ByteBuffer(string: #"{"email":"x@example.com","name":"X"}"#)) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/leads/\(lead.id)", method: .delete) { #expect($0.status == .noContent) }
            try await client.execute(uri: "/leads/\(lead.id)", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test(arguments: ExampleDatabases.kinds)
    func badLeadInputIsRefusedAndNothingWritten(_ kind: ExampleDatabases.Kind) async throws {
        try await withAPI(kind) { api, client in
            for body in [
                #"{"email":"ada@example.com","name":"#, #"{"email":5,"name":"Ada"}"#, #"{"name":"Ada"}"#,
                #"{"email":"not-an-address","name":"Ada"}"#, #"{"email":"ada@example.com","name":"  "}"#,
                #"{"email":"ada@example.com","name":"Ada","status":"vip"}"#,
            ] {
                try await client.execute(uri: "/leads", method: .post, headers: Self.json, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest, "\(body)")
                    #expect(String(buffer: response.body).contains(#""error""#))
                }
            }
            #expect(try await api.store.leadCount() == 0)
        }
    }

    @Test(arguments: ExampleDatabases.kinds)
    func importCountsComeFromTheStatementsNotFromTheTableWhileOthersWrite(_ kind: ExampleDatabases.Kind) async throws {
        try await withAPI(kind) { api, _ in
            _ = try await api.store.importLeads((0..<500).map { [.text("old\($0)@example.com"), .text("Old"), .null] })
            // Another writer adds 1,000 leads while 2,000 rows (500 of them existing) are imported.
            let rows: [[SQLValue]] = (0..<2_000).map { index in
                [.text(index < 500 ? "old\(index)@example.com" : "new\(index)@example.com"), .text("Imported"), .null]
            }
            async let others: Void = {
                for index in 0..<1_000 {
                    let input = try JSONDecoder().decode(LeadInput.self, from: Data(#"{"email":"other\#(index)@example.com","name":"Other"}"#.utf8))
                    _ = try await api.store.createLead(input)
                }
            }()
            let counts = try await api.store.importLeads(rows)
            try await others
            #expect(counts.inserted == 1_500)
            #expect(counts.updated == 500)
            #expect(try await api.store.leadCount() == 500 + 1_500 + 1_000)
        }
    }

    @Test(arguments: ExampleDatabases.kinds)
    func anUploadIsReadAsWrittenOrRefusedNamingTheLine(_ kind: ExampleDatabases.Kind) async throws {
        try await withAPI(kind) { api, client in
            func upload(_ bytes: [UInt8]) async throws -> (HTTPResponse.Status, ImportReport?) {
                try await client.execute(uri: "/leads/upload", method: .post, body: ByteBuffer(bytes: bytes)) { response in
                    (response.status, try? Self.decode(ImportReport.self, response))
                }
            }
            // A byte-order mark and CR-only line ends are read, not refused or merged.
            let marked = try await upload([0xEF, 0xBB, 0xBF] + Array("email,name\ra@example.com,A\rb@example.com,B".utf8))
            #expect(marked.0 == .ok && marked.1?.inserted == 2)
            // Bytes that are not UTF-8, and a stray quote, name their lines; nothing is written.
            let broken = try await upload(Array("email,name\nc@example.com,C\nd@example.com,".utf8) + [0xC3, 0x28] + Array("\ne@example.com,E \"x\" F\n".utf8))
            #expect(broken.0 == .unprocessableContent)
            #expect(broken.1?.errors.map(\.line) == [3, 4])
            #expect(broken.1?.duplicates == 0 && broken.1?.received == 3)
            #expect(try await api.store.leadCount() == 2)
            // A header that names a column twice is refused.
            let twice = try await upload(Array("email,name,email\nf@example.com,F,g@example.com\n".utf8))
            #expect(twice.0 == .badRequest)
        }
    }

    @Test func aFileOfBadRowsGetsABoundedReport() async throws {
        try await withAPI(.sqlite) { api, client in
            // 20,000 rows with a bad email each, and one repeated email: 100 errors listed, all counted.
            let rows = (0..<20_000).map { "not-an-email-\($0),Name" } + ["x@example.com,X", "x@example.com,X"]
            let file = "email,name\n" + rows.joined(separator: "\n") + "\n"
            let report = try await client.execute(uri: "/leads/upload", method: .post, body: ByteBuffer(string: file)) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.body.readableBytes < 20_000)
                return try Self.decode(ImportReport.self, response)
            }
            #expect(report.errors.count == ImportReport.maximumErrorsReported)
            #expect(report.errorCount == 20_000 && report.received == 20_002 && report.duplicates == 1)
            #expect(try await api.store.leadCount() == 0)
        }
    }

    @Test(arguments: ExampleDatabases.kinds)
    func csvUploadsImportByEmailAndPaginate(_ kind: ExampleDatabases.Kind) async throws {
        try await withAPI(kind) { api, client in
            // 250 rows and one repeated email (the last wins): 250 leads.
            let file = Self.csv(0..<250) + "lead7@example.com,Seven Again,\n"
            let report = try await client.execute(uri: "/leads/upload", method: .post, headers: [.contentType: "text/csv"],
                                                  body: ByteBuffer(string: file)) { response in
                #expect(response.status == .ok)
                return try Self.decode(ImportReport.self, response)
            }
            #expect(report.received == 251 && report.inserted == 250 && report.updated == 0 && report.duplicates == 1 && report.errors.isEmpty)

            try await client.execute(uri: "/leads?page=1&limit=100", method: .get) { response in
                let page = try Self.decode(Page<Lead>.self, response)
                #expect(page.total == 250 && page.pages == 3 && page.items.count == 100 && page.limit == 100)
                #expect(page.items[0].company == "Acme 0, \"Inc\"", "quoted CSV fields keep commas and quotes")
            }
            try await client.execute(uri: "/leads?page=3", method: .get) { response in
                let page = try Self.decode(Page<Lead>.self, response)
                #expect(page.items.count == 50 && page.page == 3)
            }
            try await client.execute(uri: "/leads?limit=1000", method: .get) { response in
                let page = try Self.decode(Page<Lead>.self, response)
                #expect(page.items.count == 250 && page.pages == 1)
                #expect(page.items.contains { $0.email == "lead7@example.com" && $0.name == "Seven Again" && $0.company == nil })
            }
            for query in ["limit=0", "limit=5000", "page=0", "page=abc"] {
                try await client.execute(uri: "/leads?\(query)", method: .get) { #expect($0.status == .badRequest, "\(query)") }
            }

            // The same emails again: updated, none created (idempotent by email).
            let again = try await client.execute(uri: "/leads/upload", method: .post, body: ByteBuffer(string: Self.csv(0..<250, name: "Renamed"))) {
                try Self.decode(ImportReport.self, $0)
            }
            #expect(again.inserted == 0 && again.updated == 250)
            #expect(try await api.store.leadCount() == 250)
        }
    }

    @Test(arguments: ExampleDatabases.kinds)
    func aCSVWithBadRowsIsRefusedWholeWithEveryRowsError(_ kind: ExampleDatabases.Kind) async throws {
        try await withAPI(kind) { api, client in
            let file = "email,name,company\nok@example.com,Ok,\nbad-address,Bad,\nshort@example.com\nfine@example.com,Fine,Co\n"
            try await client.execute(uri: "/leads/upload", method: .post, body: ByteBuffer(string: file)) { response in
                #expect(response.status == .unprocessableContent)
                let report = try Self.decode(ImportReport.self, response)
                #expect(report.errors.map(\.line) == [3, 4])
                #expect(report.inserted == 0)
            }
            #expect(try await api.store.leadCount() == 0, "a refused file wrote nothing")
            for (file, status) in [("", HTTPResponse.Status.badRequest), ("mail,who\nx@example.com,X\n", .badRequest)] {
                try await client.execute(uri: "/leads/upload", method: .post, body: ByteBuffer(string: file)) { #expect($0.status == status) }
            }
            #expect(try await api.store.leadCount() == 0)
        }
    }

    @Test(arguments: ExampleDatabases.kinds)
    func campaignsAndNotifications(_ kind: ExampleDatabases.Kind) async throws {
        try await withAPI(kind) { _, client in
            let campaign = try await client.execute(uri: "/campaigns", method: .post, headers: Self.json,
                                                    body: ByteBuffer(string: #"{"name":"Launch","subject":"Hello"}"#)) { response in
                #expect(response.status == .created)
                return try Self.decode(Campaign.self, response)
            }
            #expect(campaign.status == "draft")
            try await client.execute(uri: "/campaigns/\(campaign.id)", method: .put, headers: Self.json,
                                     body: ByteBuffer(string: #"{"name":"Launch","subject":"Hi","status":"scheduled"}"#)) { response in
                let updated = try Self.decode(Campaign.self, response)
                #expect(updated.status == "scheduled" && updated.subject == "Hi")
            }
            try await client.execute(uri: "/campaigns", method: .get) { response in
                let page = try Self.decode(Page<Campaign>.self, response)
                #expect(page.total == 1 && page.items[0].id == campaign.id)
            }
            try await client.execute(uri: "/campaigns/\(campaign.id)", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/campaigns", method: .post, headers: Self.json,
                                     body: ByteBuffer(string: #"{"name":"","subject":"x"}"#)) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/leads", method: .post, headers: Self.json,
                                     body: ByteBuffer(string: #"{"email":"n@example.com","name":"N"}"#)) { #expect($0.status == .created) }

            let all = try await client.execute(uri: "/notifications?since=0", method: .get) { try Self.decode(NotificationList.self, $0) }
            #expect(all.notifications.map(\.kind) == ["campaign.created", "lead.created"])
            try await client.execute(uri: "/notifications?since=\(all.notifications.last!.id)", method: .get) { response in
                let newer = try Self.decode(NotificationList.self, response)
                #expect(newer.notifications.isEmpty)
            }
            try await client.execute(uri: "/notifications?since=-1", method: .get) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/campaigns/\(campaign.id)", method: .delete) { #expect($0.status == .noContent) }
            try await client.execute(uri: "/campaigns/\(campaign.id)", method: .get) { #expect($0.status == .notFound) }
        }
    }
}
