#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import KeelCore
import Testing

/// The reactor on real sockets (a UNIX socket pair per test), on every backend this platform has.
@Suite struct SocketReactorTests {
    /// One reactor per backend for the whole run: a reactor's thread lives as long as the process.
    static let reactors: [SocketReactor.Backend: SocketReactor] = Dictionary(
        uniqueKeysWithValues: SocketReactor.Backend.available.map { ($0, SocketReactor(backend: $0)) })

    /// A connected pair of non-blocking sockets: the first is watched, the second plays the peer.
    final class SocketPair: Sendable {
        let watched: Int32
        let peer: Int32

        init() throws {
            var fds: [Int32] = [0, 0]
            #if canImport(Glibc)
            let kind = Int32(SOCK_STREAM.rawValue)
            #else
            let kind = SOCK_STREAM
            #endif
            guard socketpair(AF_UNIX, kind, 0, &fds) == 0 else { throw SystemCallError(call: "socketpair", errno: errno) }
            for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK) }
            watched = fds[0]
            peer = fds[1]
        }

        func send(_ byte: UInt8) {
            var value = byte
            #expect(write(peer, &value, 1) == 1)
        }

        /// Reads what the watched socket has: the bytes, or nil at the end of the stream.
        func receive() -> [UInt8]? {
            var buffer = [UInt8](repeating: 0, count: 64)
            let count = read(watched, &buffer, buffer.count)
            if count == 0 { return nil }
            return count > 0 ? Array(buffer[..<count]) : []
        }

        deinit {
            close(watched)
            close(peer)
        }
    }

    /// Runs `body` with `backend`'s reactor, a socket pair and the slot of its watched socket,
    /// then removes the slot.
    func withWatchedPair(
        _ backend: SocketReactor.Backend, _ body: (SocketReactor, SocketPair, SocketSlot) async throws -> Void
    ) async throws {
        let reactor = try #require(Self.reactors[backend])
        let pair = try SocketPair()
        let slot = try reactor.add(pair.watched).get()
        defer { reactor.remove(slot) }
        try await body(reactor, pair, slot)
    }

    @Test(arguments: SocketReactor.Backend.available)
    func aWaitForReadingEndsWhenThePeerWrites(backend: SocketReactor.Backend) async throws {
        try await withWatchedPair(backend) { reactor, pair, slot in
            for round in 0..<50 {
                async let waited: Void = reactor.wait(for: .readable, slot)
                pair.send(UInt8(round))
                await waited
                var received: [UInt8] = []
                while received.isEmpty {
                    guard let bytes = pair.receive() else {
                        Issue.record("the stream ended")
                        return
                    }
                    received = bytes
                    if received.isEmpty { await reactor.wait(for: .readable, slot) }
                }
                #expect(received == [UInt8(round)])
            }
        }
    }

    @Test(arguments: SocketReactor.Backend.available)
    func dataThatArrivedBeforeTheWaitEndsItAtOnce(backend: SocketReactor.Backend) async throws {
        try await withWatchedPair(backend) { reactor, pair, slot in
            pair.send(7)
            await reactor.wait(for: .readable, slot)
            #expect(pair.receive() == [7])
            #expect(slot.interruption == nil)
        }
    }

    @Test(arguments: SocketReactor.Backend.available)
    func aWaitForWritingEndsWhileTheSocketTakesMore(backend: SocketReactor.Backend) async throws {
        try await withWatchedPair(backend) { reactor, pair, slot in
            await reactor.wait(for: .writable, slot)
            var byte: UInt8 = 1
            #expect(write(pair.watched, &byte, 1) == 1)
        }
    }

    @Test(arguments: SocketReactor.Backend.available)
    func aHangUpEndsTheWaitAndEveryLaterOne(backend: SocketReactor.Backend) async throws {
        try await withWatchedPair(backend) { reactor, pair, slot in
            async let waited: Void = reactor.wait(for: .readable, slot)
            shutdown(pair.peer, Int32(SHUT_RDWR))
            await waited
            #expect(pair.receive() == nil)
            await reactor.wait(for: .readable, slot)
            await reactor.wait(for: .readable, slot)
        }
    }

    @Test(arguments: SocketReactor.Backend.available)
    func aDeadlineEndsAWaitOnASilentSocket(backend: SocketReactor.Backend) async throws {
        try await withWatchedPair(backend) { reactor, pair, slot in
            slot.arm(deadline: SocketReactor.now + 2)
            await reactor.wait(for: .readable, slot)
            #expect(slot.interruption == .deadline)
            #expect(pair.receive() == [])
        }
    }

    @Test(arguments: SocketReactor.Backend.available)
    func anInterruptionEndsAWaitOnASilentSocket(backend: SocketReactor.Backend) async throws {
        try await withWatchedPair(backend) { reactor, pair, slot in
            async let waited: Void = reactor.wait(for: .readable, slot)
            slot.interrupt()
            await waited
            #expect(slot.interruption == .cancellation)
        }
    }

    @Test(arguments: SocketReactor.Backend.available)
    func removingASlotEndsItsWait(backend: SocketReactor.Backend) async throws {
        let reactor = try #require(Self.reactors[backend])
        let pair = try SocketPair()
        let slot = try reactor.add(pair.watched).get()
        async let waited: Void = reactor.wait(for: .readable, slot)
        reactor.remove(slot)
        await waited
    }

    /// Sixteen sockets at once, each answered in turn by its own task: every wait ends with its
    /// own socket's data, none is lost among the others.
    @Test(arguments: SocketReactor.Backend.available)
    func manySocketsEachWakeTheirOwnTask(backend: SocketReactor.Backend) async throws {
        let reactor = try #require(Self.reactors[backend])
        let resumedBefore = reactor.resumedWaits
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<16 {
                group.addTask {
                    let pair = try SocketPair()
                    let slot = try reactor.add(pair.watched).get()
                    defer { reactor.remove(slot) }
                    var total = 0
                    for round in 0..<100 {
                        pair.send(UInt8(truncatingIfNeeded: index + round))
                        var bytes: [UInt8] = []
                        while bytes.isEmpty {
                            await reactor.wait(for: .readable, slot)
                            guard let read = pair.receive() else {
                                Issue.record("the stream ended")
                                return total
                            }
                            bytes = read
                        }
                        #expect(bytes == [UInt8(truncatingIfNeeded: index + round)])
                        total += bytes.count
                    }
                    return total
                }
            }
            let total = try await group.reduce(0, +)
            #expect(total == 1_600)
        }
        #expect(reactor.resumedWaits >= resumedBefore)
    }

    @Test(arguments: SocketReactor.Backend.available)
    func aTaskThatPrefersTheReactorRunsOnIt(backend: SocketReactor.Backend) async throws {
        try await withWatchedPair(backend) { reactor, pair, slot in
            let received = await withTaskExecutorPreference(reactor) { () -> [UInt8]? in
                pair.send(3)
                return await { () async -> [UInt8]? in
                    await reactor.wait(for: .readable, slot)
                    return pair.receive()
                }()
            }
            #expect(received == [3])
        }
    }

    @Test func theSharedReactorWaitsWithTheBackendTheEnvironmentNames() {
        let named = getenv("KEEL_REACTOR").map { String(cString: $0) }
        #expect(SocketReactor.shared.backend == SocketReactor.Backend.standard)
        if let named, let backend = SocketReactor.Backend(rawValue: named) {
            #expect(SocketReactor.shared.backend == backend)
        }
    }
}
