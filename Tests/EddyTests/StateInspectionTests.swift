import Foundation
import Testing
@testable import Eddy

/// A composite key (a number and a string column), every kind of keyed state (plain and
/// windowed sums, extremes, averages, last values, distinct counts, a bounded collect), and a
/// TTL long enough that no key expires, so that each key's last update is recorded.
private let inspectedJob = #"""
    {
      "code": "inspected",
      "keys": ["shop", "card"],
      "time": "t",
      "watermark": "2s",
      "ttl": "1d",
      "maxParallelism": 16,
      "dict": [
        {"name": "n",        "type": "aggregating", "operator": "count"},
        {"name": "sum_10s",  "type": "reducing",    "operator": "sum",  "field": "amount", "window": "10s"},
        {"name": "max",      "type": "reducing",    "operator": "max",  "field": "amount"},
        {"name": "avg",      "type": "aggregating", "operator": "avg",  "field": "amount"},
        {"name": "last_m",   "type": "value",       "operator": "last", "field": "merchant"},
        {"name": "m_1m",     "type": "map",         "operator": "count_distinct", "field": "merchant", "window": "1m"},
        {"name": "recent",   "type": "list",        "operator": "collect", "field": "amount", "limit": 3}
      ]
    }
    """#

private let featureNames = ["n", "sum_10s", "max", "avg", "last_m", "m_1m", "recent"]

/// 600 events over 40 keys, times mostly rising with some disorder, amounts with fractions.
private func inspectedInput() -> String {
    var generator = SystemRandomNumberGenerator()
    var lines: [String] = []
    for index in 0..<600 {
        let shop = index % 5
        let card = "c\(index * 7 % 8)"
        let time = 1_700_000_000_000 + index * 700 - Int.random(in: 0...1500, using: &generator)
        let amount = "\(Int.random(in: 1...500, using: &generator)).\(Int.random(in: 0...99, using: &generator))"
        lines.append(#"{"shop":\#(shop),"card":"\#(card)","t":\#(time),"amount":\#(amount),"merchant":"m\#(index % 11)"}"#)
    }
    return lines.joined(separator: "\n") + "\n"
}

/// Runs the job over `input` with `backend`, checkpointing into `checkpoints`; returns the
/// output records.
private func runInspectedJob(
    _ input: String, backend: StateBackendKind, in directory: URL, checkpoints: String, parallelism: Int = 1, drain: Bool = true
) throws -> [String] {
    let inputPath = directory.appendingPathComponent("input.jsonl").path
    let outputPath = directory.appendingPathComponent("out-\(backend).jsonl").path
    try input.write(toFile: inputPath, atomically: false, encoding: .utf8)
    let spec = try JobSpec.decode(Array(inspectedJob.utf8)).spec
    // A small budget: the rocksdb run evicts keys, so rows are read back from the database.
    _ = try runJob(
        plan: JobPlan(spec), specText: inspectedJob,
        state: StateOptions(backend: backend, directory: directory.appendingPathComponent("state-\(backend)").path, memoryBudget: 16 << 10),
        checkpoints: CheckpointOptions(directory: checkpoints, everyEvents: 250), options: RunOptions(drain: drain, parallelism: parallelism),
        inputs: [.file(inputPath)], outputs: OutputPaths(output: outputPath))
    return try String(contentsOfFile: outputPath, encoding: .utf8).split(separator: "\n").map(String.init)
}

/// The canonical key (as state holds it) and the record of each key's last output record.
private func lastRecordPerKey(_ records: [String]) -> [String: (record: String, time: Int64)] {
    var last: [String: (record: String, time: Int64)] = [:]
    for record in records {
        let object = try! JSONSerialization.jsonObject(with: Data(record.utf8)) as! [String: Any]
        let key = "\(object["shop"] as! Int)\u{1F}\"\(object["card"] as! String)\""
        last[key] = (record, (object["t"] as! NSNumber).int64Value)
    }
    return last
}

/// `{"name":value,...}` of an inspected key's features, as JSON text.
private func featuresText(_ key: InspectedKey) -> String {
    "{" + key.features.map { JSONText.quote($0.name) + ":" + $0.value }.joined(separator: ",") + "}"
}

/// Every file under `root` with its size and CRC-32C, to show a reader changed nothing.
private func fingerprint(of root: String) throws -> [String: String] {
    var files: [String: String] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)!
    while let path = enumerator.nextObject() as? String {
        var isDirectory: ObjCBool = false
        FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory)
        guard !isDirectory.boolValue else { continue }
        let checksum = try DurableFiles.checksum(root + "/" + path)
        files[path] = "\(checksum.size) \(checksum.crc32c)"
    }
    return files
}

@Suite("State inspection")
struct StateInspectionTests {
    /// With either durable backend, the state read from the last checkpoint holds one entry per
    /// key the run emitted for, in persisted order, each with its key columns, key group, last
    /// update and features byte-identical to the features of that key's last output record.
    @Test(arguments: [StateBackendKind.fs, .rocksdb])
    func everyKeysFeaturesEqualItsLastOutputRecord(backend: StateBackendKind) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoints = directory.appendingPathComponent("checkpoints").path
        let records = try runInspectedJob(inspectedInput(), backend: backend, in: directory, checkpoints: checkpoints, parallelism: 2)
        let expected = lastRecordPerKey(records)
        #expect(expected.count == 40)
        let before = try fingerprint(of: checkpoints)

        let (path, skipped) = try CheckpointStateReader.locate("latest", checkpointDirectory: checkpoints)
        #expect(skipped.isEmpty)
        let reader = try CheckpointStateReader(checkpoint: path)
        #expect(reader.metadata.backend == backend.rawValue)
        var inspected: [InspectedKey] = []
        try reader.forEachKey { inspected.append($0) }

        #expect(inspected.count == expected.count)
        let order = inspected.map { ($0.keyGroup, Array($0.canonicalKey.utf8)) }
        #expect(zip(order, order.dropFirst()).allSatisfy { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1.lexicographicallyPrecedes($1.1)) })
        for key in inspected {
            let last = try #require(expected[key.canonicalKey], "no output record for \(key.canonicalKey)")
            #expect(key.features.map(\.name) == featureNames)
            // The features are the record's last columns, written the same way.
            #expect(last.record.hasSuffix(String(featuresText(key).dropFirst())), "\(key.jsonLine) vs \(last.record)")
            #expect(key.lastUpdated == last.time)
            #expect(key.keyGroup == KeyGroups.keyGroup(ofKey: key.canonicalKey, maxParallelism: 16))
            let parts = key.canonicalKey.split(separator: "\u{1F}").map(String.init)
            #expect(key.keyColumns.map(\.name) == ["shop", "card"])
            #expect(key.keyColumns.map(\.value) == parts)
        }

        // One key by its column values, as a user types them (a string without quotes).
        let someKey = try #require(inspected.last)
        let card = String(someKey.keyColumns[1].value.dropFirst().dropLast())
        let looked = try #require(try reader.state(ofKey: reader.canonicalKey([someKey.keyColumns[0].value, card])))
        #expect(looked.jsonLine == someKey.jsonLine)
        #expect(try reader.state(ofKey: reader.canonicalKey(["99", "c1"])) == nil)
        // A key group alone.
        var group: [InspectedKey] = []
        try reader.forEachKey(inKeyGroups: someKey.keyGroup...someKey.keyGroup) { group.append($0) }
        #expect(group.map(\.jsonLine) == inspected.filter { $0.keyGroup == someKey.keyGroup }.map(\.jsonLine))

        // Each feature's bytes add up, with the row's version and last update (9 bytes), to
        // the key's row as a resume restores it; a count's state is its 8-byte integer.
        if backend == .fs {
            let restored = try FileSystemStateBackend(
                plan: reader.plan, directory: directory.appendingPathComponent("unused").path, restoringCheckpoint: path)
            for key in inspected {
                let slot = try #require(restored.states.find(key.canonicalKey, hash: KeyGroups.stableHash(ofKey: key.canonicalKey)))
                var row = StateWriter()
                restored.states.encodeRow(slot: slot, to: &row)
                #expect(key.stateBytes.map(\.name) == featureNames)
                #expect(9 + key.stateBytes.map(\.bytes).reduce(0, +) == row.bytes.count)
                #expect(key.stateBytes[0].bytes == 8)
                #expect(key.jsonLine(withStateBytes: true).hasSuffix(
                    ",\"state_bytes\":{" + key.stateBytes.map { "\"\($0.name)\":\($0.bytes)" }.joined(separator: ",") + "}}"))
            }
        }

        #expect(try fingerprint(of: checkpoints) == before)
    }

    /// A checkpoint taken mid-run reads as the output up to it: the features of each key's
    /// last record among the bytes that checkpoint committed.
    @Test func anEarlierCheckpointHoldsTheStateOfItsCommittedOutput() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoints = directory.appendingPathComponent("checkpoints").path
        _ = try runInspectedJob(inspectedInput(), backend: .rocksdb, in: directory, checkpoints: checkpoints)
        let ids = try CheckpointStore.checkpointIDs(in: checkpoints)
        #expect(ids.count >= 2)
        let reader = try CheckpointStateReader(checkpoint: checkpoints + "/" + CheckpointStore.name(of: ids[0]))
        let output = try #require(reader.metadata.outputs.first { $0.role == "output" })
        let committed = try Array(DurableFiles.read(output.path).prefix(Int(output.length)))
        let expected = lastRecordPerKey(String(decoding: committed, as: UTF8.self).split(separator: "\n").map(String.init))
        var count = 0
        try reader.forEachKey { key in
            count += 1
            // Events applied but not yet written are none: a checkpoint is taken between batches.
            #expect(expected[key.canonicalKey].map { $0.record.hasSuffix(String(featuresText(key).dropFirst())) } == true)
        }
        #expect(count == expected.count)
    }

    /// A run stopped without draining leaves the events the watermark had not passed in its
    /// checkpoint: exactly the input's events within the watermark's delay of its latest time,
    /// each under its key's key group, with the job's fields as the input had them.
    @Test(arguments: [StateBackendKind.fs, .rocksdb])
    func bufferedEventsAreTheEventsTheWatermarkHadNotPassed(backend: StateBackendKind) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoints = directory.appendingPathComponent("checkpoints").path
        let input = inspectedInput()
        _ = try runInspectedJob(input, backend: backend, in: directory, checkpoints: checkpoints, parallelism: 2, drain: false)
        let events = input.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let latest = events.map { ($0["t"] as! NSNumber).int64Value }.max()!
        // The watermark is the latest time less 2s and a tick: later events wait.
        let waiting = events.filter { ($0["t"] as! NSNumber).int64Value >= latest - 2000 }
        #expect(!waiting.isEmpty)

        let reader = try CheckpointStateReader(checkpoint: CheckpointStateReader.locate("latest", checkpointDirectory: checkpoints).path)
        var buffered: [InspectedEvent] = []
        try reader.forEachBufferedEvent { buffered.append($0) }
        func identity(_ event: [String: Any]) -> String {
            "\(event["shop"] as! Int) \(event["card"] as! String) \(event["t"] as! NSNumber) \(event["merchant"] as! String)"
        }
        let inspected = try buffered.map { event in
            let fields = try JSONSerialization.jsonObject(with: Data(event.jsonLine.utf8)) as! [String: Any]
            let values = fields["fields"] as! [String: Any]
            #expect(event.time == (values["t"] as! NSNumber).int64Value)
            #expect(event.keyColumns.map(\.value) == [String(values["shop"] as! Int), "\"\(values["card"] as! String)\""])
            #expect(event.keyGroup == reader.keyGroup(ofKey: event.keyColumns.map(\.value).joined(separator: "\u{1F}")))
            return identity(values)
        }
        #expect(inspected.sorted() == waiting.map(identity).sorted())
        // Persisted order: key group, then time, then arrival.
        let order = buffered.map { [Int64($0.keyGroup), $0.time, $0.sequence] }
        #expect(order == order.sorted { $0.lexicographicallyPrecedes($1) })
        // A key group alone.
        let group = try #require(buffered.first?.keyGroup)
        var inGroup: [String] = []
        try reader.forEachBufferedEvent(inKeyGroups: group...group) { inGroup.append($0.jsonLine) }
        #expect(inGroup == buffered.filter { $0.keyGroup == group }.map(\.jsonLine))
    }

    /// A damaged file is an error naming it; `latest` skips a damaged newest checkpoint and
    /// says so; a path that is not a checkpoint is refused with the form expected.
    @Test(arguments: [StateBackendKind.fs, .rocksdb])
    func damagedCheckpointsAreRefusedNamingTheFile(backend: StateBackendKind) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoints = directory.appendingPathComponent("checkpoints").path
        _ = try runInspectedJob(inspectedInput(), backend: backend, in: directory, checkpoints: checkpoints)
        let ids = try CheckpointStore.checkpointIDs(in: checkpoints)
        let newest = checkpoints + "/" + CheckpointStore.name(of: ids.last!)
        let metadata = try CheckpointStore.load(id: ids.last!, in: checkpoints)
        // The newest checkpoint's largest file of its own (a key group's snapshot, or RocksDB's
        // MANIFEST): shared SST files may belong to the earlier checkpoints too, and so may an
        // OPTIONS file, which RocksDB's checkpoint hard-links.
        let damaged = try #require(
            metadata.files.filter { !$0.path.hasPrefix("shared/") && !$0.path.contains("/OPTIONS-") }.max { $0.size < $1.size })
        let handle = try #require(FileHandle(forUpdatingAtPath: checkpoints + "/" + damaged.path))
        handle.seek(toFileOffset: UInt64(damaged.size / 2))
        let byte = handle.readData(ofLength: 1)[0]
        handle.seek(toFileOffset: UInt64(damaged.size / 2))
        handle.write(Data([byte ^ 0xFF]))
        handle.closeFile()

        let error = try #require(throws: CheckpointError.self) { try CheckpointStateReader(checkpoint: newest) }
        #expect(error.message.contains(checkpoints + "/" + damaged.path))
        #expect(error.message.contains("checksum mismatch"))
        let (path, skipped) = try CheckpointStateReader.locate("latest", checkpointDirectory: checkpoints)
        #expect(path == checkpoints + "/" + CheckpointStore.name(of: ids[ids.count - 2]))
        #expect(skipped.count == 1 && skipped[0].contains(damaged.path))

        let notACheckpoint = try #require(throws: CheckpointError.self) { try CheckpointStateReader(checkpoint: checkpoints) }
        #expect(notACheckpoint.message.contains("holds checkpoints; name one (\(checkpoints)/chk-"))
        let withoutDirectory = try #require(throws: CheckpointError.self) {
            try CheckpointStateReader.locate("latest", checkpointDirectory: directory.appendingPathComponent("none").path)
        }
        #expect(withoutDirectory.message.contains("no checkpoint in"))
    }

    /// `--key` values are JSON text as the job's reader canonicalises it; text that is not JSON
    /// is a string; a wrong number of values names the key columns.
    @Test func keyValuesAreCanonicalisedAsTheReaderDoes() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoints = directory.appendingPathComponent("checkpoints").path
        _ = try runInspectedJob(events([(1000, "1")]), backend: .fs, in: directory, checkpoints: checkpoints)
        let reader = try CheckpointStateReader(checkpoint: CheckpointStateReader.locate("latest", checkpointDirectory: checkpoints).path)
        #expect(try reader.canonicalKey(["3", "c-1"]) == "3\u{1F}\"c-1\"")
        #expect(try reader.canonicalKey(["20.10", #""\u0041""#]) == "20.1\u{1F}\"A\"")
        #expect(try reader.canonicalKey(["true", "null"]) == "true\u{1F}null")
        let error = try #require(throws: CheckpointError.self) { try reader.canonicalKey(["3"]) }
        #expect(error.message.contains("2 columns (shop, card)"))
    }
}
