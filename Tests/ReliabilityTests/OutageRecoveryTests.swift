import Foundation
import KeelCore
import KeelTesting
import Pooling
import PostgresPool
import SQLCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension Reliability {
    /// Scenario 19: the server stopped for 5 s under load, with the pool's defaults for back-off
    /// and acquire timeout.
    @Suite struct OutageRecovery {
        @Test(.enabled(if: ReliabilityEnvironment.runsPostgresScenarios, ReliabilityEnvironment.skipReason))
        func theFirstQuerySucceedsWithinASecondOfTheServersReturnAndWaitersAreServed() async throws {
            let stopScript = try TestDatabaseEnvironment.require("KEEL_RELIABILITY_PG_STOP")
            let startScript = try TestDatabaseEnvironment.require("KEEL_RELIABILITY_PG_START")
            var pool = ReliabilityEnvironment.quietPool()
            pool.maxConnections = 10
            pool.connectTimeout = .seconds(2)
            let configuration = try ReliabilityEnvironment.configuration(applicationName: "keel-outage")
            let successes = Locked<[ContinuousClock.Instant]>([])
            let failures = Locked<[(at: ContinuousClock.Instant, kind: String)]>([])
            let longest = Locked<Duration>(.zero)
            let stop = Locked(false)
            var figures = ScenarioFigures("19 OutageRecovery")

            let (stopped, back) = try await ReliabilityEnvironment.withDatabase(configuration, pool: pool) { database in
                let load = Task {
                    try await withThrowingTaskGroup { group in
                        for _ in 0..<16 {
                            group.addTask {
                                while !stop.withLock({ $0 }) {
                                    let began = ContinuousClock.now
                                    do {
                                        _ = try await database.query("SELECT 1 AS one")
                                        successes.withLock { $0.append(.now) }
                                    } catch {
                                        let kind = (error as? PoolError).map { "PoolError \($0.code)" }
                                            ?? (error as? PostgresError).map { "PostgresError \($0.code)" } ?? "\(type(of: error))"
                                        failures.withLock { $0.append((.now, kind)) }
                                        // A failed call is not retried at once: a client would wait a little.
                                        try await Task.sleep(for: .milliseconds(20))
                                    }
                                    let took = began.duration(to: .now)
                                    longest.withLock { $0 = max($0, took) }
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                try await Task.sleep(for: .seconds(2))
                let (stopStatus, _) = try await runProgram("/bin/sh", arguments: [stopScript])
                #expect(stopStatus == 0)
                let stopped = ContinuousClock.now
                try await Task.sleep(for: .seconds(5))
                let (startStatus, _) = try await runProgram("/bin/sh", arguments: [startScript])
                #expect(startStatus == 0)
                // The start script returns once the server accepts connections.
                let back = ContinuousClock.now
                try await Task.sleep(for: .seconds(3))
                stop.withLock { $0 = true }
                try await load.value
                return (stopped, back)
            }

            let firstSuccess = try #require(successes.withLock { $0.first { $0 > back } }, "no query succeeded after the server came back")
            let recovery = back.duration(to: firstSuccess)
            let allFailures = failures.withLock { $0 }
            let failedDuring = allFailures.filter { $0.at > stopped && $0.at <= back }
            let failedAfter = allFailures.filter { $0.at > back }
            let before = successes.withLock { $0.filter { $0 < stopped }.count }
            let after = successes.withLock { $0.filter { $0 > back }.count }
            #expect(recovery < .seconds(1), "first success \(recovery) after the server accepted connections again")
            #expect(failedAfter.isEmpty, "\(failedAfter.count) queries failed after the server was back")
            #expect(longest.withLock { $0 } < .seconds(31), "no call outlasts the acquire timeout")
            var kinds: [String: Int] = [:]
            for failure in allFailures { kinds[failure.kind, default: 0] += 1 }
            figures.record("server accepting connections again to the first successful query", recovery.formattedMilliseconds)
            figures.record("queries succeeded before the stop / after the server was back", "\(before) / \(after)")
            figures.record("queries failed while stopped / after the server was back", "\(failedDuring.count) / \(failedAfter.count)")
            figures.record(
                "failures by kind", kinds.isEmpty ? "none" : kinds.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
            figures.record("longest call (waiting through the outage)", longest.withLock { $0 }.formattedMilliseconds)
            figures.print()
        }
    }
}

extension Reliability.OutageRecovery {
    @Test(.enabled(if: ReliabilityEnvironment.runsPostgresScenarios, ReliabilityEnvironment.skipReason))
    func aServerThatNeverAnswersGivesAConnectTimeoutNamingItAfterConnectTimeout() async throws {
        // A listening socket nobody accepts on: the kernel completes the handshake, then nothing.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(listener, 16) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let password = "never-shown-\(UUID().uuidString.prefix(8))"
        var configuration = try PostgresConfiguration(
            connectionString: "postgresql://keel:\(password)@127.0.0.1:\(port)/keel?connect_timeout=2")
        configuration.logger.logLevel = .critical
        var pool = ReliabilityEnvironment.quietPool()
        pool.acquireTimeout = .seconds(30)
        var figures = ScenarioFigures("20 SilentServer")
        try await ReliabilityEnvironment.withDatabase(configuration, pool: pool) { database in
            let started = ContinuousClock.now
            let error = await #expect(throws: PoolError.self) { try await database.query("SELECT 1") }
            let took = started.duration(to: .now)
            let cause = try #require(error?.lastConnectionError as? PostgresError)
            #expect(error?.code == .connectionUnavailable)
            #expect(cause.code == .timeout)
            #expect(cause.message.contains("127.0.0.1:\(port)") && cause.message.contains("connect_timeout"))
            #expect(!"\(error.map { String(describing: $0) } ?? "")".contains(password) && !cause.message.contains(password))
            #expect(took >= .seconds(2) && took < TestDatabaseEnvironment.timingBound(.seconds(4)))
            figures.record("connect_timeout=2 against a server that never answers: the query failed after", took.formattedMilliseconds)
            figures.record("its error", "\(error.map { "PoolError \($0.code)" } ?? "none"): \(cause.message)")
        }
        // The pool's own connect timeout (DB_CONNECT_TIMEOUT_SECS) names the server as well.
        var plain = try PostgresConfiguration(connectionString: "postgresql://keel:\(password)@127.0.0.1:\(port)/keel")
        plain.logger.logLevel = .critical
        pool.connectTimeout = .seconds(2)
        try await ReliabilityEnvironment.withDatabase(plain, pool: pool) { database in
            let started = ContinuousClock.now
            let error = await #expect(throws: PoolError.self) { try await database.query("SELECT 1") }
            let took = started.duration(to: .now)
            let cause = "\(error?.lastConnectionError.map { String(describing: $0) } ?? "none")"
            #expect(error?.code == .connectionUnavailable)
            #expect(cause.contains("127.0.0.1:\(port)") && !cause.contains(password), "\(cause)")
            #expect(took >= .seconds(2) && took < TestDatabaseEnvironment.timingBound(.seconds(4)))
            figures.record("connectTimeout 2 s (DB_CONNECT_TIMEOUT_SECS) against it: failed after", "\(took.formattedMilliseconds): \(cause)")
        }
        figures.print()
    }
}
