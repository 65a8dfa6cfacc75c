import Foundation
public import Hummingbird
import SQLCore

/// `POST /leads/upload`: a CSV file of leads (`email,name,company` header), read as it streams in,
/// validated row by row, then upserted by email in chunks inside one transaction. A file with any
/// bad row is refused (422) with the first rows' errors and their count, and nothing written; a
/// body over the size limit is refused (413) before it is read when it says its length.
public enum LeadImport {
    /// Reads, validates and imports the upload.
    public static func run(_ request: Request, context: SaasContext, store: SaasStore) async throws -> EditedResponse<ImportReport> {
        var splitter = CSVLineSplitter()
        var header: [String]?
        var rows: [String: (line: Int, values: [SQLValue])] = [:]
        var order: [String] = []
        var errors: [ImportReport.RowError] = []
        var errorCount = 0
        var seen: Set<String> = []
        var received = 0
        var duplicates = 0
        var size = 0
        var headerProblem: String?

        /// Notes a rejected row: the first ones are listed, all are counted, and no row is kept
        /// once the file is known to be refused.
        func reject(_ line: Int, _ message: String) {
            errorCount += 1
            if errors.count < ImportReport.maximumErrorsReported { errors.append(.init(line: line, message: message)) }
            rows.removeAll()
            order.removeAll()
        }

        func take(_ record: CSVRecord) {
            guard let columns = header else {
                let names = record.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                header = names
                if let problem = record.problem {
                    headerProblem = "the header (line \(record.line)): \(problem)"
                } else if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
                    headerProblem = "the header names the column \(repeated.isEmpty ? "(empty)" : repeated) more than once"
                }
                return
            }
            received += 1
            if let problem = record.problem {
                reject(record.line, problem)
                return
            }
            guard record.fields.count == columns.count else {
                reject(record.line, "\(record.fields.count) fields for \(columns.count) columns")
                return
            }
            var fields: [String: String] = [:]
            for (name, value) in zip(columns, record.fields) { fields[name] = value.trimmingCharacters(in: .whitespaces) }
            let input = LeadInput(email: fields["email"] ?? "", name: fields["name"] ?? "", company: fields["company"]).normalized
            if let problem = input.problem {
                reject(record.line, problem)
                return
            }
            let email = input.email
            if !seen.insert(email).inserted { duplicates += 1 }
            guard errorCount == 0 else { return }  // refused already: the row is checked, not kept
            if rows[email] == nil { order.append(email) }
            rows[email] = (record.line, [.text(email), .text(input.name), input.company.map(SQLValue.text) ?? .null])
        }

        /// The 400 a missing or bad header gets, or `nil`.
        func headerRefusal() -> HTTPError? {
            guard let columns = header else { return HTTPError(.badRequest, message: "the file is empty: expected a header email,name,company") }
            if let headerProblem { return HTTPError(.badRequest, message: headerProblem) }
            guard columns.contains("email"), columns.contains("name") else {
                return HTTPError(.badRequest, message: "the header must name the columns email and name (and optionally company)")
            }
            return nil
        }

        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > context.maxUploadSize {
            throw HTTPError(.contentTooLarge, message: "the file is over \(context.maxUploadSize) bytes")
        }
        for try await chunk in request.body {
            size += chunk.readableBytes
            guard size <= context.maxUploadSize else { throw HTTPError(.contentTooLarge, message: "the file is over \(context.maxUploadSize) bytes") }
            for record in splitter.feed(chunk.readableBytesView) { take(record) }
            // A bad header decides the answer (400) whatever follows: the rest is not read.
            if header != nil, let refusal = headerRefusal() { throw refusal }
        }
        if splitter.isInsideQuotes { reject(splitter.line, "the file ends inside a quoted field") }
        if let last = splitter.finish() { take(last) }

        if let refusal = headerRefusal() { throw refusal }
        guard errorCount == 0 else {
            let report = ImportReport(received: received, inserted: 0, updated: 0, duplicates: duplicates, errors: errors, errorCount: errorCount)
            return EditedResponse(status: .unprocessableContent, response: report)
        }
        let (inserted, updated) = rows.isEmpty ? (0, 0) : try await store.importLeads(order.map { rows[$0]!.values })
        let report = ImportReport(received: received, inserted: inserted, updated: updated, duplicates: duplicates, errors: [])
        return EditedResponse(status: .ok, response: report)
    }
}
