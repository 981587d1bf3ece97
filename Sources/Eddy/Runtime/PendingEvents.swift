/// Events that arrived but wait for the watermark to reach their time, released in
/// (event time, arrival) order.
///
/// Their field values live in one flat arena of fixed-width slots, reused as events leave,
/// so buffering an event allocates nothing once the arena has grown to the out-of-order
/// span. The (time, arrival sequence, slot) triples are kept unordered: a release scans
/// them once, takes those the watermark passed and sorts only those. Releases come every
/// few hundred events, so the scan is a short sequential pass per event, where a binary
/// heap cost a dozen unpredictable branches per event (12% of a simple job's time).
struct PendingEvents {
    struct Entry {
        var time: Int64
        var sequence: Int64
        var slot: Int

        @inline(__always)
        static func precedes(_ a: Entry, _ b: Entry) -> Bool {
            a.time < b.time || (a.time == b.time && a.sequence < b.sequence)
        }
    }

    /// Values per event (the plan's field slots).
    let width: Int
    private(set) var values: [FieldValue] = []
    /// All input columns of each buffered event, kept only for `carry: ["*"]`.
    private(set) var members: [[(name: String, value: FieldValue)]] = []
    private var freeSlots: [Int] = []
    private var entries: [Entry] = []
    /// No entry is earlier: a release below it has nothing to scan.
    private var earliestTime = Int64.max

    init(width: Int) { self.width = width }

    var count: Int { entries.count }

    /// Moves an event's values into the arena and queues it. `source` gets the slot's stale
    /// values in exchange: swapping moves each value without retaining or releasing its text,
    /// and the caller's scanner overwrites every slot of `source` before its next use.
    mutating func insert(
        time: Int64, sequence: Int64, values source: inout [FieldValue],
        members eventMembers: [(name: String, value: FieldValue)]?
    ) {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            let base = slot * width
            values.withUnsafeMutableBufferPointer { arena in
                source.withUnsafeMutableBufferPointer { source in
                    for index in 0..<width { swap(&arena[base + index], &source[index]) }
                }
            }
            if let eventMembers { members[slot] = eventMembers }
        } else {
            slot = values.count / width
            values.append(contentsOf: source[0..<width])
            members.append(eventMembers ?? [])
        }
        entries.append(Entry(time: time, sequence: sequence, slot: slot))
        if time < earliestTime { earliestTime = time }
    }

    /// Calls `body` with the value arena (`width` values per slot), without copying it.
    @inline(__always)
    func withValues<Result>(_ body: (UnsafeBufferPointer<FieldValue>) throws -> Result) rethrows -> Result {
        try values.withUnsafeBufferPointer(body)
    }

    /// Moves every event with time <= `watermark` to `ready`, in (time, arrival) order; their
    /// slots stay readable until `free(slot:)`.
    mutating func takeReady(upTo watermark: Int64, into ready: inout [Entry]) {
        ready.removeAll(keepingCapacity: true)
        guard earliestTime <= watermark else { return }
        var earliestLeft = Int64.max
        var index = 0
        while index < entries.count {
            let entry = entries[index]
            if entry.time <= watermark {
                ready.append(entry)
                entries[index] = entries[entries.count - 1]
                entries.removeLast()
            } else {
                earliestLeft = min(earliestLeft, entry.time)
                index += 1
            }
        }
        earliestTime = earliestLeft
        ready.sort(by: Entry.precedes)
    }

    mutating func free(slot: Int) {
        freeSlots.append(slot)
        if !members.isEmpty { members[slot] = [] }
    }
}
