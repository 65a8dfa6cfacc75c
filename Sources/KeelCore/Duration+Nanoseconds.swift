extension Duration {
    /// The duration in whole nanoseconds (rounded toward zero), saturating at a quarter of
    /// `Int64`'s range, so that sums and differences of such values do not overflow.
    @inlinable
    public var inNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let limit = Int64.max / 4
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow || whole > limit || whole < -limit { return seconds < 0 ? -limit : limit }
        return whole + attoseconds / 1_000_000_000
    }

    /// The duration in seconds, as swift-metrics' floating-point gauges and counters take it.
    @inlinable
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
