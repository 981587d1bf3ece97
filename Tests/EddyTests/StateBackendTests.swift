import Foundation
import Testing
@testable import Eddy

/// A job with every operator, each with and without a window: whatever one backend stores,
/// the others must store and restore too.
let everyFeatureJob: JobSpec = {
    var features: [FeatureSpec] = []
    let operators: [FeatureOperator] = [
        .count, .sum, .avg, .stddev, .min, .max, .first, .last, .countDistinct, .histogram, .collect,
    ]
    for op in operators {
        for window: Int64? in [nil, 50] {
            var spec = feature(op, op == .countDistinct || op == .histogram || op == .first || op == .last ? "s" : "v", window: window, limit: op == .collect ? 3 : nil)
            spec.name = "\(op.rawValue)\(window.map { "_\($0)ms" } ?? "")"
            features.append(spec)
        }
    }
    return JobSpec(
        code: "every_feature", keys: ["k"], time: "t",
        watermark: EventDuration(microseconds: 5000, text: "5ms"), features: features)
}()

/// Deterministic events over `keys` keys: integers, doubles, nulls and strings, out of
/// order within the watermark.
func events(count: Int, keys: Int, seed: UInt64 = 7) -> String {
    var state = seed
    func next(_ bound: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int((state >> 33) % UInt64(bound))
    }
    var lines: [String] = []
    for index in 0..<count {
        let value: String = switch next(4) {
        case 0: "\(next(1000) - 500)"
        case 1: "\(Double(next(100000)) / 100)"
        case 2: "null"
        default: "\(next(7))"
        }
        let time = index * 2 - next(5)
        lines.append(#"{"k":"key\#(next(keys))","t":\#(time),"v":\#(value),"s":"s\#(next(9))"}"#)
    }
    return lines.joined(separator: "\n") + "\n"
}

/// Runs `spec` over `input` with `backend` and returns the backend for inspection.
func run<Backend: KeyedStateBackend>(_ spec: JobSpec, _ input: String, on backend: Backend) throws -> Backend {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let inputPath = directory.appendingPathComponent("input.jsonl").path
    try input.write(toFile: inputPath, atomically: false, encoding: .utf8)
    let sink = try ByteSink.create(path: directory.appendingPathComponent("out").path)
    _ = try JobRunner(plan: JobPlan(spec), backend: backend, options: RunOptions(), output: sink).run([.file(inputPath)])
    try sink.close()
    return backend
}

func row(_ states: KeyedStates, slot: Int) -> [UInt8] {
    var writer = StateWriter()
    states.encodeRow(slot: slot, to: &writer)
    return writer.bytes
}

func results(_ states: KeyedStates, slot: Int) -> [String] {
    states.stores.map { store in
        String(decoding: appended { store.appendResult(slot: slot, to: $0) }, as: UTF8.self)
    }
}

/// Every row `backend` has persisted in RocksDB, by key.
func persistedRows(_ backend: RocksStateBackend) throws -> [String: [UInt8]] {
    var rows: [String: [UInt8]] = [:]
    for keyGroup in backend.keyGroups {
        try backend.forEachPersistedRow(inKeyGroup: keyGroup) { key, value in
            rows[String(decoding: key.dropFirst(3), as: UTF8.self)] = Array(value)
        }
    }
    return rows
}

/// Every resident key's row, by key.
func rows(_ states: KeyedStates) -> [String: [UInt8]] {
    var rows: [String: [UInt8]] = [:]
    for slot in 0..<states.capacity where states.isResident(slot: slot) {
        rows[states.keys[slot]] = row(states, slot: slot)
    }
    return rows
}

@Suite("State backends")
struct StateBackendTests {
    @Test func everyFeatureRoundTripsThroughTheStateFormat() throws {
        let plan = JobPlan(everyFeatureJob)
        let backend = try run(everyFeatureJob, events(count: 3000, keys: 40), on: MemoryStateBackend(plan: plan))
        let restored = KeyedStates(plan: plan)
        for slot in 0..<backend.states.capacity {
            let key = backend.states.keys[slot]
            let bytes = row(backend.states, slot: slot)
            let copy = restored.insert(key, hash: KeyGroups.stableHash(ofKey: key))
            try bytes.withUnsafeBytes { try restored.decodeRow(slot: copy, from: $0) }
            #expect(row(restored, slot: copy) == bytes, "row of \(key)")
            #expect(results(restored, slot: copy) == results(backend.states, slot: slot), "results of \(key)")
        }
        #expect(backend.states.count == 40)
    }

    @Test func aRowOfAnotherJobIsRefused() throws {
        let plan = JobPlan(everyFeatureJob)
        let backend = try run(everyFeatureJob, events(count: 100, keys: 3), on: MemoryStateBackend(plan: plan))
        let other = KeyedStates(plan: JobPlan(job(feature(.count))))
        let slot = other.insert("\"x\"", hash: KeyGroups.stableHash(ofKey: "\"x\""))
        #expect(throws: StateFormatError.self) {
            try row(backend.states, slot: 0).withUnsafeBytes { try other.decodeRow(slot: slot, from: $0) }
        }
    }

    @Test func fsSnapshotHasOneFilePerKeyGroupAndRestoresEveryKey() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var spec = everyFeatureJob
        spec.maxParallelism = 16
        let plan = JobPlan(spec)
        let snapshot = directory.appendingPathComponent("snapshot").path
        let backend = try run(spec, events(count: 2000, keys: 60), on: FileSystemStateBackend(plan: plan, directory: snapshot))
        let expectedFiles = Set(backend.states.keyGroups.elements.map { KeyGroupSnapshot.fileName(keyGroup: Int($0)) })
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: snapshot)) == expectedFiles)
        let restored = try FileSystemStateBackend(plan: plan, directory: snapshot, restoringFrom: snapshot)
        #expect(restored.keyCount == 60)
        #expect(rows(restored.states) == rows(backend.states))
    }

    @Test func aCorruptSnapshotFileIsReportedWithItsPath() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let plan = JobPlan(everyFeatureJob)
        let snapshot = directory.appendingPathComponent("snapshot").path
        _ = try run(everyFeatureJob, events(count: 200, keys: 5), on: FileSystemStateBackend(plan: plan, directory: snapshot))
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: snapshot).sorted().first)
        let path = snapshot + "/" + name
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try FileSystemStateBackend(plan: plan, directory: snapshot, restoringFrom: snapshot)
            Issue.record("a corrupt snapshot was restored")
        } catch let error as IOError {
            #expect(error.message.contains(name) && error.message.contains("checksum mismatch"))
        }
    }

    @Test func aSnapshotWithAnotherMaxParallelismIsRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let snapshot = directory.appendingPathComponent("snapshot").path
        _ = try run(everyFeatureJob, events(count: 200, keys: 20), on: FileSystemStateBackend(plan: JobPlan(everyFeatureJob), directory: snapshot))
        var other = everyFeatureJob
        other.maxParallelism = 7
        #expect(throws: IOError.self) {
            _ = try FileSystemStateBackend(plan: JobPlan(other), directory: snapshot, restoringFrom: snapshot)
        }
    }

    @Test func rocksdbKeepsEachKeyGroupInItsOwnRangeAndMatchesMemory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var spec = everyFeatureJob
        spec.maxParallelism = 8
        let plan = JobPlan(spec)
        let input = events(count: 3000, keys: 200)
        let memory = try run(spec, input, on: MemoryStateBackend(plan: plan))
        // A budget of a few keys: most keys are evicted, read back and evicted again.
        // A filter planned for one key: it is rebuilt larger from RocksDB's keys several times.
        let rocks = try run(
            spec, input,
            on: RocksStateBackend(plan: plan, directory: directory.appendingPathComponent("db/rocksdb").path, memoryBudget: 16 << 10, plannedKeys: 1))
        #expect(rocks.keyCount == 200)
        #expect(rocks.states.count < 200)
        let expected = rows(memory.states)
        var seen = 0
        for keyGroup in 0..<8 {
            try rocks.forEachPersistedRow(inKeyGroup: keyGroup) { key, value in
                let text = String(decoding: key.dropFirst(3), as: UTF8.self)
                #expect(Int(KeyGroups.stableHash(ofKey: text) % 8) == keyGroup)
                #expect(Int(key[0]) << 8 | Int(key[1]) == keyGroup)
                #expect(expected[text] == Array(value), "row of \(text)")
                seen += 1
            }
        }
        #expect(seen == 200)
    }

    /// Enough dirty keys for persisting to write them through SST files the database ingests:
    /// every row lands, equal to the memory backend's, in two runs over the same keys (the
    /// second run's files overlap the first's and must win over them), no file is left
    /// outside the database, and every key is in the filter of written keys (planned for one
    /// key, it is rebuilt from RocksDB while the files' keys are marked: they must be in it).
    @Test func manyDirtyKeysArePersistedThroughIngestedFiles() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var spec = everyFeatureJob
        spec.maxParallelism = 8
        let plan = JobPlan(spec)
        let keys = RocksStateBackend.rowsWorthAFile + 1000
        let database = directory.appendingPathComponent("db/rocksdb").path
        var memory = MemoryStateBackend(plan: plan)
        var rocks = try RocksStateBackend(plan: plan, directory: database, memoryBudget: 1 << 30, plannedKeys: 1)
        for seed: UInt64 in [5, 6] {
            let input = events(count: keys * 3, keys: keys, seed: seed)
            memory = try run(spec, input, on: memory)
            rocks = try run(spec, input, on: rocks)
            let expected = rows(memory.states)
            #expect(expected.count >= RocksStateBackend.rowsWorthAFile)
            #expect(try persistedRows(rocks) == expected)
            #expect(expected.keys.filter { !rocks.mayHaveWritten($0) }.count == 0, "keys missing from the filter of written keys")
            #expect(try FileManager.default.contentsOfDirectory(atPath: database).filter { $0.hasPrefix("ingest") }.isEmpty)
        }
    }

    /// One release of thousands of events (a watermark beyond the whole input): the memory
    /// backend applies it in a pipeline many chunks long, looking keys up two chunks ahead,
    /// its state rows growing meanwhile as new keys arrive; rocksdb with a tiny budget takes
    /// one chunk at a time. Every backend gives the same records.
    @Test func aReleaseOfManyChunksGivesTheSameRecordsOnEveryBackend() throws {
        var spec = everyFeatureJob
        spec.watermark = EventDuration(microseconds: 3_600_000_000, text: "1h")
        let result = try runJob(spec, input: events(count: 3000, keys: 300))
        #expect(result.records.count == 3000)
        #expect(result.summary.emitted == 3000)
    }

    @Test func manyKeysThroughASmallBudgetGiveTheMemoryBackendsOutput() throws {
        let input = events(count: 20000, keys: 5000, seed: 11)
        let outputs = try [(StateBackendKind.memory, StateOptions.defaultMemoryBudget), (.rocksdb, 64 << 10)].map {
            try runJob(everyFeatureJob, input: input, format: .jsonl, output: .jsonl, onBadRecord: .skip, backend: $0.0, memoryBudget: $0.1).get()
        }
        #expect(outputs[0].records.count == 20000)
        #expect(outputs[1].records == outputs[0].records)
        #expect(outputs[0].summary.keys > 4500)
        #expect(outputs[1].summary.keys == outputs[0].summary.keys)
    }

    @Test func eventsWaitingForTheWatermarkArePersistedWithTheState() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = job(feature(.sum), watermark: 1000)
        let plan = JobPlan(spec)
        // The watermark (1 s bound) passes none of these; the bad record stops the run there.
        let input = #"{"k":"a","t":5,"v":1}"# + "\n" + #"{"k":"b","t":3,"v":2}"# + "\n"
            + #"{"k":"a","t":4,"v":3}"# + "\n" + #"{"k":"a","t":6,"v":"x"}"# + "\n"
        let inputPath = directory.appendingPathComponent("input.jsonl").path
        try input.write(toFile: inputPath, atomically: false, encoding: .utf8)
        func stop<Backend: KeyedStateBackend>(_ backend: Backend) throws -> Backend {
            let sink = try ByteSink.create(path: directory.appendingPathComponent("out").path)
            defer { try? sink.close() }
            do {
                _ = try JobRunner(plan: plan, backend: backend, options: RunOptions(onBadRecord: .fail), output: sink)
                    .run([.file(inputPath)])
                Issue.record("the bad record did not stop the run")
            } catch let stop as BadRecordStop {
                #expect(stop.summary.pending == 3)
            }
            return backend
        }
        let snapshot = directory.appendingPathComponent("snapshot").path
        _ = try stop(FileSystemStateBackend(plan: plan, directory: snapshot))
        let fsEvents = try FileSystemStateBackend(plan: plan, directory: snapshot, restoringFrom: snapshot).restoredEvents
        let rocks = try stop(RocksStateBackend(plan: plan, directory: directory.appendingPathComponent("db/rocksdb").path, memoryBudget: 1 << 20))
        let rocksEvents = try rocks.persistedBufferedEvents()
        #expect(fsEvents == rocksEvents)
        let keyGroupOfA = Int(KeyGroups.stableHash(ofKey: "\"a\"") % 128)
        #expect(fsEvents.filter { $0.keyGroup == keyGroupOfA }.map(\.time) == [4000, 5000])
        #expect(fsEvents.map(\.sequence).sorted() == [1, 2, 3])
        // A later persist replaces the buffered events of the earlier one.
        try rocks.persist(buffered: [fsEvents[0]])
        #expect(try rocks.persistedBufferedEvents() == [fsEvents[0]])
    }

    @Test func theFilterOfWrittenKeysNeverForgetsAndRarelyInvents() {
        var filter = KeyHashFilter(plannedKeys: 1)
        var hashes: [UInt64] = []
        for index in 0..<20000 {
            let hash = KeyGroups.stableHash(ofKey: "\"in\(index)\"")
            hashes.append(hash)
            filter.insert(hash)
            if filter.isOverloaded { filter = .rebuilt(from: hashes, keys: hashes.count) }
        }
        #expect(hashes.allSatisfy(filter.mayContain))
        let falsePositives = (0..<20000).filter { filter.mayContain(KeyGroups.stableHash(ofKey: "\"out\($0)\"")) }.count
        #expect(falsePositives < 600, "\(falsePositives) of 20000 absent keys reported present")
    }

    @Test func keyTableFindsEveryKeyAfterRemovals() {
        let table = KeyTable()
        let keys = (0..<5000).map { "\"k\($0)\"" }
        for (slot, key) in keys.enumerated() { table.insert(key, slot: slot, hash: KeyGroups.stableHash(ofKey: key)) }
        var removed = Set<Int>()
        var state: UInt64 = 3
        while removed.count < 2500 {
            state = state &* 6364136223846793005 &+ 1
            let slot = Int((state >> 33) % 5000)
            if removed.insert(slot).inserted { table.remove(slot: slot, hash: KeyGroups.stableHash(ofKey: keys[slot])) }
        }
        #expect(table.count == 2500)
        for (slot, key) in keys.enumerated() {
            #expect(table.find(key, hash: KeyGroups.stableHash(ofKey: key)) == (removed.contains(slot) ? nil : slot))
        }
    }

    @Test(arguments: [
        ("512MB", 512 << 20), ("64MiB", 64 << 20), ("1GB", 1 << 30), ("100k", 100 << 10), ("4096", 4096), (" 2 gb ", 2 << 30),
    ])
    func byteSizesParse(text: String, bytes: Int) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test(arguments: ["", "MB", "12XB", "-5MB", "1.5GB", "99999999999999999999GB"])
    func badByteSizesAreRefused(text: String) {
        #expect(ByteSize.parse(text) == nil)
    }
}

extension StateBackendTests {
    /// Releasing a store closes its database before the state directory's lock goes, also
    /// while something else still holds the database: each worker does, and releases it
    /// after the store (its properties go in declaration order). The lock used to go first,
    /// so the next run could take it and wipe the directory of a database still closing.
    @Test func aReleasedRocksdbStoreClosesItsDatabaseBeforeItUnlocksTheStateDirectory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let stateDirectory = directory.appendingPathComponent("state").path
        var store: RocksStateStore? = try RocksStateStore(directory: stateDirectory + "/rocksdb")
        let databaseAWorkerStillHolds = try #require(store?.database)
        store = nil
        #expect(databaseAWorkerStillHolds.isClosed, "the state directory was unlocked with its database open")
        // The next run takes both locks: the state directory's and RocksDB's own.
        _ = try RocksStateStore(directory: stateDirectory + "/rocksdb")
    }
}
