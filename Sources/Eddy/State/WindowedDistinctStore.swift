import CEddySupport

/// One entry of a windowed distinct count's log: a value's text and its event time.
struct TimedText {
    var time: Int64
    var text: String

    /// Where the text of the entry at `entry` is stored, for reading it in place.
    @inline(__always)
    static func textAddress(_ entry: UnsafeMutablePointer<TimedText>) -> UnsafeMutablePointer<String> {
        (UnsafeMutableRawPointer(entry) + MemoryLayout<TimedText>.offset(of: \.text)!).assumingMemoryBound(to: String.self)
    }
}

/// The logs of every key's window of a windowed distinct count, each a block of
/// `TimedText`s (12, 24, 48... entries) carved from one memory mapping in huge pages and
/// recycled through a free list per size.
///
/// The log was a `Lookback<String>` per key: an array malloc'd at the key's first value
/// (12 entries, then 24, 48...) in the heap's small pages, whose header (reference count,
/// count, capacity) was a second line to load per event beside the one appended to, plus
/// the allocator's own lines. Here the positions are in the key's row, and an event touches
/// only the line it appends to. Blocks are referred to by index (the mapping moves when it
/// grows, as `mremap` moves its pages; the texts move with them as the bitwise-movable
/// values they are). A free block keeps the next free block's index in its first 4 bytes.
final class TimedTextBlocks {
    /// The smallest block's entries; a block of size class `c` holds `smallestBlock << c`.
    /// 12, as `ValueCountsState.initialWindowCapacity`: the card job's keys hold 6 values
    /// as a rule, but 8 grew (and copied) twice as many windows: 2,548 -> 2,543
    /// instructions an event on 1M events, simulated LL misses 10.25 -> 10.13, for 2 MB
    /// of RSS.
    static let smallestBlock = 12
    /// The bytes of the smallest block, the unit blocks are indexed in.
    static let unitBytes = smallestBlock * MemoryLayout<TimedText>.stride
    static let sizeClasses = 32

    /// Where unit 0 starts; moves when the mapping grows (`allocate`).
    private(set) var base: UnsafeMutableRawPointer
    private var capacityUnits: Int
    /// Units handed out at least once: those beyond were never touched.
    private(set) var usedUnits = 0
    /// Per size class, the first free block's unit index, or -1.
    private var firstFree = [Int32](repeating: -1, count: sizeClasses)

    init() {
        capacityUnits = 1024
        guard let memory = eddy_map_memory(capacityUnits * Self.unitBytes) else { Self.outOfMemory(capacityUnits * Self.unitBytes) }
        base = memory
        HugePages.adviseMapping(base, bytes: capacityUnits * Self.unitBytes)
    }

    deinit { eddy_unmap_memory(base, capacityUnits * Self.unitBytes) }

    private static func outOfMemory(_ bytes: Int) -> Never {
        fatalError("out of memory for \(bytes) bytes of window logs")
    }

    /// The first entry of block `block`.
    @inline(__always)
    func entries(_ block: Int32) -> UnsafeMutablePointer<TimedText> {
        (base + Int(block) &* Self.unitBytes).assumingMemoryBound(to: TimedText.self)
    }

    /// The size class of blocks of `capacity` entries (a power of two, at least `smallestBlock`).
    @inline(__always)
    static func sizeClass(ofCapacity capacity: Int) -> Int {
        (capacity / smallestBlock).trailingZeroBitCount
    }

    /// A block of `capacity` entries, uninitialised; its unit index.
    func allocate(capacity: Int) -> Int32 {
        let sizeClass = Self.sizeClass(ofCapacity: capacity)
        precondition(sizeClass < Self.sizeClasses && capacity == Self.smallestBlock << sizeClass, "a window log block of \(capacity) entries")
        let free = firstFree[sizeClass]
        if free >= 0 {
            firstFree[sizeClass] = UnsafeRawPointer(entries(free)).load(as: Int32.self)
            return free
        }
        let units = capacity / Self.smallestBlock
        while usedUnits + units > capacityUnits { grow() }
        let block = usedUnits
        usedUnits += units
        precondition(block <= Int(Int32.max), "window logs beyond \(Int32.max) blocks")
        return Int32(block)
    }

    /// Returns a block of `capacity` entries, whose entries hold nothing (moved out or
    /// deinitialised), for reuse.
    func free(_ block: Int32, capacity: Int) {
        let sizeClass = Self.sizeClass(ofCapacity: capacity)
        UnsafeMutableRawPointer(entries(block)).storeBytes(of: firstFree[sizeClass], as: Int32.self)
        firstFree[sizeClass] = block
    }

    private func grow() {
        guard let larger = eddy_grow_mapping(base, capacityUnits * Self.unitBytes, capacityUnits * 2 * Self.unitBytes) else {
            Self.outOfMemory(capacityUnits * 2 * Self.unitBytes)
        }
        base = larger
        capacityUnits *= 2
    }
}

/// The live entries of a window, oldest first, where they lie in their block.
struct TimedTexts {
    let start: UnsafeMutablePointer<TimedText>
    let count: Int

    @inline(__always)
    func text(_ index: Int) -> UnsafeMutablePointer<String> { TimedText.textAddress(start + index) }

    /// Whether a text with the bytes of the one stored at `text` is in the window, compared
    /// in place: an inline probe by its two words, as `Lookback.contains(textAt:)` does.
    func contains(textAt text: UnsafePointer<String>) -> Bool {
        guard let probe = InlineText.inlineWords(at: text)?.words else {
            for index in 0..<count where InlineText.same(at: self.text(index), text) { return true }
            return false
        }
        var entry = start
        let end = start + count
        while entry < end {
            let entryText = TimedText.textAddress(entry)
            let words = UnsafeRawPointer(entryText)
            // Equal words: the entry is inline too (its tag is the probe's), with the same bytes.
            if words.load(as: UInt64.self) == probe.0 && words.load(fromByteOffset: 8, as: UInt64.self) == probe.1 {
                return true
            }
            if !InlineText.isInline(at: entryText) && InlineText.same(at: entryText, text) { return true }
            entry += 1
        }
        return false
    }

    /// The filter of the window's texts.
    func presenceFilter() -> PresenceFilter {
        var filter = PresenceFilter()
        for index in 0..<count { filter.insert(textAt: text(index)) }
        return filter
    }

    /// Calls `body` with each distinct text, in byte order, and how many times the window
    /// holds it (`Lookback.forEachDistinctTextInByteOrder`).
    func forEachDistinctTextInByteOrder(_ body: (UnsafePointer<String>, Int64) -> Void) {
        forEachDistinctText(count: count, at: { UnsafePointer(text($0)) }, body)
    }

    /// As `Lookback<String>.encode(to:)` writes a window: the count, then each entry's time
    /// and text, oldest first.
    func encode(to writer: inout StateWriter) {
        writer.writeCount(count)
        for index in 0..<count {
            writer.write(start[index].time)
            writer.write(textAt: text(index))
        }
    }

    /// Releases what the texts hold (inline ones hold nothing: skipped, no runtime call).
    func deinitialize() {
        for index in 0..<count where !InlineText.isInline(at: text(index)) { text(index).deinitialize(count: 1) }
    }
}

/// A filter of the texts a window holds: 128 bits, two set per text, picked by its bytes.
/// A text whose bits are not all set is not in the window, which spares the scan of the
/// window. `ValueCountsState`'s one bit of 64 sent a tenth of the card job's events (on
/// keys with many values) to scan their windows, 0.66 simulated LL misses an event; two
/// of 128 scan 2.6 times fewer entries. Both bits of a text fall in one word, picked by
/// the hash, which is read and written through its address: no branch on which word.
struct PresenceFilter {
    var words: (UInt64, UInt64) = (0, 0)

    /// The word (0 or 1) and the bits of an inline text's words.
    @inline(__always)
    static func bits(of inline: (UInt64, UInt64)) -> (word: Int, bits: UInt64) {
        let mixed = (inline.0 ^ inline.1 &* 0xBF58_476D_1CE4_E5B9) &* 0x9E37_79B9_7F4A_7C15
        return (Int(truncatingIfNeeded: mixed &>> 63), 1 &<< ((mixed &>> 57) & 63) | 1 &<< ((mixed &>> 51) & 63))
    }

    /// Word `word` of the filter at `filter`.
    @inline(__always)
    static func word(_ word: Int, of filter: UnsafeMutablePointer<PresenceFilter>) -> UnsafeMutablePointer<UInt64> {
        UnsafeMutableRawPointer(filter).assumingMemoryBound(to: UInt64.self) + word
    }

    /// Every bit: a text stored out of line is always looked for by a scan, and so is
    /// every text once one is in the window.
    static var all: PresenceFilter { PresenceFilter(words: (.max, .max)) }

    /// Adds the text at `text`.
    @inline(__always)
    mutating func insert(textAt text: UnsafePointer<String>) {
        guard let inline = InlineText.inlineWords(at: text) else { return self = Self.all }
        let (word, bits) = Self.bits(of: inline.words)
        if word == 0 { words.0 |= bits } else { words.1 |= bits }
    }
}

/// A windowed `count_distinct`'s state in the key's row: as `ValueCountsState` keeps it (the
/// table past `ValueCountsState.smallWindow` values, else the count of distinct texts and
/// their presence bits), with the window's log in the store's blocks (`TimedTextBlocks`),
/// entries `head..<end` of block `block`. 61 bytes: one line of the row.
struct WindowedDistinctState {
    var counts = TextCounts()
    /// The oldest entry's time, `.max` when the window is empty: a window with nothing to
    /// evict costs no access to the block.
    var oldestTime = Int64.max
    /// While there is no table: the window's texts (`PresenceFilter`).
    var present = PresenceFilter()
    /// -1 until the key's first value; kept (empty) when the window empties.
    var block: Int32 = -1
    /// The block's entries: 0 while there is none, so that one test (`end == capacity`)
    /// sends an append to `makeRoom`.
    var capacity: Int32 = 0
    var head: Int32 = 0
    var end: Int32 = 0
    /// Distinct texts in the window while there is no table.
    var distinctInWindow: Int32 = 0
    /// Whether the state keeps no table (`ValueCountsState.withoutTable`).
    var withoutTable = true

    var count: Int { Int(end &- head) }
}

/// The store of a windowed `count_distinct` (not a histogram, which keeps `ValueCountsStore`):
/// `ValueCountsState`'s logic, with the windows' logs in the store's blocks rather than an
/// array per key. Persisted exactly as `ValueCountsState` writes a windowed distinct count.
final class WindowedDistinctStore: BatchLoopStore {
    private let window: Int64
    private var column = StateColumn()
    private let blocks = TimedTextBlocks()

    init(window: Int64?) {
        precondition(window != nil, "a windowed distinct count without a window")
        self.window = window!
    }

    var stateLayout: (size: Int, alignment: Int) { (MemoryLayout<WindowedDistinctState>.size, MemoryLayout<WindowedDistinctState>.alignment) }

    func attach(to rows: StateRows, offset: Int) {
        column = StateColumn(rows: rows, offset: offset)
        // The blocks, not the store: the store holds the rows, which hold this closure.
        let blocks = self.blocks
        rows.onRelease { row in
            let state = (row + offset).assumingMemoryBound(to: WindowedDistinctState.self)
            Self.window(of: state, blocks: blocks).deinitialize()
            state.deinitialize(count: 1)
        }
    }

    @inline(__always)
    private func state(_ slot: Int) -> UnsafeMutablePointer<WindowedDistinctState> { column.state(slot, as: WindowedDistinctState.self) }

    func initialiseState(slot: Int) { state(slot).initialize(to: WindowedDistinctState()) }

    @inline(__always)
    private static func window(of state: UnsafeMutablePointer<WindowedDistinctState>, blocks: TimedTextBlocks) -> TimedTexts {
        guard state.pointee.block >= 0 else { return TimedTexts(start: UnsafeMutablePointer(bitPattern: MemoryLayout<TimedText>.alignment)!, count: 0) }
        return TimedTexts(start: blocks.entries(state.pointee.block) + Int(state.pointee.head), count: state.pointee.count)
    }

    /// Appends a copy of the text at `text` at `time` to the window of `state`.
    @inline(__always)
    private static func append(textAt text: UnsafePointer<String>, at time: Int64, to state: UnsafeMutablePointer<WindowedDistinctState>, blocks: TimedTextBlocks) {
        if state.pointee.end == state.pointee.capacity { makeRoom(in: state, blocks: blocks) }
        let entry = blocks.entries(state.pointee.block) + Int(state.pointee.end)
        (UnsafeMutableRawPointer(entry) + MemoryLayout<TimedText>.offset(of: \.time)!).storeBytes(of: time, as: Int64.self)
        TimedText.textAddress(entry).initialize(to: InlineText.copy(at: text))
        if state.pointee.head == state.pointee.end { state.pointee.oldestTime = time }
        state.pointee.end &+= 1
    }

    /// Room for one more entry at the window's end: a first block; or, when at least a
    /// quarter of the block already left the window, the entries slid down (as `Lookback`
    /// does, so appends stay amortised constant work); or a block twice the size. Out of
    /// line: met once per block's worth of values.
    @inline(never)
    private static func makeRoom(in state: UnsafeMutablePointer<WindowedDistinctState>, blocks: TimedTextBlocks) {
        let head = Int(state.pointee.head)
        let count = state.pointee.count
        if state.pointee.block < 0 {
            state.pointee.block = blocks.allocate(capacity: TimedTextBlocks.smallestBlock)
            state.pointee.capacity = Int32(TimedTextBlocks.smallestBlock)
            return
        }
        let entries = blocks.entries(state.pointee.block)
        if head > 0, head * 4 >= Int(state.pointee.end) {
            // Overlapping ranges, moved (not copied: no text is retained).
            entries.moveInitialize(from: entries + head, count: count)
        } else {
            let capacity = Int(state.pointee.capacity) * 2
            precondition(capacity <= Int(Int32.max), "a window of more than \(Int32.max) values")
            let larger = blocks.allocate(capacity: capacity)
            // `allocate` may have moved the mapping: the old block is found again.
            blocks.entries(larger).moveInitialize(from: blocks.entries(state.pointee.block) + head, count: count)
            blocks.free(state.pointee.block, capacity: Int(state.pointee.capacity))
            state.pointee.block = larger
            state.pointee.capacity = Int32(capacity)
        }
        state.pointee.head = 0
        state.pointee.end = Int32(count)
    }

    /// Removes the oldest entry and returns its text.
    @inline(__always)
    private static func popOldest(_ state: UnsafeMutablePointer<WindowedDistinctState>, blocks: TimedTextBlocks) -> String {
        let entries = blocks.entries(state.pointee.block)
        let text = TimedText.textAddress(entries + Int(state.pointee.head)).move()
        state.pointee.head &+= 1
        if state.pointee.head == state.pointee.end {
            state.pointee.head = 0
            state.pointee.end = 0
            state.pointee.oldestTime = .max
        } else {
            state.pointee.oldestTime = entries[Int(state.pointee.head)].time
        }
        return text
    }

    /// Drops the entries older than `cutoff`, as `ValueCountsState.evict` does. Out of line:
    /// nearly every event evicts nothing.
    @inline(never)
    private static func evict(olderThan cutoff: Int64, from state: UnsafeMutablePointer<WindowedDistinctState>, blocks: TimedTextBlocks) {
        if state.pointee.oldestTime < cutoff, state.pointee.withoutTable, state.pointee.count > ValueCountsState.smallSlidingWindow {
            buildTable(state, blocks: blocks)
        }
        var evicted = false
        while state.pointee.oldestTime < cutoff {
            let text = popOldest(state, blocks: blocks)
            evicted = true
            if state.pointee.withoutTable {
                let window = window(of: state, blocks: blocks)
                if !withUnsafePointer(to: text, { window.contains(textAt: $0) }) { state.pointee.distinctInWindow -= 1 }
            } else {
                state.pointee.counts.remove(text)
                // The window emptied: drop the table's storage too, as a restored state would not have it.
                if state.pointee.counts.isEmpty {
                    state.pointee.counts = TextCounts()
                    state.pointee.withoutTable = true
                }
            }
        }
        if evicted, state.pointee.withoutTable {
            state.pointee.present = window(of: state, blocks: blocks).presenceFilter()
        }
    }

    /// The window outgrew `smallWindow`, or `smallSlidingWindow` as it slides: a table of
    /// its texts from now on (`ValueCountsState.buildTable`).
    @inline(never)
    private static func buildTable(_ state: UnsafeMutablePointer<WindowedDistinctState>, blocks: TimedTextBlocks) {
        let window = window(of: state, blocks: blocks)
        var table = TextCounts(roomFor: window.count + 1)
        for index in 0..<window.count { table.add(textAt: window.text(index)) }
        state.pointee.counts = table
        state.pointee.distinctInWindow = 0
        state.pointee.present = PresenceFilter()
        state.pointee.withoutTable = false
    }

    /// One event: drops what left the window before its time (`cutoff`), then adds its
    /// value unless it is absent.
    @inline(__always)
    private static func apply(_ value: UnsafePointer<FieldValue>, at time: Int64, cutoff: Int64, to state: UnsafeMutablePointer<WindowedDistinctState>, blocks: TimedTextBlocks) {
        if state.pointee.oldestTime < cutoff { evict(olderThan: cutoff, from: state, blocks: blocks) }
        guard !value.isAbsent else { return }
        let text = FieldValue.textAddress(value)
        if state.pointee.withoutTable {
            if state.pointee.count < ValueCountsState.smallWindow {
                if let inline = InlineText.inlineWords(at: text) {
                    let (word, bits) = PresenceFilter.bits(of: inline.words)
                    // Through the state's address: a pointer made from `&state.pointee.present`
                    // would be valid only during the call that takes it.
                    let filter = (UnsafeMutableRawPointer(state) + MemoryLayout<WindowedDistinctState>.offset(of: \.present)!)
                        .assumingMemoryBound(to: PresenceFilter.self)
                    let present = PresenceFilter.word(word, of: filter)
                    if present.pointee & bits != bits || !window(of: state, blocks: blocks).contains(textAt: text) {
                        state.pointee.distinctInWindow &+= 1
                    }
                    present.pointee |= bits
                } else {
                    if !window(of: state, blocks: blocks).contains(textAt: text) { state.pointee.distinctInWindow &+= 1 }
                    state.pointee.present = .all
                }
                append(textAt: text, at: time, to: state, blocks: blocks)
                return
            }
            buildTable(state, blocks: blocks)
        }
        state.pointee.counts.add(textAt: text)
        append(textAt: text, at: time, to: state, blocks: blocks)
    }

    @inline(__always)
    private static func appendResult(of state: UnsafeMutablePointer<WindowedDistinctState>, to out: ByteBuffer) {
        NumberText.append(Int64(state.pointee.withoutTable ? Int(state.pointee.distinctInWindow) : state.pointee.counts.count), to: out)
    }

    func apply(_ value: FieldValue, slot: Int, at time: Int64) {
        let state = state(slot)
        withUnsafePointer(to: value) { Self.apply($0, at: time, cutoff: windowStart(time, window), to: state, blocks: blocks) }
    }

    func appendResult(slot: Int, to out: ByteBuffer) { Self.appendResult(of: state(slot), to: out) }

    func apply(_ batch: FeatureBatch, fieldSlot: Int?, results: inout BatchResults) {
        applyBatch(batch, fieldSlot: fieldSlot, results: &results)
    }

    @inline(__always)
    func applyEvents<Values: EventValues>(_ batch: FeatureBatch, values: Values, results: BatchResults) -> Int {
        let bytes = results.bytes
        // Read once: no row is added while a batch is applied.
        let rows = column.rows.unsafelyUnwrapped
        let first = rows.address(ofRow: 0) + column.offset
        let stride = rows.stride
        let window = self.window
        let blocks = self.blocks
        // One result per event, in the batch's order (see `AccumulatorStore.apply`).
        let resultEnds = results.ends.reserve(batch.slots.count)
        @inline(__always)
        func state(_ index: Int) -> UnsafeMutablePointer<WindowedDistinctState> {
            (first + batch.slots[index] &* stride).assumingMemoryBound(to: WindowedDistinctState.self)
        }
        var start = 0
        for end in batch.peerGroupEnds {
            let time = batch.times[start]
            let cutoff = windowStart(time, window)
            // Every event of a peer group (equal times) is applied before any result is taken.
            for index in start..<end { Self.apply(values.at(index), at: time, cutoff: cutoff, to: state(index), blocks: blocks) }
            for index in start..<end {
                Self.appendResult(of: state(index), to: bytes)
                resultEnds[index] = bytes.count
            }
            start = end
        }
        return start
    }

    /// The line the next entry of each state goes to, and the table's entry for the value
    /// when there is a table (or, without values to add, the oldest entries, which a
    /// checkpoint reads).
    func prefetchHeap(slots: UnsafeBufferPointer<Int>, values: UnsafeBufferPointer<FieldValue>, bases: UnsafeBufferPointer<Int>, fieldSlot: Int?) {
        let base = blocks.base
        guard let fieldSlot, let values = values.baseAddress else {
            for slot in slots {
                let state = state(slot)
                guard state.pointee.block >= 0 else { continue }
                let entries = base + Int(state.pointee.block) &* TimedTextBlocks.unitBytes + Int(state.pointee.head) &* MemoryLayout<TimedText>.stride
                eddy_prefetch(entries)
                eddy_prefetch(entries + 64)
            }
            return
        }
        for index in slots.indices {
            let state = state(slots[index])
            let block = state.pointee.block
            guard block >= 0 else { continue }
            eddy_prefetch(base + Int(block) &* TimedTextBlocks.unitBytes + Int(state.pointee.end) &* MemoryLayout<TimedText>.stride)
            let value = values + bases[index] + fieldSlot
            if !state.pointee.withoutTable, !value.isAbsent {
                TextCounts.prefetchSlot(in: UnsafeRawPointer(state) + MemoryLayout<WindowedDistinctState>.offset(of: \.counts)!, textAt: FieldValue.textAddress(value))
            }
        }
    }

    var holdsHeap: Bool { true }

    /// Units of blocks ever handed out, free or not (for tests).
    var allocatedUnits: Int { blocks.usedUnits }

    /// Releases the texts of `state`'s window and frees its block.
    private func releaseWindow(of state: UnsafeMutablePointer<WindowedDistinctState>) {
        guard state.pointee.block >= 0 else { return }
        Self.window(of: state, blocks: blocks).deinitialize()
        blocks.free(state.pointee.block, capacity: Int(state.pointee.capacity))
        state.pointee.block = -1
        state.pointee.capacity = 0
        state.pointee.head = 0
        state.pointee.end = 0
    }

    func reset(slot: Int) {
        let state = state(slot)
        releaseWindow(of: state)
        state.pointee = WindowedDistinctState()
    }

    /// As `ValueCountsState.encodeState` writes a windowed distinct count: the distinct texts
    /// in byte order with their counts, then the window.
    func encode(slot: Int, to writer: inout StateWriter) {
        let state = state(slot)
        let window = Self.window(of: state, blocks: blocks)
        if state.pointee.withoutTable {
            writer.writeCount(Int(state.pointee.distinctInWindow))
            window.forEachDistinctTextInByteOrder { text, occurrences in
                writer.write(textAt: text)
                writer.write(occurrences)
            }
        } else {
            writer.writeCount(state.pointee.counts.count)
            state.pointee.counts.forEachInByteOrder { text, occurrences in
                writer.write(textAt: text)
                writer.write(occurrences)
            }
        }
        window.encode(to: &writer)
    }

    /// As `ValueCountsState.decodeState` reads a windowed distinct count, with the same checks.
    func decode(slot: Int, from reader: inout StateReader) throws(StateFormatError) {
        let state = state(slot)
        releaseWindow(of: state)
        state.pointee = WindowedDistinctState()
        let distinct = try reader.readCount()
        var counts = TextCounts()
        for _ in 0..<distinct {
            let text = try reader.readString()
            let occurrences = try reader.readInt64()
            guard occurrences > 0 else { throw StateFormatError("a distinct value counted \(occurrences) times") }
            counts.add(text, occurrences: occurrences)
        }
        let count = try reader.readCount()
        try reader.readWindowEntries(count: count) { (time, reader: inout StateReader) throws(StateFormatError) in
            let text = try reader.readString()
            withUnsafePointer(to: text) { Self.append(textAt: $0, at: time, to: state, blocks: blocks) }
        }
        let window = Self.window(of: state, blocks: blocks)
        if window.count <= ValueCountsState.smallWindow {
            // A small window goes without a table; its distinct texts are counted from it.
            var distinct = 0
            window.forEachDistinctTextInByteOrder { _, _ in distinct += 1 }
            guard distinct == counts.count else {
                throw StateFormatError("a window of \(distinct) distinct values counted as \(counts.count)")
            }
            state.pointee.distinctInWindow = Int32(distinct)
            counts = TextCounts()
        }
        state.pointee.withoutTable = counts.isEmpty
        state.pointee.present = state.pointee.withoutTable ? window.presenceFilter() : PresenceFilter()
        state.pointee.counts = counts
    }

    /// The table's bytes and the block's.
    func heapBytes(slot: Int) -> Int {
        let state = state(slot)
        return state.pointee.counts.heapBytes + Int(state.pointee.capacity) * MemoryLayout<TimedText>.stride
    }
}
