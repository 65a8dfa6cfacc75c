import SQLCore

extension SQLStatement {
    /// The statement's text with SQLite's placeholders, for spans and the slow-statement log
    /// (never its bind values); empty when it does not render (its run then fails with the reason).
    func sqlText(for dialect: SQLDialect) -> String {
        (try? render(for: dialect).sql) ?? ""
    }
}
