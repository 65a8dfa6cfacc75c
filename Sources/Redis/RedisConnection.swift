import CHiredis
import CKeelIO
import Foundation
import KeelCore
import Logging
import Pooling
import Synchronization

/// One connection to Redis: commands (encoded when made) are sent and replies (parsed by hiredis) read with non-blocking
/// socket calls on the calling task's thread, and waits for the socket happen in KeelCore's
/// socket reactor, so no cooperative thread ever blocks on the network. Name resolution and the
/// TCP connect run on a thread of their own.
///
/// A connection runs one command (or pipeline) at a time; the pool hands it to one task at a
/// time. Using it from two tasks at once fails with ``RedisError/Code/misuse``.
///
/// A command that runs past ``RedisConfiguration/commandTimeout``, or whose task is cancelled,
/// ends at once (with ``RedisError/Code/timeout`` or `CancellationError`) and leaves the
/// connection broken: it is closed rather than reused, so the reply still on its way can never
/// be read by the next command.
public final class RedisConnection: @unchecked Sendable {
    // @unchecked: `reader` and `buffer` are used only by the task that holds `inUse`; every other
    // field is immutable or synchronised.

    private let slot: SocketSlot
    private let reactor: SocketReactor
    private let reader = RedisReplyReader()
    private let buffer: UnsafeMutablePointer<UInt8>
    private static let bufferCapacity = 16 * 1024
    private let commandTimeout: Duration?
    private let inUse = Atomic<Bool>(false)
    /// Set when the connection can no longer be used; the pool closes it.
    private let brokenHealth = Atomic<UInt8>(0)
    private let closed = Atomic<Bool>(false)

    private static let healthy: UInt8 = 0
    private static let broken: UInt8 = 1
    private static let serverGone: UInt8 = 2

    private init(slot: SocketSlot, reactor: SocketReactor, configuration: RedisConfiguration) {
        self.slot = slot
        self.reactor = reactor
        commandTimeout = configuration.commandTimeout
        buffer = .allocate(capacity: Self.bufferCapacity)
    }

    deinit {
        if !closed.load(ordering: .relaxed) { reactor.remove(slot) }
        buffer.deallocate()
    }

    /// Opens a connection: resolves the host and connects within
    /// ``RedisConfiguration/connectTimeout`` on a thread of its own, then logs in (`AUTH`) and
    /// chooses the database (`SELECT`) in one round trip.
    ///
    /// #### Errors
    /// ``RedisError`` with code ``RedisError/Code/connection`` when the server cannot be reached
    /// in time, or ``RedisError/Code/server`` (kind `WRONGPASS`, `NOAUTH`, …) when it refuses the
    /// login or the database; ``RedisError/Code/misuse`` for a configuration that does not
    /// validate.
    public static func connect(configuration: RedisConfiguration) async throws(RedisError) -> RedisConnection {
        try configuration.validate()
        let host = configuration.host
        let port = String(configuration.port)
        let milliseconds = Int32(clamping: configuration.connectTimeout.inNanoseconds / 1_000_000 + 1)
        let opened = await BlockingThread.run(name: "keel-redis-connect") { () -> (Int32, Int32) in
            var resolution: Int32 = 0
            let result = keel_tcp_connect(host, port, milliseconds, &resolution)
            return (result, resolution)
        }
        let (socket, resolution) = opened
        let server = "\(configuration.host):\(configuration.port)"
        guard socket >= 0 else {
            let reason =
                resolution != 0
                ? String(cString: keel_resolution_error_message(resolution))
                : socket == -ETIMEDOUT
                    ? "no answer within \(configuration.connectTimeout)" : String(cString: keel_errno_message(-socket))
            throw RedisError(code: .connection, message: "cannot connect to \(server): \(reason)")
        }
        let reactor = SocketReactor.shared
        let added = reactor.add(socket)
        _ = Foundation.close(socket)
        let slot: SocketSlot
        switch added {
        case .success(let watched): slot = watched
        case .failure(let error): throw RedisError(code: .connection, message: "cannot watch the socket to \(server): \(error)")
        }
        let connection = RedisConnection(slot: slot, reactor: reactor, configuration: configuration)
        var login: [RedisCommand] = []
        if let password = configuration.password {
            login.append(configuration.username.map { RedisCommand("AUTH", $0, password) } ?? RedisCommand("AUTH", password))
        }
        if configuration.database != 0 { login.append(RedisCommand("SELECT", String(configuration.database))) }
        guard !login.isEmpty else { return connection }
        do {
            let replies = try await connection.roundTrip(login, timeout: configuration.connectTimeout)
            for case .failure(let error) in replies {
                connection.close()
                throw error
            }
        } catch let error as RedisError {
            connection.close()
            if error.code == .timeout {
                throw RedisError(code: .connection, message: "\(server) did not answer the login within \(configuration.connectTimeout)")
            }
            throw error
        } catch {
            connection.close()
            throw RedisError(code: .connection, message: "the login to \(server) was interrupted: \(error)")
        }
        configuration.logger.debug("connected to Redis", metadata: ["server": "\(configuration)"])
        return connection
    }

    /// Closes the connection. Further use fails.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        reactor.remove(slot)
    }

    /// Whether the connection was lost, closed, or left unusable (a timed-out or cancelled
    /// command); the pool discards such connections.
    public var isBroken: Bool {
        brokenHealth.load(ordering: .relaxed) != Self.healthy || closed.load(ordering: .relaxed)
    }

    /// What the pool should do with the connection when it comes back.
    var health: ConnectionHealth {
        switch brokenHealth.load(ordering: .relaxed) {
        case Self.healthy: closed.load(ordering: .relaxed) ? .broken : .healthy
        case Self.serverGone: .serverGone
        default: .broken
        }
    }

    // MARK: Commands

    /// Sends `command` and returns its reply.
    ///
    /// #### Errors
    /// ``RedisError`` (``RedisError/Code/server`` for an error reply, with its ``RedisError/kind``;
    /// ``RedisError/Code/timeout``, ``RedisError/Code/connection``,
    /// ``RedisError/Code/connectionBeforeSend``) or `CancellationError`.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisValue {
        try await roundTrip([command], timeout: commandTimeout)[0].get()
    }

    /// Sends `commands` in one write and returns their replies in order: a pipeline. An error
    /// reply fails only its own command (its element is a `.failure`); a lost connection, a
    /// timeout or a cancellation fails the whole call.
    ///
    /// #### Errors
    /// As ``send(_:)``, except error replies, which are returned.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [Result<RedisValue, RedisError>] {
        guard !commands.isEmpty else { return [] }
        return try await roundTrip(commands, timeout: commandTimeout)
    }

    /// Writes `commands` and reads as many replies, within `timeout`.
    func roundTrip(_ commands: [RedisCommand], timeout: Duration?) async throws -> [Result<RedisValue, RedisError>] {
        try await exclusively { () async throws -> [Result<RedisValue, RedisError>] in
            try checkAliveBeforeSend()
            let bytes = Self.encode(commands)
            return try await withDeadline(timeout) { () async throws(RedisError) -> [Result<RedisValue, RedisError>] in
                try await write(bytes)
                return try await readReplies(commands.count)
            }
        }
    }

    /// Sends `commands` without waiting for replies (a subscriber's `SUBSCRIBE`), within the
    /// command timeout.
    func write(_ commands: [RedisCommand]) async throws {
        try await exclusively { () async throws in
            try checkAliveBeforeSend()
            let bytes = Self.encode(commands)
            try await withDeadline(commandTimeout) { () async throws(RedisError) in try await write(bytes) }
        }
    }

    /// The next reply the server pushes (a subscriber's messages), waiting as long as it takes.
    func nextPushedReply() async throws -> Result<RedisValue, RedisError> {
        try await exclusively { () async throws -> Result<RedisValue, RedisError> in
            try await withDeadline(nil) { () async throws(RedisError) in try await readReplies(1)[0] }
        }
    }

    /// Runs `body` as the connection's only user.
    private func exclusively<Value>(_ body: () async throws -> Value) async throws -> Value {
        guard !closed.load(ordering: .relaxed) else { throw RedisError(code: .misuse, message: "the connection is closed") }
        guard !inUse.exchange(true, ordering: .acquiring) else {
            throw RedisError(code: .misuse, message: "two tasks used one Redis connection at once")
        }
        defer { inUse.store(false, ordering: .releasing) }
        try Task.checkCancellation()
        return try await body()
    }

    /// Runs `body` with the slot's deadline armed and the task's cancellation interrupting its
    /// waits. An interrupted or failed exchange leaves the connection broken.
    private func withDeadline<Value>(
        _ timeout: Duration?, _ body: () async throws(RedisError) -> Value
    ) async throws -> Value {
        if let timeout {
            slot.arm(deadline: SocketReactor.now + max(timeout.inNanoseconds / 1_000_000, 1))
        }
        defer { if timeout != nil { slot.disarm() } }
        let outcome: Result<Value, RedisError> = await withTaskCancellationHandler {
            do throws(RedisError) { return .success(try await body()) } catch { return .failure(error) }
        } onCancel: {
            slot.interrupt()
        }
        switch outcome {
        case .success(let value):
            // A deadline or cancellation that came as the exchange ended leaves waits ending at
            // once: the connection is not reused.
            if slot.interruption != nil { markBroken(Self.broken) }
            return value
        case .failure(let error):
            if slot.interruption == .cancellation { throw CancellationError() }
            throw error
        }
    }

    private func markBroken(_ health: UInt8) {
        _ = brokenHealth.compareExchange(expected: Self.healthy, desired: health, ordering: .relaxed)
    }

    /// Fails before sending when the idle connection already heard from the server (it closed
    /// the connection): nothing was sent, so the caller may retry elsewhere.
    private func checkAliveBeforeSend() throws(RedisError) {
        guard brokenHealth.load(ordering: .relaxed) == Self.healthy else {
            throw RedisError(code: .connectionBeforeSend, message: "the connection was lost or left unusable")
        }
        guard slot.takeReady(SocketSlot.readable) else { return }
        let count = keel_read(slot.socket, buffer, Self.bufferCapacity)
        if count == -Int(EAGAIN) || count == -Int(EWOULDBLOCK) { return }
        markBroken(Self.serverGone)
        throw RedisError(
            code: .connectionBeforeSend,
            message: count == 0 ? "the server closed the connection" : count > 0 ? "the server sent data nobody asked for" : Self.systemMessage(-count))
    }

    private func write(_ bytes: [UInt8]) async throws(RedisError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBufferPointer { keel_write(slot.socket, $0.baseAddress! + offset, $0.count - offset) }
            if written > 0 {
                offset += written
            } else if written == -Int(EAGAIN) || written == -Int(EWOULDBLOCK) {
                await reactor.wait(for: .writable, slot)
                try checkInterruption()
            } else {
                markBroken(Self.serverGone)
                throw RedisError(code: .connection, message: "sending failed: \(Self.systemMessage(-written))")
            }
        }
    }

    private func readReplies(_ expected: Int) async throws(RedisError) -> [Result<RedisValue, RedisError>] {
        var replies: [Result<RedisValue, RedisError>] = []
        replies.reserveCapacity(expected)
        var mayHaveMore = false
        while replies.count < expected {
            do throws(RedisError) {
                if let reply = try reader.next() {
                    replies.append(reply)
                    continue
                }
            } catch {
                markBroken(Self.broken)
                throw error
            }
            if !mayHaveMore {
                await reactor.wait(for: .readable, slot)
                try checkInterruption()
            }
            let count = keel_read(slot.socket, buffer, Self.bufferCapacity)
            if count > 0 {
                do throws(RedisError) { try reader.feed(buffer, count: count) } catch {
                    markBroken(Self.broken)
                    throw error
                }
                mayHaveMore = count == Self.bufferCapacity
            } else if count == -Int(EAGAIN) || count == -Int(EWOULDBLOCK) {
                mayHaveMore = false
            } else {
                markBroken(Self.serverGone)
                let reason = count == 0 ? "the server closed the connection" : Self.systemMessage(-count)
                throw RedisError(code: .connection, message: "\(reason) before the reply was complete")
            }
        }
        return replies
    }

    private func checkInterruption() throws(RedisError) {
        guard let interruption = slot.interruption else { return }
        markBroken(Self.broken)
        switch interruption {
        case .deadline: throw RedisError(code: .timeout, message: "no reply within the command timeout; the connection was closed")
        case .cancellation: throw RedisError(code: .connection, message: "the command was cancelled; the connection was closed")
        }
    }

    private static func systemMessage(_ code: Int) -> String {
        "\(String(cString: keel_errno_message(Int32(code)))) (errno \(code))"
    }

    // MARK: Encoding

    /// The bytes of `commands`, in order.
    static func encode(_ commands: [RedisCommand]) -> [UInt8] {
        if commands.count == 1 { return commands[0].encoded }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(commands.reduce(0) { $0 + $1.encoded.count })
        for command in commands { bytes.append(contentsOf: command.encoded) }
        return bytes
    }
}
