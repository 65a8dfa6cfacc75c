import Foundation
import Testing

/// The HTTP services as processes: a clean `SIGTERM` ends each with status 0 (the server stops,
/// then its services), and an upload that says it is too large is refused before it is sent.
@Suite struct ShutdownTests {
    /// Starts `program` on a free port (SQLite, no Redis) and returns it once `/health` answers.
    static func start(_ program: String) async throws -> (process: Process, port: Int) {
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
        var healthy = false
        for _ in 0..<600 where !healthy {
            healthy = await CryptoButlerFleetTests.get(port, "/health") != nil
            if !healthy { try await Task.sleep(for: .milliseconds(50)) }
        }
        if !healthy { process.terminate() }
        try #require(healthy, "\(program) never answered /health")
        return (process, port)
    }

    @Test(arguments: ["crypto-butler", "saas-api"])
    func aSIGTERMEndsTheServiceWithStatusZero(_ program: String) async throws {
        let (process, _) = try await Self.start(program)
        defer { if process.isRunning { process.terminate() } }
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

    @Test func anUploadThatSaysItIsTooLargeIsRefusedBeforeItsBodyIsSent() async throws {
        let (process, port) = try await Self.start("saas-api")
        defer { process.terminate() }
        let answer = try await Task.detached { try Self.headersOnlyRequest(port: port, contentLength: 11 * 1024 * 1024) }.value
        #expect(answer.hasPrefix("HTTP/1.1 413"), "answered: \(answer.prefix(200))")
    }

    /// Sends the headers of an upload of `contentLength` bytes and no body; returns what the
    /// server answers within 10 s (empty when nothing).
    static func headersOnlyRequest(port: Int, contentLength: Int) throws -> String {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        try #require(connected)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = "POST /leads/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nContent-Length: \(contentLength)\r\n\r\n"
        _ = request.withCString { send(socket, $0, strlen($0), 0) }
        var buffer = [UInt8](repeating: 0, count: 4_096)
        let count = recv(socket, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
    }
}
