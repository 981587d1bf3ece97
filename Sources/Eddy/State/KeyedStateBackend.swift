/// All of one key's feature states, in `dict` order: one row per key, so an event costs one
/// state lookup whatever the number of features.
public final class KeyState {
    /// The key's canonical text: the JSON texts of its key columns joined by U+001F.
    public let key: String
    /// The key group the key belongs to; state is stored and snapshotted per key group.
    public let keyGroup: Int
    let features: [FeatureState]

    init(key: String, keyGroup: Int, features: [FeatureState]) {
        self.key = key
        self.keyGroup = keyGroup
        self.features = features
    }
}

/// Where keyed state lives while a job runs.
///
/// The contract every backend keeps: `row(forKey:)` returns the one live row of a key,
/// created empty on first use; rows are grouped by key group so that a backend can store,
/// snapshot and hand over state one key group at a time (a contiguous range in RocksDB,
/// one file per group in a filesystem snapshot). A backend instance belongs to one worker
/// and is not shared across threads.
public protocol KeyedStateBackend: AnyObject {
    /// The live row for `key` (canonical text), created empty on first use.
    func row(forKey key: String) -> KeyState
    /// Number of keys that hold state.
    var keyCount: Int { get }
    /// Visits every row whose key group is in `keyGroups`, in key-group order.
    func forEachRow(inKeyGroups keyGroups: ClosedRange<Int>, _ body: (KeyState) throws -> Void) rethrows
}

/// Heap state, nothing durable: the fastest backend, for jobs that need no checkpoints.
public final class MemoryStateBackend: KeyedStateBackend {
    private let features: [FeaturePlan]
    private let maxParallelism: Int
    private var table = KeyTable()

    public init(plan: JobPlan) {
        features = plan.features
        maxParallelism = plan.spec.maxParallelism
    }

    public func row(forKey key: String) -> KeyState {
        let hash = KeyGroups.stableHash(ofKey: key)
        if let row = table.find(key, hash: hash) { return row }
        let row = KeyState(
            key: key, keyGroup: Int(hash % UInt64(maxParallelism)),
            features: features.map { $0.makeState() })
        table.insert(row, hash: hash)
        return row
    }

    public var keyCount: Int { table.count }

    public func forEachRow(inKeyGroups keyGroups: ClosedRange<Int>, _ body: (KeyState) throws -> Void) rethrows {
        let selected = table.rows.filter { keyGroups.contains($0.keyGroup) }
        for row in selected.sorted(by: { ($0.keyGroup, $0.key) < ($1.keyGroup, $1.key) }) {
            try body(row)
        }
    }
}

@available(*, unavailable, message: "a state backend belongs to one worker")
extension MemoryStateBackend: Sendable {}
