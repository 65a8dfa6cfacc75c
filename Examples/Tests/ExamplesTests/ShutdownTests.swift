import Foundation
import Testing

/// The HTTP services as processes: a clean `SIGTERM` ends each with status 0 (the server stops,
/// then its services), an upload that says it is too large is refused before it is sent, one
/// that expects `100 Continue` gets it, a 10 MiB file of bad rows costs bounded memory and
/// report, and connections that send nothing or trickle their headers are closed.
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
        environment["BUTLER_TOKENS"] = "butler-demo-token:demo"
        environment["HTTP_RATE_LIMIT_PER_SECOND"] = "1000000"
        environment["HTTP_RATE_LIMIT_BURST"] = "1000000"
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

    @Test func aTenMebibyteFileOfBadRowsIsAnsweredQuicklyWithABoundedReportAndBoundedMemory() async throws {
        let (process, port) = try await Self.start("saas-api")
        defer { process.terminate() }
        let baseline = try Self.peakResidentKilobytes(of: process.processIdentifier)
        var file = "email,name,company\n"
        let row = "not-an-email,Someone,Company\n"
        file += String(repeating: row, count: (10 * 1024 * 1024 - 2_048) / row.utf8.count)
        let upload = file
        let started = ContinuousClock.now
        let answer = try await Task.detached { try Self.upload(upload, port: port) }.value
        let took = started.duration(to: .now)
        let peak = try Self.peakResidentKilobytes(of: process.processIdentifier)
        #expect(answer.status.hasPrefix("HTTP/1.1 422"), "answered: \(answer.status)")
        #expect(answer.body.utf8.count < 64 * 1024, "a report of \(answer.body.utf8.count) bytes")
        #expect(answer.body.contains("\"errorCount\""))
        #expect(took < .seconds(60), "answered after \(took) (a debug build)")
        #expect(peak < 200 * 1024, "peak RSS \(peak / 1024) MiB")
        print("[figure] saas-api, \(upload.utf8.count) bytes of bad rows: 422 after \(took), report \(answer.body.utf8.count) bytes, peak RSS \(baseline / 1024) MiB before, \(peak / 1024) MiB after")
    }

    @Test func anUploadThatExpectsContinueGetsItThenItsAnswer() async throws {
        let (process, port) = try await Self.start("saas-api")
        defer { process.terminate() }
        let (interim, final) = try await Task.detached { () -> (String, String) in
            let socket = try Self.connect(port: port)
            defer { close(socket) }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let body = "email,name,company\nexpect@example.com,Expect,Continue\n"
            let head = "POST /leads/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nExpect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
            _ = head.withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            var buffer = [UInt8](repeating: 0, count: 4_096)
            let count = recv(socket, &buffer, buffer.count, 0)
            let interim = count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
            _ = body.withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            let finalCount = recv(socket, &buffer, buffer.count, 0)
            return (interim, finalCount > 0 ? String(decoding: buffer[..<finalCount], as: UTF8.self) : "")
        }.value
        #expect(interim.hasPrefix("HTTP/1.1 100 Continue"), "first answer: \(interim.prefix(100))")
        #expect(final.hasPrefix("HTTP/1.1 200"), "final answer: \(final.prefix(200))")
    }

    @Test func aFileWithABadHeaderIsRefusedWithoutParsingItsRows() async throws {
        let (process, port) = try await Self.start("saas-api")
        defer { process.terminate() }
        let row = "not-an-email,Someone,Company\n"
        let file = "mail,name,company\n" + String(repeating: row, count: (10 * 1024 * 1024 - 2_048) / row.utf8.count)
        let started = ContinuousClock.now
        let answer = try await Task.detached { try Self.upload(file, port: port) }.value
        let took = started.duration(to: .now)
        #expect(answer.status.hasPrefix("HTTP/1.1 400"), "answered: \(answer.status)")
        #expect(answer.body.contains("email and name"))
        // The 10 MiB of bad rows took 18-19 s to check in full in a debug build; here the header decides.
        #expect(took < .seconds(8), "answered after \(took)")
        print("[figure] saas-api, \(file.utf8.count) bytes under a bad header: 400 after \(took)")
    }

    /// The process's peak resident set (`VmHWM`), in KiB.
    static func peakResidentKilobytes(of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    }

    /// POSTs `body` to `/leads/upload` (`Connection: close`) and reads the answer until the server
    /// closes; returns its status line and body.
    static func upload(_ body: String, port: Int) throws -> (status: String, body: String) {
        let socket = try Self.connect(port: port)
        defer { close(socket) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array("POST /leads/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        // Sends while the server reads; stops once it answers (it may answer before the end).
        var sent = 0
        while sent < bytes.count {
            var poller = pollfd(fd: socket, events: Int16(POLLIN | POLLOUT), revents: 0)
            guard poll(&poller, 1, 60_000) > 0, poller.revents & Int16(POLLIN) == 0 else { break }
            let count = bytes[sent...].prefix(65_536).withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { break }
            sent += count
        }
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        return (String(parts.first?.split(separator: "\r\n").first ?? ""), parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    @Test func aBodyTrickledPastItsTimeoutIsCutOffWith408() async throws {
        let (process, port) = try await Self.start("saas-api", environment: ["HTTP_BODY_TIMEOUT_SECS": "1", "HTTP_IDLE_TIMEOUT_SECS": "5"])
        defer { process.terminate() }
        // A body of 100 bytes announced, sent a byte every 100 ms: each byte within the idle
        // timeout, the whole past the upload's.
        let answer = try await Task.detached { () -> String in
            let socket = try Self.connect(port: port)
            defer { close(socket) }
            let head = "POST /leads/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\n"
            _ = head.withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            var buffer = [UInt8](repeating: 0, count: 4_096)
            for _ in 0..<100 {
                _ = "x".withCString { send(socket, $0, 1, Int32(MSG_NOSIGNAL)) }
                var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 100) > 0 {
                    let count = recv(socket, &buffer, buffer.count, 0)
                    return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
                }
            }
            return ""
        }.value
        #expect(answer.hasPrefix("HTTP/1.1 408"), "answered: \(answer.prefix(200))")
    }

    /// Connects, sends `pieces` one by one `every` apart (while the connection is open), and returns
    /// how many seconds after connecting the server closed the connection (`nil`: open after 10 s).
    static func secondsUntilClosed(port: Int, sending pieces: [String], every interval: Duration) throws -> Double? {
        let socket = try Self.connect(port: port)
        defer { close(socket) }
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

    /// A TCP socket connected to 127.0.0.1:`port`; the caller closes it.
    static func connect(port: Int) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            close(socket)
            throw POSIXError(.ECONNREFUSED)
        }
        return socket
    }

    /// Sends the headers of an upload of `contentLength` bytes and no body; returns what the
    /// server answers within 10 s (empty when nothing).
    static func headersOnlyRequest(port: Int, contentLength: Int) throws -> String {
        let socket = try Self.connect(port: port)
        defer { close(socket) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = "POST /leads/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nContent-Length: \(contentLength)\r\n\r\n"
        _ = request.withCString { send(socket, $0, strlen($0), 0) }
        var buffer = [UInt8](repeating: 0, count: 4_096)
        let count = recv(socket, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
    }
}
