import Foundation

/// Where keyed state lives while a job runs.
///
/// The contract every backend keeps: `slot(forKey:hash:)` makes a key's state resident in
/// `states` (restored from the backend's store or created empty) and returns its slot,
/// which stays valid until the next call to `endOfBatch()`; a backend with a memory budget
/// writes back and evicts cold keys only there, never while a batch of events holds slots.
/// `persist()` makes all state durable in the backend's own store, when it has one. A
/// backend instance belongs to one worker and is not shared across threads.
public protocol KeyedStateBackend: AnyObject {
    var states: KeyedStates { get }
    /// The slot of `key` (canonical text, with its `KeyGroups.stableHash`) in `states`.
    func slot(forKey key: String, hash: UInt64) throws -> Int
    /// The runtime applied a batch of events and holds no slot any more.
    func endOfBatch() throws
    /// Writes all state to the backend's durable store (nothing for `memory`).
    func persist() throws
    /// Number of distinct keys that hold state, resident or not.
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
    public func persist() {}
    public var keyCount: Int { states.count }
}

/// Heap state like `memory`; `persist()` writes a snapshot of every key, one file per key
/// group (`KeyGroupSnapshot`), to `directory`, replacing the previous snapshot atomically.
public final class FileSystemStateBackend: KeyedStateBackend {
    public let states: KeyedStates
    /// Where the snapshot directory is published.
    public let directory: String

    /// A backend with empty state whose snapshots go to `directory`.
    public init(plan: JobPlan, directory: String) {
        states = KeyedStates(plan: plan)
        self.directory = directory
    }

    /// A backend holding the state of the snapshot at `snapshot`.
    public convenience init(plan: JobPlan, directory: String, restoringFrom snapshot: String) throws {
        self.init(plan: plan, directory: directory)
        try KeyGroupSnapshot.read(from: snapshot, into: states)
    }

    @inline(__always)
    public func slot(forKey key: String, hash: UInt64) -> Int { states.slot(forKey: key, hash: hash) }
    public func endOfBatch() {}
    public func persist() throws {
        try DurableFiles.createDirectory((directory as NSString).deletingLastPathComponent)
        try KeyGroupSnapshot.write(states, to: directory)
    }
    public var keyCount: Int { states.count }
}

@available(*, unavailable, message: "a state backend belongs to one worker")
extension MemoryStateBackend: Sendable {}

@available(*, unavailable, message: "a state backend belongs to one worker")
extension FileSystemStateBackend: Sendable {}
