import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Two crypto-butler processes on one Redis: their CoinGecko limit is one limit, so together they
/// call CoinGecko no more often than one process may.
@Suite(.enabled(if: ExampleDatabases.redisURL != nil || ExampleDatabases.isCI, "set TEST_REDIS_URL (scripts/test.sh does)"))
struct CryptoButlerFleetTests {
    /// The crypto-butler executable, next to this test bundle in the build folder.
    static func executable() throws -> URL {
        let url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("crypto-butler")
        try #require(FileManager.default.isExecutableFile(atPath: url.path), "build crypto-butler first: swift build --package-path Examples")
        return url
    }

    /// A loopback port free now.
    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        try #require(bound, "no free port")
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// `GET path` on a local port: the body, or `nil` when nothing answers yet.
    static func get(_ port: Int, _ path: String) async -> String? {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)"),
            let (data, response) = try? await URLSession.shared.data(from: url),
            (response as? HTTPURLResponse)?.statusCode == 200
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The `butler_coingecko_calls_total` of the butler on `port`.
    static func coinGeckoCalls(_ port: Int) async throws -> Int {
        let metrics = try #require(await get(port, "/metrics"))
        let line = try #require(metrics.split(separator: "\n").first { $0.hasPrefix("butler_coingecko_calls_total ") })
        return try #require(Int(line.split(separator: " ")[1]))
    }

    @Test func twoProcessesShareOneCoinGeckoQuota() async throws {
        let redisURL = try #require(ExampleDatabases.redisURL, "CI=true but TEST_REDIS_URL is not set: run scripts/test.sh")
        let interval = 0.5
        let executable = try Self.executable()
        var processes: [(process: Process, port: Int, output: URL)] = []
        defer {
            for (process, _, output) in processes {
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
                try? FileManager.default.removeItem(at: output)
            }
        }
        for _ in 0..<2 {
            let port = try Self.freePort()
            let process = Process()
            process.executableURL = executable
            process.arguments = ["--port", String(port), "--jobs-interval", "0.05", "--coingecko-interval", String(interval)]
            var environment = ProcessInfo.processInfo.environment
            environment["REDIS_URL"] = redisURL
            environment["DATABASE_URL"] = nil
            // Fast simulated APIs, so that each process alone would call CoinGecko as often as its
            // limit allows: together, without a shared limit, they would call it twice as often.
            environment["BUTLER_API_LATENCY_MS"] = "1"
            process.environment = environment
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("crypto-butler-\(UUID().uuidString).log")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            let handle = try FileHandle(forWritingTo: output)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            processes.append((process, port, output))
        }
        // Both answer (each migrates its own SQLite file first).
        for (_, port, _) in processes {
            var ready = false
            for _ in 0..<600 where !ready {
                ready = await Self.get(port, "/health") != nil
                if !ready { try await Task.sleep(for: .milliseconds(50)) }
            }
            try #require(ready, "crypto-butler on port \(port) did not answer /health")
        }
        let ports = processes.map(\.port)
        // Every call counted below started between `start` and `end`: the bound is taken from that
        // span, so slow reads of /metrics (a loaded machine) cannot make the fleet look too fast.
        let start = ContinuousClock.now
        var before = 0
        for port in ports { before += try await Self.coinGeckoCalls(port) }
        // A window of real time, over which the fleet may start a call every `interval`.
        let window = 5.0
        try await Task.sleep(for: .milliseconds(Int(window * 1000)))
        var after = 0
        var each: [Int] = []
        for port in ports {
            let calls = try await Self.coinGeckoCalls(port)
            each.append(calls)
            after += calls
        }
        let span = start.duration(to: .now)
        let spanSeconds = Double(span.components.seconds) + Double(span.components.attoseconds) / 1e18
        let combined = after - before
        // At most one start every interval across both (plus one for the span's edges and one
        // for the moments between reading the two processes); one process alone would be
        // allowed as many.
        print("crypto-butler fleet: \(combined) CoinGecko calls in \(spanSeconds) s, \(each) in total per process")
        #expect(combined <= Int(spanSeconds / interval) + 2, "combined CoinGecko calls in \(spanSeconds) s: \(combined)")
        #expect(combined >= 4, "the fleet made too few calls to show anything: \(combined)")
        #expect(each.allSatisfy { $0 > 0 }, "both processes called CoinGecko: \(each)")
        for (process, _, output) in processes {
            process.terminate()
            process.waitUntilExit()
            let log = try String(contentsOf: output, encoding: .utf8)
            #expect(log.contains("Rate limits: fleet-wide, in Redis at 127.0.0.1:"), "\(log.suffix(2000))")
            #expect(!log.contains(URLComponents(string: redisURL)?.password ?? "\u{0}"))
        }
    }
}
