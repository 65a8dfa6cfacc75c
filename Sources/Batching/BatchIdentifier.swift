import SQLCore

/// Table, column and constraint names of batch statements: checked and quoted by the dialect
/// (``SQLCore/SQLDialect/quoteIdentifier(_:)``), a bad one reported as a ``BatchError``.
enum BatchIdentifier {
    /// `name` quoted for `dialect`.
    ///
    /// #### Errors
    /// ``BatchError/Code/invalidIdentifier``, saying `what` the name is.
    static func quoted(_ name: String, what: String = "identifier", dialect: SQLDialect) throws(BatchError) -> String {
        do {
            return try dialect.quoteIdentifier(name)
        } catch {
            throw BatchError(code: .invalidIdentifier, message: "\(what) name: \(error.message)")
        }
    }

    /// Each of `names` quoted for `dialect`.
    ///
    /// #### Errors
    /// As ``quoted(_:what:dialect:)``.
    static func quoted(_ names: [String], what: String = "identifier", dialect: SQLDialect) throws(BatchError) -> [String] {
        var quoted: [String] = []
        quoted.reserveCapacity(names.count)
        for name in names { quoted.append(try Self.quoted(name, what: what, dialect: dialect)) }
        return quoted
    }
}
