import Foundation

/// Runs a program and waits for it, its output read on a thread of its own (the read blocks
/// until the program closes its output).
///
/// ```swift
/// let (status, output) = try await ProgramRun.run(URL(fileURLWithPath: "/bin/echo"), arguments: ["hi"])
/// ```
public enum ProgramRun {
    /// Runs `program` with `arguments` (and `environment`, this process's when `nil`); returns its
    /// exit status and its standard output followed by its standard error. A program still
    /// running after `timeout` is terminated (SIGTERM).
    ///
    /// #### Errors
    /// Foundation's error when the program cannot be started.
    public static func run(
        _ program: URL, arguments: [String], environment: [String: String]? = nil, timeout: Duration? = nil
    ) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let watchdog = timeout.map { timeout in
            Task {
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                process.terminate()
            }
        }
        defer { watchdog?.cancel() }
        async let printed = read(output)
        async let complained = read(errors)
        let data = await printed + complained
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Everything `pipe` carries until its writer closes it.
    private static func read(_ pipe: Pipe) async -> Data {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: pipe.fileHandleForReading.readDataToEndOfFile()) }
        }
    }
}
