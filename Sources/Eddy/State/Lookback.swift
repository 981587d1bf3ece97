import DequeModule

/// The entries of one key's lookback window, oldest first, each with its event time.
///
/// Entries arrive in event-time order, so eviction only ever pops the front. The oldest time
/// is kept beside the deque: a window that has nothing to evict (the common case for long
/// windows) then costs no access to the deque's storage, which is a cache miss per key.
struct Lookback<Element> {
    private var entries = Deque<(time: Int64, element: Element)>()
    private var oldestTime = Int64.max

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    var first: Element? { entries.first?.element }
    var last: Element? { entries.last?.element }
    var elements: some Sequence<Element> { entries.lazy.map(\.element) }

    mutating func append(_ element: Element, at time: Int64) {
        if entries.isEmpty { oldestTime = time }
        entries.append((time, element))
    }

    /// Removes the entries with time < `cutoff`, passing each to `removed`, oldest first.
    @inline(__always)
    mutating func evict(olderThan cutoff: Int64, _ removed: (Element) -> Void = { _ in }) {
        guard oldestTime < cutoff else { return }
        while let oldest = entries.first, oldest.time < cutoff {
            removed(oldest.element)
            entries.removeFirst()
        }
        oldestTime = entries.first?.time ?? .max
    }

    mutating func removeFirst() {
        entries.removeFirst()
        oldestTime = entries.first?.time ?? .max
    }

    /// For monotonic deques: drops newer entries that can no longer win.
    mutating func removeLast(while shouldRemove: (Element) -> Bool) {
        while let newest = entries.last, shouldRemove(newest.element) { entries.removeLast() }
        if entries.isEmpty { oldestTime = .max }
    }
}
