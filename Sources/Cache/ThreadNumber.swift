#if canImport(Glibc)
public import Glibc
#elseif canImport(Musl)
public import Musl
#elseif canImport(Darwin)
public import Darwin
#endif
import KeelCore

/// A small number for the calling thread, handed out in turn the first time a thread asks, so
/// that the threads reading a cache use different read stripes (see ``CacheSegment``). A thread
/// that finds its stripe taken by another asks for a new number (``renew()``), so threads that
/// read often settle on stripes of their own, as Caffeine's threads rehash their probe on
/// contention.
@usableFromInline
enum ThreadNumber {
    @usableFromInline static let key: pthread_key_t = {
        var key = pthread_key_t()
        let result = pthread_key_create(&key, nil)
        precondition(result == 0, "pthread_key_create failed: \(result)")
        return key
    }()
    static let lastGiven = Locked(0)

    /// The calling thread's number, at least 1.
    @inlinable static var current: Int {
        if let stored = pthread_getspecific(key) { return Int(bitPattern: stored) }
        return assign()
    }

    /// Gives the calling thread a new number and returns it.
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
