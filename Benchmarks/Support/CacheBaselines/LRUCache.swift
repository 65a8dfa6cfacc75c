import Synchronization

/// The baseline of the `cache` suite: a least-recently-used cache behind one `Mutex`, a
/// dictionary of keys to nodes in an array, the nodes in a doubly linked list by index. What a
/// careful hand-written LRU looks like.
public final class LRUCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    struct Node {
        var key: Key
        var value: Value
        var previous = -1
        var next = -1
    }

    struct State {
        var nodes: [Node] = []
        var index: [Key: Int] = [:]
        var head = -1  // least recently used
        var tail = -1  // most recently used

        mutating func unlink(_ position: Int) {
            let node = nodes[position]
            if node.previous != -1 { nodes[node.previous].next = node.next } else { head = node.next }
            if node.next != -1 { nodes[node.next].previous = node.previous } else { tail = node.previous }
        }

        mutating func append(_ position: Int) {
            nodes[position].previous = tail
            nodes[position].next = -1
            if tail != -1 { nodes[tail].next = position } else { head = position }
            tail = position
        }
    }

    public let capacity: Int
    private let state: Mutex<State>

    public init(capacity: Int) {
        self.capacity = capacity
        var state = State()
        state.index.reserveCapacity(capacity)
        state.nodes.reserveCapacity(capacity)
        self.state = Mutex(state)
    }

    public func value(for key: Key) -> Value? {
        state.withLock { state in
            guard let position = state.index[key] else { return nil }
            state.unlink(position)
            state.append(position)
            return state.nodes[position].value
        }
    }

    public func insert(_ value: Value, for key: Key) {
        state.withLock { state in
            if let position = state.index[key] {
                state.nodes[position].value = value
                state.unlink(position)
                state.append(position)
                return
            }
            let position: Int
            if state.nodes.count < capacity {
                position = state.nodes.count
                state.nodes.append(Node(key: key, value: value))
            } else {
                position = state.head
                state.unlink(position)
                state.index[state.nodes[position].key] = nil
                state.nodes[position] = Node(key: key, value: value)
            }
            state.index[key] = position
            state.append(position)
        }
    }
}
