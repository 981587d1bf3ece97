import CEddySupport

/// The entries of one key's lookback window, oldest first, each with its event time.
///
/// Entries arrive in event-time order, so eviction only ever drops the oldest: the window is
/// an array read from a moving `head`, compacted when it is full and the dropped prefix is
/// at least a quarter of it. An array rather than a `Deque`: its growth moves the entries
/// (a `Deque` copied them, retaining every string, then released the old buffer's), and
/// appending is a few instructions. The oldest time is kept beside the array: a window with nothing to evict
/// (the common case for long windows) then costs no access to the array's storage, which
/// is a cache miss per key.
struct Lookback<Element> {
    private var entries: [(time: Int64, element: Element)] = []
    /// Entries before it have left the window; 0 whenever the window is empty.
    private var head = 0
    private var oldestTime = Int64.max

    var isEmpty: Bool { head == entries.count }
    /// Unchecked: `head` never passes the entries' count (an overflow check per read).
    var count: Int { entries.count &- head }
    var first: Element? { isEmpty ? nil : entries[head].element }
    var last: Element? { isEmpty ? nil : entries[entries.count - 1].element }
    var elements: ArraySlice<(time: Int64, element: Element)> { entries[head...] }

    @inline(__always)
    mutating func append(_ element: consuming Element, at time: Int64, initialCapacity: Int = Lookback.initialCapacity) {
        if isEmpty {
            oldestTime = time
            // Room for a few entries at once: growing 1, 2, 4, 8 cost an allocation and a
            // copy per step, for keys that see a handful of events.
            if entries.capacity == 0 { entries.reserveCapacity(initialCapacity) }
        } else if head > 0, entries.count == entries.capacity, head * 4 >= entries.count {
            // Full, and at least a quarter of it already left the window: slide down, don't
            // grow. A slide moves at most three entries per one that left, so appends stay
            // amortised constant work; a `collect` with a limit of 5 keeps 8 entries, not 16.
            entries.removeFirst(head)
            head = 0
        }
        entries.append((time, element))
    }

    /// Removes the entries with time < `cutoff`.
    @inline(__always)
    mutating func evict(olderThan cutoff: Int64) {
        while popOldest(before: cutoff) != nil {}
    }

    /// Whether an entry has time < `cutoff`: whether `evict(olderThan:)` would drop any.
    @inline(__always)
    func holdsEntry(before cutoff: Int64) -> Bool { oldestTime < cutoff }

    /// Removes and returns the oldest entry if its time is < `cutoff`: callers that retract
    /// what leaves the window loop on it.
    @inline(__always)
    mutating func popOldest(before cutoff: Int64) -> Element? {
        guard oldestTime < cutoff else { return nil }
        return dropOldest()
    }

    /// Drops the oldest entry without reading it out: a copy of it retained and released
    /// its text for nothing.
    @inline(__always)
    mutating func removeFirst() { advanceHead() }

    @inline(__always)
    private mutating func dropOldest() -> Element {
        let oldest = entries[head].element
        advanceHead()
        return oldest
    }

    @inline(__always)
    private mutating func advanceHead() {
        head += 1
        if head == entries.count {
            oldestTime = .max
            // Emptied: release what the dropped entries hold, keep the capacity.
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else {
            oldestTime = entries[head].time
        }
    }

    /// The capacity of a window's first allocation, unless its feature asks for another.
    static var initialCapacity: Int { 8 }

    /// Where the array's reference to its storage sits in a `Lookback`.
    static var storageOffset: Int { MemoryLayout<Lookback>.offset(of: \.entries)! }

    /// For monotonic deques: drops newer entries that can no longer win.
    mutating func removeLast(while shouldRemove: (Element) -> Bool) {
        while !isEmpty, shouldRemove(entries[entries.count - 1].element) { entries.removeLast() }
        if isEmpty {
            entries.removeAll(keepingCapacity: true)
            head = 0
            oldestTime = .max
        }
    }
}

extension Lookback where Element == String {
    /// Where the text of the entry at `entry` is stored, for reading it in place.
    @inline(__always)
    private static func textAddress(_ entry: UnsafePointer<(time: Int64, element: String)>) -> UnsafePointer<String> {
        (UnsafeRawPointer(entry) + MemoryLayout<(time: Int64, element: String)>.offset(of: \.element)!)
            .assumingMemoryBound(to: String.self)
    }

    /// Calls `body` with each of the window's texts, oldest first, read where it lies.
    func forEachText(_ body: (UnsafePointer<String>) -> Void) {
        entries.withUnsafeBufferPointer { entries in
            guard let base = entries.baseAddress else { return }
            for index in head..<entries.count { body(Self.textAddress(base + index)) }
        }
    }

    /// Whether a text with the bytes of the one stored at `text` is in the window, compared
    /// in place (`InlineText.same`).
    ///
    /// An inline text, as nearly all are, is read once and compared by its first word: only
    /// a text equal in it, or one stored out of line (which may hold the same bytes), is
    /// looked at further. `same` per entry checked both texts' tags first, 15 instructions
    /// an entry where this takes 8.
    func contains(textAt text: UnsafePointer<String>) -> Bool {
        entries.withUnsafeBufferPointer { entries in
            guard let base = entries.baseAddress else { return false }
            guard let probe = InlineText.inlineWords(at: text)?.words else {
                for index in head..<entries.count where InlineText.same(at: Self.textAddress(base + index), text) {
                    return true
                }
                return false
            }
            // A pointer walk: indexing the buffer checked its bounds per entry.
            var entry = base + head
            let end = base + entries.count
            while entry < end {
                let words = UnsafeRawPointer(Self.textAddress(entry))
                // Equal words: the entry is inline too (its tag is the probe's), with the same bytes.
                if words.load(as: UInt64.self) == probe.0 && words.load(fromByteOffset: 8, as: UInt64.self) == probe.1 {
                    return true
                }
                if !InlineText.isInline(at: Self.textAddress(entry)) && InlineText.same(at: Self.textAddress(entry), text) {
                    return true
                }
                entry += 1
            }
            return false
        }
    }

    /// The union of `bit(text)` over the window's texts, each read where it lies.
    func unionOfBits(_ bit: (UnsafePointer<String>) -> UInt64) -> UInt64 {
        entries.withUnsafeBufferPointer { entries in
            guard let base = entries.baseAddress else { return 0 }
            var union: UInt64 = 0
            for index in head..<entries.count { union |= bit(Self.textAddress(base + index)) }
            return union
        }
    }

    /// Whether `text`'s bytes are in the window.
    func contains(_ text: String) -> Bool {
        withUnsafePointer(to: text) { contains(textAt: $0) }
    }

    /// Calls `body` with each distinct text of the window, in byte order, and how many times
    /// the window holds it, read where it lies (`forEachDistinctText`).
    func forEachDistinctTextInByteOrder(_ body: (UnsafePointer<String>, Int64) -> Void) {
        entries.withUnsafeBufferPointer { entries in
            guard let base = entries.baseAddress, head < entries.count else { return }
            let head = self.head
            forEachDistinctText(count: entries.count - head, at: { Self.textAddress(base + head + $0) }, body)
        }
    }

    /// `encode(to:)` with each text written where it lies: iterating the entries copied each
    /// text out (an atomic retain and release per text and key of a checkpoint).
    func encode(to writer: inout StateWriter) {
        writer.writeCount(count)
        entries.withUnsafeBufferPointer { entries in
            guard let base = entries.baseAddress else { return }
            for index in head..<entries.count {
                writer.write(base[index].time)
                writer.write(textAt: Self.textAddress(base + index))
            }
        }
    }

    /// Appends the texts, oldest first, as a JSON array (`[a,b]`), each read in place:
    /// handing the texts to a closure copied each (a retain and a release per text and event).
    func appendJSONArray(to out: ByteBuffer) {
        entries.withUnsafeBufferPointer { entries in
            guard let base = entries.baseAddress else { return }
            var separator = UInt8(ascii: "[")
            for index in head..<entries.count {
                out.append(separator)
                out.appendUTF8(textAt: Self.textAddress(base + index))
                separator = UInt8(ascii: ",")
            }
            out.append(UInt8(ascii: "]"))
        }
    }
}

extension Lookback where Element: StateCodable {
    func encode(to writer: inout StateWriter) {
        writer.writeCount(count)
        for entry in elements {
            writer.write(entry.time)
            entry.element.encode(to: &writer)
        }
    }

    static func decode(from reader: inout StateReader) throws(StateFormatError) -> Lookback {
        var lookback = Lookback()
        let count = try reader.readCount()
        lookback.entries.reserveCapacity(count)
        try reader.readWindowEntries(count: count) { (time, reader: inout StateReader) throws(StateFormatError) in
            lookback.append(try Element.decode(from: &reader), at: time)
        }
        return lookback
    }

    /// Heap bytes the entries take, for memory budgets (strings' own storage not counted).
    var heapBytes: Int { entries.capacity * MemoryLayout<(time: Int64, element: Element)>.stride }
}

/// The element of a window that only counts its entries.
struct Occurrence: StateCodable {
    func encode(to writer: inout StateWriter) {}
    static func decode(from reader: inout StateReader) throws(StateFormatError) -> Occurrence { Occurrence() }
}

/// Prefetches the heap objects referenced at `offsets` bytes into the value at `address`
/// (an array's or a dictionary's storage): their header and first entries.
///
/// Four lines: the card job's windows hold about ten entries of 24 bytes, which a scan for a
/// distinct value or a collect's output reads whole. Two lines (the header and the first
/// few entries) left the rest a miss per event: four ran the job 1.09x faster (best and
/// median of 9 interleaved runs); six, no faster than four.
///
/// Swift has no API for a collection's storage address, and copying the collection to ask
/// would retain it, which touches (and stalls on) the very object to prefetch. So the
/// reference is read as raw bits when the collection is one pointer wide (checked); a
/// prefetch never faults, so if a library changed its layout this would only stop helping.
@inline(__always)
func prefetchReferencedObjects(at address: UnsafeRawPointer, offsets: [Int]) {
    for offset in offsets {
        let object = address.load(fromByteOffset: offset, as: UInt.self)
        var line = 0
        repeat {
            eddy_prefetch(UnsafeRawPointer(bitPattern: object &+ UInt(line)))
            line &+= 64
        } while line < prefetchedObjectBytes
    }
}

/// Where an array's elements start in its storage object (on 64-bit platforms: the object
/// header, then the count and the capacity), for prefetches that compute an element's
/// address (checked by a test).
let arrayElementsOffset = 32

/// How much of a referenced object `prefetchReferencedObjects` prefetches, from its start.
let prefetchedObjectBytes = 256

/// Calls `body` with each distinct one of `count` texts, `text(i)` being where the i-th lies,
/// in byte order (`utf8Precedes`), and how many times it occurs; the texts are compared and
/// passed where they lie. An insertion sort of their indices: for the small windows of a
/// distinct count without a table (`Lookback`, `TimedTexts`), whose checkpoint built and
/// sorted a list of copied texts (a fifth of an end-of-run checkpoint).
func forEachDistinctText(count: Int, at text: (Int) -> UnsafePointer<String>, _ body: (UnsafePointer<String>, Int64) -> Void) {
    guard count > 0 else { return }
    withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { order in
        func sorted(_ index: Int) -> UnsafePointer<String> { text(order[index]) }
        for index in 0..<count {
            order[index] = index
            var position = index
            while position > 0, InlineText.precedes(at: sorted(position), sorted(position - 1)) {
                order.swapAt(position, position - 1)
                position -= 1
            }
        }
        var first = 0
        while first < count {
            var end = first + 1
            while end < count, InlineText.same(at: sorted(end), sorted(first)) { end += 1 }
            body(sorted(first), Int64(end - first))
            first = end
        }
    }
}
