import CEddySupport

/// One feature's state for every resident key, stored contiguously and indexed by the key's
/// slot: an event finds its state by indexing arrays, not by chasing an object per feature.
protocol FeatureStore: AnyObject {
    /// Adds an empty state at slot `count` (slots are dense).
    func appendEmpty()
    /// Applies one event to a key's state: drops what left the lookback window before the
    /// event's time, then adds the event's value.
    func apply(_ value: FieldValue, slot: Int, at time: Int64)
    /// Appends the key's current result as JSON text.
    func appendResult(slot: Int, to out: inout [UInt8])
    /// Starts loading a key's state into the cache ahead of `apply`.
    func prefetch(slot: Int)
    /// Starts loading the heap storage of a key's state, once `prefetch(slot:)` has loaded
    /// the state itself; nothing for states without heap storage.
    func prefetchHeap(slot: Int)
    /// Whether `prefetchHeap(slot:)` does anything.
    var holdsHeap: Bool { get }
    /// Empties a slot, releasing what it held, for reuse by another key.
    func reset(slot: Int)
    /// Writes a key's state in the persisted format.
    func encode(slot: Int, to writer: inout StateWriter)
    /// Replaces a key's state with one written by `encode`.
    func decode(slot: Int, from reader: inout StateReader) throws(StateFormatError)
    /// Approximate bytes a key's state holds, for memory budgets.
    func bytes(slot: Int) -> Int
}

/// A `FeatureStore` over one accumulator type. Each accumulator gets its own final class
/// below rather than one generic class: methods of a generic class called through a protocol
/// run unspecialised (value witnesses per copy), which made the per-event work twice as slow.
protocol AccumulatorStore: FeatureStore {
    associatedtype State: FeatureAccumulator
    var empty: State { get }
    var window: Int64? { get }
    var states: [State] { get set }
}

extension AccumulatorStore {
    func appendEmpty() { states.append(empty) }

    @inline(__always)
    func apply(_ value: FieldValue, slot: Int, at time: Int64) {
        if let window { states[slot].evict(olderThan: time &- window) }
        states[slot].add(value, at: time)
    }

    func appendResult(slot: Int, to out: inout [UInt8]) { states[slot].appendResult(to: &out) }

    @inline(__always)
    func prefetch(slot: Int) {
        states.withUnsafeBufferPointer { eddy_prefetch($0.baseAddress! + slot) }
    }

    @inline(__always)
    func prefetchHeap(slot: Int) {
        let offsets = State.heapReferenceOffsets
        states.withUnsafeBufferPointer { prefetchReferencedObjects(at: $0.baseAddress! + slot, offsets: offsets) }
    }

    var holdsHeap: Bool {
        // One pointer wide, or the raw read in `prefetchReferencedObjects` would be wrong.
        MemoryLayout<[Int]>.size == MemoryLayout<UInt>.size
            && MemoryLayout<[String: Int64]>.size == MemoryLayout<UInt>.size
            && !State.heapReferenceOffsets.isEmpty
    }

    func reset(slot: Int) { states[slot] = empty }
    func encode(slot: Int, to writer: inout StateWriter) { states[slot].encodeState(to: &writer) }
    func decode(slot: Int, from reader: inout StateReader) throws(StateFormatError) {
        try states[slot].decodeState(from: &reader)
    }
    func bytes(slot: Int) -> Int { MemoryLayout<State>.stride + states[slot].heapBytes }
}

final class CountStore: AccumulatorStore {
    let empty: CountState
    let window: Int64?
    var states: [CountState] = []
    init(_ empty: CountState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class WindowedCountStore: AccumulatorStore {
    let empty: WindowedCountState
    let window: Int64?
    var states: [WindowedCountState] = []
    init(_ empty: WindowedCountState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class SumStore: AccumulatorStore {
    let empty: SumState
    let window: Int64?
    var states: [SumState] = []
    init(_ empty: SumState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class WindowedSumStore: AccumulatorStore {
    let empty: WindowedSumState
    let window: Int64?
    var states: [WindowedSumState] = []
    init(_ empty: WindowedSumState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class StddevStore: AccumulatorStore {
    let empty: StddevState
    let window: Int64?
    var states: [StddevState] = []
    init(_ empty: StddevState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class WindowedStddevStore: AccumulatorStore {
    let empty: WindowedStddevState
    let window: Int64?
    var states: [WindowedStddevState] = []
    init(_ empty: WindowedStddevState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class ExtremeStore: AccumulatorStore {
    let empty: ExtremeState
    let window: Int64?
    var states: [ExtremeState] = []
    init(_ empty: ExtremeState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class WindowedExtremeStore: AccumulatorStore {
    let empty: WindowedExtremeState
    let window: Int64?
    var states: [WindowedExtremeState] = []
    init(_ empty: WindowedExtremeState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class FirstStore: AccumulatorStore {
    let empty: FirstState
    let window: Int64?
    var states: [FirstState] = []
    init(_ empty: FirstState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class WindowedFirstStore: AccumulatorStore {
    let empty: WindowedFirstState
    let window: Int64?
    var states: [WindowedFirstState] = []
    init(_ empty: WindowedFirstState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class LastStore: AccumulatorStore {
    let empty: LastState
    let window: Int64?
    var states: [LastState] = []
    init(_ empty: LastState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class ValueCountsStore: AccumulatorStore {
    let empty: ValueCountsState
    let window: Int64?
    var states: [ValueCountsState] = []
    init(_ empty: ValueCountsState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}

final class CollectStore: AccumulatorStore {
    let empty: CollectState
    let window: Int64?
    var states: [CollectState] = []
    init(_ empty: CollectState, window: Int64?) {
        self.empty = empty
        self.window = window
    }
}
