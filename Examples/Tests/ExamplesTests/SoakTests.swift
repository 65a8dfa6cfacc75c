import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Both HTTP services as processes under a steady mixed load (reads, writes, CSV imports) for
/// `KEEL_SOAK_SECONDS` (45 by default; `scripts/soak.sh` runs longer), on SQLite and on PostgreSQL:
/// after a warm-up quarter, resident memory grows by no more than a stated bound and the process
/// holds no more file descriptors than it did then (no connection or file leak), and no request
/// fails with a 5xx.
@Suite(.serialized) struct SoakTests {
    /// How far resident memory may grow after the warm-up.
    static let growthBound = 40 * 1024  // KiB
    /// How many more descriptors than after the warm-up the process may hold (connections in flight).
    static let descriptorSlack = 24

    static var duration: Duration {
        .seconds(Int(ProcessInfo.processInfo.environment["KEEL_SOAK_SECONDS"] ?? "") ?? 45)
    }

    /// What the load's tasks share.
    final class LoadState: Sendable {
        let statuses = Mutex<[Int: Int]>([:])
        let stopped = Mutex(false)
    }

    struct Sample {
        var rss: Int
        var descriptors: Int
    }

    static func sample(_ pid: Int32) throws -> Sample {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let rss = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        return Sample(rss: rss, descriptors: descriptors)
    }

    /// One request: its status code, or 0 when it got no answer.
    static func request(_ port: Int, _ method: String, _ path: String, body: String? = nil, type: String = "application/json",
                        token: String? = nil) async -> Int {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { return 0 }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue(type, forHTTPHeaderField: "Content-Type")
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return 0 }
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    /// The next operation of a mixed load on `program`, number `index` of worker `worker`.
    static func operation(_ program: String, port: Int, worker: Int, index: Int) async -> Int {
        let unique = "\(worker)-\(index)-\(UInt32.random(in: 0 ... .max))"
        if program == "saas-api" {
            switch index % 6 {
            case 0: return await request(port, "POST", "/leads", body: #"{"email":"soak\#(unique)@example.com","name":"Soak"}"#)
            case 1:
                let csv = "email,name,company\n" + (0..<50).map { "bulk\(unique)-\($0)@example.com,Bulk \($0),Co" }.joined(separator: "\n")
                return await request(port, "POST", "/leads/upload", body: csv, type: "text/csv")
            case 2: return await request(port, "GET", "/notifications?since=0")
            case 3: return await request(port, "POST", "/campaigns", body: #"{"name":"Soak \#(unique)","subject":"Hi"}"#)
            default: return await request(port, "GET", "/leads?page=1&limit=20")
            }
        }
        let token = "butler-demo-token"
        switch index % 5 {
        case 0:
            return await request(
                port, "POST", "/v1/portfolios", body: #"{"name":"Soak \#(unique)","holdings":[{"coin":"bitcoin","amount":1}]}"#, token: token)
        case 1: return await request(port, "GET", "/v1/portfolios/1/valuation", token: token)
        case 2: return await request(port, "GET", "/metrics")
        default: return await request(port, "GET", "/v1/portfolios", token: token)
        }
    }

    @Test(arguments: ["saas-api", "crypto-butler"], ExampleDatabases.kinds)
    func steadyMixedLoadKeepsMemoryAndDescriptorsBounded(_ program: String, _ kind: ExampleDatabases.Kind) async throws {
        var environment: [String: String] = [:]
        if kind == .postgres {
            guard let url = ExampleDatabases.postgresURL else {
                Issue.record("CI=true but TEST_DATABASE_URL is not set: run scripts/test.sh")
                return
            }
            environment["DATABASE_URL"] = url
        }
        let (process, port) = try await ShutdownTests.start(program, environment: environment)
        defer { process.terminate() }
        let state = LoadState()
        let load = Task {
            await withTaskGroup { group in
                for worker in 0..<8 {
                    group.addTask {
                        var index = 0
                        while !state.stopped.withLock({ $0 }) {
                            let status = await Self.operation(program, port: port, worker: worker, index: index)
                            state.statuses.withLock { $0[status, default: 0] += 1 }
                            index += 1
                        }
                    }
                }
            }
        }
        var samples: [Sample] = []
        let started = ContinuousClock.now
        while started.duration(to: .now) < Self.duration {
            try await Task.sleep(for: .seconds(1))
            samples.append(try Self.sample(process.processIdentifier))
        }
        state.stopped.withLock { $0 = true }
        await load.value

        let warmedUp = samples[max(0, samples.count / 4 - 1)]
        let after = samples[(samples.count / 4)...]
        let highest = after.map(\.rss).max() ?? warmedUp.rss
        let mostDescriptors = after.map(\.descriptors).max() ?? warmedUp.descriptors
        let finalDescriptors = samples.last?.descriptors ?? 0
        let counts = state.statuses.withLock { $0 }
        let served = counts.filter { (200..<500).contains($0.key) }.values.reduce(0, +)
        let failed = counts.filter { $0.key >= 500 || $0.key == 0 }.values.reduce(0, +)
        #expect(served > 100, "\(counts)")
        #expect(failed == 0, "answers by status: \(counts)")
        #expect(highest - warmedUp.rss <= Self.growthBound, "RSS \(warmedUp.rss / 1024) MiB after the warm-up, \(highest / 1024) MiB at most after")
        #expect(mostDescriptors <= warmedUp.descriptors + Self.descriptorSlack, "descriptors \(warmedUp.descriptors) after the warm-up, \(mostDescriptors) at most after")
        print("[figure] soak \(program) on \(kind), \(samples.count) s: \(served) requests served (by status: \(counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))), RSS \(warmedUp.rss / 1024) MiB after the warm-up, \(highest / 1024) MiB at most after, \(samples.last.map { $0.rss / 1024 } ?? 0) MiB at the end; descriptors \(warmedUp.descriptors) after the warm-up, \(mostDescriptors) at most, \(finalDescriptors) at the end")
    }
}
