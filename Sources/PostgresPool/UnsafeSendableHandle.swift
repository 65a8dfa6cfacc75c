/// A libpq pointer handed between threads: only one thread uses it at a time.
struct UnsafeSendableHandle: @unchecked Sendable {
    let handle: OpaquePointer
}
