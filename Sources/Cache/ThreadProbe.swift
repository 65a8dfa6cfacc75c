#if canImport(Glibc)
public import Glibc
#elseif canImport(Musl)
public import Musl
#elseif canImport(Darwin)
public import Darwin
#endif
import KeelCore

/// The calling thread's probe: a small number handed out in turn the first time a thread asks,
/// which picks the read stripe the thread uses (see ``CacheSegment``), so that threads reading a
/// cache use different stripes. A thread that finds its stripe taken by another asks for a new
/// probe (``renew()``), so threads that read often settle on stripes of their own, as Caffeine's
/// threads rehash their probe on contention.
@usableFromInline
enum ThreadProbe {
    @usableFromInline static let key: pthread_key_t = {
        var key = pthread_key_t()
        let result = pthread_key_create(&key, nil)
        precondition(result == 0, "pthread_key_create failed: \(result)")
        return key
    }()
    static let lastGiven = Locked(0)

    /// The calling thread's probe, at least 1.
    @inlinable static var current: Int {
        if let stored = pthread_getspecific(key) { return Int(bitPattern: stored) }
        return assign()
    }

    /// Gives the calling thread a new probe and returns it.
    @usableFromInline static func renew() -> Int {
        assign()
    }

    @usableFromInline static func assign() -> Int {
        let number = lastGiven.withLock { last in
            last += 1
            return last
        }
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: number))
        return number
    }
}
