public import Logging

extension Logger {
    /// A logger that drops everything: the default of every Keel configuration's `logger`, so
    /// the library logs only where the application hands it a logger of its own.
    public static let silent = Logger(label: "keel.silent", factory: { _ in SwiftLogNoOpLogHandler() })
}
