import KeelCore
import Testing

@Suite struct ConditionLockTests {
    /// A value guarded by a condition lock, shared with the thread that waits for it.
    final class Mailbox: @unchecked Sendable {
        // @unchecked Sendable: `message` is read and written only under `lock`.
        let lock = ConditionLock()
        var message: Int?
    }

    @Test func aWaitingThreadWakesWhenSignalled() async {
        let mailbox = Mailbox()
        let thread = Task {
            await BlockingThread.run(name: "condition-lock-test") {
                mailbox.lock.withLock {
                    while mailbox.message == nil { mailbox.lock.wait() }
                    return mailbox.message!
                }
            }
        }
        mailbox.lock.withLock { mailbox.message = 42 }
        mailbox.lock.signal()
        #expect(await thread.value == 42)
    }

    @Test func aBroadcastWakesEveryWaiter() async {
        let mailbox = Mailbox()
        let waiters = (0..<3).map { index in
            Task {
                await BlockingThread.run(name: "condition-lock-test-\(index)") {
                    mailbox.lock.withLock {
                        while mailbox.message == nil { mailbox.lock.wait() }
                        return mailbox.message! + index
                    }
                }
            }
        }
        mailbox.lock.withLock { mailbox.message = 10 }
        mailbox.lock.broadcast()
        var results: [Int] = []
        for waiter in waiters { results.append(await waiter.value) }
        #expect(results == [10, 11, 12])
    }
}
