import CLibPQ
import Foundation
import SQLCore

/// What the results libpq returns for one statement come to: its rows, the rows it affected, and
/// its first error, which is kept rather than thrown so that the connection reads every result
/// and stays in step with the server. Every path of ``PostgresConnection`` reads through one.
struct PostgresResultReader {
    /// The statement's binds, redacted from the server's error texts.
    let binds: [SQLValue]
    /// The rows of the last result that had rows.
    var rows: [SQLRow] = []
    /// The rows the last command affected (or returned).
    var affected = 0
    /// The first error.
    var failure: PostgresError?
    /// The columns of the rows: given when known (a prepared statement's), read from the first
    /// result with rows otherwise.
    var columns: SQLColumns?
    /// Whether ``columns`` was read from a result, rather than given and found to match.
    private(set) var readColumns = false
    /// Whether every column of the result ``columns`` was read from has a type that
    /// ``PostgresBinaryDecoder`` decodes (so the statement's results may come in binary).
    private(set) var columnsDecodeInBinary = false

    /// Called with each row in place of collecting ``rows``, when set.
    let visitRow: ((borrowing PostgresRowView) throws -> Void)?
    /// The first error ``visitRow`` threw; no row is visited after it.
    private(set) var rowFailure: (any Error)?

    init(binds: [SQLValue], columns: SQLColumns? = nil, visitRow: ((borrowing PostgresRowView) throws -> Void)? = nil) {
        self.binds = binds
        self.columns = columns
        self.visitRow = visitRow
    }

    /// Takes one result: rows, a command's count or an error. Returns the status of a result it
    /// does not handle (COPY, a single row, a pipeline's sync), for the caller.
    mutating func take(_ result: OpaquePointer) -> ExecStatusType? {
        let status = PQresultStatus(result)
        switch status {
        case PGRES_TUPLES_OK:
            if let visitRow {
                visitRows(of: result, with: visitRow)
            } else {
                rows = decodeRows(of: result)
            }
            affected = Self.affectedRows(result)
        case PGRES_COMMAND_OK:
            affected = Self.affectedRows(result)
        case PGRES_EMPTY_QUERY:
            break
        case PGRES_FATAL_ERROR, PGRES_BAD_RESPONSE, PGRES_NONFATAL_ERROR:
            record(Self.serverError(of: result, binds: binds))
        default:
            return status
        }
        return nil
    }

    /// Every row of the result, decoded with ``columns`` when the result has those columns.
    private mutating func decodeRows(of result: OpaquePointer) -> [SQLRow] {
        let count = PQntuples(result)
        guard count > 0 else { return [] }
        let names = columnNames(of: result)
        return Self.withColumnFormats(of: result) { formats in
            var rows: [SQLRow] = []
            rows.reserveCapacity(Int(count))
            for index in 0..<count { rows.append(Self.row(index, of: result, columns: names, formats: formats)) }
            return rows
        }
    }

    /// Calls `visit` with each row of the result until it throws.
    private mutating func visitRows(of result: OpaquePointer, with visit: (borrowing PostgresRowView) throws -> Void) {
        let count = PQntuples(result)
        guard count > 0, rowFailure == nil else { return }
        let names = columnNames(of: result)
        rowFailure = Self.withColumnFormats(of: result) { formats -> (any Error)? in
            for index in 0..<count {
                do {
                    try visit(PostgresRowView(result: result, index: index, columns: names, formats: formats))
                } catch {
                    return error
                }
            }
            return nil
        }
    }

    /// ``columns`` when the result has them, else the result's own (which become ``columns``).
    private mutating func columnNames(of result: OpaquePointer) -> SQLColumns {
        if let known = columns, Self.result(result, has: known) { return known }
        let names = Self.columns(of: result)
        columns = names
        readColumns = true
        columnsDecodeInBinary = (0..<PQnfields(result)).allSatisfy { PostgresBinaryDecoder.decodes(PQftype(result, $0)) }
        return names
    }

    /// Whether the result's columns are `columns`, by name and in order.
    private static func result(_ result: OpaquePointer, has columns: SQLColumns) -> Bool {
        guard PQnfields(result) == columns.count else { return false }
        for (field, name) in columns.names.enumerated() {
            guard let found = PQfname(result, Int32(field)), name.withCString({ strcmp($0, found) }) == 0 else { return false }
        }
        return true
    }

    /// Keeps `error` unless an earlier one is kept.
    mutating func record(_ error: PostgresError) {
        if failure == nil { failure = error }
    }

    /// The server's error in `result`: SQLSTATE, severity, message, detail, hint and constraint,
    /// with `binds` redacted from the texts.
    static func serverError(of result: OpaquePointer, binds: [SQLValue]) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            PQresultErrorField(result, Int32(code)).map { String(cString: $0) }
        }
        let redaction = PostgresBindRedaction(binds: binds)
        let sqlState = field(UInt8(ascii: "C"))
        var hint = redaction.apply(to: field(UInt8(ascii: "H")))
        if sqlState == "26000" || sqlState == "42P05" {
            // A prepared statement missing, or prepared twice under one name: the server
            // connection changed under the session, as behind a pooler in transaction mode.
            hint = (hint.map { $0 + ". " } ?? "")
                + "Behind a pooler in transaction mode (PgBouncer's pool_mode = transaction), set PostgresConfiguration.pgBouncerTransactionMode"
        }
        return PostgresError(
            code: .server, sqlState: sqlState, severity: field(UInt8(ascii: "V")),
            message: redaction.apply(to: field(UInt8(ascii: "M")) ?? "unknown error") ?? "unknown error",
            detail: redaction.apply(to: field(UInt8(ascii: "D"))), hint: hint,
            constraint: field(UInt8(ascii: "n")))
    }

    /// libpq's last error message on `handle`, trimmed.
    static func errorMessage(of handle: OpaquePointer) -> String {
        let message = PQerrorMessage(handle).map { String(cString: $0) } ?? ""
        let trimmed = message.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? "the connection failed" : trimmed
    }

    /// The rows a command affected, from its tag.
    static func affectedRows(_ result: OpaquePointer) -> Int {
        guard let text = PQcmdTuples(result), text.pointee != 0 else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    /// The result's column names.
    static func columns(of result: OpaquePointer) -> SQLColumns {
        SQLColumns((0..<PQnfields(result)).map { String(cString: PQfname(result, $0)) })
    }

    /// Runs `body` with each column's type and whether it came in binary, read once for a result.
    static func withColumnFormats<Result>(
        of result: OpaquePointer, _ body: (UnsafeBufferPointer<(type: Oid, binary: Bool)>) -> Result
    ) -> Result {
        let fields = Int(PQnfields(result))
        return withUnsafeTemporaryAllocation(of: (type: Oid, binary: Bool).self, capacity: fields) { formats in
            for field in 0..<fields {
                formats.initializeElement(at: field, to: (PQftype(result, Int32(field)), PQfformat(result, Int32(field)) == 1))
            }
            return body(UnsafeBufferPointer(formats))
        }
    }

    /// Row `index` of the result, decoded by each column's type and format (`formats`, from
    /// ``withColumnFormats(of:_:)``).
    static func row(
        _ index: Int32, of result: OpaquePointer, columns: SQLColumns, formats: UnsafeBufferPointer<(type: Oid, binary: Bool)>
    ) -> SQLRow {
        let view = PostgresRowView(result: result, index: index, columns: columns, formats: formats)
        var values: [SQLValue] = []
        values.reserveCapacity(formats.count)
        for field in formats.indices { values.append(view[field]) }
        return SQLRow(columns: columns, values: values)
    }
}
