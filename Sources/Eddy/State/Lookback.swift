import CEddySupport
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

    /// Removes the entries with time < `cutoff`.
    @inline(__always)
    mutating func evict(olderThan cutoff: Int64) {
        while popOldest(before: cutoff) != nil {}
    }

    /// Removes and returns the oldest entry if its time is < `cutoff`: callers that retract
    /// what leaves the window loop on it.
    @inline(__always)
    mutating func popOldest(before cutoff: Int64) -> Element? {
        guard oldestTime < cutoff else { return nil }
        let oldest = entries.removeFirst()
        oldestTime = entries.first?.time ?? .max
        return oldest.element
    }

    mutating func removeFirst() {
        entries.removeFirst()
        oldestTime = entries.first?.time ?? .max
    }

    /// Where the deque's reference to its storage sits in a `Lookback`.
    static var dequeOffset: Int { MemoryLayout<Lookback>.offset(of: \.entries)! }

    /// For monotonic deques: drops newer entries that can no longer win.
    mutating func removeLast(while shouldRemove: (Element) -> Bool) {
        while let newest = entries.last, shouldRemove(newest.element) { entries.removeLast() }
        if entries.isEmpty { oldestTime = .max }
    }
}

extension Lookback where Element: StateCodable {
    func encode(to writer: inout StateWriter) {
        writer.writeCount(entries.count)
        for entry in entries {
            writer.write(entry.time)
            entry.element.encode(to: &writer)
        }
    }

    static func decode(from reader: inout StateReader) throws(StateFormatError) -> Lookback {
        var lookback = Lookback()
        let count = try reader.readCount()
        lookback.entries.reserveCapacity(count)
        var previous = Int64.min
        for _ in 0..<count {
            let time = try reader.readInt64()
            guard time >= previous else { throw StateFormatError("window entries out of time order") }
            previous = time
            lookback.append(try Element.decode(from: &reader), at: time)
        }
        return lookback
    }

    /// Heap bytes the entries take, for memory budgets (strings' own storage not counted).
    var heapBytes: Int { entries.count * MemoryLayout<(time: Int64, element: Element)>.stride }
}

/// The element of a window that only counts its entries.
struct Occurrence: StateCodable {
    func encode(to writer: inout StateWriter) {}
    static func decode(from reader: inout StateReader) throws(StateFormatError) -> Occurrence { Occurrence() }
}

/// Prefetches the heap objects referenced at `offsets` bytes into the value at `address`
/// (a `Deque`'s or a `Dictionary`'s storage): their header and first entries.
///
/// Swift has no API for a collection's storage address, and copying the collection to ask
/// would retain it, which touches (and stalls on) the very object to prefetch. So the
/// reference is read as raw bits when the collection is one pointer wide (checked); a
/// prefetch never faults, so if a library changed its layout this would only stop helping.
@inline(__always)
func prefetchReferencedObjects(at address: UnsafeRawPointer, offsets: [Int]) {
    for offset in offsets {
        let object = address.load(fromByteOffset: offset, as: UInt.self)
        eddy_prefetch(UnsafeRawPointer(bitPattern: object))
        eddy_prefetch(UnsafeRawPointer(bitPattern: object &+ 64))
    }
}
