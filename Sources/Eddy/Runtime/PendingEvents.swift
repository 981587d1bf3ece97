/// Events that arrived but wait for the watermark to reach their time, released in
/// (event time, arrival) order.
///
/// Their field values live in one flat arena of fixed-width slots, reused as events leave,
/// so buffering an event allocates nothing once the arena has grown to the out-of-order
/// span. The (time, arrival sequence, slot) triples arrive unordered; each release sorts
/// those that arrived since the last one into a run, and takes from the front of every run
/// what the watermark passed. A release touches only what it releases plus one entry per
/// run, where scanning every waiting entry cost ~30 entries per event (9% of a simple
/// job's time) and a binary heap a dozen unpredictable branches per event (12%).
struct PendingEvents {
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
            guard entries.count > 1 else { return }
            entries.withUnsafeMutableBufferPointer { buffer in
                // Quicksort depth beyond 2 log2(n) means a bad pivot run: hand that part to
                // the standard library's sort instead of going quadratic.
                quicksort(buffer, 0, buffer.count - 1, depthLeft: 2 * (Int.bitWidth - buffer.count.leadingZeroBitCount))
            }
        }

        /// Sorts into (time, arrival) order entries whose peers (equal times) are already in
        /// arrival order, as those of one release are: a stable least-significant-digit radix
        /// sort on time, a byte per pass, without the branch mispredictions of comparison
        /// sorts on shuffled times (quicksort took ~8% of a simple job's time). Times more
        /// than 2^32 units apart go to the comparison sort, which is right for any order.
        static func sortByTimeKeepingOrder(_ entries: inout [Entry], scratch: inout [Entry]) {
            let count = entries.count
            guard count >= 64 else { return sort(&entries) }
            var minimum = Int64.max
            var maximum = Int64.min
            for entry in entries {
                minimum = min(minimum, entry.time)
                maximum = max(maximum, entry.time)
            }
            let (span, overflow) = maximum.subtractingReportingOverflow(minimum)
            guard !overflow, span < 1 << 32 else { return sort(&entries) }
            let passes = (UInt64.bitWidth - UInt64(span).leadingZeroBitCount + 7) / 8
            if passes == 0 { return }  // one time: arrival order is the order
            if scratch.count < count {
                scratch = Array(repeating: Entry(time: 0, sequence: 0, slot: 0), count: count)
            }
            entries.withUnsafeMutableBufferPointer { entries in
                scratch.withUnsafeMutableBufferPointer { scratch in
                    // On the stack: a heap array per sort showed in profiles.
                    withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { counts in
                        // Every index below is in range: digits are bytes (< 256, the size of
                        // `counts`), and the prefix sums of the counts of `count` entries place
                        // each entry at a distinct index below `count` (both buffers hold
                        // at least `count` entries).
                        var source = entries
                        var target = UnsafeMutableBufferPointer(rebasing: scratch[0..<count])
                        for pass in 0..<passes {
                            let shift = UInt64(pass * 8)
                            counts.initialize(repeating: 0)
                            for entry in source {
                                counts[Int((UInt64(entry.time &- minimum) >> shift) & 0xFF)] += 1
                            }
                            var position = 0
                            for digit in 0..<256 {
                                let digitCount = counts[digit]
                                counts[digit] = position
                                position += digitCount
                            }
                            for entry in source {
                                let digit = Int((UInt64(entry.time &- minimum) >> shift) & 0xFF)
                                target[counts[digit]] = entry
                                counts[digit] += 1
                            }
                            swap(&source, &target)
                        }
                        // After an odd number of passes the result is in the scratch space.
                        if passes % 2 == 1 {
                            _ = entries.update(fromContentsOf: UnsafeMutableBufferPointer(rebasing: scratch[0..<count]))
                        }
                    }
                }
            }
        }

        /// Sorts `entries[low...high]`.
        private static func quicksort(_ entries: UnsafeMutableBufferPointer<Entry>, _ low: Int, _ high: Int, depthLeft: Int) {
            var low = low
            var high = high
            var depthLeft = depthLeft
            while high - low >= 16 {
                if depthLeft == 0 {
                    var part = UnsafeMutableBufferPointer(rebasing: entries[low...high])
                    part.sort(by: precedes)
                    return
                }
                depthLeft -= 1
                // Median of three as pivot, moved to `low`.
                let middle = low + (high - low) / 2
                if precedes(entries[middle], entries[low]) { entries.swapAt(middle, low) }
                if precedes(entries[high], entries[low]) { entries.swapAt(high, low) }
                if precedes(entries[high], entries[middle]) { entries.swapAt(high, middle) }
                entries.swapAt(low, middle)
                let pivot = entries[low]
                // Hoare partition: stops on keys equal to the pivot's (only the pivot itself).
                var i = low
                var j = high + 1
                while true {
                    repeat { i += 1 } while i < high && precedes(entries[i], pivot)
                    repeat { j -= 1 } while precedes(pivot, entries[j])
                    if i >= j { break }
                    entries.swapAt(i, j)
                }
                entries.swapAt(low, j)
                // Recurse into the smaller side, loop on the larger: stack depth stays log n.
                if j - low < high - j {
                    quicksort(entries, low, j - 1, depthLeft: depthLeft)
                    low = j + 1
                } else {
                    quicksort(entries, j + 1, high, depthLeft: depthLeft)
                    high = j - 1
                }
            }
            // Insertion sort for short ranges.
            var index = low + 1
            while index <= high {
                let entry = entries[index]
                var hole = index
                while hole > low, precedes(entry, entries[hole - 1]) {
                    entries[hole] = entries[hole - 1]
                    hole -= 1
                }
                entries[hole] = entry
                index += 1
            }
        }
    }

    /// Values per event (the plan's field slots).
    let width: Int
    private(set) var values: [FieldValue] = []
    /// All input columns of each buffered event, kept only for `carry: ["*"]`.
    private(set) var members: [[(name: String, value: FieldValue)]] = []
    /// The stable hash of each buffered event's key, taken while its values were fresh in
    /// cache: it picks the event's worker and finds its state without hashing again.
    private(set) var keyHashes: [UInt64] = []
    private var freeSlots: [Int] = []
    /// Entries that arrived since the last release, in arrival order.
    private var arriving: [Entry] = []
    /// Sorted runs, each in (time, arrival) order; each waits from its `next` entry on.
    private var runs: [Run] = []
    /// Work space of the radix sort.
    private var sortScratch: [Entry] = []
    /// Emptied run arrays, kept to reuse their capacity.
    private var spareRuns: [[Entry]] = []
    /// Entries waiting, arrived or in runs.
    private(set) var count = 0

    private struct Run {
        var entries: [Entry]
        var next = 0
    }

    /// Past this many runs, they are merged into one, so that a watermark that does not
    /// move (every event at one time) cannot make each release visit ever more runs.
    private static var maxRuns: Int { 32 }

    init(width: Int) { self.width = width }

    /// Moves an event's values into the arena and queues it. `source` gets the slot's stale
    /// values in exchange: swapping moves each value without retaining or releasing its text,
    /// and the caller's scanner overwrites every slot of `source` before its next use.
    mutating func insert(
        time: Int64, sequence: Int64, keyHash: UInt64, values source: inout [FieldValue],
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
            keyHashes[slot] = keyHash
        } else {
            slot = values.count / width
            values.append(contentsOf: source[0..<width])
            members.append(eventMembers ?? [])
            keyHashes.append(keyHash)
        }
        arriving.append(Entry(time: time, sequence: sequence, slot: slot))
        count += 1
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
        if !arriving.isEmpty { sealArrivingRun() }
        var contributingRuns = 0
        var index = 0
        while index < runs.count {
            let first = runs[index].next
            let end = runs[index].entries.withUnsafeBufferPointer { entries in
                var end = first
                while end < entries.count, entries[end].time <= watermark { end += 1 }
                if end > first { ready.append(contentsOf: UnsafeBufferPointer(rebasing: entries[first..<end])) }
                return end
            }
            if end > first { contributingRuns += 1 }
            if end == runs[index].entries.count {
                // Run used up: keep its array for a later run, and drop it. Runs stay in the
                // order they were sealed in, which `ready`'s sort relies on.
                var emptied = runs.remove(at: index)
                emptied.entries.removeAll(keepingCapacity: true)
                spareRuns.append(emptied.entries)
            } else {
                runs[index].next = end
                index += 1
            }
        }
        count -= ready.count
        // Each run's part is in order already; parts of several runs interleave. Runs are
        // visited in sealing order, so peers (equal times) in `ready` are in arrival order.
        if contributingRuns > 1 { Entry.sortByTimeKeepingOrder(&ready, scratch: &sortScratch) }
    }

    /// Sorts the entries that arrived since the last release into a new run.
    private mutating func sealArrivingRun() {
        var run = spareRuns.popLast() ?? []
        swap(&run, &arriving)
        // Arrival order, so peers are in arrival order.
        Entry.sortByTimeKeepingOrder(&run, scratch: &sortScratch)
        runs.append(Run(entries: run))
        guard runs.count > Self.maxRuns else { return }
        var merged: [Entry] = []
        merged.reserveCapacity(count)
        for run in runs { merged.append(contentsOf: run.entries[run.next...]) }
        // Runs in sealing order: peers are in arrival order.
        Entry.sortByTimeKeepingOrder(&merged, scratch: &sortScratch)
        runs = [Run(entries: merged)]
    }

    /// Every waiting event's entry, in no particular order.
    var waiting: [Entry] { arriving + runs.flatMap { $0.entries[$0.next...] } }

    mutating func free(slot: Int) {
        freeSlots.append(slot)
        if !members.isEmpty { members[slot] = [] }
    }
}
