import CEddySupport

/// One feature's state for every resident key, stored contiguously and indexed by the key's
/// slot: an event finds its state by indexing arrays, not by chasing an object per feature.
public protocol FeatureStore: AnyObject {
    /// Adds an empty state at slot `count` (slots are dense).
    func appendEmpty()
    /// Applies one event to a key's state: drops what left the lookback window before the
    /// event's time, then adds the event's value.
    func apply(_ value: FieldValue, slot: Int, at time: Int64)
    /// Appends the key's current result as JSON text.
    func appendResult(slot: Int, to out: inout [UInt8])
    /// Starts loading a key's state into the cache ahead of `apply`.
    func prefetch(slot: Int)
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

/// The state of every resident key: the keys, their key groups, and one store per feature
/// (in `dict` order), all indexed by the key's slot.
public final class KeyedStates {
    let stores: [FeatureStore]
    private let maxParallelism: UInt64
    private var table = KeyTable()
    /// The canonical text of each slot's key.
    private(set) var keys: [String] = []
    /// The key group of each slot's key.
    private(set) var keyGroups: [Int32] = []

    public init(plan: JobPlan) {
        stores = plan.features.map { $0.makeStore() }
        maxParallelism = UInt64(plan.spec.maxParallelism)
    }

    public var count: Int { keys.count }

    /// Starts loading what `slot(forKey:hash:)` will read first.
    @inline(__always)
    func prefetch(hash: UInt64) { table.prefetch(hash: hash) }

    /// The slot of `key`, created with empty state on first use; `hash` is the key's
    /// `KeyGroups.stableHash`.
    @inline(__always)
    func slot(forKey key: String, hash: UInt64) -> Int {
        if let slot = table.find(key, hash: hash) { return slot }
        let slot = keys.count
        keys.append(key)
        keyGroups.append(Int32(truncatingIfNeeded: hash % maxParallelism))
        for store in stores { store.appendEmpty() }
        table.insert(key, slot: slot, hash: hash)
        return slot
    }
}

/// Where keyed state lives while a job runs.
///
/// The contract every backend keeps: `slot(forKey:)` makes a key's state resident in
/// `states` (created empty on first use) and returns its slot, which stays valid until the
/// next call to `endOfBatch()`; a backend with a memory budget writes back and evicts cold
/// keys only there, never while a batch of events holds slots. A backend instance belongs to
/// one worker and is not shared across threads.
public protocol KeyedStateBackend: AnyObject {
    var states: KeyedStates { get }
    /// The slot of `key` (canonical text, with its `KeyGroups.stableHash`) in `states`.
    func slot(forKey key: String, hash: UInt64) -> Int
    /// The runtime applied a batch of events and holds no slot any more.
    func endOfBatch() throws
    /// Number of keys that hold state.
    var keyCount: Int { get }
}

/// Heap state, nothing durable: the fastest backend, for jobs that need no checkpoints.
public final class MemoryStateBackend: KeyedStateBackend {
    public let states: KeyedStates

    public init(plan: JobPlan) {
        states = KeyedStates(plan: plan)
    }

    @inline(__always)
    public func slot(forKey key: String, hash: UInt64) -> Int { states.slot(forKey: key, hash: hash) }
    public func endOfBatch() {}
    public var keyCount: Int { states.count }
}

@available(*, unavailable, message: "a state backend belongs to one worker")
extension MemoryStateBackend: Sendable {}
