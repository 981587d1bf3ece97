/// One feature's state for every resident key, at a fixed offset in each key's row (see
/// `StateRows`): an event finds its state from the key's slot, not by chasing an object per
/// feature.
protocol FeatureStore: AnyObject {
    /// The size and alignment of one key's state, laid out in `StateRows`.
    var stateLayout: (size: Int, alignment: Int) { get }
    /// Places this feature's state at `offset` in every row of `rows`.
    func attach(to rows: StateRows, offset: Int)
    /// Puts an empty state in a newly appended row.
    func initialiseState(slot: Int)
    /// Applies one event to a key's state: drops what left the lookback window before the
    /// event's time, then adds the event's value.
    func apply(_ value: FieldValue, slot: Int, at time: Int64)
    /// Appends the key's current result as JSON text.
    func appendResult(slot: Int, to out: ByteBuffer)
    /// Applies a release batch to this feature and appends each event's result, as of all of
    /// its peers, to `results`: per feature and per batch rather than per event, so that the
    /// accumulator's code is inlined into one loop and the store is called (and retained)
    /// once a batch, not twice an event. `fieldSlot` is the value slot the feature reads,
    /// nil for a field-less count.
    func apply(_ batch: FeatureBatch, fieldSlot: Int?, results: inout BatchResults)
    /// Starts loading the heap storage of the states of `slots`, once their rows are in
    /// cache or on their way (and in maps, the entries the events' values at `bases` in
    /// `values`, slot `fieldSlot`, will probe); nothing for states without heap storage.
    func prefetchHeap(slots: UnsafeBufferPointer<Int>, values: UnsafeBufferPointer<FieldValue>, bases: UnsafeBufferPointer<Int>, fieldSlot: Int?)
    /// Whether `prefetchHeap` does anything.
    var holdsHeap: Bool { get }
    /// Empties a slot, releasing what it held, for reuse by another key.
    func reset(slot: Int)
    /// Writes a key's state in the persisted format.
    func encode(slot: Int, to writer: inout StateWriter)
    /// Replaces a key's state with one written by `encode`.
    func decode(slot: Int, from reader: inout StateReader) throws(StateFormatError)
    /// Approximate bytes a key's state holds on the heap, beside its row, for memory budgets:
    /// 0 unless `holdsHeap`.
    func heapBytes(slot: Int) -> Int
}

extension FeatureAccumulator {
    /// `appendResult` on a state in its row, without copying it: a non-mutating call may copy
    /// the state out (retaining and releasing its window and map), a mutating one works in place.
    @inline(__always)
    mutating func appendResultInPlace(to out: ByteBuffer) { appendResult(to: out) }

    /// `heapBytes` read in place, for the same reason.
    @inline(__always)
    mutating func heapBytesInPlace() -> Int { heapBytes }

    /// `encodeState` in place, for the same reason.
    @inline(__always)
    mutating func encodeStateInPlace(to writer: inout StateWriter) { encodeState(to: &writer) }
}

/// A `FeatureStore` over one accumulator type, whose states live in the rows of the key
/// states (`StateRows`). Each accumulator gets its own final class below rather than one
/// generic class: methods of a generic class called through a protocol run unspecialised
/// (value witnesses per copy), which made the per-event work twice as slow.
protocol AccumulatorStore: BatchLoopStore {
    associatedtype State: FeatureAccumulator
    var empty: State { get }
    var window: Int64? { get }
    /// Where the states are: set once by `attach`.
    var column: StateColumn { get set }
}

/// One feature's place in the rows: the arena and the state's offset in a row.
struct StateColumn {
    var rows: StateRows?
    var offset = 0

    /// The state of `slot`, as `State`.
    @inline(__always)
    func state<State>(_ slot: Int, as: State.Type) -> UnsafeMutablePointer<State> {
        (rows.unsafelyUnwrapped.address(ofRow: slot) + offset).assumingMemoryBound(to: State.self)
    }
}

extension AccumulatorStore {
    var stateLayout: (size: Int, alignment: Int) { (MemoryLayout<State>.size, MemoryLayout<State>.alignment) }

    func attach(to rows: StateRows, offset: Int) {
        column = StateColumn(rows: rows, offset: offset)
        rows.onRelease { row in (row + offset).assumingMemoryBound(to: State.self).deinitialize(count: 1) }
    }

    @inline(__always)
    private func state(_ slot: Int) -> UnsafeMutablePointer<State> { column.state(slot, as: State.self) }

    func initialiseState(slot: Int) { state(slot).initialize(to: empty) }

    @inline(__always)
    func apply(_ value: FieldValue, slot: Int, at time: Int64) {
        let state = state(slot)
        if let window { state.pointee.evict(olderThan: windowStart(time, window)) }
        withUnsafePointer(to: value) { state.pointee.add($0, at: time) }
    }

    func appendResult(slot: Int, to out: ByteBuffer) { state(slot).pointee.appendResultInPlace(to: out) }

    func apply(_ batch: FeatureBatch, fieldSlot: Int?, results: inout BatchResults) {
        applyBatch(batch, fieldSlot: fieldSlot, results: &results)
    }

    @inline(__always)
    func applyEvents<Values: EventValues>(_ batch: FeatureBatch, values: Values, results: BatchResults) -> Int {
        let window = self.window
        // Local references: reading them from `results` per event retained them each time.
        let bytes = results.bytes
        let ends = results.ends
        // Read once: no row is added while a batch is applied.
        let rows = column.rows.unsafelyUnwrapped
        let first = rows.address(ofRow: 0) + column.offset
        let stride = rows.stride
        // One result per event, in the batch's order: its end is stored at the event's index.
        let resultEnds = ends.reserve(batch.slots.count)
        @inline(__always)
        func state(_ slot: Int) -> UnsafeMutablePointer<State> {
            (first + slot &* stride).assumingMemoryBound(to: State.self)
        }
        @inline(__always)
        func takeResult(_ index: Int) {
            state(batch.slots[index]).pointee.appendResultInPlace(to: bytes)
            resultEnds[index] = bytes.count
        }
        @inline(__always)
        func applyEvent(_ index: Int, at time: Int64) {
            let state = state(batch.slots[index])
            if let window { state.pointee.evict(olderThan: windowStart(time, window)) }
            state.pointee.add(values.at(index), at: time)
        }
        var start = 0
        for end in batch.peerGroupEnds {
            let time = batch.times[start]
            if end == start &+ 1 {
                // A lone event: its result at once, while its state is at hand.
                applyEvent(start, at: time)
                takeResult(start)
            } else {
                // Peers (equal times): all are applied before any is taken.
                for index in start..<end { applyEvent(index, at: time) }
                for index in start..<end { takeResult(index) }
            }
            start = end
        }
        return start
    }

    func prefetchHeap(slots: UnsafeBufferPointer<Int>, values: UnsafeBufferPointer<FieldValue>, bases: UnsafeBufferPointer<Int>, fieldSlot: Int?) {
        guard let fieldSlot, let values = values.baseAddress else {
            // No values to add (a field-less store, or objects loaded for a checkpoint): the
            // objects the states point to.
            let offsets = State.heapReferenceOffsets
            for index in slots.indices { prefetchReferencedObjects(at: UnsafeRawPointer(state(slots[index])), offsets: offsets) }
            return
        }
        // A loop of its own: the optionals tested once, not per event.
        let offsets = State.heapReferenceOffsetsForAdding
        for index in slots.indices {
            let state = UnsafeRawPointer(state(slots[index]))
            prefetchReferencedObjects(at: state, offsets: offsets)
            State.prefetchStorage(of: state, adding: values + bases[index] + fieldSlot)
        }
    }

    var holdsHeap: Bool {
        // One pointer wide, or the raw read in `prefetchReferencedObjects` would be wrong.
        MemoryLayout<[Int]>.size == MemoryLayout<UInt>.size && !State.heapReferenceOffsets.isEmpty
    }

    func reset(slot: Int) { state(slot).pointee = empty }
    func encode(slot: Int, to writer: inout StateWriter) { state(slot).pointee.encodeStateInPlace(to: &writer) }
    func decode(slot: Int, from reader: inout StateReader) throws(StateFormatError) {
        try state(slot).pointee.decodeState(from: &reader)
    }
    func heapBytes(slot: Int) -> Int { state(slot).pointee.heapBytesInPlace() }
}

final class CountStore: AccumulatorStore {
    let empty: CountState
    let window: Int64?
    var column = StateColumn()
    init(_ empty: CountState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class WindowedCountStore: AccumulatorStore {
    let empty: WindowedCountState
    let window: Int64?
    var column = StateColumn()
    init(_ empty: WindowedCountState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class SumStore: AccumulatorStore {
    let empty: SumState
    let window: Int64?
    var column = StateColumn()
    init(_ empty: SumState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class AverageStore: AccumulatorStore {
    let empty: AverageState
    let window: Int64?
    var column = StateColumn()
    init(_ empty: AverageState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class StddevStore: AccumulatorStore {
    let empty: StddevState
    let window: Int64?
    var column = StateColumn()
    init(_ empty: StddevState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class WindowedStddevStore: AccumulatorStore {
    let empty: WindowedStddevState
    let window: Int64?
    var column = StateColumn()
    init(_ empty: WindowedStddevState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class ExtremeStore: AccumulatorStore {
    let empty: ExtremeState
    let window: Int64?
    var column = StateColumn()
    init(_ empty: ExtremeState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class WindowedExtremeStore: AccumulatorStore {
    let empty: WindowedExtremeState
    let window: Int64?
    var column = StateColumn()
    init(_ empty: WindowedExtremeState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class FirstStore: AccumulatorStore {
    let empty: FirstState
    let window: Int64?
    var column = StateColumn()
    init(_ empty: FirstState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class WindowedFirstStore: AccumulatorStore {
    let empty: WindowedFirstState
    let window: Int64?
    var column = StateColumn()
    init(_ empty: WindowedFirstState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class LastStore: AccumulatorStore {
    let empty: LastState
    let window: Int64?
    var column = StateColumn()
    init(_ empty: LastState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class ValueCountsStore: AccumulatorStore {
    let empty: ValueCountsState
    let window: Int64?
    var column = StateColumn()
    init(_ empty: ValueCountsState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class CollectStore: AccumulatorStore {
    let empty: CollectState
    let window: Int64?
    var column = StateColumn()
    init(_ empty: CollectState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

/// The oldest time a lookback window of `window` holds at `time`: `time - window`, or the
/// earliest time when that would wrap around (a window reaching back past Int64.min µs).
@inline(__always)
func windowStart(_ time: Int64, _ window: Int64) -> Int64 {
    let (start, overflow) = time.subtractingReportingOverflow(window)
    return overflow ? .min : start
}

/// A store whose batch loop is generic over where the events' values are (`EventValues`)
/// rather than taking a closure that reads one: the closure stayed a call per event and
/// feature.
protocol BatchLoopStore: FeatureStore {
    /// Applies the batch's events, their values read from `values`, and stores each one's
    /// result end; returns the events applied.
    func applyEvents<Values: EventValues>(_ batch: FeatureBatch, values: Values, results: BatchResults) -> Int
}

extension BatchLoopStore {
    /// `FeatureStore.apply` of a batch: where its values are is settled once a batch, each
    /// case in a loop of its own, not per event (5 instructions per event and feature).
    @inline(__always)
    func applyBatch(_ batch: FeatureBatch, fieldSlot: Int?, results: inout BatchResults) {
        let applied: Int
        if let fieldSlot, let values = batch.values.baseAddress {
            applied = applyEvents(batch, values: ArenaValues(values: values, bases: batch.bases, fieldSlot: fieldSlot), results: results)
        } else {
            // A field-less feature counts every event (an empty batch's arena may have no
            // address).
            precondition(fieldSlot == nil || batch.slots.isEmpty, "a batch's events without their values")
            applied = withUnsafePointer(to: countedEvent) { applyEvents(batch, values: SameValue(value: $0), results: results) }
        }
        results.ends.commit(applied)
    }
}

/// Where a batch's events' values are, for the stores' batch loops.
protocol EventValues {
    func at(_ index: Int) -> UnsafePointer<FieldValue>
}

/// Each event's value in the batch's arena.
struct ArenaValues: EventValues {
    let values: UnsafePointer<FieldValue>
    let bases: UnsafeBufferPointer<Int>
    let fieldSlot: Int
    @inline(__always)
    func at(_ index: Int) -> UnsafePointer<FieldValue> { values + bases[index] + fieldSlot }
}

/// One value for every event (a field-less count's).
struct SameValue: EventValues {
    let value: UnsafePointer<FieldValue>
    @inline(__always)
    func at(_ index: Int) -> UnsafePointer<FieldValue> { value }
}

/// A release batch as feature stores see it: events in (time, arrival) order, each with the
/// base of its values in the value arena and its key's state slot, and where each run of
/// peers (equal times) ends. The buffers are the runtime's, valid during `apply`.
struct FeatureBatch {
    let values: UnsafeBufferPointer<FieldValue>
    let bases: UnsafeBufferPointer<Int>
    let slots: UnsafeBufferPointer<Int>
    let times: UnsafeBufferPointer<Int64>
    let peerGroupEnds: UnsafeBufferPointer<Int>
}

/// Every feature's results for one batch, back to back in one buffer, feature after feature:
/// the text of feature f for event i of n ends at `ends[f * n + i]` and starts where the
/// previous one ended. One buffer, so that the encoder reaches all of them through two
/// pointers per batch.
///
/// `ends` holds a 0 before the first end, so that every result starts at the end before it,
/// the very first one too: the encoder reads it without testing for position 0 (two
/// instructions per feature per record). `encoded` leaves it out of the buffer it hands on.
struct BatchResults {
    let bytes = ByteBuffer(capacity: 1 << 16)
    let ends: AppendBuffer<Int>

    init() {
        ends = AppendBuffer<Int>(capacity: 1 << 12)
        ends.append(0)
    }

    func removeAll() {
        bytes.removeAll()
        ends.removeAll()
        ends.append(0)
    }

    /// The results as the encoder reads them, for a batch of `events` events; valid until
    /// the next `removeAll()` or append. The element before its `ends` is the 0 above.
    func encoded(events: Int) -> EncodedResults {
        let all = ends.elements
        return EncodedResults(bytes: bytes.elements, ends: UnsafeBufferPointer(rebasing: all[1...]), events: events)
    }
}

/// A `lookup` feature: no keyed state, only the broadcast input's values by key string form.
/// Each event's result is the value for its field (null when the field is absent or no row
/// has it), as of the broadcast state the run loaded.
final class LookupStore: FeatureStore {
    private let values: [ExactText: String]

    init(values: [ExactText: String]) { self.values = values }

    private func result(_ value: FieldValue, to out: ByteBuffer) {
        if !value.isAbsent, let found = values[ExactText(stringForm(value))] {
            out.appendUTF8(found)
        } else {
            out.append(contentsOf: nullText)
        }
    }

    func apply(_ batch: FeatureBatch, fieldSlot: Int?, results: inout BatchResults) {
        let bytes = results.bytes
        for base in batch.bases {
            result(fieldSlot.map { batch.values[base + $0] } ?? .missing, to: bytes)
            results.ends.append(bytes.count)
        }
    }

    // Nothing is kept per key: the per-key operations have nothing to do.
    var stateLayout: (size: Int, alignment: Int) { (0, 1) }
    func attach(to rows: StateRows, offset: Int) {}
    func initialiseState(slot: Int) {}
    func apply(_ value: FieldValue, slot: Int, at time: Int64) {}
    func appendResult(slot: Int, to out: ByteBuffer) { out.append(contentsOf: nullText) }
    func prefetchHeap(slots: UnsafeBufferPointer<Int>, values: UnsafeBufferPointer<FieldValue>, bases: UnsafeBufferPointer<Int>, fieldSlot: Int?) {}
    var holdsHeap: Bool { false }
    func reset(slot: Int) {}
    func encode(slot: Int, to writer: inout StateWriter) {}
    func decode(slot: Int, from reader: inout StateReader) throws(StateFormatError) {}
    func heapBytes(slot: Int) -> Int { 0 }
}
