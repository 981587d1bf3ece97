/// Windowed emission (`"emit": {"tumbling": ...}` or `{"hopping": ...}`): one record per key
/// per window `[start, start + size)`, windows aligned to the epoch and starting every
/// `slide` (Flink SQL's TUMBLE and HOP).
///
/// A window's contents are its events, kept where events wait for the watermark: an
/// accepted event is buffered once per window of it that has not fired, under the window's
/// fire time (`end - 1`) instead of its own time. So the pending queue, the state backends'
/// persistence of buffered events (per key group), checkpoints, resume and rescaling all
/// carry window contents as they carry any buffered event. When the watermark reaches a
/// fire time, the windows released are grouped by key, each group's events are applied in
/// (event time, arrival) order to fresh accumulators, and one record per group is written,
/// in order of window end, then key.
final class WindowFiring {
    let size: Int64
    let slide: Int64
    private let timeSlot: Int?
    private let aggregator: WindowAggregator
    private var order: [Int] = []
    private var sortKeys: [SortKey] = []
    private var keys: [String] = []
    private var eventTimes: [Int64] = []
    private var bases: [Int] = []
    private var times: [Int64] = []

    private struct SortKey {
        var fireTime: Int64
        var keyPrefix: UInt64
        /// The key's bytes 8..<16, as `keyPrefix` holds its first 8.
        var keySuffix: UInt64
        var index: Int
    }

    /// The order records are written in: window end, then key bytes; inside a window, (event
    /// time, arrival), then batch position, so that no two entries tie and any sort gives
    /// the order the standard library's stable sort gave. Sorted by `sortWithoutTies`, the
    /// comparison inlined: the stable sort called the comparison closure out of line, ~1,400
    /// instructions an event with the merges (tumbling job).
    private struct SortOrder: OrderWithoutTies {
        let keys: UnsafeBufferPointer<String>
        let eventTimes: UnsafeBufferPointer<Int64>
        let batch: UnsafeBufferPointer<PendingEvents.Entry>

        @inline(__always)
        func precedes(_ a: SortKey, _ b: SortKey) -> Bool {
            if a.fireTime != b.fireTime { return a.fireTime < b.fireTime }
            if a.keyPrefix != b.keyPrefix { return a.keyPrefix < b.keyPrefix }
            if a.keySuffix != b.keySuffix { return a.keySuffix < b.keySuffix }
            return precedesSamePrefixes(a.index, b.index)
        }

        /// `precedes` for entries whose keys agree on their first 16 bytes.
        @inline(never)
        func precedesSamePrefixes(_ x: Int, _ y: Int) -> Bool {
            // Bytes, as keys are told apart in state (`InlineText.same`), not `==`'s
            // canonical equivalence, which merged two keys' windows when their bytes differ.
            if !InlineText.same(at: keys.baseAddress! + x, keys.baseAddress! + y) { return keys[x].utf8Precedes(keys[y]) }
            if eventTimes[x] != eventTimes[y] { return eventTimes[x] < eventTimes[y] }
            if batch[x].sequence != batch[y].sequence { return batch[x].sequence < batch[y].sequence }
            return x < y
        }
    }

    /// The first 16 bytes of a key's UTF-8 as two words, big-endian, zero-padded: comparing
    /// these compares the keys' byte order as far as they go (all of a key up to 15 bytes,
    /// which then needs no comparison of strings in the sort). An inline text's are its
    /// words as they lie, zero past its count, less the count's byte: iterating the bytes
    /// took ~390 instructions an event (tumbling job).
    private static func prefixes(of key: String) -> (UInt64, UInt64) {
        if let inline = InlineText.inlineWords(key) {
            return (UInt64(bigEndian: inline.words.0), UInt64(bigEndian: inline.words.1 & 0x00FF_FFFF_FFFF_FFFF))
        }
        var words: (UInt64, UInt64) = (0, 0)
        var count = 0
        for byte in key.utf8.prefix(16) {
            if count < 8 { words.0 = words.0 << 8 | UInt64(byte) } else { words.1 = words.1 << 8 | UInt64(byte) }
            count += 1
        }
        if count <= 8 { return (words.0 << UInt64(8 * (8 - count)), 0) }
        return (words.0, words.1 << UInt64(8 * (16 - count)))
    }

    init(plan: JobPlan, size: Int64, slide: Int64, format: OutputFormat) {
        timeSlot = plan.timeSlot
        self.size = size
        self.slide = slide
        aggregator = WindowAggregator(plan: plan, format: format)
    }

    /// The fire times (`end - 1`) of the windows holding `time` that fire after `watermark`,
    /// oldest first; empty when the event is late for all of them.
    func unfiredWindows(of time: Int64, after watermark: Int64) -> [Int64] {
        let newestStart = floorMultiple(time, of: slide)
        var fireTimes: [Int64] = []
        // The size/slide windows holding `time` start at newestStart - k * slide.
        for k in stride(from: size / slide - 1, through: 0, by: -1) {
            let (start, overflow) = newestStart.subtractingReportingOverflow(k * slide)
            if overflow { continue }
            let fireTime = fireTimeOfWindow(startingAt: start)
            if fireTime > watermark { fireTimes.append(fireTime) }
        }
        return fireTimes
    }

    /// The fire time of the last window holding `time`: an event is counted once, as emitted,
    /// when that window fires.
    func lastFireTime(of time: Int64) -> Int64 {
        fireTimeOfWindow(startingAt: floorMultiple(time, of: slide))
    }

    private func fireTimeOfWindow(startingAt start: Int64) -> Int64 {
        let (end, overflow) = start.addingReportingOverflow(size)
        return overflow ? .max : end - 1
    }

    /// Writes the record of every (window, key) in `batch` (entries of released windows, in
    /// fire-time order) to `out`; returns how many windows it wrote and how many events were
    /// in their last window. `eventTime` reads an accepted event's time from its values.
    func fire(
        _ batch: [PendingEvents.Entry], values: UnsafeBufferPointer<FieldValue>, width: Int,
        canonicalKey: (UnsafeBufferPointer<FieldValue>, Int) -> String, eventTime: (FieldValue) -> Int64,
        to out: ByteBuffer
    ) -> (windows: Int, events: Int) {
        guard let timeSlot else { return (0, 0) }
        keys.removeAll(keepingCapacity: true)
        eventTimes.removeAll(keepingCapacity: true)
        var lastWindows = 0
        for entry in batch {
            keys.append(canonicalKey(values, entry.slot * width))
            let time = eventTime(values[entry.slot * width + timeSlot])
            eventTimes.append(time)
            if lastFireTime(of: time) == entry.time { lastWindows += 1 }
        }
        // Window end, then key bytes; inside a window, (event time, arrival). The first 16 key
        // bytes, big-endian, order most keys without comparing strings.
        sortKeys.removeAll(keepingCapacity: true)
        for (index, entry) in batch.enumerated() {
            let prefixes = Self.prefixes(of: keys[index])
            sortKeys.append(SortKey(fireTime: entry.time, keyPrefix: prefixes.0, keySuffix: prefixes.1, index: index))
        }
        keys.withUnsafeBufferPointer { keys in
            eventTimes.withUnsafeBufferPointer { eventTimes in
                batch.withUnsafeBufferPointer { batch in
                    sortKeys.withUnsafeMutableBufferPointer { sortKeys in
                        sortKeys.sortWithoutTies(by: SortOrder(keys: keys, eventTimes: eventTimes, batch: batch))
                    }
                }
            }
        }
        order.removeAll(keepingCapacity: true)
        for key in sortKeys { order.append(key.index) }
        var windows = 0
        var groupStart = 0
        while groupStart < order.count {
            var groupEnd = groupStart + 1
            let first = order[groupStart]
            while groupEnd < order.count, batch[order[groupEnd]].time == batch[first].time, sameKey(order[groupEnd], first) {
                groupEnd += 1
            }
            emit(order[groupStart..<groupEnd], batch: batch, values: values, width: width, to: out)
            windows += 1
            groupStart = groupEnd
        }
        return (windows, lastWindows)
    }

    /// Whether batch entries `a` and `b` have the same key: the same bytes (see `SortOrder`).
    private func sameKey(_ a: Int, _ b: Int) -> Bool {
        keys.withUnsafeBufferPointer { InlineText.same(at: $0.baseAddress! + a, $0.baseAddress! + b) }
    }

    /// Writes the record of one key's window: the events of `group` (indices into `batch`).
    private func emit(
        _ group: ArraySlice<Int>, batch: [PendingEvents.Entry], values: UnsafeBufferPointer<FieldValue>, width: Int,
        to out: ByteBuffer
    ) {
        bases.removeAll(keepingCapacity: true)
        times.removeAll(keepingCapacity: true)
        for index in group {
            bases.append(batch[index].slot * width)
            times.append(eventTimes[index])
        }
        let fireTime = batch[group.first!].time
        let end = fireTime == .max ? Int64.max : fireTime + 1
        aggregator.emit(values: values, bases: bases, times: times, start: end &- size, end: end, to: out)
    }
}

/// Aggregates one key's window and writes its record: applies the window's events (in event
/// time, then arrival order) to fresh accumulators as one group of peers, so that every
/// result is the window's, and encodes the key, the bounds and the results.
final class WindowAggregator {
    private let encoder: EventEncoder
    /// One key's accumulators, reset for every window.
    private let scratch: KeyedStates
    /// `scratch`'s stores and each one's field slot, held apart: zipping the stores with the
    /// plan's features copied each feature's plan (its texts retained and released) per window.
    private let stores: [FeatureStore]
    private let fieldSlots: [Int?]
    private let slot: Int
    private var results = BatchResults()
    private var slots: [Int] = []

    init(plan: JobPlan, format: OutputFormat) {
        encoder = EventEncoder(plan: plan, format: format)
        scratch = KeyedStates(plan: plan)
        stores = scratch.stores
        fieldSlots = plan.features.map(\.fieldSlot)
        slot = scratch.insert("\"window\"", hash: 0)
    }

    /// The window `[start, end)` (µs) of the events whose values start at `bases` in `values`,
    /// with times `times`.
    func emit(
        values: UnsafeBufferPointer<FieldValue>, bases: [Int], times: [Int64], start: Int64, end: Int64, to out: ByteBuffer
    ) {
        scratch.reset(slot: slot)
        slots.removeAll(keepingCapacity: true)
        slots.append(contentsOf: repeatElement(slot, count: bases.count))
        results.removeAll()
        bases.withUnsafeBufferPointer { bases in
            slots.withUnsafeBufferPointer { slots in
                times.withUnsafeBufferPointer { times in
                    // One peer group, ending at the last event (no array allocated for it).
                    withUnsafePointer(to: bases.count) { end in
                        let featureBatch = FeatureBatch(
                            values: values, bases: bases, slots: slots, times: times,
                            peerGroupEnds: UnsafeBufferPointer(start: end, count: 1))
                        for index in stores.indices {
                            stores[index].apply(featureBatch, fieldSlot: fieldSlots[index], results: &results)
                        }
                    }
                }
            }
        }
        encoder.encodeWindow(
            values: values, base: bases[0], start: start, end: end, results: results.encoded(events: bases.count), index: 0, to: out)
    }
}

/// The largest multiple of `step` at or below `value` (floor, also for negative values).
func floorMultiple(_ value: Int64, of step: Int64) -> Int64 {
    let remainder = value % step
    return remainder < 0 ? value - remainder - step : value - remainder
}
