import ExampleSupport
import Foundation

/// What one bot-fleet process did, as the single line it prints (`process: cycles=… …`) and the
/// parent reads.
struct ProcessReport: Sendable {
    var cycles = 0
    var failures = 0
    var lookups = 0
    var fetches = 0
    var marketFetches = 0

    /// The share of lookups that ran no fetch.
    var hitRate: Double { lookups == 0 ? 0 : 1 - Double(fetches) / Double(lookups) }

    /// `cycles=N failures=N lookups=N fetches=N market-fetches=N hit-rate=R`.
    var line: String {
        "cycles=\(cycles) failures=\(failures) lookups=\(lookups) fetches=\(fetches) market-fetches=\(marketFetches) "
            + String(format: "hit-rate=%.4f", hitRate)
    }

    static func + (left: ProcessReport, right: ProcessReport) -> ProcessReport {
        ProcessReport(
            cycles: left.cycles + right.cycles, failures: left.failures + right.failures, lookups: left.lookups + right.lookups,
            fetches: left.fetches + right.fetches, marketFetches: left.marketFetches + right.marketFetches)
    }

    /// Runs `program` with `arguments` and reads the report it prints.
    ///
    /// #### Errors
    /// `ProcessReportError` when it exits with a failure or prints no report.
    static func run(_ program: URL, arguments: [String]) async throws -> ProcessReport {
        let (status, text) = try await ProgramRun.run(program, arguments: arguments)
        guard status == 0, let line = text.split(separator: "\n").last(where: { $0.hasPrefix("process: ") }) else {
            throw ProcessReportError(status: status, output: text)
        }
        var fields: [String: Int] = [:]
        for field in line.dropFirst("process: ".count).split(separator: " ") {
            let parts = field.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Int(parts[1]) { fields[String(parts[0])] = value }
        }
        return ProcessReport(
            cycles: fields["cycles"] ?? 0, failures: fields["failures"] ?? 0, lookups: fields["lookups"] ?? 0,
            fetches: fields["fetches"] ?? 0, marketFetches: fields["market-fetches"] ?? 0)
    }
}

/// A bot-fleet process that failed or printed no report.
struct ProcessReportError: Error, CustomStringConvertible {
    let status: Int32
    let output: String
    var description: String { "a bot-fleet process exited with \(status): \(output.suffix(2_000))" }
}
