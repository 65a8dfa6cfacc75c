import SQLCore
import Testing

/// The example of the README and of the SQLCore DocC article, run as written.
@Suite struct DocumentationExampleTests {
    struct Token: Decodable {
        let id: Int
        let symbol: String
        let price: Double?
    }

    @Test func readmeExampleWorksAsWritten() throws {
        let symbol = "BTC'; DROP TABLE tokens; --"
        let statement: SQLStatement = """
            SELECT id, symbol, price FROM \(identifier: "tokens")
            WHERE symbol = \(symbol) AND active = \(true)
            """
        let rendered = try statement.render(for: .postgres)
        #expect(rendered.sql == "SELECT id, symbol, price FROM \"tokens\"\nWHERE symbol = $1 AND active = $2")
        #expect("\(statement)".hasSuffix("[2 binds]"))
        #expect(!"\(statement)".contains("DROP"))

        let row = SQLRow(columns: SQLColumns(["id", "symbol", "price"]), values: [.int64(1), .text("BTC"), .null])
        let token = try row.decode(Token.self)
        #expect(token.id == 1 && token.symbol == "BTC" && token.price == nil)
    }
}
