#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A system call failed: which one, and its `errno`.
package struct SystemCallError: Error, CustomStringConvertible {
    /// The call's name, such as `connect`.
    package let call: String
    /// The `errno` it set.
    package let errno: Int32

    package init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// The call and the system's message for its errno.
    package var description: String {
        "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
