import Dispatch

/// One keyed worker: the state of a range of key groups (its backend's), and what it needs
/// to apply its share of a release batch and encode those events' records.
final class KeyedWorker<Backend: KeyedStateBackend> {
    let keyed: KeyedFeatureOperator<Backend>
    private let encoder: EventEncoder
    /// This worker's share of the batch, in batch order: each event's base in the value
    /// arena, time and pending slot, and where each run of equal times ends.
    private var bases: [Int] = []
    private var times: [Int64] = []
    private var pendingSlots: [Int] = []
    private var peerGroupEnds: [Int] = []
    private var slots: [Int] = []
    private var results = BatchResults()
    /// With several workers: this worker's records of the batch, back to back, and where
    /// each ends, for the runtime to write out in batch order.
    let records = ByteBuffer(capacity: 1 << 16)
    private(set) var recordEnds: [Int] = []

    init(plan: JobPlan, backend: Backend, format: OutputFormat) {
        keyed = KeyedFeatureOperator(plan: plan, backend: backend)
        encoder = EventEncoder(plan: plan, format: format)
    }

    var isEmpty: Bool { bases.isEmpty }

    func removeAll() {
        bases.removeAll(keepingCapacity: true)
        times.removeAll(keepingCapacity: true)
        pendingSlots.removeAll(keepingCapacity: true)
        peerGroupEnds.removeAll(keepingCapacity: true)
        records.removeAll()
        recordEnds.removeAll(keepingCapacity: true)
    }

    /// Adds an event to this worker's share; events come in (time, arrival) order.
    @inline(__always)
    func add(base: Int, time: Int64, pendingSlot: Int) {
        // Peers: all of one time's events are applied before any is emitted.
        if let last = times.last, last != time { peerGroupEnds.append(times.count) }
        bases.append(base)
        times.append(time)
        pendingSlots.append(pendingSlot)
    }

    /// Applies the share to every feature and appends each event's record to `out`
    /// (noting where each ends when `markingEnds`); then tells the backend the batch is done.
    /// `members(pendingSlot)` gives an event's input columns, for `carry: ["*"]`.
    ///
    /// The share goes in chunks of about `chunkSize` events, cut only where the time changes
    /// (peers stay in one chunk): each chunk's states are looked up and prefetched together
    /// just before it is applied, so they are still in cache when it is.
    func process(
        values: UnsafeBufferPointer<FieldValue>, members: (Int) -> [(name: String, value: FieldValue)],
        to out: ByteBuffer, markingEnds: Bool
    ) throws {
        guard !bases.isEmpty else { return }
        peerGroupEnds.append(times.count)
        var chunkStart = 0
        var firstGroup = 0
        for (index, end) in peerGroupEnds.enumerated() where end - chunkStart >= Self.chunkSize || index == peerGroupEnds.count - 1 {
            chunkEnds.removeAll(keepingCapacity: true)
            for groupEnd in peerGroupEnds[firstGroup...index] { chunkEnds.append(groupEnd - chunkStart) }
            try process(chunkStart..<end, values: values, members: members, to: out, markingEnds: markingEnds)
            chunkStart = end
            firstGroup = index + 1
        }
    }

    private static var chunkSize: Int { 256 }
    private var chunkEnds: [Int] = []

    /// Applies and encodes events `range` of the share, whose peer groups end at `chunkEnds`
    /// (relative to the range's start).
    private func process(
        _ range: Range<Int>, values: UnsafeBufferPointer<FieldValue>, members: (Int) -> [(name: String, value: FieldValue)],
        to out: ByteBuffer, markingEnds: Bool
    ) throws {
        try bases.withUnsafeBufferPointer { allBases in
            let bases = UnsafeBufferPointer(rebasing: allBases[range])
            try keyed.slots(ofEventsAt: bases, in: values, into: &slots)
            slots.withUnsafeBufferPointer { slots in
                times.withUnsafeBufferPointer { times in
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
                    values: values, base: bases[index], members: members(pendingSlots[range.lowerBound + index]),
                    results: encoded, index: index, to: out)
                if markingEnds { recordEnds.append(out.count) }
            }
        }
        try keyed.backend.endOfBatch()
    }
}

/// The keyed workers of a run: each owns the key groups Flink's `KeyGroupRangeAssignment`
/// gives its index, and holds their state in its own backend.
///
/// With one worker, a release batch is applied on the calling thread. With several, the
/// batch (events the watermark passed, in (time, arrival) order) moves out of the pending
/// queue into a batch arena, is split by key group, and the workers apply their shares on
/// pool threads while the calling thread goes on reading and parsing the next events; the
/// next release (or `settle`) waits for them and writes their records in batch order.
///
/// At most one batch is in flight, and checkpoints, the end of input and pauses of the
/// input `settle` first: every such point is a cut where no worker holds anything in
/// flight, so a checkpoint taken there is consistent across workers without barriers
/// travelling through queues (Flink's aligned barriers reach the same cut), and the
/// output is the same bytes whatever the parallelism.
final class KeyedWorkers<Backend: KeyedStateBackend> {
    let workers: [KeyedWorker<Backend>]
    let backends: [Backend]
    private let maxParallelism: Int
    private let width: Int
    /// Per event of the batch in flight: the index of the worker that owns its key.
    private var owners: [Int] = []
    private var nextRecord: [Int]
    /// The values (`width` per event) and input columns of the batch in flight, moved out
    /// of the pending queue, which may then reuse and grow its own arena.
    private var arena: [FieldValue] = []
    private var arenaMembers: [[(name: String, value: FieldValue)]] = []
    private let running = DispatchGroup()
    private var failures: [(any Error)?]
    private var eventsInFlight = 0

    /// `backends[i]` holds the state of worker i's key groups.
    init(plan: JobPlan, backends: [Backend], format: OutputFormat) {
        precondition(!backends.isEmpty && backends.count <= plan.spec.maxParallelism)
        self.backends = backends
        workers = backends.map { KeyedWorker(plan: plan, backend: $0, format: format) }
        maxParallelism = plan.spec.maxParallelism
        width = plan.fieldNames.count
        nextRecord = Array(repeating: 0, count: backends.count)
        failures = Array(repeating: nil, count: backends.count)
    }

    var parallelism: Int { workers.count }

    /// Distinct keys holding state, over every worker (call `settle` first).
    var keyCount: Int { backends.reduce(0) { $0 + $1.keyCount } }

    /// The key group of the event at `base`.
    @inline(__always)
    func keyGroup(_ values: UnsafeBufferPointer<FieldValue>, base: Int) -> Int {
        let key = workers[0].keyed.canonicalKey(values, base: base)
        return Int(KeyGroups.stableHash(ofKey: key) % UInt64(maxParallelism))
    }

    @inline(__always)
    private func owner(_ values: UnsafeBufferPointer<FieldValue>, base: Int) -> Int {
        if workers.count == 1 { return 0 }
        return KeyGroups.operatorIndex(
            forKeyGroup: keyGroup(values, base: base), maxParallelism: maxParallelism, parallelism: workers.count)
    }

    /// Applies one event at once (arrival order, no event time) and appends its record;
    /// returns the events whose records were appended (a batch in flight settles first).
    func emitNow(
        values: UnsafeBufferPointer<FieldValue>, members: [(name: String, value: FieldValue)], to out: ByteBuffer
    ) throws -> Int {
        let settled = try settle(to: out)
        let worker = workers[owner(values, base: 0)]
        worker.removeAll()
        worker.add(base: 0, time: 0, pendingSlot: 0)
        try worker.process(values: values, members: { _ in members }, to: out, markingEnds: false)
        return settled + 1
    }

    /// Releases `batch` (entries of `pending` in (time, arrival) order) and frees their
    /// pending slots; returns the events whose records were appended to `out` now: the
    /// batch itself with one worker, the batch in flight before it with several.
    func release(
        _ batch: [PendingEvents.Entry], from pending: inout PendingEvents, carryingAll: Bool, to out: ByteBuffer
    ) throws -> Int {
        if workers.count == 1 {
            let worker = workers[0]
            worker.removeAll()
            for entry in batch { worker.add(base: entry.slot * width, time: entry.time, pendingSlot: entry.slot) }
            // One buffer over the arena for the whole batch: no array retain per event.
            try pending.withValues { values in
                let members = carryingAll ? pending.members : []
                try worker.process(
                    values: values, members: { members.isEmpty ? [] : members[$0] }, to: out, markingEnds: false)
            }
            for entry in batch { pending.free(slot: entry.slot) }
            return batch.count
        }
        let settled = try settle(to: out)
        if arena.count < batch.count * width {
            arena.append(contentsOf: repeatElement(.missing, count: batch.count * width - arena.count))
        }
        arenaMembers.removeAll(keepingCapacity: true)
        owners.removeAll(keepingCapacity: true)
        for worker in workers { worker.removeAll() }
        arena.withUnsafeMutableBufferPointer { arena in
            for (index, entry) in batch.enumerated() {
                pending.moveValues(ofSlot: entry.slot, to: arena.baseAddress! + index * width)
                if carryingAll { arenaMembers.append(pending.members[entry.slot]) }
                pending.free(slot: entry.slot)
                let owner = owner(UnsafeBufferPointer(arena), base: index * width)
                owners.append(owner)
                workers[owner].add(base: index * width, time: entry.time, pendingSlot: index)
            }
        }
        eventsInFlight = batch.count
        // The arena and members stay untouched until `settle` has waited for the workers.
        let shared = UncheckedSendable((self, arena.withUnsafeBufferPointer { $0 }, arenaMembers))
        for index in workers.indices {
            DispatchQueue.global().async(group: running) {
                let (workers, values, members) = shared.value
                let worker = workers.workers[index]
                do {
                    try worker.process(
                        values: values, members: { members.isEmpty ? [] : members[$0] }, to: worker.records, markingEnds: true)
                } catch {
                    workers.failures[index] = error
                }
            }
        }
        return settled
    }

    /// Waits for the batch in flight, if any, and appends its records to `out` in batch
    /// order; returns how many it appended. Rethrows a worker's failure.
    func settle(to out: ByteBuffer) throws -> Int {
        guard eventsInFlight > 0 else { return 0 }
        running.wait()
        let settled = eventsInFlight
        eventsInFlight = 0
        for index in failures.indices {
            if let failure = failures[index] {
                failures[index] = nil
                throw failure
            }
        }
        for index in nextRecord.indices { nextRecord[index] = 0 }
        for owner in owners {
            let worker = workers[owner]
            let record = nextRecord[owner]
            let start = record == 0 ? 0 : worker.recordEnds[record - 1]
            out.append(UnsafeBufferPointer(rebasing: worker.records.elements[start..<worker.recordEnds[record]]))
            nextRecord[owner] = record + 1
        }
        return settled
    }
}
