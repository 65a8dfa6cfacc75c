import Foundation
import Testing

/// The HTTP services as processes: a clean `SIGTERM` ends each with status 0 (the server stops,
/// then its services), an upload that says it is too large is refused before it is sent, and
/// connections that send nothing or trickle their headers are closed.
@Suite struct ShutdownTests {
    /// Starts `program` on a free port (SQLite, no Redis, `extra` added to the environment) and
    /// returns it once `/health` answers.
    static func start(_ program: String, environment extra: [String: String] = [:]) async throws -> (process: Process, port: Int) {
        let port = try CryptoButlerFleetTests.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(program)
        process.arguments = ["--port", String(port)]
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = nil
        environment["REDIS_URL"] = nil
        environment["BUTLER_API_LATENCY_MS"] = "1"
        environment.merge(extra) { $1 }
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

    @Test(arguments: ["crypto-butler", "saas-api"])
    func connectionsThatSendNothingOrTrickleTheirHeadersAreClosed(_ program: String) async throws {
        let (process, port) = try await Self.start(program, environment: ["HTTP_IDLE_TIMEOUT_SECS": "1"])
        defer { process.terminate() }
        // Nothing at all; a request line and half a header, then nothing; a header a byte at a
        // time, each byte 400 ms after the last (the request never ends).
        let silent = try await Task.detached { try Self.secondsUntilClosed(port: port, sending: [], every: .zero) }.value
        let half = try await Task.detached { try Self.secondsUntilClosed(port: port, sending: ["GET /health HTTP/1.1\r\nHo"], every: .zero) }.value
        let trickle = try await Task.detached {
            try Self.secondsUntilClosed(port: port, sending: "GET /health HTTP/1.1\r\nX-Slow: ".map { String($0) }, every: .milliseconds(400))
        }.value
        for (name, seconds) in [("silent", silent), ("half a header", half), ("trickled header", trickle)] {
            let closed = try #require(seconds, "\(name): the connection was still open after 10 s")
            #expect(closed >= 0.9 && closed < 5, "\(name): closed after \(closed) s (idle timeout 1 s)")
        }
        // A complete request is still answered.
        #expect(await CryptoButlerFleetTests.get(port, "/health") != nil)
    }

    /// Connects, sends `pieces` one by one `every` apart (while the connection is open), and returns
    /// how many seconds after connecting the server closed the connection (`nil`: open after 10 s).
    static func secondsUntilClosed(port: Int, sending pieces: [String], every interval: Duration) throws -> Double? {
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
        let started = ContinuousClock.now
        var remaining = pieces[...]
        var buffer = [UInt8](repeating: 0, count: 1_024)
        while started.duration(to: .now) < .seconds(10) {
            if let piece = remaining.first, started.duration(to: .now) >= interval * (pieces.count - remaining.count) {
                _ = piece.withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                remaining = remaining.dropFirst()
            }
            var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 20) > 0 {
                let count = recv(socket, &buffer, buffer.count, 0)
                if count <= 0 {
                    let (seconds, attoseconds) = started.duration(to: .now).components
                    return Double(seconds) + Double(attoseconds) / 1e18
                }
            }
        }
        return nil
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
