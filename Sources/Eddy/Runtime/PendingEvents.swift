/// Events that arrived but wait for the watermark to reach their time, released in
/// (event time, arrival) order.
///
/// Their field values live in one flat arena of fixed-width slots, reused as events leave,
/// so buffering an event allocates nothing once the arena has grown to the out-of-order
/// span; a binary min-heap orders (time, arrival sequence, slot) triples.
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
    private var heap: [Entry] = []

    init(width: Int) { self.width = width }

    var count: Int { heap.count }
    var earliestTime: Int64? { heap.first?.time }

    /// Copies an event's values into the arena and queues it.
    mutating func insert(
        time: Int64, sequence: Int64, values source: [FieldValue],
        members eventMembers: [(name: String, value: FieldValue)]?
    ) {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            let base = slot * width
            for index in 0..<width { values[base + index] = source[index] }
            if let eventMembers { members[slot] = eventMembers }
        } else {
            slot = values.count / width
            values.append(contentsOf: source[0..<width])
            members.append(eventMembers ?? [])
        }
        push(Entry(time: time, sequence: sequence, slot: slot))
    }

    /// Removes and returns the earliest event; its slot stays readable until `free(slot:)`.
    mutating func popEarliest() -> Entry? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return first
    }

    mutating func free(slot: Int) {
        freeSlots.append(slot)
        if !members.isEmpty { members[slot] = [] }
    }

    private mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Entry.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let count = heap.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            var best = left
            let right = left + 1
            if right < count, Entry.precedes(heap[right], heap[left]) { best = right }
            guard Entry.precedes(heap[best], heap[parent]) else { return }
            heap.swapAt(best, parent)
            parent = best
        }
    }
}
