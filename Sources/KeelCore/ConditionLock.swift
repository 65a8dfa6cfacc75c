#if canImport(Glibc)
public import Glibc
#elseif canImport(Musl)
public import Musl
#elseif canImport(Darwin)
public import Darwin
#endif

/// A lock with a condition, for a thread of Keel's own (never a cooperative one) that must sleep
/// until another thread has work for it: ``Locked`` is the lock for everything else.
///
/// ```swift
/// let lock = ConditionLock()
/// var jobs: [Job] = []   // guarded by lock
/// // the worker thread:
/// lock.withLock { while jobs.isEmpty { lock.wait() } }
/// // a producer:
/// lock.withLock { jobs.append(job) }
/// lock.signal()
/// ```
public final class ConditionLock: @unchecked Sendable {
    // @unchecked Sendable: a pthread mutex and condition, used only through their own calls.
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let condition: UnsafeMutablePointer<pthread_cond_t>

    /// An unlocked lock.
    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        let mutexResult = pthread_mutex_init(mutex, nil)
        let conditionResult = pthread_cond_init(condition, nil)
        precondition(mutexResult == 0 && conditionResult == 0, "pthread init failed: \(mutexResult), \(conditionResult)")
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deinitialize(count: 1)
        condition.deallocate()
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` while holding the lock.
    @inlinable
    public func withLock<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Releases the lock and sleeps until ``signal()`` or ``broadcast()`` (or a spurious wake-up),
    /// then takes the lock again. Call it only inside ``withLock(_:)``, in a loop that checks
    /// what it waits for.
    @inlinable
    public func wait() {
        pthread_cond_wait(condition, mutex)
    }

    /// Wakes one thread sleeping in ``wait()``.
    @inlinable
    public func signal() {
        pthread_cond_signal(condition)
    }

    /// Wakes every thread sleeping in ``wait()``.
    @inlinable
    public func broadcast() {
        pthread_cond_broadcast(condition)
    }
}
