import Foundation

/// Runs a program and waits for it, its output read on a thread of its own (the read blocks
/// until the program closes its output).
///
/// ```swift
/// let (status, output) = try await ProgramRun.run(URL(fileURLWithPath: "/bin/echo"), arguments: ["hi"])
/// ```
public enum ProgramRun {
    /// Runs `program` with `arguments` (and `environment`, this process's when `nil`); returns its
    /// exit status and standard output.
    ///
    /// #### Errors
    /// Foundation's error when the program cannot be started.
    public static func run(
        _ program: URL, arguments: [String], environment: [String: String]? = nil
    ) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: output.fileHandleForReading.readDataToEndOfFile()) }
        }
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
