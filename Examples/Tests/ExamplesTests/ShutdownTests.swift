import Foundation
import Testing

/// A clean `SIGTERM` ends each HTTP service with status 0 (the server stops, then its services).
@Suite struct ShutdownTests {
    @Test(arguments: ["crypto-butler", "saas-api"])
    func aSIGTERMEndsTheServiceWithStatusZero(_ program: String) async throws {
        let port = try CryptoButlerFleetTests.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(program)
        process.arguments = ["--port", String(port)]
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = nil
        environment["REDIS_URL"] = nil
        environment["BUTLER_API_LATENCY_MS"] = "1"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var healthy = false
        for _ in 0..<600 where !healthy {
            healthy = await CryptoButlerFleetTests.get(port, "/health") != nil
            if !healthy { try await Task.sleep(for: .milliseconds(50)) }
        }
        try #require(healthy, "\(program) never answered /health")
        kill(process.processIdentifier, SIGTERM)
        let exited = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                process.waitUntilExit()
                continuation.resume(returning: process.terminationStatus)
            }
        }
        #expect(process.terminationReason == .exit)
        #expect(exited == 0)
    }
}
