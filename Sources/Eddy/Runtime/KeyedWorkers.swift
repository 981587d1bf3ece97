import Dispatch

/// One worker's share of a release batch, in batch order: each event's base in the value
/// arena, time, key hash and input-column index, where each run of equal times ends, and
/// (with several workers) the records the worker encoded for them and where each ends.
final class BatchShare {
    fileprivate(set) var bases: [Int] = []
    fileprivate(set) var times: [Int64] = []
    fileprivate(set) var hashes: [UInt64] = []
    fileprivate(set) var memberIndices: [Int] = []
    fileprivate(set) var peerGroupEnds: [Int] = []
    let records = ByteBuffer(capacity: 1 << 16)
    fileprivate(set) var recordEnds: [Int] = []

    func removeAll() {
        bases.removeAll(keepingCapacity: true)
        times.removeAll(keepingCapacity: true)
        hashes.removeAll(keepingCapacity: true)
        memberIndices.removeAll(keepingCapacity: true)
        peerGroupEnds.removeAll(keepingCapacity: true)
        records.removeAll()
        recordEnds.removeAll(keepingCapacity: true)
    }

    /// Adds an event; events come in (time, arrival) order.
    @inline(__always)
    func add(base: Int, time: Int64, keyHash: UInt64, memberIndex: Int) {
        // Peers: all of one time's events are applied before any is emitted.
        if let last = times.last, last != time { peerGroupEnds.append(times.count) }
        bases.append(base)
        times.append(time)
        hashes.append(keyHash)
        memberIndices.append(memberIndex)
    }
}

/// One keyed worker: the state of a range of key groups (its backend's), and what it needs
/// to apply a share of a release batch and encode those events' records.
final class KeyedWorker<Backend: KeyedStateBackend> {
    let keyed: KeyedFeatureOperator<Backend>
    private let encoder: EventEncoder
    private var chunkEnds: [Int] = []
    private var slots: [Int] = []
    private var results = BatchResults()

    init(plan: JobPlan, backend: Backend, format: OutputFormat) {
        keyed = KeyedFeatureOperator(plan: plan, backend: backend)
        encoder = EventEncoder(plan: plan, format: format)
    }

    /// Applies `share` to every feature and appends each event's record to `out` (noting in
    /// the share where each ends when `markingEnds`); the backend hears of each chunk's end.
    /// `members(index)` gives an event's input columns, for `carry: ["*"]`.
    ///
    /// The share goes in chunks of about `chunkSize` events, cut only where the time changes
    /// (peers stay in one chunk): each chunk's states are looked up and prefetched together
    /// just before it is applied, so they are still in cache when it is.
    func process(
        _ share: BatchShare, values: UnsafeBufferPointer<FieldValue>,
        members: (Int) -> [(name: String, value: FieldValue)], to out: ByteBuffer, markingEnds: Bool
    ) throws {
        guard !share.bases.isEmpty else { return }
        share.peerGroupEnds.append(share.times.count)
        var chunkStart = 0
        var firstGroup = 0
        for (index, end) in share.peerGroupEnds.enumerated()
        where end - chunkStart >= Self.chunkSize || index == share.peerGroupEnds.count - 1 {
            chunkEnds.removeAll(keepingCapacity: true)
            for groupEnd in share.peerGroupEnds[firstGroup...index] { chunkEnds.append(groupEnd - chunkStart) }
            try process(share, chunkStart..<end, values: values, members: members, to: out, markingEnds: markingEnds)
            chunkStart = end
            firstGroup = index + 1
        }
    }

    private static var chunkSize: Int { 256 }

    /// Applies and encodes events `range` of `share`, whose peer groups end at `chunkEnds`
    /// (relative to the range's start).
    private func process(
        _ share: BatchShare, _ range: Range<Int>, values: UnsafeBufferPointer<FieldValue>,
        members: (Int) -> [(name: String, value: FieldValue)], to out: ByteBuffer, markingEnds: Bool
    ) throws {
        try share.bases.withUnsafeBufferPointer { allBases in
            let bases = UnsafeBufferPointer(rebasing: allBases[range])
            try share.hashes.withUnsafeBufferPointer { hashes in
                try keyed.slots(ofEventsAt: bases, hashes: UnsafeBufferPointer(rebasing: hashes[range]), in: values, into: &slots)
            }
            slots.withUnsafeBufferPointer { slots in
                share.times.withUnsafeBufferPointer { times in
                    chunkEnds.withUnsafeBufferPointer { peerGroupEnds in
                        keyed.apply(
                            FeatureBatch(
                                values: values, bases: bases, slots: slots, times: UnsafeBufferPointer(rebasing: times[range]),
                                peerGroupEnds: peerGroupEnds),
                            results: &results)
                    }
                }
            }
            let encoded = results.encoded(events: range.count)
            for index in bases.indices {
                encoder.encode(
                    values: values, base: bases[index], members: members(share.memberIndices[range.lowerBound + index]),
                    results: encoded, index: index, to: out)
                if markingEnds { share.recordEnds.append(out.count) }
            }
        }
        try keyed.backend.endOfBatch()
    }
}

/// A release batch handed to several workers: its pending entries, the owner (worker
/// index) of each event in batch order, each worker's share, and the events' input columns
/// (`carry: ["*"]`), copied so the pending queue may change its own meanwhile.
private final class BatchInFlight {
    var entries: [PendingEvents.Entry] = []
    var owners: [Int] = []
    var members: [[(name: String, value: FieldValue)]] = []
    let shares: [BatchShare]
    let done = DispatchGroup()
    var failures: [(any Error)?]

    init(workers: Int) {
        shares = (0..<workers).map { _ in BatchShare() }
        failures = Array(repeating: nil, count: workers)
    }
}

/// The keyed workers of a run: each owns the key groups Flink's `KeyGroupRangeAssignment`
/// gives its index, and holds their state in its own backend.
///
/// With one worker, a release batch is applied on the calling thread. With several, each
/// batch (events the watermark passed, in (time, arrival) order) is split by key group and
/// each share is queued on its worker's serial queue, so a worker applies batches in order
/// while the calling thread goes on reading and parsing. Workers read the events' values
/// where the pending queue holds them: a batch's slots are freed only once it has settled.
/// Up to `depth` batches are in flight, so that workers always have one queued; the oldest
/// settles (its records written in batch order) before another starts.
///
/// Checkpoints, the end of input and pauses of the input settle every batch first: each
/// such point is a cut where no worker holds anything in flight, so a checkpoint taken
/// there is consistent across workers without barriers travelling through queues (Flink's
/// aligned barriers reach the same cut), and the output is the same bytes whatever the
/// parallelism.
final class KeyedWorkers<Backend: KeyedStateBackend> {
    let workers: [KeyedWorker<Backend>]
    let backends: [Backend]
    private let maxParallelism: Int
    private let width: Int
    private let queues: [DispatchQueue]
    /// Batches in flight, oldest first, and emptied ones to reuse.
    private var inFlight: [BatchInFlight] = []
    private var spare: [BatchInFlight] = []
    private static var depth: Int { 3 }
    private var nextRecord: [Int]
    /// The share of the single worker's batch (one worker: applied at once).
    private let share = BatchShare()

    /// `backends[i]` holds the state of worker i's key groups.
    init(plan: JobPlan, backends: [Backend], format: OutputFormat) {
        precondition(!backends.isEmpty && backends.count <= plan.spec.maxParallelism)
        self.backends = backends
        workers = backends.map { KeyedWorker(plan: plan, backend: $0, format: format) }
        maxParallelism = plan.spec.maxParallelism
        width = plan.fieldNames.count
        nextRecord = Array(repeating: 0, count: backends.count)
        queues = backends.indices.map { DispatchQueue(label: "eddy.worker.\($0)") }
    }

    var parallelism: Int { workers.count }
    var hasBatchInFlight: Bool { !inFlight.isEmpty }

    /// Distinct keys holding state, over every worker (settle first).
    var keyCount: Int { backends.reduce(0) { $0 + $1.keyCount } }

    /// The stable hash of the key of the event at `base`.
    @inline(__always)
    func keyHash(_ values: UnsafeBufferPointer<FieldValue>, base: Int) -> UInt64 {
        KeyGroups.stableHash(ofKey: workers[0].keyed.canonicalKey(values, base: base))
    }

    /// The key group of the event at `base`.
    func keyGroup(_ values: UnsafeBufferPointer<FieldValue>, base: Int) -> Int {
        Int(keyHash(values, base: base) % UInt64(maxParallelism))
    }

    @inline(__always)
    private func owner(ofKeyHash hash: UInt64) -> Int {
        if workers.count == 1 { return 0 }
        return KeyGroups.operatorIndex(
            forKeyGroup: Int(hash % UInt64(maxParallelism)), maxParallelism: maxParallelism, parallelism: workers.count)
    }

    /// Applies one event at once (arrival order, no event time) and appends its record;
    /// returns the events whose records were appended (batches in flight settle first).
    func emitNow(
        values: UnsafeBufferPointer<FieldValue>, members: [(name: String, value: FieldValue)],
        settling pending: inout PendingEvents, to out: ByteBuffer
    ) throws -> Int {
        let settled = try settle(freeingSlotsOf: &pending, to: out)
        let hash = keyHash(values, base: 0)
        share.removeAll()
        share.add(base: 0, time: 0, keyHash: hash, memberIndex: 0)
        try workers[owner(ofKeyHash: hash)].process(share, values: values, members: { _ in members }, to: out, markingEnds: false)
        return settled + 1
    }

    /// Releases `batch` (entries of `pending` in (time, arrival) order); returns the events
    /// whose records were appended to `out` now: the batch itself with one worker, with
    /// several the oldest batch in flight when `depth` are. A batch's pending slots are
    /// freed once its records are written.
    func release(
        _ batch: [PendingEvents.Entry], from pending: inout PendingEvents, carryingAll: Bool, to out: ByteBuffer
    ) throws -> Int {
        if workers.count == 1 {
            share.removeAll()
            for (index, entry) in batch.enumerated() {
                share.add(base: entry.slot * width, time: entry.time, keyHash: pending.keyHashes[entry.slot], memberIndex: index)
            }
            // One buffer over the arena for the whole batch: no array retain per event.
            try pending.withValues { values in
                let members = carryingAll ? batch.map { pending.members[$0.slot] } : []
                try workers[0].process(
                    share, values: values, members: { members.isEmpty ? [] : members[$0] }, to: out, markingEnds: false)
            }
            for entry in batch { pending.free(slot: entry.slot) }
            return batch.count
        }
        var settled = 0
        if inFlight.count >= Self.depth { settled = try settleOldest(freeingSlotsOf: &pending, to: out) }
        let started = spare.popLast() ?? BatchInFlight(workers: workers.count)
        started.entries.removeAll(keepingCapacity: true)
        started.entries.append(contentsOf: batch)
        started.owners.removeAll(keepingCapacity: true)
        started.members.removeAll(keepingCapacity: true)
        for share in started.shares { share.removeAll() }
        for (index, entry) in batch.enumerated() {
            let hash = pending.keyHashes[entry.slot]
            let owner = owner(ofKeyHash: hash)
            started.owners.append(owner)
            started.shares[owner].add(base: entry.slot * width, time: entry.time, keyHash: hash, memberIndex: index)
            if carryingAll { started.members.append(pending.members[entry.slot]) }
        }
        inFlight.append(started)
        // Workers read the values in the pending arena: the batch's slots stay taken until it
        // settles, and the runtime settles everything before an insert would move the arena.
        let values = pending.withValues { $0 }
        for index in workers.indices {
            let worker = workers[index]
            let share = started.shares[index]
            let work = UncheckedSendable {
                do {
                    try worker.process(
                        share, values: values, members: { started.members.isEmpty ? [] : started.members[$0] },
                        to: share.records, markingEnds: true)
                } catch {
                    started.failures[index] = error
                }
            }
            queues[index].async(group: started.done) { work.value() }
        }
        return settled
    }

    /// Waits for every batch in flight, appends their records to `out` in batch order and
    /// frees their slots in `pending`; returns how many records it appended. Rethrows a
    /// worker's failure.
    func settle(freeingSlotsOf pending: inout PendingEvents, to out: ByteBuffer) throws -> Int {
        var settled = 0
        while !inFlight.isEmpty { settled += try settleOldest(freeingSlotsOf: &pending, to: out) }
        return settled
    }

    private func settleOldest(freeingSlotsOf pending: inout PendingEvents, to out: ByteBuffer) throws -> Int {
        let batch = inFlight.removeFirst()
        batch.done.wait()
        spare.append(batch)
        for entry in batch.entries { pending.free(slot: entry.slot) }
        if let failure = batch.failures.lazy.compactMap({ $0 }).first {
            // The run stops with the failure and writes nothing more; the batches after it
            // are waited for, so no worker touches state once the caller has moved on.
            for later in inFlight { later.done.wait() }
            for stopped in [batch] + inFlight {
                for index in stopped.failures.indices { stopped.failures[index] = nil }
            }
            spare += inFlight
            inFlight.removeAll()
            throw failure
        }
        for index in nextRecord.indices { nextRecord[index] = 0 }
        for owner in batch.owners {
            let share = batch.shares[owner]
            let record = nextRecord[owner]
            let start = record == 0 ? 0 : share.recordEnds[record - 1]
            out.append(UnsafeBufferPointer(rebasing: share.records.elements[start..<share.recordEnds[record]]))
            nextRecord[owner] = record + 1
        }
        return batch.entries.count
    }
}
