import ButlerKit
import Foundation
@testable import PostgresPool
import SaasKit
import SQLCore

/// One input-parsing function under fuzzing, with the property it must keep for every input (a
/// failed property stops the run, as a crash does, and libFuzzer keeps the input).
enum FuzzTarget: String, CaseIterable {
    /// The CSV splitter: the same records whether the file comes whole or in pieces.
    case csv
    /// Connection-string parsing and redaction: a password never shows, whatever surrounds it.
    case connectionString = "connection-string"
    /// `SQLStatement` rendering: identifiers quoted or refused, values always bound.
    case statement
    /// PostgreSQL's text decoders: any bytes, any type, no crash.
    case postgresText = "postgres-text"
    /// The HTTP services' JSON inputs: what passes the checks is stored as it is normalised.
    case httpInput = "http-input"

    func run(_ data: [UInt8]) {
        switch self {
        case .csv: Self.csv(data)
        case .connectionString: Self.connectionString(data)
        case .statement: Self.statement(data)
        case .postgresText: Self.postgresText(data)
        case .httpInput: Self.httpInput(data)
        }
    }

    static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("property failed: \(message())") }
    }

    static func csv(_ data: [UInt8]) {
        var whole = CSVLineSplitter()
        var records = whole.feed(data)
        if let last = whole.finish() { records.append(last) }
        // The same bytes in pieces whose sizes the first byte chooses.
        var pieces = CSVLineSplitter()
        var pieced: [CSVRecord] = []
        let step = max(1, Int(data.first ?? 1) % 7 + 1)
        var start = 0
        while start < data.count {
            let end = min(start + step, data.count)
            pieced += pieces.feed(data[start..<end])
            start = end
        }
        if let last = pieces.finish() { pieced.append(last) }
        require(records == pieced, "whole and pieced records differ")
        for record in records where record.problem == nil {
            require(record.line >= 1, "a record without a line number")
        }
    }

    static func connectionString(_ data: [UInt8]) {
        let secret = "Zq8secretPW"
        let noise = String(decoding: data, as: UTF8.self)
        let half = noise.index(noise.startIndex, offsetBy: noise.count / 2)
        for string in [
            "postgres://app:\(secret)@\(noise)", "postgresql://\(noise[..<half])app:\(secret)@\(noise[half...])",
            "host=db password=\(secret) \(noise)", "\(noise) password='\(secret)' \(noise)", "\(noise[..<half])password=\(secret)\(noise[half...])",
        ] {
            do {
                let configuration = try PostgresConfiguration(connectionString: string)
                // Parsed, the string's password is what libpq reads as one (noise may have made
                // the secret part of another option's value, which is then no password).
                let password = PostgresConfiguration.parsedOptions(of: string)?.first { $0.key == "password" }?.value ?? ""
                // (Noise that itself holds the password's text, in a host or database name, is the
                // string's own content, not a leak.)
                if password.count >= 4 && !noise.contains(password) {
                    require(!configuration.description.contains(password), "the description shows the password: \(string)")
                    require(!configuration.serverNames.contains(password), "the server names show the password: \(string)")
                }
            } catch {
                // (Noise that itself holds the secret's text shows it wherever an error quotes the
                // noise, an unknown option's name or a host: that is not the password leaking.)
                if !noise.contains(secret) {
                    require(!"\(error)".contains(secret), "the error shows the password: \(string) -> \(error)")
                }
            }
        }
    }

    static func statement(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        let value = SQLValue.text(text)
        for dialect in [SQLDialect.postgres, .sqlite(versionNumber: 3_045_000)] {
            let statement: SQLStatement = "SELECT \(value) AS v FROM \(identifier: text) WHERE \(identifier: "k") = \(Int64(data.count))"
            do {
                let rendered = try statement.render(for: dialect)
                require(rendered.binds == [value, .int64(Int64(data.count))], "the values are not bound")
                let quoted = try dialect.quoteIdentifier(text)
                require(rendered.sql.contains(quoted), "the identifier is not quoted")
                // Scalars, not Characters: a quote followed by a combining mark is one Character.
                let scalars = Array(quoted.unicodeScalars)
                require(scalars.count >= 2 && scalars.first == "\"" && scalars.last == "\"", "a quoted identifier is not in double quotes")
                var inner = scalars.dropFirst().dropLast()[...]
                while let quote = inner.firstIndex(of: "\"") {
                    require(quote + 1 < inner.endIndex && inner[quote + 1] == "\"", "a double quote inside is not doubled")
                    inner = inner[(quote + 2)...]
                }
            } catch {
                // Refused: only an identifier that is empty, holds NUL, or is over PostgreSQL's 63 bytes.
                require(text.isEmpty || text.unicodeScalars.contains("\u{0}") || text.utf8.count > 63, "refused \(text.debugDescription): \(error)")
            }
        }
    }

    static func postgresText(_ data: [UInt8]) {
        var terminated = data
        terminated.append(0)
        let types = [
            PostgresTypeOID.bool, PostgresTypeOID.int2, PostgresTypeOID.int4, PostgresTypeOID.int8, PostgresTypeOID.float4,
            PostgresTypeOID.float8, PostgresTypeOID.numeric, PostgresTypeOID.text, PostgresTypeOID.bytea, PostgresTypeOID.timestamptz,
            PostgresTypeOID.timestamp, PostgresTypeOID.date, PostgresTypeOID.uuid, PostgresTypeOID.json, PostgresTypeOID.jsonb,
        ]
        for type in types {
            terminated.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { characters in
                    _ = PostgresTextDecoder.value(type: type, pointer: characters.baseAddress!, length: data.count)
                }
            }
        }
    }

    static func httpInput(_ data: [UInt8]) {
        let decoder = JSONDecoder()
        if let lead = try? decoder.decode(LeadInput.self, from: Data(data)), lead.problem == nil {
            let stored = lead.normalized
            require(stored.email == stored.email.lowercased(), "an email is stored with capitals")
            require(stored.normalized.email == stored.email && stored.normalized.name == stored.name, "normalising twice changes it")
            require(!(stored.name + stored.email + (stored.company ?? "")).unicodeScalars.contains { $0 == "\u{0}" }, "NUL stored")
        }
        if let campaign = try? decoder.decode(CampaignInput.self, from: Data(data)), campaign.problem == nil {
            require(!campaign.normalized.name.isEmpty && !campaign.normalized.subject.isEmpty, "an empty campaign field is stored")
        }
        if let portfolio = try? decoder.decode(PortfolioInput.self, from: Data(data)), portfolio.problem == nil {
            for holding in portfolio.normalized.holdings {
                require(holding.amount.isFinite && holding.amount * 1e6 < .infinity, "an amount whose valuation overflows is stored")
                require(holding.coin == holding.coin.lowercased(), "a coin id is stored with capitals")
            }
        }
    }
}
