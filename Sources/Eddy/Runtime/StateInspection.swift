import Foundation
import Glibc
import RocksStore

/// Reads the keyed state a checkpoint holds without running its job (`eddy state get|dump`).
///
/// The job spec comes from the checkpoint's metadata, and each key's row is decoded by the
/// code a resume uses (`KeyGroupSnapshot.read` for `fs`, `RocksStateStore`'s restore and
/// `KeyedStates.decodeRow` for `rocksdb`) into a `KeyedStates` of that plan; each feature's
/// value is then what its store appends to an output record (`FeatureStore.appendResult`),
/// so it is written exactly as eddy writes it.
///
/// The checkpoint is never written to: it is verified (sizes, CRC-32C) first, fs snapshot
/// files are only read, and a rocksdb checkpoint is rebuilt in a temporary directory the way
/// `--resume` rebuilds it (private files copied, shared SST files hard-linked, which RocksDB
/// never writes to), then opened there; the temporary directory goes with the reader.
public final class CheckpointStateReader {
    /// The checkpoint directory (`.../chk-000042`).
    public let checkpoint: String
    public let metadata: CheckpointMetadata
    /// The plan of the spec the checkpoint stores, with the checkpoint's key-group count.
    public let plan: JobPlan
    /// Features with keyed state, by index into `plan.features`: lookups keep none (their
    /// value depends on the event and the broadcast input, not on the key).
    private let keyedFeatures: [Int]
    private let rocks: RocksStateStore?
    private let temporaryDirectory: String?

    /// Opens checkpoint directory `checkpoint` after checking every file it lists.
    public init(checkpoint path: String) throws(CheckpointError) {
        let (id, root) = try CheckpointStore.verifiedCheckpoint(at: path, example: "eddy-checkpoints/JOB")
        let trimmed = root + "/" + CheckpointStore.name(of: id)
        checkpoint = trimmed
        metadata = try CheckpointStore.load(id: id, in: root)
        var spec: JobSpec
        do {
            spec = try JobSpec.decode(Array(metadata.spec.utf8)).spec
        } catch {
            throw CheckpointError(
                "\(trimmed)/_metadata: the job spec it stores does not decode (\(error.diagnostics.map(\.description).joined(separator: "; ")))")
        }
        // A run may have overridden the spec's with --max-parallelism: the state's key
        // groups are the checkpoint's.
        spec.maxParallelism = metadata.maxParallelism
        let plan = JobPlan(spec)
        self.plan = plan
        keyedFeatures = plan.features.indices.filter { plan.features[$0].spec.lookup == nil }
        switch metadata.backend {
        case StateBackendKind.fs.rawValue:
            rocks = nil
            temporaryDirectory = nil
        case StateBackendKind.rocksdb.rawValue:
            var template = Array((NSTemporaryDirectory() + "/eddy-state-XXXXXX").utf8CString)
            guard let made = mkdtemp(&template) else {
                throw CheckpointError("cannot create a temporary directory in \(NSTemporaryDirectory()): \(String(cString: strerror(errno))); set TMPDIR to a writable directory")
            }
            let directory = String(cString: made)
            do {
                rocks = try RocksStateStore(directory: directory + "/rocksdb", restoring: metadata, from: root)
            } catch {
                try? DurableFiles.remove(directory)
                throw CheckpointError("\(trimmed): cannot open its RocksDB state: \(error)")
            }
            temporaryDirectory = directory
        default:
            throw CheckpointError("\(trimmed)/_metadata: backend \(metadata.backend), this eddy reads fs and rocksdb state")
        }
    }

    deinit {
        // The database closes before its files are removed (its deinit closes it).
        rocks?.closeForInspection()
        if let temporaryDirectory { try? DurableFiles.remove(temporaryDirectory) }
    }

    /// The checkpoint `argument` names: a checkpoint directory, or `latest`, the newest one
    /// under `checkpointDirectory` that verifies (with a note for each newer one skipped as
    /// damaged), as `--resume latest` picks it.
    public static func locate(
        _ argument: String, checkpointDirectory: String?
    ) throws(CheckpointError) -> (path: String, skipped: [String]) {
        guard argument == "latest" else { return (argument, []) }
        guard let root = checkpointDirectory else {
            throw CheckpointError("latest needs the checkpoint directory: add --checkpoint-dir DIR (e.g. eddy-checkpoints/JOB)")
        }
        let found = try CheckpointStore.newestVerified(in: root)
        return (found.root + "/" + CheckpointStore.name(of: found.metadata.id), found.skipped)
    }

    /// The canonical key (as state stores it) of the key whose columns have the values
    /// `values`, in the spec's key order: each value is JSON text (`42`, `"c-1"`, `true`),
    /// and text that is not JSON is taken as a string (`c-1` is `"c-1"`).
    public func canonicalKey(_ values: [String]) throws(CheckpointError) -> String {
        let columns = plan.spec.keys
        guard values.count == columns.count else {
            throw CheckpointError(
                "the job's key is \(columns.count) column\(columns.count == 1 ? "" : "s") (\(columns.joined(separator: ", "))), got \(values.count) --key value\(values.count == 1 ? "" : "s"): give one --key per column, in that order")
        }
        return values.map(Self.canonicalText).joined(separator: "\u{1F}")
    }

    /// `value`'s canonical JSON text as the job's reader makes it, or the quoted string.
    private static func canonicalText(_ value: String) -> String {
        var scanner = JSONObjectScanner(fieldNames: ["value"])
        var values = [FieldValue.missing]
        let record = Array(("{\"value\":" + value + "}").utf8)
        let problem = record.withUnsafeBytes { scanner.scan($0, into: &values) }
        guard problem == nil, values[0].kind != .missing else { return JSONText.quote(value) }
        return values[0].text
    }

    /// The key group of a canonical key.
    public func keyGroup(ofKey key: String) -> Int {
        KeyGroups.keyGroup(ofKey: key, maxParallelism: plan.spec.maxParallelism)
    }

    /// The state of one key, nil when the checkpoint holds none for it.
    public func state(ofKey key: String) throws(CheckpointError) -> InspectedKey? {
        var found: InspectedKey?
        let keyGroup = keyGroup(ofKey: key)
        if let rocks {
            let states = KeyedStates(plan: plan)
            var rowKey: [UInt8] = []
            RocksStateLayout.rowKey(key, keyGroup: keyGroup, into: &rowKey)
            do {
                try inspecting("key group \(keyGroup)") {
                    try rocks.database.withValue(forKey: rowKey) { row in
                        guard let row else { return }
                        found = try inspect(key, keyGroup: keyGroup, row: row, into: states)
                    }
                }
            } catch let error as CheckpointError {
                throw error
            } catch {
                // Nothing but the database and the decoding runs in there.
                throw CheckpointError("\(checkpoint) (rocksdb, key group \(keyGroup)): \(error)")
            }
        } else {
            let states = try snapshot(keyGroups: keyGroup...keyGroup)
            found = states.find(key, hash: KeyGroups.stableHash(ofKey: key)).map { inspect(slot: $0, of: states) }
        }
        return found
    }

    /// Calls `body` with every key's state in persisted order (key group, then the key's
    /// bytes), of every key group or those of `keyGroups`.
    public func forEachKey(
        inKeyGroups keyGroups: ClosedRange<Int>? = nil, _ body: (InspectedKey) throws -> Void
    ) throws {
        let groups = keyGroups ?? 0...(plan.spec.maxParallelism - 1)
        if let rocks {
            // One key-group range, one scan: rows of a key group lie together, followed by its
            // buffered events (namespace 1), which are skipped.
            let states = KeyedStates(plan: plan)
            try inspecting("key groups \(groups.lowerBound)...\(groups.upperBound)") {
                try scan(rocks, keyGroups: groups) { rowKey, row in
                    guard rowKey.count > 3, rowKey[2] == RocksStateLayout.featureRows else { return }
                    let keyGroup = Int(rowKey[0]) << 8 | Int(rowKey[1])
                    guard let key = String(validating: UnsafeRawBufferPointer(rebasing: rowKey[3...]), as: UTF8.self) else {
                        throw StateFormatError("a key in key group \(keyGroup) is not UTF-8")
                    }
                    try body(try inspect(key, keyGroup: keyGroup, row: row, into: states))
                }
            }
        } else {
            let states = try snapshot(keyGroups: groups)
            for slot in states.residentSlotsByKeyGroup() { try body(inspect(slot: slot, of: states)) }
        }
    }

    /// Every RocksDB entry of the key groups `groups` (rows and buffered events), in order.
    private func scan(
        _ rocks: RocksStateStore, keyGroups groups: ClosedRange<Int>,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let end = groups.upperBound + 1 < plan.spec.maxParallelism ? RocksStateLayout.keyGroupPrefix(groups.upperBound + 1) : nil
        try rocks.database.scan(from: RocksStateLayout.keyGroupPrefix(groups.lowerBound), to: end, body)
    }

    /// Calls `body` with every event the checkpoint holds that was waiting for the watermark
    /// (and so every open window's and session's events), in persisted order (key group,
    /// then the time it is filed under, then arrival), of every key group or those of
    /// `keyGroups`; each decoded as a resume decodes it (`BufferedEventCodec`).
    public func forEachBufferedEvent(
        inKeyGroups keyGroups: ClosedRange<Int>? = nil, _ body: (InspectedEvent) throws -> Void
    ) throws {
        let groups = keyGroups ?? 0...(plan.spec.maxParallelism - 1)
        if let rocks {
            try inspecting("buffered events of key groups \(groups.lowerBound)...\(groups.upperBound)") {
                try scan(rocks, keyGroups: groups) { key, value in
                    guard key.count > 2, key[2] == RocksStateLayout.bufferedEvents else { return }
                    try body(try inspect(RocksStateLayout.bufferedEvent(key: key, value: value)))
                }
            }
        } else {
            var events: [BufferedEvent] = []
            _ = try snapshot(keyGroups: groups, buffered: &events)
            for event in events {
                do { try body(try inspect(event)) } catch let error as StateFormatError {
                    throw CheckpointError("\(checkpoint)/state/\(KeyGroupSnapshot.fileName(keyGroup: event.keyGroup)): \(error)")
                }
            }
        }
    }

    /// A buffered event's key, fields and where it is filed.
    private func inspect(_ event: BufferedEvent) throws(StateFormatError) -> InspectedEvent {
        let (values, members) = try BufferedEventCodec.decode(event.bytes, width: plan.fieldNames.count)
        let key = plan.keySlots.map { values[$0].kind == .missing ? "null" : values[$0].text }
        guard self.keyGroup(ofKey: plan.keySlots.map { values[$0].text }.joined(separator: "\u{1F}")) == event.keyGroup else {
            throw StateFormatError("a buffered event of key \(key.joined(separator: ", ")) is filed under key group \(event.keyGroup), which is not its key's")
        }
        var fields = zip(plan.fieldNames, values).filter { $0.1.kind != .missing }.map { ($0.0, $0.1.text) }
        let named = Set(plan.fieldNames)
        // `carry: ["*"]`: the input's other columns, kept beside the plan's fields.
        fields += members.filter { !named.contains($0.name) }.map { ($0.name, $0.value.kind == .missing ? "null" : $0.value.text) }
        return InspectedEvent(
            keyGroup: event.keyGroup, keyColumns: Array(zip(plan.spec.keys, key)),
            time: event.time / plan.spec.timeUnit.microseconds, sequence: event.sequence, fields: fields)
    }

    /// The fs checkpoint's keys of `keyGroups`, read as a resume reads them (checksums and
    /// key groups checked).
    private func snapshot(keyGroups: ClosedRange<Int>) throws(CheckpointError) -> KeyedStates {
        var ignored: [BufferedEvent] = []
        return try snapshot(keyGroups: keyGroups, buffered: &ignored)
    }

    /// `snapshot(keyGroups:)`, with those key groups' buffered events.
    private func snapshot(keyGroups: ClosedRange<Int>, buffered: inout [BufferedEvent]) throws(CheckpointError) -> KeyedStates {
        let states = KeyedStates(plan: plan)
        let directory = checkpoint + "/state"
        // A checkpoint of a run that held no key and no buffered event has no snapshot files.
        guard DurableFiles.exists(directory) else { return states }
        do {
            buffered = try KeyGroupSnapshot.read(from: directory, into: states, keyGroups: keyGroups)
        } catch {
            throw CheckpointError(error.message)
        }
        return states
    }

    /// Decodes one rocksdb row of `key` into `states` (left empty again) and inspects it.
    private func inspect(_ key: String, keyGroup: Int, row: UnsafeRawBufferPointer, into states: KeyedStates) throws -> InspectedKey {
        guard self.keyGroup(ofKey: key) == keyGroup else {
            throw StateFormatError(
                "key \(key) belongs to key group \(self.keyGroup(ofKey: key)) with maxParallelism \(plan.spec.maxParallelism), not \(keyGroup)")
        }
        let slot = states.insert(key, hash: KeyGroups.stableHash(ofKey: key))
        defer { states.remove(slot: slot) }
        do {
            try states.decodeRow(slot: slot, from: row)
        } catch {
            throw StateFormatError("key \(key) (key group \(keyGroup)): \(error.message)")
        }
        return inspect(slot: slot, of: states)
    }

    /// A resident key's state: its columns, key group, last update and each keyed feature's
    /// current result.
    private func inspect(slot: Int, of states: KeyedStates) -> InspectedKey {
        let key = states.keys[slot]
        // Composite keys join their columns' JSON texts with U+001F, which JSON text cannot
        // hold unescaped (`KeyedFeatureOperator.canonicalKey`).
        let columns = plan.spec.keys.count == 1
            ? [key] : key.unicodeScalars.split(separator: "\u{1F}", omittingEmptySubsequences: false).map { String($0) }
        let result = ByteBuffer(capacity: 256)
        var persisted = StateWriter()
        var features: [(name: String, value: String)] = []
        var stateBytes: [(name: String, bytes: Int)] = []
        for index in keyedFeatures {
            result.removeAll()
            states.stores[index].appendResult(slot: slot, to: result)
            features.append((plan.features[index].name, String(decoding: result.array, as: UTF8.self)))
            // What the feature's state takes in the row a checkpoint persists (its window's
            // entries, its distinct values): which feature makes a key's state large.
            persisted.removeAll()
            states.stores[index].encode(slot: slot, to: &persisted)
            stateBytes.append((plan.features[index].name, persisted.withBytes(\.count)))
        }
        let lastUpdated = states.lastUpdated[slot]
        return InspectedKey(
            keyGroup: Int(states.keyGroups[slot]), canonicalKey: key,
            keyColumns: zip(plan.spec.keys, columns).map { ($0, $1.isEmpty ? "null" : $1) },
            lastUpdated: lastUpdated == .min ? nil : lastUpdated / plan.spec.timeUnit.microseconds,
            features: features, stateBytes: stateBytes)
    }

    /// Runs `body`, turning a RocksDB or state-format failure into one naming the checkpoint.
    /// Runs `body` over the database, its failures (RocksDB's, or state that does not
    /// decode) said as the checkpoint's; what the caller's own closure throws (a closed
    /// stdout, a stop signal) goes through unchanged.
    private func inspecting(_ what: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as RocksError {
            throw CheckpointError("\(checkpoint) (rocksdb, \(what)): \(error)")
        } catch let error as StateFormatError {
            throw CheckpointError("\(checkpoint) (rocksdb, \(what)): \(error)")
        }
    }
}

@available(*, unavailable, message: "a reader owns one open database")
extension CheckpointStateReader: Sendable {}

/// One key's state as `eddy state` prints it.
public struct InspectedKey: Sendable {
    public var keyGroup: Int
    /// The key as state stores it: its columns' JSON texts, joined by U+001F when several.
    public var canonicalKey: String
    /// Each key column's name and JSON text, in the spec's order.
    public var keyColumns: [(name: String, value: String)]
    /// The event time of the key's last update, in the job's time unit; nil when the state
    /// does not record it: a key's last update is kept only for a job with a `ttl` (and by
    /// state format 3 and later).
    public var lastUpdated: Int64?
    /// Each feature with keyed state (not lookups), in `dict` order: its name and the JSON
    /// text of its value as of the key's last update: what the key's last output record
    /// held (a lookback window is trimmed by the next event, not by the watermark).
    public var features: [(name: String, value: String)]
    /// Each of those features' bytes in the persisted row (`FeatureStore.encode`).
    public var stateBytes: [(name: String, bytes: Int)]

    /// One JSON object: `{"key":{...},"key_group":N,"last_update":T,"features":{...}}`.
    public var jsonLine: String { jsonLine(withStateBytes: false) }

    /// `jsonLine`, with `"state_bytes":{NAME:BYTES,...}` last when `withStateBytes`.
    public func jsonLine(withStateBytes: Bool) -> String {
        return "{\"key\":" + object(keyColumns) + ",\"key_group\":\(keyGroup),\"last_update\":"
            + (lastUpdated.map(String.init) ?? "null") + ",\"features\":" + object(features)
            + (withStateBytes ? ",\"state_bytes\":" + object(stateBytes.map { ($0.name, String($0.bytes)) }) : "") + "}"
    }
}

/// One event waiting for the watermark in a checkpoint, as `eddy state dump --what buffered`
/// prints it.
public struct InspectedEvent: Sendable {
    public var keyGroup: Int
    /// Each key column's name and JSON text (`null` when the event lacks it).
    public var keyColumns: [(name: String, value: String)]
    /// The time it is filed under, in the job's time unit: its event time, or for windowed
    /// jobs the fire time (end - 1) of the window it waits in (an event is filed once per
    /// window of it that has not fired).
    public var time: Int64
    /// Its arrival order.
    public var sequence: Int64
    /// The fields the job reads (and with `carry: ["*"]` every other input column), as JSON
    /// text; fields the event lacks are left out.
    public var fields: [(name: String, value: String)]

    /// One JSON object: `{"key":{...},"key_group":N,"time":T,"sequence":S,"fields":{...}}`.
    public var jsonLine: String {
        return "{\"key\":" + object(keyColumns) + ",\"key_group\":\(keyGroup),\"time\":\(time),\"sequence\":\(sequence),\"fields\":"
            + object(fields) + "}"
    }
}

extension RocksStateStore {
    /// Closes the database now, for a reader about to delete its files.
    fileprivate func closeForInspection() { database.close() }
}

/// A JSON object of members whose values are JSON texts already.
private func object(_ members: [(name: String, value: String)]) -> String {
    "{" + members.map { JSONText.quote($0.name) + ":" + $0.value }.joined(separator: ",") + "}"
}
