/// A `collect` with a small `limit`, its values kept in the key's row: a ring of `limit`
/// texts (with their times when there is a window), oldest first from `head`, rather than
/// a window array on the heap.
///
/// The row is one object the runtime already loads for every event (and it lies in huge
/// pages); the heap array of `CollectState` was another allocation per key, and another
/// dependent cache and TLB miss per event. A collect with a limit holds at most `limit`
/// values, so the row's room is known when the job is planned. The persisted form is
/// `CollectState`'s (the entries oldest first, each with its time).
///
/// Row layout: the live entry count and the ring's head (two `Int32`), then `limit` times
/// when there is a window, then `limit` texts (Swift strings, initialised only for live
/// entries). Without a window no time is ever read, so none is kept: the card job's row
/// is six cache lines rather than seven. Such a state persists each time as 0 (read by
/// nothing: a checkpoint is only ever resumed by the same job spec).
final class RecentCollectStore: FeatureStore {
    /// The largest limit kept in the row: 8 entries take 200 bytes with their times, about
    /// three cache lines.
    static let largestLimit = 8

    private let limit: Int
    private let window: Int64?
    private var rows: StateRows?
    private var offset = 0

    init(limit: Int, window: Int64?) {
        precondition(limit >= 1 && limit <= Self.largestLimit, "a row-kept collect holds 1 to \(Self.largestLimit) values")
        self.limit = limit
        self.window = window
    }

    private static let headerSize = 8
    private var timesOffset: Int? { window == nil ? nil : Self.headerSize }
    private var textsOffset: Int { Self.headerSize + (window == nil ? 0 : limit * MemoryLayout<Int64>.stride) }

    var stateLayout: (size: Int, alignment: Int) {
        (textsOffset + limit * MemoryLayout<String>.stride, max(MemoryLayout<String>.alignment, MemoryLayout<Int64>.alignment))
    }

    func attach(to rows: StateRows, offset: Int) {
        self.rows = rows
        self.offset = offset
        let ring = self.ring
        rows.onRelease { row in ring.at(row + offset).removeAll() }
    }

    /// The ring of the state at `state`, the start of a row's slot.
    private struct Ring {
        let limit: Int
        /// Nil when no times are kept.
        let timesOffset: Int?
        let textsOffset: Int

        @inline(__always)
        func at(_ state: UnsafeMutableRawPointer) -> RingState {
            RingState(
                header: state.assumingMemoryBound(to: (count: Int32, head: Int32).self),
                times: timesOffset.map { (state + $0).assumingMemoryBound(to: Int64.self) },
                texts: (state + textsOffset).assumingMemoryBound(to: String.self),
                limit: limit)
        }
    }

    private struct RingState {
        let header: UnsafeMutablePointer<(count: Int32, head: Int32)>
        /// Nil without a window.
        let times: UnsafeMutablePointer<Int64>?
        let texts: UnsafeMutablePointer<String>
        let limit: Int

        var count: Int { Int(header.pointee.count) }
        var head: Int { Int(header.pointee.head) }

        /// The ring index of the `position`th live entry, oldest first.
        @inline(__always)
        func index(_ position: Int) -> Int {
            let index = head &+ position
            return index >= limit ? index &- limit : index
        }

        func initialise() { header.pointee = (0, 0) }

        /// Drops the entries older than `cutoff`.
        @inline(__always)
        func evict(olderThan cutoff: Int64) {
            guard let times else { return }
            while count > 0, times[head] < cutoff { dropOldest() }
        }

        @inline(__always)
        func dropOldest() {
            // An inline text owns nothing: it is left to be written over, which saves a
            // runtime call per dropped value.
            if !InlineText.isInline(at: texts + head) { (texts + head).deinitialize(count: 1) }
            header.pointee.head = Int32(truncatingIfNeeded: index(1))
            header.pointee.count &-= 1
            if header.pointee.count == 0 { header.pointee.head = 0 }
        }

        /// Appends a copy of the text at `text`, dropping the oldest entry when full.
        @inline(__always)
        func append(textAt text: UnsafePointer<String>, at time: Int64) {
            if count == limit {
                // Full: the newest takes the oldest's place, and the ring turns by one.
                InlineText.assign(texts + head, from: text)
                times?[head] = time
                header.pointee.head = Int32(truncatingIfNeeded: index(1))
                return
            }
            let slot = index(count)
            times?[slot] = time
            (texts + slot).initialize(to: InlineText.copy(at: text))
            header.pointee.count &+= 1
        }

        /// Applies one event: drops what left the window before `time`, then keeps the
        /// event's value unless it is absent.
        @inline(__always)
        func apply(_ value: UnsafePointer<FieldValue>, at time: Int64, window: Int64?) {
            if let window { evict(olderThan: windowStart(time, window)) }
            if !value.isAbsent { append(textAt: FieldValue.textAddress(value), at: time) }
        }

        func removeAll() {
            while count > 0 { dropOldest() }
        }

        /// The texts oldest first as a JSON array, or `null` when there are none.
        /// `textsAreInline` is `InlineText.holds`, read once a batch.
        @inline(__always)
        func appendResult(to out: ByteBuffer, textsAreInline: Bool = InlineText.holds) {
            let count = self.count
            guard count > 0 else { return out.append(contentsOf: nullText) }
            // One reservation for the whole array when every text is inline (at most 15
            // bytes, each stored as its 16 raw bytes and then written over past its count),
            // rather than a capacity check per text and separator. The layout flag and the
            // head are read once and the ring index stepped, not recomputed: the output's
            // stores may alias them for all the compiler knows, so it re-read both for every
            // text, and this function stayed a call; with the uncommon case out of line it
            // is inlined into the batch loop (card job: -31 instructions per event).
            if textsAreInline {
                let head = self.head
                let texts = UnsafeRawPointer(self.texts)
                let limit = self.limit
                let room = 1 &+ count &* (InlineText.capacity &+ 1) &+ 16
                var complete = false
                out.append(reserving: room) { target in
                    var written = 0
                    var index = head
                    var separator = UInt8(ascii: "[")
                    for _ in 0..<count {
                        // A text stored out of line: nothing written, `appendResultSlowly` does it all.
                        guard let inline = InlineText.decoded((texts + index &* MemoryLayout<String>.stride).load(as: (UInt64, UInt64).self))
                        else { return 0 }
                        target[written] = separator
                        written &+= 1 &+ InlineText.write(inline, to: target + (written &+ 1))
                        separator = UInt8(ascii: ",")
                        index &+= 1
                        if index == limit { index = 0 }
                    }
                    target[written] = UInt8(ascii: "]")
                    complete = true
                    return written &+ 1
                }
                if complete { return }
            }
            appendResultSlowly(to: out)
        }

        /// `appendResult` with a text stored out of line (or strings laid out otherwise).
        @inline(never)
        func appendResultSlowly(to out: ByteBuffer) {
            var separator = UInt8(ascii: "[")
            for position in 0..<count {
                out.append(separator)
                out.appendUTF8(textAt: texts + index(position))
                separator = UInt8(ascii: ",")
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    private var ring: Ring { Ring(limit: limit, timesOffset: timesOffset, textsOffset: textsOffset) }

    @inline(__always)
    private func ring(_ slot: Int) -> RingState { ring.at(rows.unsafelyUnwrapped.address(ofRow: slot) + offset) }

    func initialiseState(slot: Int) { ring(slot).initialise() }

    func apply(_ value: FieldValue, slot: Int, at time: Int64) {
        let state = ring(slot)
        withUnsafePointer(to: value) { state.apply($0, at: time, window: window) }
    }

    func appendResult(slot: Int, to out: ByteBuffer) { ring(slot).appendResult(to: out) }

    func apply(_ batch: FeatureBatch, fieldSlot: Int?, results: inout BatchResults) {
        let bytes = results.bytes
        let ends = results.ends
        let rows = self.rows.unsafelyUnwrapped
        let first = rows.address(ofRow: 0) + offset
        let stride = rows.stride
        let ring = self.ring
        let window = self.window
        // A collect always names its field (the spec requires one).
        let fieldSlot = fieldSlot.unsafelyUnwrapped
        // One result per event, in the batch's order (see `AccumulatorStore.apply`).
        let resultEnds = ends.reserve(batch.slots.count)
        // Read once: the results' stores may alias the flag for all the compiler knows.
        let textsAreInline = InlineText.holds
        var start = 0
        for end in batch.peerGroupEnds {
            let time = batch.times[start]
            if end == start &+ 1 {
                // A lone event: its result at once, from the ring at hand (the two loops
                // below located the ring twice, and cost their own overhead).
                let state = ring.at(first + batch.slots[start] &* stride)
                state.apply(batch.values.baseAddress! + batch.bases[start] + fieldSlot, at: time, window: window)
                state.appendResult(to: bytes, textsAreInline: textsAreInline)
                resultEnds[start] = bytes.count
                start = end
                continue
            }
            // Peers (equal times): all are applied before any result is taken.
            for index in start..<end {
                ring.at(first + batch.slots[index] &* stride)
                    .apply(batch.values.baseAddress! + batch.bases[index] + fieldSlot, at: time, window: window)
            }
            for index in start..<end {
                ring.at(first + batch.slots[index] &* stride).appendResult(to: bytes, textsAreInline: textsAreInline)
                resultEnds[index] = bytes.count
            }
            start = end
        }
        ends.commit(start)
    }

    func prefetchHeap(slots: UnsafeBufferPointer<Int>, values: UnsafeBufferPointer<FieldValue>, bases: UnsafeBufferPointer<Int>, fieldSlot: Int?) {}
    var holdsHeap: Bool { false }
    func heapBytes(slot: Int) -> Int { 0 }

    func reset(slot: Int) { ring(slot).removeAll() }

    /// As `CollectState` writes it: the count, then each entry's time and text, oldest first.
    func encode(slot: Int, to writer: inout StateWriter) {
        let state = ring(slot)
        writer.writeCount(state.count)
        for position in 0..<state.count {
            let index = state.index(position)
            writer.write(state.times?[index] ?? 0)
            writer.write(textAt: UnsafePointer(state.texts + index))
        }
    }

    func decode(slot: Int, from reader: inout StateReader) throws(StateFormatError) {
        let state = ring(slot)
        state.removeAll()
        let count = try reader.readCount()
        guard count <= limit else { throw StateFormatError("a collect of \(count) values, over its limit of \(limit)") }
        try reader.readWindowEntries(count: count) { (time, reader: inout StateReader) throws(StateFormatError) in
            let text = try reader.readString()
            withUnsafePointer(to: text) { state.append(textAt: $0, at: time) }
        }
    }
}
