import CEddySupport

/// A windowed sum's or average's state in the key's row: the total, and where the key's log
/// of the window's numbers lies in the store's chunks (`NumberLogChunks`), oldest first from
/// entry `headIndex` of `headChunk` to entry `tailCount - 1` of `tailChunk`.
///
/// What an event reads and writes (the total, the oldest time, the tail) is the first 64
/// bytes, and the rows place a state of more than a line at a line's start
/// (`StateRows.lineAwareLayout`): an event and `prefetchHeap` load one line of the row, not
/// two. The head is read only when entries leave the window, or to tell an empty log.
struct WindowedSumState {
    var total = NumericTotal()
    /// The oldest entry's time, `.max` when the log is empty: a window with nothing to
    /// evict (the common case for long windows) costs no access to the chunks.
    var oldestTime = Int64.max
    /// -1 until the key's first value; kept (empty) when the window empties.
    var tailChunk: Int32 = -1
    /// Entries in the tail chunk; `NumberLogChunks.entriesPerChunk` (full) while there is
    /// no chunk, so that one test sends an append to `startChunk` (-3 instructions an event).
    var tailCount = UInt8(NumberLogChunks.entriesPerChunk)
    var headIndex: UInt8 = 0
    let average: Bool
    /// The oldest entry's chunk; -1 until the key's first value, as `tailChunk`.
    var headChunk: Int32 = -1
    /// Chunks in the log, for `heapBytes`: changed only when one is started or freed. (A
    /// count of entries, changed per event, took the state past its first line.) Wrapping
    /// arithmetic: it never exceeds the chunks handed out, whose indices are checked Int32s.
    var chunkCount: Int32 = 0

    init(average: Bool) { self.average = average }

    /// Whether the log holds no entry: no chunk yet, or its head has caught up with its tail.
    var logIsEmpty: Bool { tailChunk < 0 || (headChunk == tailChunk && headIndex == tailCount) }
}

/// The logs of every key's window of a windowed sum, in 128-byte chunks of 7 entries carved
/// from one memory mapping and recycled through a free list.
///
/// The log was a `Lookback<LoggedNumber>` per key: an array allocated at the key's first
/// event (capacity 8) and reallocated at its 9th, 17th...; on the card job that was 154k
/// `malloc`s, copies and `free`s (~65 instructions per event), plus two uniqueness checks
/// per append. Here an append is two stores, a new chunk a pop from the free list or a bump.
/// Chunks hold only numbers, so the mapping grows with `mremap` like `StateRows`.
///
/// Chunk layout: the next (newer) chunk's index (Int32, -1 for none), a bit per entry set
/// when it is an integer (UInt32), 8 unused bytes, then 7 entries of (time, bits), the bits
/// an Int64's or a Double's.
final class NumberLogChunks {
    static let chunkSize = 128
    static let entriesPerChunk = 7
    static let entriesOffset = 16
    static let entrySize = 16

    /// Where chunk 0 starts; moves when the mapping grows (`allocate`).
    private(set) var base: UnsafeMutableRawPointer
    private var capacity: Int
    /// Chunks handed out at least once: those beyond were never touched.
    private(set) var used = 0
    /// The first free chunk (the free ones are linked through their next index), or -1.
    private var firstFree: Int32 = -1

    init() {
        capacity = 1024
        guard let memory = eddy_map_memory(capacity * Self.chunkSize) else { Self.outOfMemory(capacity * Self.chunkSize) }
        base = memory
        HugePages.adviseMapping(base, bytes: capacity * Self.chunkSize)
    }

    deinit { eddy_unmap_memory(base, capacity * Self.chunkSize) }

    private static func outOfMemory(_ bytes: Int) -> Never {
        fatalError("out of memory for \(bytes) bytes of window logs")
    }

    @inline(__always)
    func address(_ chunk: Int32) -> UnsafeMutableRawPointer { base + Int(chunk) &* Self.chunkSize }

    @inline(__always)
    func next(_ chunk: Int32) -> UnsafeMutablePointer<Int32> { address(chunk).assumingMemoryBound(to: Int32.self) }

    @inline(__always)
    func integerBits(_ chunk: Int32) -> UnsafeMutablePointer<UInt32> { (address(chunk) + 4).assumingMemoryBound(to: UInt32.self) }

    /// Entry `index`'s time; its bits follow it.
    @inline(__always)
    func entry(_ chunk: Int32, _ index: Int) -> UnsafeMutablePointer<Int64> {
        (address(chunk) + Self.entriesOffset + index &* Self.entrySize).assumingMemoryBound(to: Int64.self)
    }

    /// An empty chunk: no next one, no integers.
    func allocate() -> Int32 {
        let chunk: Int32
        if firstFree >= 0 {
            chunk = firstFree
            firstFree = next(chunk).pointee
        } else {
            if used == capacity { grow() }
            chunk = Int32(used)
            used += 1
        }
        next(chunk).pointee = -1
        integerBits(chunk).pointee = 0
        return chunk
    }

    func free(_ chunk: Int32) {
        next(chunk).pointee = firstFree
        firstFree = chunk
    }

    private func grow() {
        guard let larger = eddy_grow_mapping(base, capacity * Self.chunkSize, capacity * 2 * Self.chunkSize) else {
            Self.outOfMemory(capacity * 2 * Self.chunkSize)
        }
        base = larger
        capacity *= 2
    }
}

/// The store of a windowed `sum` or `avg`: its states in the rows, their logs in its chunks.
/// Persisted as before (the total, then the window's entries oldest first, each a time and
/// a `NumericValue`).
final class WindowedSumStore: BatchLoopStore {
    private let empty: WindowedSumState
    private let window: Int64
    private var column = StateColumn()
    private let chunks = NumberLogChunks()

    init(_ empty: WindowedSumState, window: Int64?) {
        precondition(window != nil, "a windowed sum without a window")
        self.empty = empty
        self.window = window!
    }

    var stateLayout: (size: Int, alignment: Int) { (MemoryLayout<WindowedSumState>.size, MemoryLayout<WindowedSumState>.alignment) }

    /// The states hold only numbers and chunk indices: nothing to release with the rows
    /// (the chunks go with the store).
    func attach(to rows: StateRows, offset: Int) { column = StateColumn(rows: rows, offset: offset) }

    @inline(__always)
    private func state(_ slot: Int) -> UnsafeMutablePointer<WindowedSumState> { column.state(slot, as: WindowedSumState.self) }

    func initialiseState(slot: Int) { state(slot).initialize(to: empty) }

    /// Adds `value` at `time` to the total and the log of `state`.
    @inline(__always)
    private static func add(_ value: NumericValue, at time: Int64, to state: UnsafeMutablePointer<WindowedSumState>, chunks: NumberLogChunks) {
        state.pointee.total.add(value)
        log(value, at: time, in: state, chunks: chunks)
    }

    /// Appends `value` at `time` to the log of `state`.
    @inline(__always)
    private static func log(_ value: NumericValue, at time: Int64, in state: UnsafeMutablePointer<WindowedSumState>, chunks: NumberLogChunks) {
        if Int(state.pointee.tailCount) == NumberLogChunks.entriesPerChunk { startChunk(state, chunks: chunks) }
        let tail = state.pointee.tailChunk
        let index = Int(state.pointee.tailCount)
        let entry = chunks.entry(tail, index)
        entry.pointee = time
        if let integer = value.integer {
            (entry + 1).pointee = integer
            chunks.integerBits(tail).pointee |= 1 &<< UInt32(index)
        } else {
            UnsafeMutableRawPointer(entry + 1).storeBytes(of: value.number, as: Double.self)
        }
        // The first entry of an empty log sets the oldest time. An empty log's is `.max`, so
        // only then are the positions (on the state's second line) read.
        if state.pointee.oldestTime == .max && state.pointee.logIsEmpty { state.pointee.oldestTime = time }
        state.pointee.tailCount &+= 1
    }

    /// A new tail chunk: the first one, or the last one is full. Out of line, as it is
    /// met once per 7 values.
    @inline(never)
    private static func startChunk(_ state: UnsafeMutablePointer<WindowedSumState>, chunks: NumberLogChunks) {
        let chunk = chunks.allocate()
        if state.pointee.tailChunk < 0 {
            state.pointee.headChunk = chunk
            state.pointee.headIndex = 0
        } else {
            chunks.next(state.pointee.tailChunk).pointee = chunk
        }
        state.pointee.tailChunk = chunk
        state.pointee.tailCount = 0
        state.pointee.chunkCount &+= 1
    }

    /// The value of entry `index` of `chunk`.
    @inline(__always)
    private static func value(_ chunk: Int32, _ index: Int, chunks: NumberLogChunks) -> NumericValue {
        let bits = (chunks.entry(chunk, index) + 1).pointee
        if chunks.integerBits(chunk).pointee & (1 &<< UInt32(index)) != 0 {
            return NumericValue(number: Double(bits), integer: bits)
        }
        return NumericValue(number: Double(bitPattern: UInt64(bitPattern: bits)), integer: nil)
    }

    /// Retracts the entries older than `cutoff`, oldest first. Out of line: nearly every
    /// event evicts nothing.
    @inline(never)
    private static func retract(olderThan cutoff: Int64, from state: UnsafeMutablePointer<WindowedSumState>, chunks: NumberLogChunks) {
        while state.pointee.oldestTime < cutoff {
            let head = state.pointee.headChunk
            state.pointee.total.remove(value(head, Int(state.pointee.headIndex), chunks: chunks))
            state.pointee.headIndex &+= 1
            if head == state.pointee.tailChunk && state.pointee.headIndex == state.pointee.tailCount {
                // Emptied: the chunk stays, for the key's next value.
                state.pointee.headIndex = 0
                state.pointee.tailCount = 0
                chunks.integerBits(head).pointee = 0
                state.pointee.oldestTime = .max
                return
            }
            if Int(state.pointee.headIndex) == NumberLogChunks.entriesPerChunk {
                state.pointee.headChunk = chunks.next(head).pointee
                state.pointee.headIndex = 0
                chunks.free(head)
                state.pointee.chunkCount &-= 1
            }
            state.pointee.oldestTime = chunks.entry(state.pointee.headChunk, Int(state.pointee.headIndex)).pointee
        }
    }

    /// One event: drops what left the window before its time (`cutoff`), then adds its
    /// value unless it is absent.
    @inline(__always)
    private static func apply(_ value: UnsafePointer<FieldValue>, at time: Int64, cutoff: Int64, to state: UnsafeMutablePointer<WindowedSumState>, chunks: NumberLogChunks) {
        if state.pointee.oldestTime < cutoff { retract(olderThan: cutoff, from: state, chunks: chunks) }
        if !value.isAbsent { add(NumericValue(at: value), at: time, to: state, chunks: chunks) }
    }

    @inline(__always)
    private static func appendResult(of state: UnsafeMutablePointer<WindowedSumState>, average: Bool, to out: ByteBuffer) {
        average ? NumericTotal.appendAverage(of: &state.pointee.total, to: out) : NumericTotal.appendSum(of: &state.pointee.total, to: out)
    }

    func apply(_ value: FieldValue, slot: Int, at time: Int64) {
        let state = state(slot)
        withUnsafePointer(to: value) { Self.apply($0, at: time, cutoff: windowStart(time, window), to: state, chunks: chunks) }
    }

    func appendResult(slot: Int, to out: ByteBuffer) { Self.appendResult(of: state(slot), average: empty.average, to: out) }

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
        let average = empty.average
        let chunks = self.chunks
        // One result per event, in the batch's order (see `AccumulatorStore.apply`).
        let resultEnds = results.ends.reserve(batch.slots.count)
        @inline(__always)
        func state(_ index: Int) -> UnsafeMutablePointer<WindowedSumState> {
            (first + batch.slots[index] &* stride).assumingMemoryBound(to: WindowedSumState.self)
        }
        var start = 0
        for end in batch.peerGroupEnds {
            let time = batch.times[start]
            let cutoff = windowStart(time, window)
            // Every event of a peer group (equal times) is applied before any result is
            // taken. One loop for lone events too: with a case of their own, the result's
            // code was inlined there and left a call in the peers' loop, which most events
            // of the card job go through.
            for index in start..<end { Self.apply(values.at(index), at: time, cutoff: cutoff, to: state(index), chunks: chunks) }
            for index in start..<end {
                Self.appendResult(of: state(index), average: average, to: bytes)
                resultEnds[index] = bytes.count
            }
            start = end
        }
        return start
    }

    /// The line the next entry of each state goes to (or, without values to add, the
    /// oldest entries, which a checkpoint reads).
    func prefetchHeap(slots: UnsafeBufferPointer<Int>, values: UnsafeBufferPointer<FieldValue>, bases: UnsafeBufferPointer<Int>, fieldSlot: Int?) {
        // Read once, and a loop per case: the chunks' base and the case were read and tested
        // per event (-3 instructions an event).
        let base = chunks.base
        guard fieldSlot != nil else {
            for slot in slots {
                let head = state(slot).pointee.headChunk
                guard head >= 0 else { continue }
                let chunk = base + Int(head) &* NumberLogChunks.chunkSize
                eddy_prefetch(chunk)
                eddy_prefetch(chunk + 64)
            }
            return
        }
        for slot in slots {
            let state = state(slot)
            let tail = state.pointee.tailChunk
            guard tail >= 0 else { continue }
            eddy_prefetch(base + Int(tail) &* NumberLogChunks.chunkSize + NumberLogChunks.entriesOffset
                + Int(state.pointee.tailCount) &* NumberLogChunks.entrySize)
        }
    }

    var holdsHeap: Bool { true }

    /// Chunks ever handed out, free or not (for tests).
    var allocatedChunks: Int { chunks.used }

    /// Frees the chunks of `state`'s log.
    private func releaseLog(of state: UnsafeMutablePointer<WindowedSumState>) {
        var chunk = state.pointee.headChunk
        guard chunk >= 0 else { return }
        while true {
            let next = chunks.next(chunk).pointee
            chunks.free(chunk)
            if chunk == state.pointee.tailChunk { break }
            chunk = next
        }
    }

    func reset(slot: Int) {
        let state = state(slot)
        releaseLog(of: state)
        state.pointee = empty
    }

    /// Calls `body` with each entry's time and value, oldest first.
    private func forEachEntry(of state: UnsafeMutablePointer<WindowedSumState>, _ body: (Int64, NumericValue) -> Void) {
        guard !state.pointee.logIsEmpty else { return }
        var chunk = state.pointee.headChunk
        var index = Int(state.pointee.headIndex)
        while chunk != state.pointee.tailChunk || index != Int(state.pointee.tailCount) {
            if index == NumberLogChunks.entriesPerChunk {
                chunk = chunks.next(chunk).pointee
                index = 0
                continue
            }
            body(chunks.entry(chunk, index).pointee, Self.value(chunk, index, chunks: chunks))
            index += 1
        }
    }

    /// As the log was persisted when it was a `Lookback`: the total, the count, then each
    /// entry's time and `NumericValue`, oldest first.
    func encode(slot: Int, to writer: inout StateWriter) {
        let state = state(slot)
        state.pointee.total.encode(to: &writer)
        var count = 0
        forEachEntry(of: state) { _, _ in count += 1 }
        writer.writeCount(count)
        forEachEntry(of: state) { time, value in
            writer.write(time)
            value.encode(to: &writer)
        }
    }

    func decode(slot: Int, from reader: inout StateReader) throws(StateFormatError) {
        let state = state(slot)
        releaseLog(of: state)
        state.pointee = empty
        state.pointee.total = try .decode(from: &reader)
        let count = try reader.readCount()
        try reader.readWindowEntries(count: count) { (time, reader: inout StateReader) throws(StateFormatError) in
            // Logged without adding to the total, which was read whole. An integer's number
            // is not kept: it reads back as the integer as a Double, as the scanner sets it.
            Self.log(try NumericValue.decode(from: &reader), at: time, in: state, chunks: chunks)
        }
    }

    /// The chunks the log spans (at least the one kept once a key has had a value).
    func heapBytes(slot: Int) -> Int { Int(state(slot).pointee.chunkCount) * NumberLogChunks.chunkSize }
}

