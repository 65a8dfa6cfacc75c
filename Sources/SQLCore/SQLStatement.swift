/// SQL text with its bind parameters, built by string interpolation so that an
/// interpolated value always becomes a bind and never SQL text.
///
/// ```swift
/// let symbol = "BTC'; DROP TABLE tokens; --"
/// let statement: SQLStatement = "SELECT * FROM \(identifier: "tokens") WHERE symbol = \(symbol) AND active = \(true)"
/// let rendered = try statement.render(for: .postgres)
/// // rendered.sql   == #"SELECT * FROM "tokens" WHERE symbol = $1 AND active = $2"#
/// // rendered.binds == [.text("BTC'; DROP TABLE tokens; --"), .bool(true)]
/// ```
///
/// Anything that is not a value goes through an explicitly named escape hatch:
/// - `\(identifier: name)` quotes a table or column name (``SQLDialect/quoteIdentifier(_:)``);
///   an invalid one (empty, NUL, too long) makes ``render(for:)`` throw.
/// - `\(unsafeRaw: text)` splices text as it is. Never pass it user input.
/// - `\(statement)` splices another statement, binds included, so fragments compose.
/// - `\(list: values)` writes comma-separated binds, for `IN (...)` and `VALUES (...)`.
///
/// The ``description`` shows the SQL with `$n` placeholders and the number of binds,
/// never their values.
public struct SQLStatement: Sendable, Hashable {
    /// The SQL text, with quoted identifiers and without placeholders.
    private var text: String
    /// For each bind, the UTF-8 offset in `text` where its placeholder goes.
    private var bindOffsets: [Int]
    /// The bind parameters, in order.
    public private(set) var binds: [SQLValue]
    /// The first identifier problem found while building, reported by `render`.
    private var identifierProblem: String?
    /// The longest identifier's name, checked against the dialect's limit when rendering.
    private var longestIdentifier: String?

    /// An empty statement, to append to.
    public init() {
        text = ""
        bindOffsets = []
        binds = []
    }

    /// A statement of raw SQL text with no binds. Never pass it user input.
    public init(unsafeRaw sql: String) {
        self.init()
        text = sql
    }

    /// Whether the statement has no text and no binds.
    public var isEmpty: Bool { text.isEmpty && binds.isEmpty }

    /// Appends raw SQL text. Never pass it user input.
    public mutating func append(unsafeRaw sql: String) {
        text.append(sql)
    }

    /// Appends a value as a bind parameter.
    public mutating func append(bind value: some SQLValueEncodable) {
        bindOffsets.append(text.utf8.count)
        binds.append(value.sqlValue)
    }

    /// Appends a quoted identifier (see ``SQLDialect/quoteIdentifier(_:)``).
    public mutating func append(identifier name: String) {
        if let problem = SQLDialect.identifierProblem(name) {
            if identifierProblem == nil { identifierProblem = problem }
            text.append("\"\"")
            return
        }
        if name.utf8.count > (longestIdentifier?.utf8.count ?? 0) { longestIdentifier = name }
        text.append(SQLDialect.quoted(name))
    }

    /// Appends another statement, its binds included.
    public mutating func append(_ other: SQLStatement) {
        let shift = text.utf8.count
        text.append(other.text)
        bindOffsets.reserveCapacity(bindOffsets.count + other.bindOffsets.count)
        for offset in other.bindOffsets { bindOffsets.append(offset + shift) }
        binds.append(contentsOf: other.binds)
        if identifierProblem == nil { identifierProblem = other.identifierProblem }
        if let name = other.longestIdentifier, name.utf8.count > (longestIdentifier?.utf8.count ?? 0) {
            longestIdentifier = name
        }
    }

    /// Reserves room for this many more UTF-8 bytes of text and binds.
    public mutating func reserveCapacity(textBytes: Int, binds count: Int) {
        text.reserveCapacity(text.utf8.count + textBytes)
        bindOffsets.reserveCapacity(bindOffsets.count + count)
        binds.reserveCapacity(binds.count + count)
    }

    /// The two statements one after the other.
    public static func + (lhs: SQLStatement, rhs: SQLStatement) -> SQLStatement {
        var result = lhs
        result.append(rhs)
        return result
    }

    /// The SQL text and binds for a dialect, placeholders numbered in bind order.
    ///
    /// #### Errors
    /// ``SQLStatementError`` with code ``SQLStatementError/Code/invalidIdentifier`` when an
    /// interpolated identifier is empty, contains NUL or is longer than the dialect allows;
    /// ``SQLStatementError/Code/tooManyBinds`` when there are more binds than
    /// ``SQLDialect/maxBindParameters``.
    public func render(for dialect: SQLDialect) throws(SQLStatementError) -> SQLRenderedStatement {
        if let identifierProblem {
            throw SQLStatementError(code: .invalidIdentifier, message: identifierProblem)
        }
        if let longestIdentifier { try dialect.validateIdentifier(longestIdentifier) }
        if binds.count > dialect.maxBindParameters {
            throw SQLStatementError(
                code: .tooManyBinds,
                message: "the statement has \(binds.count) binds; \(dialect.name) allows at most \(dialect.maxBindParameters) in one statement: split it into chunks")
        }
        return SQLRenderedStatement(sql: sql(placeholders: dialect.placeholderStyle), binds: binds)
    }

    private func sql(placeholders style: SQLDialect.PlaceholderStyle) -> String {
        if bindOffsets.isEmpty { return text }
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count + bindOffsets.count * 6)
        var text = self.text
        text.withUTF8 { bytes in
            var start = 0
            for (index, offset) in bindOffsets.enumerated() {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<offset]))
                switch style {
                case .questionMark:
                    output.append(UInt8(ascii: "?"))
                case .dollarNumbered:
                    output.append(UInt8(ascii: "$"))
                    SQLStatement.appendDecimal(index + 1, to: &output)
                }
                start = offset
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func appendDecimal(_ value: Int, to output: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &output) }
        output.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}

extension SQLStatement: CustomStringConvertible {
    /// The SQL with `$n` placeholders and the bind count, never the bind values:
    /// `SELECT * FROM "t" WHERE id = $1 [1 bind]`.
    public var description: String {
        let sql = sql(placeholders: .dollarNumbered)
        return binds.count == 1 ? "\(sql) [1 bind]" : "\(sql) [\(binds.count) binds]"
    }
}

extension SQLStatement: ExpressibleByStringInterpolation {
    /// A statement of literal SQL text with no binds.
    public init(stringLiteral value: String) {
        self.init(unsafeRaw: value)
    }

    /// A statement built by interpolation: see ``SQLStatement``.
    public init(stringInterpolation: StringInterpolation) {
        self = stringInterpolation.statement
    }

    /// Builds a statement: literal segments are SQL text, interpolated values are binds.
    public struct StringInterpolation: StringInterpolationProtocol {
        var statement = SQLStatement()

        /// Reserves room for the literal text and the interpolations.
        public init(literalCapacity: Int, interpolationCount: Int) {
            statement.reserveCapacity(textBytes: literalCapacity + interpolationCount * 2, binds: interpolationCount)
        }

        /// Appends literal SQL text.
        public mutating func appendLiteral(_ literal: String) {
            statement.append(unsafeRaw: literal)
        }

        /// Appends a value as a bind parameter: `WHERE id = \(id)`.
        public mutating func appendInterpolation(_ value: some SQLValueEncodable) {
            statement.append(bind: value)
        }

        /// Appends an optional value as a bind parameter, `NULL` for `nil`.
        public mutating func appendInterpolation<Value: SQLValueEncodable>(_ value: Value?) {
            statement.append(bind: value)
        }

        /// Appends comma-separated binds: `WHERE id IN (\(list: ids))`. An empty list writes nothing.
        public mutating func appendInterpolation(list values: some Sequence<some SQLValueEncodable>) {
            var first = true
            for value in values {
                if !first { statement.append(unsafeRaw: ", ") }
                first = false
                statement.append(bind: value)
            }
        }

        /// Appends a quoted identifier: `SELECT * FROM \(identifier: table)`.
        public mutating func appendInterpolation(identifier name: String) {
            statement.append(identifier: name)
        }

        /// Appends comma-separated quoted identifiers: `INSERT INTO t (\(identifiers: columns))`.
        public mutating func appendInterpolation(identifiers names: some Sequence<String>) {
            var first = true
            for name in names {
                if !first { statement.append(unsafeRaw: ", ") }
                first = false
                statement.append(identifier: name)
            }
        }

        /// Appends raw SQL text. Never pass it user input.
        public mutating func appendInterpolation(unsafeRaw sql: String) {
            statement.append(unsafeRaw: sql)
        }

        /// Appends another statement, its binds included.
        public mutating func appendInterpolation(_ fragment: SQLStatement) {
            statement.append(fragment)
        }
    }
}

extension Sequence<SQLStatement> {
    /// The statements one after the other with raw `separator` text between them.
    public func joined(separator: String) -> SQLStatement {
        var result = SQLStatement()
        var first = true
        for statement in self {
            if !first { result.append(unsafeRaw: separator) }
            first = false
            result.append(statement)
        }
        return result
    }
}
