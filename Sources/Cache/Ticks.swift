/// Nanoseconds, the cache's internal unit of time (since the cache was created).
@usableFromInline
enum Ticks {
    /// The nanoseconds of `duration`, saturating far from the ends of `Int64` (so sums do not overflow).
    @inlinable
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min / 2 : Int64.max / 2 }
        return whole + attoseconds / 1_000_000_000
    }
}
