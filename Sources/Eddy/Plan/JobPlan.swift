/// A job spec compiled into the operator graph eddy runs:
/// source -> parse -> key-by -> keyed feature operators -> sink.
///
/// The parse stage extracts only the input columns the job needs; each gets a slot, and
/// every later stage refers to columns by slot, never by name.
public struct JobPlan: Sendable {
    public let spec: JobSpec
    /// The input columns the parser extracts, in slot order: keys first, then the time
    /// column, then feature fields and carried columns.
    public let fieldNames: [String]
    /// Slot of each key column, in key order.
    public let keySlots: [Int]
    public let timeSlot: Int?
    public let features: [FeaturePlan]
    /// Slots whose value must be a number (fields of sum, min, max, avg, stddev).
    public let numericSlots: [Int]
    public let carry: CarryPlan
    /// The broadcast inputs lookups read, loaded before the run (empty until then).
    public var broadcasts = BroadcastState.empty

    public init(_ spec: JobSpec) {
        var names: [String] = []
        func slot(_ name: String) -> Int {
            if let index = names.firstIndex(of: name) { return index }
            names.append(name)
            return names.count - 1
        }
        self.spec = spec
        keySlots = spec.keys.map(slot)
        timeSlot = spec.time.map(slot)
        features = spec.features.map { feature in
            FeaturePlan(spec: feature, fieldSlot: feature.field.map(slot))
        }
        numericSlots = Array(Set(features.filter(\.needsNumbers).compactMap(\.fieldSlot))).sorted()
        switch spec.carry {
        case .none: carry = .none
        case .all: carry = .all
        case .columns(let columns): carry = .columns(columns.map { (name: $0, slot: slot($0)) })
        }
        fieldNames = names
    }

    /// The broadcast inputs the job's lookups read, by name, with the features reading each.
    public var broadcastInputs: [String: [FeaturePlan]] {
        Dictionary(grouping: features.filter { $0.spec.lookup != nil }, by: { $0.spec.lookup!.from })
    }

    /// Every lookup with the field it reads, for indexing broadcast state.
    public var lookups: [(lookup: BroadcastLookup, field: String)] {
        features.compactMap { feature in feature.spec.lookup.map { ($0, feature.spec.field ?? "") } }
    }

    /// Names the output already has besides carried columns: `carry: ["*"]` skips them.
    public var reservedOutputNames: Set<String> {
        Set(spec.keys + (spec.time.map { [$0] } ?? []) + features.map(\.name))
    }

    /// The output columns in order: keys, time, carried columns (when known), features; with
    /// windows, keys, `window_start`, `window_end`, features.
    public var outputColumns: [String] {
        if spec.emit.isWindowed { return spec.keys + ["window_start", "window_end"] + features.map(\.name) }
        var columns = spec.keys
        if let time = spec.time { columns.append(time) }
        if case .columns(let carried) = carry { columns += carried.map(\.name) }
        return columns + features.map(\.name)
    }
}

public enum CarryPlan: Sendable {
    case none
    /// Every input column of each record, in input order.
    case all
    case columns([(name: String, slot: Int)])
}

/// One keyed feature operator: which state it keeps and which slot feeds it.
public struct FeaturePlan: Sendable {
    public let spec: FeatureSpec
    /// The slot of `field`, or nil for a field-less `count`.
    public let fieldSlot: Int?

    public var name: String { spec.name }
    /// The lookback in microseconds, or nil for unbounded.
    public var window: Int64? { spec.window?.microseconds }

    /// Operators that reject a record whose field is present but not a number.
    public var needsNumbers: Bool {
        switch spec.op {
        case .sum, .min, .max, .avg, .stddev: true
        case .first, .last, .count, .countDistinct, .histogram, .collect, .lookup: false
        }
    }

    /// The store of this feature's state for every key; lookups read `broadcasts`.
    func makeStore(broadcasts: BroadcastState) -> FeatureStore {
        let window = window
        let windowed = window != nil
        switch spec.op {
        case .count: return windowed ? WindowedCountStore(WindowedCountState(), window: window) : CountStore(CountState(), window: nil)
        case .sum, .avg:
            let average = spec.op == .avg
            return windowed
                ? WindowedSumStore(WindowedSumState(average: average), window: window)
                : average ? AverageStore(AverageState(), window: nil) as FeatureStore : SumStore(SumState(), window: nil)
        case .stddev: return windowed ? WindowedStddevStore(WindowedStddevState(), window: window) : StddevStore(StddevState(), window: nil)
        case .min, .max:
            let isMax = spec.op == .max
            return windowed
                ? WindowedExtremeStore(WindowedExtremeState(isMax: isMax), window: window)
                : ExtremeStore(ExtremeState(isMax: isMax), window: nil)
        case .first: return windowed ? WindowedFirstStore(WindowedFirstState(), window: window) : FirstStore(FirstState(), window: nil)
        case .last: return LastStore(LastState(windowed: windowed), window: window)
        case .countDistinct, .histogram:
            if windowed, spec.op == .countDistinct { return WindowedDistinctStore(window: window) }
            return ValueCountsStore(ValueCountsState(windowed: windowed, histogram: spec.op == .histogram), window: window)
        case .collect:
            // Specs from files always have a field and a positive limit (the decoder checks);
            // one built in code without them goes to the heap collect, which takes both.
            if let limit = spec.limit, (1...RecentCollectStore.largestLimit).contains(limit), spec.field != nil {
                return RecentCollectStore(limit: limit, window: window)
            }
            return CollectStore(CollectState(limit: spec.limit), window: window)
        case .lookup: return LookupStore(values: broadcasts.index(of: spec.lookup!, field: spec.field ?? ""))
        }
    }
}
