import Dispatch

/// One worker's share of a release batch, in batch order: each event's base in the value
/// arena, time, key hash and input-column index, where each run of equal times ends, and
/// (with several workers) the records the worker encoded for them and where each ends.
///
/// The columns are append buffers, not arrays: an array's append checks that it is uniquely
/// referenced, five calls per event here.
final class BatchShare {
    let bases = AppendBuffer<Int>()
    let times = AppendBuffer<Int64>()
    let hashes = AppendBuffer<UInt64>()
    let memberIndices = AppendBuffer<Int>()
    let peerGroupEnds = AppendBuffer<Int>()
    let records = ByteBuffer(capacity: 1 << 16)
    let recordEnds = AppendBuffer<Int>()
    /// Why the worker applying this share failed, if it did.
    fileprivate var failure: (any Error)?

    func removeAll() {
        bases.removeAll()
        times.removeAll()
        hashes.removeAll()
        memberIndices.removeAll()
        peerGroupEnds.removeAll()
        records.removeAll()
        recordEnds.removeAll()
        failure = nil
    }

    /// Adds an event; events come in (time, arrival) order.
    @inline(__always)
    func add(base: Int, time: Int64, keyHash: UInt64, memberIndex: Int) {
        add(base: base, time: time, keyHash: keyHash)
        memberIndices.append(memberIndex)
    }

    /// Adds an event whose input columns are not read (no `carry: ["*"]`, one worker), so
    /// its `memberIndices` entry is left out: one append less per event.
    @inline(__always)
    func add(base: Int, time: Int64, keyHash: UInt64) {
        // Peers: all of one time's events are applied before any is emitted.
        if !times.isEmpty, times.elements[times.count &- 1] != time { peerGroupEnds.append(times.count) }
        bases.append(base)
        times.append(time)
        hashes.append(keyHash)
    }

    /// `add(base:time:keyHash:)` for every entry of `batch` (events in `pending`'s slots of
    /// `width` values), with the columns' room reserved once instead of checked per event
    /// and column: the peer groups' ends too (at most one an event), written through a
    /// count kept in a register. Each entry's slot also goes to `freedSlots` (room for the
    /// batch, see `PendingEvents.reserveFreedSlots`).
    func add(_ batch: [PendingEvents.Entry], from pending: PendingEvents, width: Int, freedSlots: UnsafeMutablePointer<Int>) {
        guard !batch.isEmpty else { return }
        let start = times.count
        let bases = bases.reserve(batch.count)
        let times = times.reserve(batch.count)
        let hashes = hashes.reserve(batch.count)
        let groupEnds = peerGroupEnds.reserve(batch.count)
        var groupEndCount = 0
        let records = pending.slotRecords
        // The share's last time, or the batch's first (which then ends no group): no
        // optional to test per event.
        var previousTime = start > 0 ? self.times.elements[start &- 1] : batch[0].time
        batch.withUnsafeBufferPointer { batch in
            for index in batch.indices {
                let entry = batch[index]
                // Peers: all of one time's events are applied before any is emitted.
                if previousTime != entry.time {
                    groupEnds[groupEndCount] = start &+ index
                    groupEndCount &+= 1
                }
                previousTime = entry.time
                bases[index] = entry.slot &* width
                times[index] = entry.time
                hashes[index] = records[entry.slot].keyHash
                freedSlots[index] = entry.slot
            }
        }
        self.bases.commit(batch.count)
        self.times.commit(batch.count)
        self.hashes.commit(batch.count)
        peerGroupEnds.commit(groupEndCount)
    }
}

/// One keyed worker: the state of a range of key groups (its backend's), and what it needs
/// to apply a share of a release batch and encode those events' records.
final class KeyedWorker<Backend: KeyedStateBackend> {
    let keyed: KeyedFeatureOperator<Backend>
    private let encoder: EventEncoder
    // A chunk's peer-group ends and state slots, in append buffers: an array resized per
    // chunk cost a uniqueness check and two calls into the standard library.
    private let chunkEnds = AppendBuffer<Int>()
    private var slots = AppendBuffer<Int>()
    private var results = BatchResults()

    init(plan: JobPlan, backend: Backend, format: OutputFormat) {
        keyed = KeyedFeatureOperator(plan: plan, backend: backend)
        encoder = EventEncoder(plan: plan, format: format)
    }

    /// Applies `share` to every feature and appends each event's record to `out` (noting in
    /// the share where each ends when `markingEnds`); the backend hears of each chunk's end.
    /// `members[memberIndex]` are an event's input columns, for `carry: ["*"]` (empty otherwise).
    ///
    /// The share goes in chunks of about `chunkSize` events, cut only where the time changes
    /// (peers stay in one chunk): each chunk's states are looked up and prefetched together
    /// before it is applied (two chunks ahead, and their windows and maps one chunk ahead,
    /// when `processPipelined` may), so they are in cache when it is.
    func process(
        _ share: BatchShare, values: UnsafeBufferPointer<FieldValue>,
        members: [[(name: String, value: FieldValue)]], to out: ByteBuffer, markingEnds: Bool
    ) throws {
        guard !share.bases.isEmpty else { return }
        share.peerGroupEnds.append(share.times.count)
        if keyed.ttl == nil, keyed.backend.keepsSlotsAcrossBatches {
            return try processPipelined(share, values: values, members: members, to: out, markingEnds: markingEnds)
        }
        let groupEnds = share.peerGroupEnds.elements
        var chunkStart = 0
        var firstGroup = 0
        while chunkStart < share.times.count {
            let lastGroup = Self.lastGroup(ofChunkFrom: firstGroup, start: chunkStart, groupEnds)
            setChunkEnds(groupEnds, firstGroup...lastGroup, start: chunkStart)
            // Less than the chunk when a key's TTL runs out between two of its events in it.
            let processed = try process(
                share, chunkStart..<groupEnds[lastGroup], values: values, members: members, to: out, markingEnds: markingEnds)
            while groupEnds[firstGroup] < processed { firstGroup += 1 }
            if groupEnds[firstGroup] == processed { firstGroup += 1 }
            chunkStart = processed
        }
    }

    private var seenSlots: Set<Int> = []

    /// With a TTL: forgets the state of keys whose last update is more than `ttl` before
    /// their event in `range` (they behave as new), and records each event as its key's
    /// update. Returns where the events that may be applied together end: before the peers
    /// of an event whose key expired after an earlier event of the same key in the range,
    /// which must be applied first.
    private func expireAndTouch(_ share: BatchShare, _ range: Range<Int>, ttl: Int64) -> Int {
        let states = keyed.backend.states
        seenSlots.removeAll(keepingCapacity: true)
        for index in range {
            let slot = slots.elements[index - range.lowerBound]
            let time = share.times.elements[index]
            let last = states.lastUpdated[slot]
            if last != .min, time &- last > ttl {
                if seenSlots.contains(slot) {
                    var peersStart = index
                    while share.times.elements[peersStart - 1] == time { peersStart -= 1 }
                    return peersStart
                }
                states.reset(slot: slot)
            }
            states.lastUpdated[slot] = max(states.lastUpdated[slot], time)
            seenSlots.insert(slot)
        }
        return range.upperBound
    }

    /// 128 events: a chunk's rows (384 bytes each in the card job, 48 KiB in all) are about
    /// a 48 KiB L1's size, so more of them stay there between one feature's pass over the
    /// chunk and the next (and its results until the encoder reads them): against 256, 11%
    /// fewer simulated L1 misses per event (57.4 -> 51.1) for the same instructions. 64 cut
    /// more (45.2) but cost 18 instructions an event in per-chunk work (each store's set-up
    /// and call).
    private static var chunkSize: Int { 128 }

    /// The last peer group of the chunk that starts at event `start`, with group `firstGroup`:
    /// about `chunkSize` events, whole peer groups (`groupEnds` are the groups' ends).
    private static func lastGroup(ofChunkFrom firstGroup: Int, start: Int, _ groupEnds: UnsafeBufferPointer<Int>) -> Int {
        var lastGroup = firstGroup
        while groupEnds[lastGroup] - start < chunkSize, lastGroup < groupEnds.count - 1 { lastGroup += 1 }
        return lastGroup
    }

    /// The ends of peer groups `groups`, relative to the chunk's first event `start`.
    private func setChunkEnds(_ groupEnds: UnsafeBufferPointer<Int>, _ groups: ClosedRange<Int>, start: Int) {
        chunkEnds.removeAll()
        let ends = chunkEnds.reserve(groups.count)
        for index in 0..<groups.count { ends[index] = groupEnds[groups.lowerBound &+ index] &- start }
        chunkEnds.commit(groups.count)
    }

    private var nextSlots = AppendBuffer<Int>()
    private var slotsAfterNext = AppendBuffer<Int>()
    /// Each chunk's peer groups (indices into the share's `peerGroupEnds`) and events.
    private var chunks: [(groups: ClosedRange<Int>, events: Range<Int>)] = []

    /// `process` for a backend whose slots outlive a batch, in a job without a TTL (whose
    /// expiry may cut a chunk short): a three-stage pipeline, so that each load has a whole
    /// chunk's work to arrive in cache instead of being waited for (the feature loops' state
    /// accesses were a fifth of a run's samples). While chunk k is applied, chunk k + 1's
    /// windows and maps are loading (their references read from its rows, loaded during the
    /// chunk before), and chunk k + 2's keys are looked up and its rows loading.
    private func processPipelined(
        _ share: BatchShare, values: UnsafeBufferPointer<FieldValue>,
        members: [[(name: String, value: FieldValue)]], to out: ByteBuffer, markingEnds: Bool
    ) throws {
        let groupEnds = share.peerGroupEnds.elements
        chunks.removeAll(keepingCapacity: true)
        var firstGroup = 0
        var start = 0
        while firstGroup < groupEnds.count {
            let lastGroup = Self.lastGroup(ofChunkFrom: firstGroup, start: start, groupEnds)
            chunks.append((firstGroup...lastGroup, start..<groupEnds[lastGroup]))
            firstGroup = lastGroup + 1
            start = groupEnds[lastGroup]
        }
        try resolveSlots(share, chunks[0].events, values: values, into: slots)
        keyed.prefetchStates(slots)
        if chunks.count > 1 {
            try resolveSlots(share, chunks[1].events, values: values, into: nextSlots)
            keyed.prefetchStates(nextSlots)
        }
        prefetchHeap(share, chunks[0].events, slots: slots, values: values)
        for (index, chunk) in chunks.enumerated() {
            if index + 1 < chunks.count { prefetchHeap(share, chunks[index + 1].events, slots: nextSlots, values: values) }
            if index + 2 < chunks.count {
                try resolveSlots(share, chunks[index + 2].events, values: values, into: slotsAfterNext)
                keyed.prefetchStates(slotsAfterNext)
            }
            setChunkEnds(groupEnds, chunk.groups, start: chunk.events.lowerBound)
            applyAndEncode(share, chunk.events, values: values, members: members, to: out, markingEnds: markingEnds)
            try keyed.backend.endOfBatch()
            swap(&slots, &nextSlots)
            swap(&nextSlots, &slotsAfterNext)
        }
    }

    /// `keyed.prefetchHeap` for events `range` of `share`, whose slots are `slots`.
    private func prefetchHeap(_ share: BatchShare, _ range: Range<Int>, slots: AppendBuffer<Int>, values: UnsafeBufferPointer<FieldValue>) {
        keyed.prefetchHeap(slots.elements, values: values, bases: UnsafeBufferPointer(rebasing: share.bases.elements[range]))
    }

    private func resolveSlots(
        _ share: BatchShare, _ range: Range<Int>, values: UnsafeBufferPointer<FieldValue>, into slots: AppendBuffer<Int>
    ) throws {
        try keyed.resolveSlots(
            ofEventsAt: UnsafeBufferPointer(rebasing: share.bases.elements[range]),
            hashes: UnsafeBufferPointer(rebasing: share.hashes.elements[range]), in: values, into: slots)
    }

    /// Applies and encodes events `range` of `share`, whose peer groups end at `chunkEnds`
    /// (relative to the range's start), or the front of it that a TTL allows; returns where
    /// the events applied end.
    private func process(
        _ share: BatchShare, _ range: Range<Int>, values: UnsafeBufferPointer<FieldValue>,
        members: [[(name: String, value: FieldValue)]], to out: ByteBuffer, markingEnds: Bool
    ) throws -> Int {
        var range = range
        try resolveSlots(share, range, values: values, into: slots)
        keyed.prefetchStates(slots)
        // The states are cached or on their way: load the windows and maps they point to.
        prefetchHeap(share, range, slots: slots, values: values)
        if let ttl = keyed.ttl {
            let end = expireAndTouch(share, range, ttl: ttl)
            if end < range.upperBound {
                range = range.lowerBound..<end
                slots.removeLast(slots.count - range.count)
                while let last = chunkEnds.elements.last, last > range.count { _ = chunkEnds.removeLast() }
            }
        }
        applyAndEncode(share, range, values: values, members: members, to: out, markingEnds: markingEnds)
        try keyed.backend.endOfBatch()
        return range.upperBound
    }

    /// Applies events `range` of `share` (their slots in `slots`, their peer groups ending at
    /// `chunkEnds`, relative to the range's start) to every feature, and encodes their records.
    private func applyAndEncode(
        _ share: BatchShare, _ range: Range<Int>, values: UnsafeBufferPointer<FieldValue>,
        members: [[(name: String, value: FieldValue)]], to out: ByteBuffer, markingEnds: Bool
    ) {
        let bases = UnsafeBufferPointer(rebasing: share.bases.elements[range])
        keyed.apply(
            FeatureBatch(
                values: values, bases: bases, slots: slots.elements, times: UnsafeBufferPointer(rebasing: share.times.elements[range]),
                peerGroupEnds: chunkEnds.elements),
            results: &results)
        let encoded = results.encoded(events: range.count)
        if members.isEmpty, !markingEnds {
            encoder.encodeRecords(values: values, bases: bases, results: encoded, to: out)
            return
        }
        for index in bases.indices {
            let eventMembers = members.isEmpty ? [] : members[share.memberIndices.elements[range.lowerBound + index]]
            encoder.encode(values: values, base: bases[index], members: eventMembers, results: encoded, index: index, to: out)
            if markingEnds { share.recordEnds.append(out.count) }
        }
    }
}

/// The keyed workers of a run: each owns the key groups Flink's `KeyGroupRangeAssignment`
/// gives its index, and holds their state in its own backend.
///
/// A release batch (events the watermark passed, in (time, arrival) order) is split by key
/// group into one share per worker. The calling thread applies worker 0's share while the
/// other workers apply theirs on their own serial queues, reading the events' values where
/// the pending queue holds them; once all are done, the records are written in batch
/// order and the batch's pending slots freed. (A pipelined variant, in which the reading
/// thread parsed on while three batches were in flight, ran slower on two cores: three
/// busy threads, and every event's values and record crossing cores; BENCHMARKS.md has
/// the figures.) Jobs without event time apply each event as it arrives, on the reading
/// thread, by the worker that owns its key: they gain nothing from several workers.
///
/// So when a release returns no worker holds anything: every release boundary is a cut
/// where a checkpoint is consistent across workers without barriers travelling through
/// queues (Flink's aligned barriers reach the same cut), and the output is the same bytes
/// whatever the parallelism.
final class KeyedWorkers<Backend: KeyedStateBackend> {
    let workers: [KeyedWorker<Backend>]
    let backends: [Backend]
    private let maxParallelism: Int
    private let width: Int
    private let queues: [DispatchQueue]
    /// The batch being released: each worker's share, each event's owner (worker index) in
    /// batch order, and the events' input columns (`carry: ["*"]`).
    private let shares: [BatchShare]
    private var owners: [Int] = []
    private var members: [[(name: String, value: FieldValue)]] = []
    private var nextRecord: [Int]
    /// The first worker's operator, which keys events for all of them (they share one plan):
    /// reached as `workers[0].keyed`, each event retained and released the worker.
    private let keying: KeyedFeatureOperator<Backend>

    /// `backends[i]` holds the state of worker i's key groups.
    init(plan: JobPlan, backends: [Backend], format: OutputFormat) {
        precondition(!backends.isEmpty && backends.count <= plan.spec.maxParallelism)
        self.backends = backends
        workers = backends.map { KeyedWorker(plan: plan, backend: $0, format: format) }
        keying = workers[0].keyed
        maxParallelism = plan.spec.maxParallelism
        width = plan.fieldNames.count
        queues = backends.indices.map { DispatchQueue(label: "eddy.worker.\($0)") }
        shares = backends.map { _ in BatchShare() }
        nextRecord = Array(repeating: 0, count: backends.count)
    }

    /// Distinct keys holding state, over every worker.
    var keyCount: Int { backends.reduce(0) { $0 + $1.keyCount } }

    /// The canonical key of the event at `base`.
    @inline(__always)
    func canonicalKey(_ values: UnsafeBufferPointer<FieldValue>, base: Int) -> String {
        keying.canonicalKey(values, base: base)
    }

    /// The stable hash of the key of the event at `base`.
    @inline(__always)
    func keyHash(_ values: UnsafeBufferPointer<FieldValue>, base: Int) -> UInt64 {
        keying.keyHash(values, base: base)
    }

    /// The canonical key and its stable hash of an event's values.
    func key(of values: [FieldValue]) -> (text: String, hash: UInt64) {
        let text = values.withUnsafeBufferPointer { canonicalKey($0, base: 0) }
        return (text, KeyGroups.stableHash(ofKey: text))
    }

    @inline(__always)
    private func owner(ofKeyHash hash: UInt64) -> Int {
        if workers.count == 1 { return 0 }
        return KeyGroups.operatorIndex(
            forKeyGroup: Int(hash % UInt64(maxParallelism)), maxParallelism: maxParallelism, parallelism: workers.count)
    }

    /// Applies one event at once (arrival order, no event time) and appends its record.
    func emitNow(values: UnsafeBufferPointer<FieldValue>, members: [(name: String, value: FieldValue)], to out: ByteBuffer) throws {
        let hash = keyHash(values, base: 0)
        let share = shares[0]
        share.removeAll()
        share.add(base: 0, time: 0, keyHash: hash, memberIndex: 0)
        try workers[owner(ofKeyHash: hash)].process(share, values: values, members: members.isEmpty ? [] : [members], to: out, markingEnds: false)
    }

    /// Releases `batch` (entries of `pending` in (time, arrival) order): applies it, appends
    /// its records to `out` in batch order, and frees its pending slots.
    func release(
        _ batch: [PendingEvents.Entry], from pending: PendingEvents, carryingAll: Bool, to out: ByteBuffer
    ) throws {
        for share in shares { share.removeAll() }
        owners.removeAll(keepingCapacity: true)
        members.removeAll(keepingCapacity: true)
        // Whether the batch's slots were handed to the free list as the share was built.
        var slotsFreedInAdvance = false
        if workers.count == 1 {
            let share = shares[0]
            if !carryingAll, let freedSlots = pending.reserveFreedSlots(batch.count) {
                // No input columns to carry: `members` stays empty and the worker reads none.
                share.add(batch, from: pending, width: width, freedSlots: freedSlots)
                slotsFreedInAdvance = true
            } else if carryingAll {
                for (index, entry) in batch.enumerated() {
                    share.add(base: entry.slot * width, time: entry.time, keyHash: pending.keyHash(ofSlot: entry.slot), memberIndex: index)
                }
            } else {
                for entry in batch {
                    share.add(base: entry.slot * width, time: entry.time, keyHash: pending.keyHash(ofSlot: entry.slot))
                }
            }
        } else {
            for (index, entry) in batch.enumerated() {
                let hash = pending.keyHash(ofSlot: entry.slot)
                let owner = owner(ofKeyHash: hash)
                owners.append(owner)
                shares[owner].add(base: entry.slot * width, time: entry.time, keyHash: hash, memberIndex: index)
            }
        }
        if carryingAll { members = batch.map { pending.members[$0.slot] } }
        // One buffer over the arena for the whole batch, valid while the workers read it: no
        // array retain per event.
        try pending.withValues { values in
            if workers.count == 1 {
                // The records go straight to the output, already in batch order.
                try workers[0].process(shares[0], values: values, members: members, to: out, markingEnds: false)
            } else {
                try applyInParallel(values)
            }
        }
        if workers.count > 1 {
            for index in nextRecord.indices { nextRecord[index] = 0 }
            for owner in owners {
                let share = shares[owner]
                let record = nextRecord[owner]
                let start = record == 0 ? 0 : share.recordEnds.elements[record - 1]
                out.append(UnsafeBufferPointer(rebasing: share.records.elements[start..<share.recordEnds.elements[record]]))
                nextRecord[owner] = record + 1
            }
        }
        if slotsFreedInAdvance { pending.freeReserved(batch.count) } else { pending.free(slotsOf: batch) }
    }

    /// Every worker applies its share into its records: worker 0 on this thread, the others
    /// on their queues; returns when all are done, with the first failure if one failed.
    private func applyInParallel(_ values: UnsafeBufferPointer<FieldValue>) throws {
        let done = DispatchGroup()
        let members = self.members
        // Each call touches only its worker and share; the values and input columns are
        // read-only until `done.wait()` returns.
        let work = UncheckedSendable { (worker: KeyedWorker<Backend>, share: BatchShare) in
            do {
                try worker.process(share, values: values, members: members, to: share.records, markingEnds: true)
            } catch {
                share.failure = error
            }
        }
        for index in workers.indices.dropFirst() {
            let (worker, share) = (workers[index], shares[index])
            let task = UncheckedSendable { work.value(worker, share) }
            queues[index].async(group: done) { task.value() }
        }
        work.value(workers[0], shares[0])
        done.wait()
        if let failure = shares.lazy.compactMap(\.failure).first { throw failure }
    }
}
