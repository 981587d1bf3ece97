/// Events that arrived but wait for the watermark to reach their time, released in
/// (event time, arrival) order.
///
/// Their field values live in one flat arena of fixed-width slots, reused as events leave,
/// so buffering an event allocates nothing once the arena has grown to the out-of-order
/// span. Events are queued in a ring of time buckets (a bucket per time unit, as a rule),
/// each a list in arrival order, which the watermark sweeps: waiting times lie between the
/// watermark and the largest time seen, a span the watermark's delay bounds, so a ring that
/// covers it orders a stream without sorting (radix-sorting each release's arrivals, then
/// the release, cost ~450 instructions an event; scanning every waiting entry ~30 entries
/// per event; a binary heap a dozen unpredictable branches per event). Events beyond the
/// ring (a jump in time between releases) wait outside it until it reaches them.
final class PendingEvents {
    struct Entry {
        var time: Int64
        var sequence: Int64
        var slot: Int

        @inline(__always)
        static func precedes(_ a: Entry, _ b: Entry) -> Bool {
            a.time < b.time || (a.time == b.time && a.sequence < b.sequence)
        }

        /// Sorts into (time, arrival) order. The standard library's sort called its comparator
        /// closure out of line, once per comparison; this one compares inline. No two entries
        /// are equal (arrival sequences are unique), so stability does not matter.
        static func sort(_ entries: inout [Entry]) {
            entries.withUnsafeMutableBufferPointer { sort($0) }
        }

        static func sort(_ entries: UnsafeMutableBufferPointer<Entry>) { entries.sortWithoutTies(by: Order()) }

        /// (time, arrival) order.
        struct Order: OrderWithoutTies {
            @inline(__always)
            func precedes(_ a: Entry, _ b: Entry) -> Bool { Entry.precedes(a, b) }
        }
    }

    /// Values per event (the plan's field slots).
    let width: Int
    /// The value arena: `slotCount` slots of `width` values, room for `slotCapacity`. Raw
    /// memory rather than an array, so that the reader can scan a record straight into the
    /// slot it will wait in (`reserveSlot`): moving each record's values in from the
    /// scanner's own array cost ~110 instructions an event. Its address changes only when a
    /// slot is added.
    private var arena: UnsafeMutablePointer<FieldValue>
    private var slotCount = 0
    private var slotCapacity = 0
    /// The slot the next record is read into, if one was handed out and not queued yet.
    private var reserved: Int?
    /// All input columns of each buffered event, kept only for `carry: ["*"]`.
    private(set) var members: [[(name: String, value: FieldValue)]] = []
    /// Whether any event was queued with its members: until then `free` need not look.
    private var holdsMembers = false
    /// What the queue keeps of a slot's event besides its values.
    struct SlotRecord {
        var time: Int64
        var sequence: Int64
        /// The stable hash of the event's key, taken while its values were fresh in cache: it
        /// picks the event's worker and finds its state without hashing again.
        var keyHash: UInt64
        /// The next slot in the event's bucket (-1 at the end).
        var nextInBucket: Int32
    }
    /// Per slot, its record: `slotCapacity` of them, 32 bytes each, aligned to a cache line.
    /// One record rather than a column per field: slots are reused in no particular order, so
    /// a column's neighbouring entries belonged to other events, and queueing an event missed
    /// the cache once per column (four D1 write misses an event, where one remains).
    /// Read by a release batch's share for the key hashes, through an address taken once
    /// per batch (valid until a slot is added).
    private(set) var slotRecords: UnsafeMutablePointer<SlotRecord>
    // Per bucket and the free slots, in append buffers rather than arrays: each write to an
    // array checked that it was uniquely referenced.
    private let freeSlots = AppendBuffer<Int>()
    /// The bucket ring: each bucket's first and last slot (the last -1 when empty; the first
    /// is stale then, as a bucket emptied whole leaves it), and a bit per bucket set when it
    /// holds any.
    private let heads: AppendBuffer<Int32>
    private let tails: AppendBuffer<Int32>
    private let occupied: AppendBuffer<UInt64>
    /// Microseconds of time per bucket.
    private let bucketWidth: Int64
    /// Whether a bucket is one `granularity` (the job's time unit): then a time that is a
    /// whole number of units has that number as its bucket.
    private let bucketIsOneUnit: Bool
    private let ringMask: Int64
    /// The lowest bucket number the ring holds (bucket b sits at `b & ringMask`); nil until
    /// the first release. Every release moves it up to the watermark's bucket.
    private var base: Int64?
    /// Entries whose bucket fell outside the ring when they arrived, in arrival order, and the
    /// list `admitOutside` keeps those still outside in (swapped in, so neither is reallocated).
    private var outside: [Entry] = []
    private var stillOutside: [Entry] = []
    /// What a release takes, gathered before it is handed over in one piece.
    private let taken = AppendBuffer<Entry>()
    /// Entries waiting, in the ring or outside it.
    private(set) var count = 0

    /// `horizon`: how far past the watermark waiting times reach, as a rule (the watermark's
    /// delay, plus the window length for windowed jobs); `granularity`: the job's time unit,
    /// in microseconds. Times are bucketed a unit apiece when the horizon spans at most
    /// 65,536 units, else a few units per bucket.
    init(width: Int, horizon: Int64 = 0, granularity: Int64 = 1) {
        self.width = width
        arena = .allocate(capacity: 0)
        slotRecords = Self.allocateRecords(0)
        let unit = max(granularity, 1)
        // Units the ring must span: the horizon, the watermark's bucket and a spare.
        let units = max(horizon, 0) / unit
        let maxBuckets: Int64 = 1 << 16
        let fits = units <= maxBuckets - 2
        bucketWidth = fits ? unit : (units / (maxBuckets - 2) + 1) * unit
        bucketIsOneUnit = bucketWidth == granularity
        let buckets = fits ? max(Self.minimumBuckets, 1 << (Int64.bitWidth - (units + 1).leadingZeroBitCount)) : Int(maxBuckets)
        ringMask = Int64(buckets - 1)
        heads = AppendBuffer(capacity: buckets)
        tails = AppendBuffer(capacity: buckets)
        occupied = AppendBuffer(capacity: buckets / 64)
        for _ in 0..<buckets {
            heads.append(-1)
            tails.append(-1)
        }
        for _ in 0..<buckets / 64 { occupied.append(0) }
    }

    /// Buckets in the smallest ring. Between two releases (a few hundred events apart) the
    /// largest time seen moves on by however much those events span, beyond the watermark's
    /// horizon: a ring that short (64 buckets for a watermark of 0) left most events outside.
    private static var minimumBuckets: Int { 4096 }

    /// The stable hash of the key of the event in `slot`.
    @inline(__always)
    func keyHash(ofSlot slot: Int) -> UInt64 { slotRecords[slot].keyHash }

    private static func allocateRecords(_ count: Int) -> UnsafeMutablePointer<SlotRecord> {
        UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<SlotRecord>.stride, alignment: 64)
            .bindMemory(to: SlotRecord.self, capacity: max(count, 1))
    }

    /// The bucket number of `time`: floor(time / bucketWidth).
    @inline(__always)
    func bucket(of time: Int64) -> Int64 {
        let quotient = time / bucketWidth
        return time < 0 && quotient * bucketWidth != time ? quotient - 1 : quotient
    }

    /// The bucket number of `time`, which is `units` of the job's time unit (`granularity`):
    /// `units` itself when a bucket is one unit, without the division of `bucket(of:)` (an
    /// `idiv` and ~14 instructions an event).
    @inline(__always)
    func bucket(ofTime time: Int64, inUnits units: Int64) -> Int64 {
        bucketIsOneUnit ? units : bucket(of: time)
    }

    deinit {
        arena.deinitialize(count: slotCount * width)
        arena.deallocate()
        slotRecords.deallocate()
    }

    /// The values of the slot the next record is to be read into, to be written in place and
    /// then queued by `insertReserved` (or left for the next record, if this one is not
    /// queued). Valid until the next slot is added to the arena (by `reserveSlot` or `insert`).
    @inline(__always)
    func reserveSlot() -> UnsafeMutableBufferPointer<FieldValue> {
        let slot: Int
        if let reserved {
            slot = reserved
        } else if !freeSlots.isEmpty {
            // A freed slot, as nearly every event takes, popped inline: as a call into
            // `newSlot` it cost the call's saves and restores (~20 instructions an event).
            slot = freeSlots.removeLast()
        } else {
            slot = newSlot()
        }
        reserved = slot
        return UnsafeMutableBufferPointer(start: arena + slot * width, count: width)
    }

    /// A slot for an event: a freed one, or one added to the arena (its values `.missing`).
    private func newSlot() -> Int {
        if !freeSlots.isEmpty { return freeSlots.removeLast() }
        let slot = slotCount
        // Buckets link slots as 32-bit indices.
        precondition(slot < Int(Int32.max), "more than \(Int32.max) events waiting for the watermark")
        if slot == slotCapacity {
            let capacity = max(slotCapacity * 2, 64)
            let larger = UnsafeMutablePointer<FieldValue>.allocate(capacity: capacity * width)
            larger.moveInitialize(from: arena, count: slotCount * width)
            arena.deallocate()
            arena = larger
            let records = Self.allocateRecords(capacity)
            records.moveInitialize(from: slotRecords, count: slotCount)
            slotRecords.deallocate()
            slotRecords = records
            slotCapacity = capacity
        }
        (arena + slot * width).initialize(repeating: .missing, count: width)
        slotCount += 1
        members.append([])
        (slotRecords + slot).initialize(to: SlotRecord(time: 0, sequence: 0, keyHash: 0, nextInBucket: -1))
        return slot
    }

    /// Queues the event read into the reserved slot (`reserveSlot`).
    @inline(__always)
    func insertReserved(
        time: Int64, sequence: Int64, keyHash: UInt64, members eventMembers: [(name: String, value: FieldValue)]?
    ) {
        insertReserved(time: time, bucket: bucket(of: time), sequence: sequence, keyHash: keyHash, members: eventMembers)
    }

    /// `insertReserved` with the bucket of `time` known (`bucket(ofTime:inUnits:)`).
    @inline(__always)
    func insertReserved(
        time: Int64, bucket: Int64, sequence: Int64, keyHash: UInt64, members eventMembers: [(name: String, value: FieldValue)]?
    ) {
        guard let slot = reserved else { preconditionFailure("insertReserved without a reserved slot") }
        assert(bucket == self.bucket(of: time), "bucket \(bucket) given for time \(time)")
        reserved = nil
        queue(slot: slot, time: time, bucket: bucket, sequence: sequence, keyHash: keyHash, members: eventMembers)
    }

    /// Moves an event's values into a slot of its own (not the reserved one) and queues it.
    /// `source` gets the slot's stale values in exchange: swapping moves each value without
    /// retaining or releasing its text.
    func insert(
        time: Int64, sequence: Int64, keyHash: UInt64, values source: inout [FieldValue],
        members eventMembers: [(name: String, value: FieldValue)]?
    ) {
        let slot = newSlot()
        let base = arena + slot * width
        for index in 0..<width { swap(&base[index], &source[index]) }
        queue(slot: slot, time: time, bucket: bucket(of: time), sequence: sequence, keyHash: keyHash, members: eventMembers)
    }

    /// Inlined, as `insertReserved` is, into the read loop, which queues every event here:
    /// as a call it cost the call's spills and saves (card job: -20 instructions per event).
    @inline(__always)
    private func queue(
        slot: Int, time: Int64, bucket: Int64, sequence: Int64, keyHash: UInt64,
        members eventMembers: [(name: String, value: FieldValue)]?
    ) {
        if let eventMembers {
            members[slot] = eventMembers
            holdsMembers = true
        }
        slotRecords[slot] = SlotRecord(time: time, sequence: sequence, keyHash: keyHash, nextInBucket: -1)
        count += 1
        if let base, ringHolds(bucket, base: base) {
            append(slot: slot, toBucket: bucket)
        } else {
            outside.append(Entry(time: time, sequence: sequence, slot: slot))
        }
    }

    /// Whether the ring starting at bucket `base` holds `bucket` (wrapping arithmetic: bucket
    /// numbers span all of Int64 when a bucket is a microsecond).
    @inline(__always)
    private func ringHolds(_ bucket: Int64, base: Int64) -> Bool {
        bucket >= base && UInt64(bitPattern: bucket &- base) <= UInt64(bitPattern: ringMask)
    }

    /// Appends `slot`, in no bucket's list (its `nextInBucket` -1), to the end of `bucket`'s
    /// list (arrival order, as a rule).
    @inline(__always)
    private func append(slot: Int, toBucket bucket: Int64) {
        let position = Int(bucket & ringMask)
        let tails = tails.base
        let records = slotRecords
        if tails[position] < 0 {
            heads.base[position] = Int32(truncatingIfNeeded: slot)
            occupied.base[position >> 6] |= 1 << UInt64(position & 63)
        } else {
            records[Int(tails[position])].nextInBucket = Int32(truncatingIfNeeded: slot)
        }
        tails[position] = Int32(truncatingIfNeeded: slot)
    }

    /// Calls `body` with the value arena (`width` values per slot), without copying it.
    @inline(__always)
    func withValues<Result>(_ body: (UnsafeBufferPointer<FieldValue>) throws -> Result) rethrows -> Result {
        try body(UnsafeBufferPointer(start: arena, count: slotCount * width))
    }

    /// Moves every event with time <= `watermark` to `ready`, in (time, arrival) order; their
    /// slots stay readable until `free(slot:)`.
    ///
    /// Buckets partition time, so taking the ring's buckets in order gives time order; within
    /// a bucket, events are in arrival order, which is (time, arrival) order whenever a bucket
    /// holds one time (a bucket per time unit): no sorting. A bucket found out of order (several
    /// times in it, or an event moved in from outside the ring) is sorted on its own.
    func takeReady(upTo watermark: Int64, into ready: inout [Entry]) {
        ready.removeAll(keepingCapacity: true)
        taken.removeAll()
        let target = bucket(of: watermark)
        if let base, target >= base {
            // Up to the watermark's bucket, or the whole ring when the watermark is beyond it.
            let span = min(UInt64(bitPattern: target &- base), UInt64(bitPattern: ringMask))
            takeBuckets(from: base, count: span + 1, upTo: watermark)
        }
        // The ring now starts at the watermark's bucket (which may keep events after it).
        if base.map({ target > $0 }) ?? true { base = target }
        ready.append(contentsOf: taken.elements)
        if !outside.isEmpty { admitOutside(upTo: watermark, into: &ready) }
        count -= ready.count
    }

    /// Takes `count` buckets of the ring from bucket `first` into `taken`: whole, except for
    /// the last, the watermark's own bucket as a rule, whose events after `watermark` stay
    /// (every bucket before it lies wholly before the watermark). The occupied buckets are
    /// found a word of occupancy bits at a time, and the bits of the buckets taken whole
    /// cleared at once.
    private func takeBuckets(from first: Int64, count: UInt64, upTo watermark: Int64) {
        // Room for every waiting event, so that entries are stored without a capacity check
        // each (and a count kept in a register): 24 bytes an event at most, kept beside the
        // arena's slot of each (160 bytes in the card job) and its 32-byte record.
        let out = taken.reserve(self.count)
        var written = 0
        let occupied = occupied.base
        var position = Int(first & ringMask)
        var left = count
        while left > 0 {
            // The ring's length is a multiple of 64, so a word never wraps around its end.
            let bit = position & 63
            let span = min(UInt64(64 &- bit), left)
            let word = position >> 6
            var due = occupied[word] >> UInt64(bit)
            if span < 64 { due &= (1 << span) &- 1 }
            left &-= span
            // The range's last bucket, if in this word, is taken apart from the others.
            let lastBit: UInt64 = left == 0 ? 1 << (span &- 1) : 0
            let last = due & lastBit
            due &= ~lastBit
            if due != 0 {
                occupied[word] &= ~(due << UInt64(bit))
                repeat {
                    takeWholeBucket(at: position &+ due.trailingZeroBitCount, into: out, written: &written)
                    due &= due &- 1
                } while due != 0
            }
            if last != 0 { takeBucket(at: position &+ Int(span &- 1), upTo: watermark, into: out, written: &written) }
            position = (position &+ Int(span)) & Int(ringMask)
        }
        taken.commit(written)
    }

    /// Takes all of bucket `position`'s events into `out` from `written` on, in order, and
    /// marks it empty (its occupancy bit is the caller's to clear).
    ///
    /// Inlined into `takeBuckets`' loop: buckets hold one or two events as a rule, and the
    /// call's saves and restores were ~25 instructions a bucket.
    @inline(__always)
    private func takeWholeBucket(at position: Int, into out: UnsafeMutablePointer<Entry>, written: inout Int) {
        let records = slotRecords
        let start = written
        var slot = Int(heads.base[position])
        var previous = Entry(time: records[slot].time, sequence: records[slot].sequence, slot: slot)
        out[written] = previous
        written &+= 1
        slot = Int(records[slot].nextInBucket)
        var inOrder = true
        while slot >= 0 {
            let entry = Entry(time: records[slot].time, sequence: records[slot].sequence, slot: slot)
            if !Entry.precedes(previous, entry) { inOrder = false }
            out[written] = entry
            written &+= 1
            previous = entry
            slot = Int(records[slot].nextInBucket)
        }
        tails.base[position] = -1
        if !inOrder { Entry.sort(UnsafeMutableBufferPointer(start: out + start, count: written &- start)) }
    }

    /// Takes bucket `position`'s events up to `watermark` into `out` from `written` on, in
    /// order; those after it stay, and its occupancy bit is cleared if none does.
    @inline(__always)
    private func takeBucket(at position: Int, upTo watermark: Int64, into out: UnsafeMutablePointer<Entry>, written: inout Int) {
        let records = slotRecords
        let start = written
        var inOrder = true
        var previous: Entry? = nil
        var slot = Int(heads.base[position])
        var keptHead: Int32 = -1
        var keptTail: Int32 = -1
        while slot >= 0 {
            let next = Int(records[slot].nextInBucket)
            let entry = Entry(time: records[slot].time, sequence: records[slot].sequence, slot: slot)
            if entry.time <= watermark {
                if let previous, !Entry.precedes(previous, entry) { inOrder = false }
                previous = entry
                out[written] = entry
                written &+= 1
            } else {
                // After the watermark, in its bucket: stays, in the same order.
                records[slot].nextInBucket = -1
                if keptTail < 0 { keptHead = Int32(truncatingIfNeeded: slot) } else { records[Int(keptTail)].nextInBucket = Int32(truncatingIfNeeded: slot) }
                keptTail = Int32(truncatingIfNeeded: slot)
            }
            slot = next
        }
        heads.base[position] = keptHead
        tails.base[position] = keptTail
        if keptHead < 0 { occupied.base[position >> 6] &= ~(1 << UInt64(position & 63)) }
        if !inOrder { Entry.sort(UnsafeMutableBufferPointer(start: out + start, count: written &- start)) }
    }

    /// Moves the entries outside the ring that are now due into `ready` (which is then put
    /// back into order), and those that now fall within the ring into it.
    private func admitOutside(upTo watermark: Int64, into ready: inout [Entry]) {
        let base = self.base!
        let readyBefore = ready.count
        stillOutside.removeAll(keepingCapacity: true)
        // Whether `ready` stays in order as due entries are appended (they often are: events
        // past a jump in time, in arrival order), so that it need not be sorted.
        var inOrder = true
        for entry in outside {
            let bucket = bucket(of: entry.time)
            if entry.time <= watermark {
                if let last = ready.last, !Entry.precedes(last, entry) { inOrder = false }
                ready.append(entry)
            } else if ringHolds(bucket, base: base) {
                // Its `nextInBucket` is still -1, as `queue` left it.
                // Possibly ahead of later arrivals already in its bucket: `takeBucket` sorts it.
                append(slot: entry.slot, toBucket: bucket)
            } else {
                stillOutside.append(entry)
            }
        }
        swap(&outside, &stillOutside)
        if ready.count > readyBefore, !inOrder { Entry.sort(&ready) }
    }

    /// Every waiting event's entry, in no particular order.
    var waiting: [Entry] {
        var entries = outside
        for position in 0..<heads.count where occupied.base[position >> 6] & (1 << UInt64(position & 63)) != 0 {
            var slot = Int(heads.base[position])
            while slot >= 0 {
                entries.append(Entry(time: slotRecords[slot].time, sequence: slotRecords[slot].sequence, slot: slot))
                slot = Int(slotRecords[slot].nextInBucket)
            }
        }
        return entries
    }

    func free(slot: Int) {
        freeSlots.append(slot)
        // Only `carry: ["*"]` keeps members worth releasing; other jobs skip the look (an
        // array bounds check and two loads per event).
        if holdsMembers, !members[slot].isEmpty { members[slot] = [] }
    }

    /// Room for the slots of a batch of `count` entries, to be written while the batch is
    /// read anyway (`BatchShare.add`) and freed by `freeReserved(_:)` once it is applied:
    /// `free(slotsOf:)` read the batch's entries again after its records were encoded, when
    /// they had left the cache (card job: ~0.39 simulated D1 read misses an event). Nil when
    /// slots hold input columns to release (`free(slotsOf:)` then). Nothing else may add or
    /// take free slots until `freeReserved`.
    func reserveFreedSlots(_ count: Int) -> UnsafeMutablePointer<Int>? {
        holdsMembers ? nil : freeSlots.reserve(count)
    }

    /// Frees the `count` slots written through `reserveFreedSlots`.
    func freeReserved(_ count: Int) {
        freeSlots.commit(count)
    }

    /// `free(slot:)` for the slot of every entry of `batch`, with room for them reserved once
    /// rather than checked per slot.
    func free(slotsOf batch: [Entry]) {
        guard !holdsMembers else {
            for entry in batch { free(slot: entry.slot) }
            return
        }
        let room = freeSlots.reserve(batch.count)
        batch.withUnsafeBufferPointer { batch in
            for index in batch.indices { room[index] = batch[index].slot }
        }
        freeSlots.commit(batch.count)
    }
}
