/// Durations as whole nanoseconds, the breaker's internal unit of time.
@usableFromInline
enum Ticks {
    /// The nanoseconds of `duration`.
    @inlinable
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
