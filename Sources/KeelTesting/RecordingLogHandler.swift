public import Logging
import KeelCore

/// A log handler that keeps every message, for checking what reaches the logs (and what never
/// does: a password, a bind value).
///
/// ```swift
/// let handler = RecordingLogHandler()
/// let logger = Logger(label: "test") { _ in handler }
/// logger.warning("Redis is unreachable")
/// #expect(handler.recorded == ["warning Redis is unreachable [:]"])
/// ```
public final class RecordingLogHandler: LogHandler, Sendable {
    private let messages = Locked<[String]>([])
    private let settings = Locked<(metadata: Logger.Metadata, level: Logger.Level)>(([:], .trace))

    /// A handler that records every level.
    public init() {}

    /// The handler's metadata.
    public var metadata: Logger.Metadata {
        get { settings.withLock { $0.metadata } }
        set { settings.withLock { $0.metadata = newValue } }
    }

    /// The lowest level recorded; `.trace` at first.
    public var logLevel: Logger.Level {
        get { settings.withLock { $0.level } }
        set { settings.withLock { $0.level = newValue } }
    }

    /// One metadata value.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { settings.withLock { $0.metadata[key] } }
        set { settings.withLock { $0.metadata[key] = newValue } }
    }

    /// Records `event` as "level message metadata".
    public func log(event: LogEvent) {
        messages.withLock { $0.append("\(event.level) \(event.message) \(event.metadata ?? [:])") }
    }

    /// Every message so far, oldest first.
    public var recorded: [String] { messages.withLock { $0 } }
}
