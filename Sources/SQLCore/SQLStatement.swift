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
    /// A bind parameter and the UTF-8 offset in `text` where its placeholder goes. One array
    /// of these (rather than two parallel arrays) keeps a small fragment to one allocation.
    private struct Bind: Sendable, Hashable {
        var offset: Int
        let value: SQLValue
    }

    /// The SQL text, with quoted identifiers and without placeholders.
    private var text: String
    /// The bind parameters in order, with their positions in `text`.
    private var bindList: [Bind]
    /// The first identifier problem found while building, reported by `render`.
    private var identifierProblem: String?
    /// The longest identifier's name, checked against the dialect's limit when rendering.
    private var longestIdentifier: String?

    /// The bind parameters, in order.
    public var binds: [SQLValue] { bindList.map(\.value) }

    /// The number of bind parameters.
    public var bindCount: Int { bindList.count }

    /// An empty statement, to append to.
    public init() {
        text = ""
        bindList = []
    }

    /// A statement of raw SQL text with no binds. Never pass it user input.
    public init(unsafeRaw sql: String) {
        text = sql
        bindList = []
    }

    /// Whether the statement has no text and no binds.
    public var isEmpty: Bool { text.isEmpty && bindList.isEmpty }

    /// Appends raw SQL text. Never pass it user input.
    public mutating func append(unsafeRaw sql: String) {
        text.append(sql)
    }

    /// Appends a value as a bind parameter.
    public mutating func append(bind value: some SQLValueEncodable) {
        bindList.append(Bind(offset: text.utf8.count, value: value.sqlValue))
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
        if shift == 0 {
            bindList.append(contentsOf: other.bindList)
        } else {
            // No reserveCapacity here: reserving the exact size on every append would defeat
            // the array's geometric growth and make building a long statement quadratic.
            for var bind in other.bindList {
                bind.offset += shift
                bindList.append(bind)
            }
        }
        if identifierProblem == nil { identifierProblem = other.identifierProblem }
        if let name = other.longestIdentifier, name.utf8.count > (longestIdentifier?.utf8.count ?? 0) {
            longestIdentifier = name
        }
    }

    /// Reserves room for this many more UTF-8 bytes of text and binds. Call it once before
    /// building a long statement, not before each append.
    public mutating func reserveCapacity(textBytes: Int, binds count: Int) {
        // A short text stays inline in the String (no allocation): reserve only beyond that.
        if text.utf8.count + textBytes > 15 { text.reserveCapacity(text.utf8.count + textBytes) }
        bindList.reserveCapacity(bindList.count + count)
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
        SQLRenderedStatement(sql: try sql(for: dialect), binds: binds)
    }

    /// The SQL text ``render(for:)`` gives, without collecting the binds.
    package func sql(for dialect: SQLDialect) throws(SQLStatementError) -> String {
        try validate(for: dialect)
        return sql(placeholders: dialect.placeholderStyle)
    }

    /// Throws what ``render(for:)`` throws, without rendering.
    package func validate(for dialect: SQLDialect) throws(SQLStatementError) {
        if let identifierProblem {
            throw SQLStatementError(code: .invalidIdentifier, message: identifierProblem)
        }
        if let longestIdentifier { try dialect.validateIdentifier(longestIdentifier) }
        if bindList.count > dialect.maxBindParameters {
            throw SQLStatementError(
                code: .tooManyBinds,
                message: "the statement has \(bindList.count) binds; \(dialect.name) allows at most \(dialect.maxBindParameters) in one statement: split it into chunks")
        }
    }

    // MARK: Recognising a prepared statement

    /// What a statement's rendered SQL is made of: its text and where its binds go. A backend
    /// that keeps prepared statements keeps the shape of one it prepared and asks a new
    /// statement ``hasShape(_:)``, which is cheaper than rendering the new one to compare SQL.
    package struct Shape: Sendable {
        fileprivate let text: String
        fileprivate let bindOffsets: [Int]
    }

    /// This statement's shape.
    package var shape: Shape {
        Shape(text: text, bindOffsets: bindList.map(\.offset))
    }

    /// Whether this statement renders to the same SQL as the statement `shape` was taken from,
    /// in any dialect.
    package func hasShape(_ shape: Shape) -> Bool {
        guard bindList.count == shape.bindOffsets.count, text == shape.text else { return false }
        for (bind, offset) in zip(bindList, shape.bindOffsets) where bind.offset != offset {
            return false
        }
        return true
    }

    /// Calls `body` with each bind's position (from 0) and value, in order, without collecting
    /// them into an array as ``binds`` does.
    package func forEachBind<Failure: Error>(_ body: (Int, SQLValue) throws(Failure) -> Void) throws(Failure) {
        for index in bindList.indices {
            try body(index, bindList[index].value)
        }
    }

    private func sql(placeholders style: SQLDialect.PlaceholderStyle) -> String {
        if bindList.isEmpty { return text }
        var length = text.utf8.count
        switch style {
        case .questionMark:
            length += bindList.count
        case .dollarNumbered:
            var width = 1
            var nextWidthAt = 10
            for position in 1...bindList.count {
                if position == nextWidthAt {
                    width += 1
                    nextWidthAt *= 10
                }
                length += 1 + width
            }
        }
        var text = self.text
        return text.withUTF8 { source in
            String(unsafeUninitializedCapacity: length) { output in
                var written = 0
                var start = 0
                func copy(_ bytes: UnsafeBufferPointer<UInt8>) {
                    guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
                    UnsafeMutableRawPointer(output.baseAddress! + written).copyMemory(from: base, byteCount: bytes.count)
                    written += bytes.count
                }
                for (index, bind) in bindList.enumerated() {
                    copy(UnsafeBufferPointer(rebasing: source[start..<bind.offset]))
                    start = bind.offset
                    switch style {
                    case .questionMark:
                        output[written] = UInt8(ascii: "?")
                        written += 1
                    case .dollarNumbered:
                        output[written] = UInt8(ascii: "$")
                        written += 1
                        var position = index + 1
                        var digits = 1
                        while position >= 10 {
                            position /= 10
                            digits += 1
                        }
                        position = index + 1
                        for digit in stride(from: digits - 1, through: 0, by: -1) {
                            output[written + digit] = UInt8(ascii: "0") + UInt8(position % 10)
                            position /= 10
                        }
                        written += digits
                    }
                }
                copy(UnsafeBufferPointer(rebasing: source[start...]))
                return written
            }
        }
    }
}

extension SQLStatement: CustomStringConvertible {
    /// The SQL with `$n` placeholders and the bind count, never the bind values:
    /// `SELECT * FROM "t" WHERE id = $1 [1 bind]`.
    public var description: String {
        let sql = sql(placeholders: .dollarNumbered)
        return bindList.count == 1 ? "\(sql) [1 bind]" : "\(sql) [\(bindList.count) binds]"
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
            statement.reserveCapacity(textBytes: literalCapacity, binds: interpolationCount)
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
