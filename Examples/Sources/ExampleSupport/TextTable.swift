/// A plain-text table with aligned columns, for an example's final report.
///
/// ```swift
/// var table = TextTable(header: ["phase", "ms"])
/// table.append(["API", "12.5"])
/// print(table.rendered)
/// ```
public struct TextTable: Sendable {
    /// The column titles.
    public let header: [String]
    /// The rows, each with one cell per column.
    public private(set) var rows: [[String]] = []

    /// An empty table with these columns.
    public init(header: [String]) {
        self.header = header
    }

    /// Adds a row (missing cells are empty, extra ones dropped).
    public mutating func append(_ row: [String]) {
        rows.append((0..<header.count).map { $0 < row.count ? row[$0] : "" })
    }

    /// The table as text: the first column left-aligned, the others right-aligned.
    public var rendered: String {
        let all = [header] + rows
        let widths = (0..<header.count).map { column in all.map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}
