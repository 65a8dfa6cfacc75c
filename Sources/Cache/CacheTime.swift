#if canImport(Glibc)
public import Glibc
#elseif canImport(Musl)
public import Musl
#endif

/// Nanoseconds, the cache's internal unit of time (since the cache was created).
@usableFromInline
enum CacheTime {
    /// `time + duration`, saturating at the ends of `Int64` (ends of windows far away add up).
    @inlinable
    static func adding(_ time: Int64, _ duration: Int64) -> Int64 {
        let (sum, overflow) = time.addingReportingOverflow(duration)
        return overflow ? (duration > 0 ? Int64.max : Int64.min) : sum
    }

    /// Linux's continuous time (`CLOCK_BOOTTIME`: monotonic, and counting through suspension, as
    /// `ContinuousClock` is defined to), in nanoseconds, read directly; `nil` elsewhere. The cache
    /// only compares readings of this clock with each other.
    @inlinable
    static func continuousClockNow() -> Int64? {
        #if os(Linux)
        var time = timespec()
        clock_gettime(CLOCK_BOOTTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
        #else
        return nil
        #endif
    }
}
