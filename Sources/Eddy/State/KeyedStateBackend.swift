import Foundation

/// Where keyed state lives while a job runs.
///
/// The contract every backend keeps: `slot(forKey:hash:)` makes a key's state resident in
/// `states` (restored from the backend's store or created empty) and returns its slot,
/// which stays valid until the next call to `endOfBatch()` (or for good, when
/// `keepsSlotsAcrossBatches`); a backend with a memory budget writes back and evicts cold
/// keys only there, never while a batch of events holds slots.
/// `persist(_:buffered:)` makes all state durable in the backend's own store, when it has
/// one, together with the events still waiting for the watermark (keyed too: each belongs
/// to its key's key group).
///
/// A backend instance belongs to one keyed worker, which owns a range of key groups, and is
/// used by one thread at a time. The operations on a run's whole state (persist,
/// checkpoint) take every worker's backend at once: together they own every key group.
public protocol KeyedStateBackend: AnyObject {
    var states: KeyedStates { get }
    /// The slot of `key` (canonical text, with its `KeyGroups.stableHash`) in `states`.
    func slot(forKey key: String, hash: UInt64) throws -> Int
    /// The slot of the key stored at `key` when it is resident (as `slot(forKey:hash:)`
    /// would give it), or nil: the key is read in place, so a hit copies nothing.
    func residentSlot(forKeyAt key: UnsafePointer<String>, hash: UInt64) -> Int?
    /// `slot(forKey:hash:)` for a key `residentSlot(forKeyAt:hash:)` just found not resident,
    /// with no state made resident since: a backend that keeps every key resident creates
    /// its state without looking for it again.
    func slot(forKeyNotResident key: String, hash: UInt64) throws -> Int
    /// The runtime applied a batch of events and holds no slot any more (except slots of
    /// the next batches, when `keepsSlotsAcrossBatches`).
    func endOfBatch() throws
    /// Whether slots stay valid across `endOfBatch()` (a backend that never evicts), so the
    /// runtime may look up the next batches' keys before it applies the current one.
    var keepsSlotsAcrossBatches: Bool { get }
    /// Writes the keyed state of every worker in `workers` and `buffered` (replacing what
    /// an earlier call wrote) to the backends' durable store; nothing for `memory`.
    static func persist(_ workers: [Self], buffered: [BufferedEvent]) throws
    /// Number of distinct keys that hold state, resident or not.
    var keyCount: Int { get }
    /// Removes the state of every key (resident or not) last updated before `cutoff`: the
    /// state TTL's cleanup. Returns how many keys it removed.
    func expire(before cutoff: Int64) throws -> Int
}

extension KeyedStateBackend {
    /// No key is found in place: callers then go through `slot(forKey:hash:)`, which is
    /// right for any backend, only slower.
    public func residentSlot(forKeyAt key: UnsafePointer<String>, hash: UInt64) -> Int? { nil }

    /// The general way: a backend that restores keys from its store looks there first.
    public func slot(forKeyNotResident key: String, hash: UInt64) throws -> Int { try slot(forKey: key, hash: hash) }

    /// `persist` for a backend that is a run's only worker.
    public func persist(buffered: [BufferedEvent]) throws { try Self.persist([self], buffered: buffered) }
}

/// A backend whose state a checkpoint can capture.
public protocol CheckpointingStateBackend: KeyedStateBackend {
    /// Writes the keyed state of every worker in `workers` and `buffered` into the staged
    /// checkpoint.
    static func checkpoint(_ workers: [Self], buffered: [BufferedEvent], into staging: CheckpointStaging) throws
    /// The buffered events of this worker's key groups in the state it was restored from.
    var restoredEvents: [BufferedEvent] { get }
}

extension CheckpointingStateBackend {
    /// `checkpoint` for a backend that is a run's only worker.
    public func checkpoint(buffered: [BufferedEvent], into staging: CheckpointStaging) throws {
        try Self.checkpoint([self], buffered: buffered, into: staging)
    }
}

/// Heap state, nothing durable: the fastest backend, for jobs that need no checkpoints.
public final class MemoryStateBackend: KeyedStateBackend {
    public let states: KeyedStates

    public init(plan: JobPlan) {
        states = KeyedStates(plan: plan)
    }

    @inline(__always)
    public func slot(forKey key: String, hash: UInt64) -> Int { states.slot(forKey: key, hash: hash) }
    @inline(__always)
    public func residentSlot(forKeyAt key: UnsafePointer<String>, hash: UInt64) -> Int? { states.find(keyAt: key, hash: hash) }
    /// Every key is resident here: one not found is new.
    public func slot(forKeyNotResident key: String, hash: UInt64) -> Int { states.insert(key, hash: hash) }
    public func endOfBatch() {}
    public var keepsSlotsAcrossBatches: Bool { true }
    public static func persist(_ workers: [MemoryStateBackend], buffered: [BufferedEvent]) {}
    public var keyCount: Int { states.count }
    public func expire(before cutoff: Int64) -> Int { states.removeExpired(before: cutoff) }
}

extension DirectoryLock {
    /// The lock a run holds on its `--state-dir` while a durable backend (fs or rocksdb)
    /// keeps files there: another run would wipe them, or publish snapshots mixed with its own.
    static func stateDirectory(_ directory: String) throws(IOError) -> DirectoryLock {
        try DirectoryLock(directory, purpose: "state directory", fix: "wait for that run to end, or give this one another --state-dir")
    }
}

/// Heap state like `memory`; `persist` writes a snapshot of every key, one file per key
/// group (`KeyGroupSnapshot`), to `directory`, replacing the previous snapshot atomically.
/// A worker restored from a snapshot reads only the files of the key groups it owns, so a
/// snapshot written by any number of workers restores onto any other number.
public final class FileSystemStateBackend: KeyedStateBackend {
    public let states: KeyedStates
    /// Where the snapshot directory is published.
    public let directory: String

    /// A backend with empty state whose snapshots go to `directory`.
    public init(plan: JobPlan, directory: String) {
        states = KeyedStates(plan: plan)
        self.directory = directory
    }

    /// A worker holding the state of `keyGroups` (all by default) in the snapshot at
    /// `snapshot`; the snapshot's buffered events of those key groups are in `restoredEvents`.
    public convenience init(
        plan: JobPlan, directory: String, restoringFrom snapshot: String, keyGroups: ClosedRange<Int>? = nil,
        translating translation: StateTranslation? = nil
    ) throws {
        self.init(plan: plan, directory: directory)
        restoredEvents = try KeyGroupSnapshot.read(
            from: snapshot, into: states, keyGroups: keyGroups ?? 0...(plan.spec.maxParallelism - 1), translating: translation)
    }

    /// The buffered events of the restored snapshot, in key-group then (time, sequence) order.
    public private(set) var restoredEvents: [BufferedEvent] = []

    @inline(__always)
    public func slot(forKey key: String, hash: UInt64) -> Int { states.slot(forKey: key, hash: hash) }
    @inline(__always)
    public func residentSlot(forKeyAt key: UnsafePointer<String>, hash: UInt64) -> Int? { states.find(keyAt: key, hash: hash) }
    /// Every key is resident here: one not found is new.
    public func slot(forKeyNotResident key: String, hash: UInt64) -> Int { states.insert(key, hash: hash) }
    public func endOfBatch() {}
    public var keepsSlotsAcrossBatches: Bool { true }
    public static func persist(_ workers: [FileSystemStateBackend], buffered: [BufferedEvent]) throws {
        let directory = workers[0].directory
        try DurableFiles.createDirectory((directory as NSString).deletingLastPathComponent)
        try KeyGroupSnapshot.write(workers.map(\.states), buffered: buffered, to: directory)
    }

    /// Writes the snapshot of every worker's key groups into the checkpoint's `state/` directory.
    public static func checkpoint(_ workers: [FileSystemStateBackend], buffered: [BufferedEvent], into staging: CheckpointStaging) throws {
        try KeyGroupSnapshot.write(workers.map(\.states), buffered: buffered, to: staging.directory + "/state")
        for name in try DurableFiles.list(staging.directory + "/state") { try staging.addPrivateFile("state/" + name) }
    }

    /// A worker holding the state of `keyGroups` (all by default) of a checkpoint (its
    /// directory under the checkpoint root).
    public convenience init(
        plan: JobPlan, directory: String, restoringCheckpoint checkpoint: String, keyGroups: ClosedRange<Int>? = nil,
        translating translation: StateTranslation? = nil
    ) throws {
        try self.init(plan: plan, directory: directory, restoringFrom: checkpoint + "/state", keyGroups: keyGroups, translating: translation)
    }
    public var keyCount: Int { states.count }
    public func expire(before cutoff: Int64) -> Int { states.removeExpired(before: cutoff) }
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

/// How a restore rewrites a checkpoint's state written under another layout of features
/// (a job resumed with features added, dropped or reordered): each key's row and each
/// buffered event, from the checkpoint's layout to the run's. Built by the runtime, which
/// knows both specs (`StateEvolution`).
public struct StateTranslation {
    let row: (UnsafeRawBufferPointer) throws(StateFormatError) -> [UInt8]
    let event: ([UInt8]) throws(StateFormatError) -> [UInt8]

    init(
        row: @escaping (UnsafeRawBufferPointer) throws(StateFormatError) -> [UInt8],
        event: @escaping ([UInt8]) throws(StateFormatError) -> [UInt8]
    ) {
        self.row = row
        self.event = event
    }
}
