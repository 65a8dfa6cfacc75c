import Foundation
import KeelCore

/// A TCP proxy on 127.0.0.1 that injects network faults between a client and a server: added
/// latency, a blackhole (nothing is forwarded, connections stay open), and reset connections.
///
/// ```swift
/// let proxy = try TCPFaultProxy(upstreamPort: 5432)
/// // connect the client to 127.0.0.1:\(proxy.port)
/// proxy.mode = .delay(.milliseconds(200))
/// proxy.mode = .blackhole
/// proxy.resetConnections()
/// proxy.mode = .pass
/// proxy.stop()
/// ```
///
/// Each accepted connection is served by a thread of its own polling both sockets, so the proxy
/// never touches Swift's cooperative pool. Test support only: it listens on loopback alone.
public final class TCPFaultProxy: Sendable {
    /// What happens to the bytes passing through.
    public enum Mode: Sendable, Equatable {
        /// Forwarded at once.
        case pass
        /// Forwarded after this delay, in each direction.
        case delay(Duration)
        /// Not forwarded and not read: new and open connections stall until the mode changes.
        case blackhole
    }

    private struct State {
        var mode = Mode.pass
        /// Raised by ``resetConnections()``: connections older than this are reset.
        var resetGeneration = 0
        var stopped = false
        var connections = 0
    }

    /// The port the proxy listens on (127.0.0.1).
    public let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let state = Locked(State())

    /// Starts a proxy to `127.0.0.1:upstreamPort` on a free loopback port.
    public init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let socket = try Self.makeSocket()
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(socket, 128) == 0 else {
            close(socket)
            throw ProxyError(message: "cannot listen on 127.0.0.1 (errno \(errno))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = socket
        BlockingThread.start(name: "keel-fault-proxy") { [self] in acceptLoop() }
    }

    deinit {
        close(listener)
    }

    /// The current fault; applies at once to open connections too.
    public var mode: Mode {
        get { state.withLock { $0.mode } }
        set { state.withLock { $0.mode = newValue } }
    }

    /// How many connections are open through the proxy now.
    public var openConnections: Int { state.withLock { $0.connections } }

    /// Resets every open connection (TCP RST to both ends).
    public func resetConnections() {
        state.withLock { $0.resetGeneration += 1 }
    }

    /// Stops accepting and resets every connection.
    public func stop() {
        state.withLock {
            $0.stopped = true
            $0.resetGeneration += 1
        }
    }

    // MARK: Connections

    private func acceptLoop() {
        while !state.withLock({ $0.stopped }) {
            var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 20) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            Self.makeNonBlocking(client)
            let upstream: Int32
            do {
                upstream = try Self.connectUpstream(port: upstreamPort)
            } catch {
                Self.reset(client)
                continue
            }
            let generation = state.withLock { state in
                state.connections += 1
                return state.resetGeneration
            }
            BlockingThread.start(name: "keel-fault-proxy-connection") { [self] in
                pump(client, upstream, generation: generation)
                state.withLock { $0.connections -= 1 }
            }
        }
    }

    /// Bytes read from one side, due to be written to the other.
    private struct Pending {
        var bytes: [UInt8]
        var due: ContinuousClock.Instant
    }

    /// Forwards between the two sockets until either closes or the connection is reset.
    private func pump(_ client: Int32, _ upstream: Int32, generation: Int) {
        var toUpstream: [Pending] = []
        var toClient: [Pending] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let (mode, resetGeneration) = state.withLock { ($0.mode, $0.resetGeneration) }
            if resetGeneration != generation {
                Self.reset(client)
                Self.reset(upstream)
                return
            }
            let now = ContinuousClock.now
            if mode != .blackhole {
                // Deliver what is due; a write that would block waits for the next round.
                guard Self.deliver(&toUpstream, to: upstream, now: now), Self.deliver(&toClient, to: client, now: now) else {
                    Self.reset(client)
                    Self.reset(upstream)
                    return
                }
            }
            let reading: Int16 = mode == .blackhole ? 0 : Int16(POLLIN)
            var entries = [pollfd(fd: client, events: reading, revents: 0), pollfd(fd: upstream, events: reading, revents: 0)]
            var timeout: Int32 = 10
            if mode != .blackhole, let next = (toUpstream + toClient).map(\.due).min() {
                let wait = now.duration(to: next)
                timeout = max(0, min(10, Int32(wait.inNanoseconds / 1_000_000)))
            }
            guard poll(&entries, 2, timeout) >= 0 || errno == EINTR else { break }
            let delay: Duration = if case .delay(let delay) = mode { delay } else { .zero }
            for (index, entry) in entries.enumerated() where entry.revents != 0 && mode != .blackhole {
                let count = read(entry.fd, &buffer, buffer.count)
                if count < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                guard count > 0 else {
                    // End of stream or error: close both sides (the other side sees the close).
                    Self.reset(client)
                    Self.reset(upstream)
                    return
                }
                let pending = Pending(bytes: Array(buffer[0..<count]), due: .now.advanced(by: delay))
                if index == 0 { toUpstream.append(pending) } else { toClient.append(pending) }
            }
        }
        Self.reset(client)
        Self.reset(upstream)
    }

    /// Writes the due chunks in order; `false` when the socket failed.
    private static func deliver(_ queue: inout [Pending], to socket: Int32, now: ContinuousClock.Instant) -> Bool {
        while let first = queue.first, first.due <= now {
            let written = first.bytes.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 { return errno == EAGAIN || errno == EINTR }
            if written < first.bytes.count {
                queue[0].bytes.removeFirst(written)
            } else {
                queue.removeFirst()
            }
        }
        return true
    }

    // MARK: Sockets

    private static func makeSocket() throws -> Int32 {
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw ProxyError(message: "socket() failed (errno \(errno))") }
        var on: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        return socket
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    private static func connectUpstream(port: Int) throws -> Int32 {
        let socket = try makeSocket()
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            throw ProxyError(message: "cannot reach 127.0.0.1:\(port) (errno \(errno))")
        }
        makeNonBlocking(socket)
        return socket
    }

    private static func makeNonBlocking(_ socket: Int32) {
        _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK)
    }

    /// Closes with an RST rather than a FIN (linger on, zero seconds).
    private static func reset(_ socket: Int32) {
        var linger = linger(l_onoff: 1, l_linger: 0)
        setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        close(socket)
    }
}
