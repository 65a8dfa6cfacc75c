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

    /// On Linux, the kernel's coarse monotonic clock (`CLOCK_MONOTONIC_COARSE`) in nanoseconds, read
    /// directly; `nil` elsewhere. A cache on `ContinuousClock` reads it instead of the clock: it
    /// costs 5 ns where `CLOCK_BOOTTIME`, which `ContinuousClock` reads, costs 23 (measured on the
    /// benchmark machine, where a hit costs about 55), and it advances once per kernel tick (1 to 4 ms), so freshness is decided to within a
    /// tick. It does not count time the machine spends suspended, which a server does not do. The
    /// cache only compares readings of this clock with each other.
    @inlinable
    static func systemNow() -> Int64? {
        #if os(Linux)
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
        #else
        return nil
        #endif
    }
}
