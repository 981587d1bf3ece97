/// Session windows (`"emit": {"session": {"gap": G}}`): per key, events at most G apart
/// (inclusive) form one session `[first, last + G)`, which fires once the watermark reaches
/// `last + G`: only then can no event that is not late join it any more (an event exactly G
/// after the last one joins, as Flink merges touching session windows). An event joining two
/// sessions bridges them into one.
///
/// Events reach a session when the watermark passes them (in event-time order, as in event
/// mode), or at once when they arrive behind the watermark but can still join an open session
/// or open one of their own; before such an event is placed, everything the watermark passed
/// is released and what it closed fires, so results never depend on when releases run. Open
/// sessions are part of the buffered-event state: each event persists, with its time, under
/// its key's key group, and a restore puts them back.
final class SessionWindows {
    struct Event {
        var time: Int64
        var sequence: Int64
        var keyHash: UInt64
        var values: [FieldValue]
    }

    private struct Session {
        /// In (time, arrival) order.
        var events: [Event]
        var first: Int64 { events[0].time }
        var last: Int64 { events[events.count - 1].time }
    }

    let gap: Int64
    private let width: Int
    /// Each key's open sessions, in time order, more than `gap` apart from each other.
    private var sessions: [ExactText: [Session]] = [:]
    /// (close time, key) of open sessions, the smallest first; entries of sessions that have
    /// grown since are skipped when they come up.
    private var closing: [(close: Int64, key: String)] = []
    private let aggregator: WindowAggregator
    /// Events in open sessions.
    private(set) var eventCount = 0
    private var arena: [FieldValue] = []
    private var bases: [Int] = []
    private var times: [Int64] = []

    init(plan: JobPlan, gap: Int64, format: OutputFormat) {
        self.gap = gap
        width = plan.fieldNames.count
        aggregator = WindowAggregator(plan: plan, format: format)
    }

    private func close(of last: Int64) -> Int64 {
        let (close, overflow) = last.addingReportingOverflow(gap)
        return overflow ? .max : close
    }

    private func reaches(_ time: Int64, _ session: Session) -> Bool {
        time >= session.first &- gap && time <= close(of: session.last)
    }

    /// Whether an event at `time` behind the watermark (everything up to it released and
    /// fired) can still join an open session of `key` or open a session of its own.
    func accepts(key: String, time: Int64, watermark: Int64) -> Bool {
        if close(of: time) > watermark { return true }
        return sessions[ExactText(key)]?.contains { reaches(time, $0) } ?? false
    }

    /// Adds an event to `key`'s sessions, merging every open session it reaches.
    func add(key: String, _ event: Event) {
        var kept: [Session] = []
        var joined: [Event] = []
        for session in sessions[ExactText(key)] ?? [] {
            if reaches(event.time, session) { joined += session.events } else { kept.append(session) }
        }
        // The sessions joined were in time order and disjoint: their events are in order.
        var position = joined.count
        while position > 0, (joined[position - 1].time, joined[position - 1].sequence) > (event.time, event.sequence) { position -= 1 }
        joined.insert(event, at: position)
        let merged = Session(events: joined)
        kept.insert(merged, at: kept.firstIndex { $0.first > merged.first } ?? kept.count)
        sessions[ExactText(key)] = kept
        push((close(of: merged.last), key))
        eventCount += 1
    }

    /// Writes the record of every session closed at `watermark` (`last + gap <= watermark`),
    /// in order of end, then key; returns how many sessions and events that was.
    func fire(upTo watermark: Int64, to out: ByteBuffer) -> (windows: Int, events: Int) {
        var windows = 0
        var events = 0
        while let top = closing.first, top.close <= watermark {
            popClosing()
            guard var list = sessions[ExactText(top.key)],
                  let index = list.firstIndex(where: { close(of: $0.last) == top.close }) else { continue }
            let session = list.remove(at: index)
            sessions[ExactText(top.key)] = list.isEmpty ? nil : list
            emit(session, to: out)
            windows += 1
            events += session.events.count
            eventCount -= session.events.count
        }
        return (windows, events)
    }

    private func emit(_ session: Session, to out: ByteBuffer) {
        arena.removeAll(keepingCapacity: true)
        bases.removeAll(keepingCapacity: true)
        times.removeAll(keepingCapacity: true)
        for event in session.events {
            bases.append(arena.count)
            times.append(event.time)
            arena.append(contentsOf: event.values)
        }
        arena.withUnsafeBufferPointer { values in
            aggregator.emit(values: values, bases: bases, times: times, start: session.first, end: close(of: session.last), to: out)
        }
    }

    /// Every event of every open session, with its key's hash, for checkpoints.
    var openEvents: [Event] { sessions.values.flatMap { $0.flatMap(\.events) } }

    // MARK: The closing heap, ordered by (close time, key bytes)

    private static func precedes(_ a: (close: Int64, key: String), _ b: (close: Int64, key: String)) -> Bool {
        a.close != b.close ? a.close < b.close : a.key.utf8Precedes(b.key)
    }

    private func push(_ entry: (close: Int64, key: String)) {
        closing.append(entry)
        var child = closing.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(closing[child], closing[parent]) else { break }
            closing.swapAt(child, parent)
            child = parent
        }
    }

    private func popClosing() {
        closing.swapAt(0, closing.count - 1)
        closing.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < closing.count, Self.precedes(closing[left], closing[smallest]) { smallest = left }
            if right < closing.count, Self.precedes(closing[right], closing[smallest]) { smallest = right }
            if smallest == parent { return }
            closing.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
