import Foundation

/// Where keyed state lives while a job runs.
///
/// The contract every backend keeps: `slot(forKey:hash:)` makes a key's state resident in
/// `states` (restored from the backend's store or created empty) and returns its slot,
/// which stays valid until the next call to `endOfBatch()`; a backend with a memory budget
/// writes back and evicts cold keys only there, never while a batch of events holds slots.
/// `persist(buffered:)` makes all state durable in the backend's own store, when it has one,
/// together with the events still waiting for the watermark (keyed too: each belongs to
/// its key's key group). A backend instance belongs to one worker and is not shared across
/// threads.
public protocol KeyedStateBackend: AnyObject {
    var states: KeyedStates { get }
    /// The slot of `key` (canonical text, with its `KeyGroups.stableHash`) in `states`.
    func slot(forKey key: String, hash: UInt64) throws -> Int
    /// The runtime applied a batch of events and holds no slot any more.
    func endOfBatch() throws
    /// Writes all keyed state and `buffered` (replacing what an earlier call wrote) to the
    /// backend's durable store; nothing for `memory`.
    func persist(buffered: [BufferedEvent]) throws
    /// Number of distinct keys that hold state, resident or not.
    var keyCount: Int { get }
}

/// A backend whose state a checkpoint can capture.
public protocol CheckpointingStateBackend: KeyedStateBackend {
    /// Writes all keyed state and `buffered` into the staged checkpoint.
    func checkpoint(buffered: [BufferedEvent], into staging: CheckpointStaging) throws
    /// The buffered events of the state the backend was restored from.
    var restoredEvents: [BufferedEvent] { get }
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
    public func persist(buffered: [BufferedEvent]) {}
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

    /// A backend holding the state of the snapshot at `snapshot`; the snapshot's buffered
    /// events are in `restoredEvents`.
    public convenience init(plan: JobPlan, directory: String, restoringFrom snapshot: String) throws {
        self.init(plan: plan, directory: directory)
        restoredEvents = try KeyGroupSnapshot.read(from: snapshot, into: states)
    }

    /// The buffered events of the restored snapshot, in key-group then (time, sequence) order.
    public private(set) var restoredEvents: [BufferedEvent] = []

    @inline(__always)
    public func slot(forKey key: String, hash: UInt64) -> Int { states.slot(forKey: key, hash: hash) }
    public func endOfBatch() {}
    public func persist(buffered: [BufferedEvent]) throws {
        try DurableFiles.createDirectory((directory as NSString).deletingLastPathComponent)
        try KeyGroupSnapshot.write(states, buffered: buffered, to: directory)
    }

    /// Writes the snapshot into the checkpoint's `state/` directory.
    public func checkpoint(buffered: [BufferedEvent], into staging: CheckpointStaging) throws {
        try KeyGroupSnapshot.write(states, buffered: buffered, to: staging.directory + "/state")
        for name in try DurableFiles.list(staging.directory + "/state") { try staging.addPrivateFile("state/" + name) }
    }

    /// A backend holding the state of a checkpoint (its directory under the checkpoint root).
    public convenience init(plan: JobPlan, directory: String, restoringCheckpoint checkpoint: String) throws {
        try self.init(plan: plan, directory: directory, restoringFrom: checkpoint + "/state")
    }
    public var keyCount: Int { states.count }
}

@available(*, unavailable, message: "a state backend belongs to one worker")
extension MemoryStateBackend: Sendable {}

@available(*, unavailable, message: "a state backend belongs to one worker")
extension FileSystemStateBackend: Sendable {}

extension FileSystemStateBackend: CheckpointingStateBackend {}

/// An event accepted but not yet released by the watermark, as a backend persists it: the
/// runtime's encoding of the event, filed under its key's key group and ordered by
/// (time, arrival sequence).
public struct BufferedEvent: Sendable, Equatable {
    public var keyGroup: Int
    public var time: Int64
    public var sequence: Int64
    public var bytes: [UInt8]

    public init(keyGroup: Int, time: Int64, sequence: Int64, bytes: [UInt8]) {
        self.keyGroup = keyGroup
        self.time = time
        self.sequence = sequence
        self.bytes = bytes
    }

    static func precedes(_ a: BufferedEvent, _ b: BufferedEvent) -> Bool {
        (a.keyGroup, a.time, a.sequence) < (b.keyGroup, b.time, b.sequence)
    }
}
