import Foundation

/// A setting of an example service that is present but does not parse: the service refuses to
/// start and names the variable (never its value, which may be a secret).
///
/// ```swift
/// let latency = try ExampleConfigurationError.integer("BUTLER_API_LATENCY_MS", in: environment, default: 100, range: 0...60_000)
/// ```
public struct ExampleConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The environment variable.
    public var variable: String
    /// What is wrong with its value.
    public var problem: String

    /// An error for `variable`.
    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }

    /// `<variable>: <problem>`.
    public var description: String { "\(variable): \(problem)" }

    /// The whole number `variable` holds in `environment`, or `default` when it is absent.
    ///
    /// #### Errors
    /// ``ExampleConfigurationError`` when it is present but not a whole number in `range`.
    public static func integer(
        _ variable: String, in environment: [String: String], default value: Int, range: ClosedRange<Int>
    ) throws(ExampleConfigurationError) -> Int {
        guard let text = environment[variable] else { return value }
        guard let number = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
            throw ExampleConfigurationError(variable: variable, problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }
}
