import CEddySupport

/// Every slot's feature states, row by row: one row per slot holds each feature's state at
/// a fixed offset, so an event's states are a few adjacent cache lines (and one page) rather
/// than one line in each feature's own array. A job applies every feature to each event, so
/// every line of a row is used; per-feature arrays cost a cache miss and a TLB miss per
/// feature and event on a stream over many keys.
///
/// The rows are raw memory holding Swift values: each store initialises, uses and
/// deinitialises its own state in place (`FeatureStore.attach`). The arena is a memory
/// mapping that doubles with `mremap`, which moves its pages rather than copying their bytes
/// (copying, a doubling held the old and the new arena at once: with 2.6M keys, a peak RSS
/// of 3.45 GB against 3.19 GB); either way the rows move as bytes, which Swift values allow
/// (states hold arrays, strings and class references, never weak references).
final class StateRows {
    /// Where row 0 starts; changes when the arena grows (resolving a key may add a row), so a
    /// feature reads it once per `apply` of a chunk, during which no row is added.
    private(set) var base: UnsafeMutableRawPointer
    /// Bytes per row.
    let stride: Int
    private(set) var count = 0
    private var capacity: Int
    /// Per feature: deinitialises its state in a row (the row's address is passed).
    private var releasers: [(UnsafeMutableRawPointer) -> Void] = []

    /// Rows are cache-line aligned, and a row never needlessly straddles a line: its stride
    /// is a power of two up to a line, a multiple of lines beyond.
    static let lineSize = 64

    /// Lays out `layouts` (each feature's state size and alignment; see `layout`); returns
    /// each one's offset in a row (in the order given), with the arena.
    static func laidOut(_ layouts: [(size: Int, alignment: Int)]) -> (rows: StateRows, offsets: [Int]) {
        let (stride, offsets) = layout(layouts)
        return (StateRows(stride: stride), offsets)
    }

    /// `laidOut`'s row stride and offsets, without an arena: `lineAwareLayout` when a row
    /// spans several lines and that takes no more of them, else `packedLayout`.
    static func layout(_ layouts: [(size: Int, alignment: Int)]) -> (stride: Int, offsets: [Int]) {
        let packed = packedLayout(layouts)
        // A row of at most a line never straddles one (rows are aligned to their stride).
        guard packed.stride > lineSize else { return packed }
        let byLines = lineAwareLayout(layouts)
        return byLines.stride <= packed.stride ? byLines : packed
    }

    /// Each state in as few cache lines as its size allows: a state of more than a line from
    /// a line's start, a smaller one inside one line, fitted (largest first) into the room
    /// left before a later state or at the end of a line. Each feature's batch loop loads
    /// only its own state's lines of a row, so a state across a line boundary cost a second
    /// load per event: the card job's loops load 10 lines of each row, not 12.
    static func lineAwareLayout(_ layouts: [(size: Int, alignment: Int)]) -> (stride: Int, offsets: [Int]) {
        var offsets = [Int](repeating: 0, count: layouts.count)
        var taken: [Range<Int>] = []
        var alignment = 8
        let order = layouts.indices.sorted {
            (layouts[$0].size > lineSize ? 1 : 0, layouts[$0].size, layouts[$0].alignment, -$0)
                > (layouts[$1].size > lineSize ? 1 : 0, layouts[$1].size, layouts[$1].alignment, -$1)
        }
        for index in order {
            let (size, stateAlignment) = layouts[index]
            alignment = max(alignment, stateAlignment)
            let end = taken.map(\.upperBound).max() ?? 0
            var offset = roundUp(roundUp(end, to: lineSize), to: stateAlignment)
            if size <= lineSize {
                // The first room, between the states placed or after the last, where the state
                // fits aligned without crossing a line boundary (after the last, there always is).
                var roomStart = 0
                for next in taken + [Int.max..<Int.max] {
                    var start = roundUp(roomStart, to: stateAlignment)
                    if size > 0, start / lineSize != (start + size - 1) / lineSize {
                        start = roundUp(roundUp(start, to: lineSize), to: stateAlignment)
                    }
                    if start + size <= next.lowerBound {
                        offset = start
                        break
                    }
                    roomStart = max(roomStart, next.upperBound)
                }
            }
            offsets[index] = offset
            // A state of no bytes takes no room.
            if size > 0 { taken.append(offset..<offset + size) }
            taken.sort { $0.lowerBound < $1.lowerBound }
        }
        return (strideOf(end: taken.map(\.upperBound).max() ?? 0, alignment: alignment), offsets)
    }

    /// The states packed as tightly as their alignment allows: the most aligned first and then
    /// the largest.
    static func packedLayout(_ layouts: [(size: Int, alignment: Int)]) -> (stride: Int, offsets: [Int]) {
        var offsets = [Int](repeating: 0, count: layouts.count)
        var end = 0
        var alignment = 8
        let order = layouts.indices.sorted {
            (layouts[$0].alignment, layouts[$0].size, -$0) > (layouts[$1].alignment, layouts[$1].size, -$1)
        }
        for index in order {
            end = roundUp(end, to: layouts[index].alignment)
            offsets[index] = end
            end += layouts[index].size
            alignment = max(alignment, layouts[index].alignment)
        }
        return (strideOf(end: end, alignment: alignment), offsets)
    }

    /// The stride of rows whose states end at `end`: a power of two up to a line, a multiple of
    /// lines beyond.
    private static func strideOf(end: Int, alignment: Int) -> Int {
        let end = max(roundUp(end, to: alignment), 8)
        return end <= lineSize ? 1 << (Int.bitWidth - (end - 1).leadingZeroBitCount) : roundUp(end, to: lineSize)
    }

    private static func roundUp(_ value: Int, to alignment: Int) -> Int {
        (value + alignment - 1) / alignment * alignment
    }

    private init(stride: Int) {
        self.stride = stride
        capacity = 64
        guard let memory = eddy_map_memory(capacity * stride) else { Self.outOfMemory(capacity * stride) }
        base = memory
        HugePages.adviseMapping(base, bytes: capacity * stride)
    }

    deinit {
        for row in 0..<count {
            for release in releasers { release(address(ofRow: row)) }
        }
        eddy_unmap_memory(base, capacity * stride)
    }

    private static func outOfMemory(_ bytes: Int) -> Never {
        fatalError("out of memory for \(bytes) bytes of key state")
    }

    /// Registers how one feature's state is deinitialised when the rows go.
    func onRelease(_ release: @escaping (UnsafeMutableRawPointer) -> Void) { releasers.append(release) }

    /// The start of row `row`.
    @inline(__always)
    func address(ofRow row: Int) -> UnsafeMutableRawPointer { base + row &* stride }

    /// Adds a row, its states uninitialised (the caller has every store initialise its own);
    /// returns its index.
    func appendRow() -> Int {
        if count == capacity {
            // The states move with their pages; they are read back through the same types
            // that wrote them (`assumingMemoryBound`), as bitwise-movable values allow.
            guard let larger = eddy_grow_mapping(base, capacity * stride, capacity * 2 * stride) else {
                Self.outOfMemory(capacity * 2 * stride)
            }
            base = larger
            capacity *= 2
        }
        count += 1
        return count - 1
    }

    /// Starts loading the rows of `slots` into the cache.
    ///
    /// Rows of up to eight lines (the card job's have six) each get a loop whose line count
    /// is a constant, so that it unrolls to one prefetch a line: a loop over the lines took
    /// four instructions a line and the row's loop set-up (~30 an event, against ~12).
    func prefetch(slots: UnsafeBufferPointer<Int>) {
        let stride = self.stride
        let base = self.base
        @inline(__always) func prefetchRows(lines: Int) {
            for slot in slots {
                let row = base + slot &* stride
                for line in 0..<lines { eddy_prefetch(row + line &* Self.lineSize) }
            }
        }
        switch stride / Self.lineSize {
        case 0, 1: prefetchRows(lines: 1)
        case 2: prefetchRows(lines: 2)
        case 3: prefetchRows(lines: 3)
        case 4: prefetchRows(lines: 4)
        case 5: prefetchRows(lines: 5)
        case 6: prefetchRows(lines: 6)
        case 7: prefetchRows(lines: 7)
        case 8: prefetchRows(lines: 8)
        default: prefetchRows(lines: stride / Self.lineSize)
        }
    }
}
