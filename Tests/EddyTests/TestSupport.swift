import Foundation
import Testing
@testable import Eddy

/// A fresh temporary directory per test: tests run in parallel.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The outcome of running a job in-process over text input.
struct JobResult {
    var records: [String]
    var summary: RunSummary
    var late: [String]
    var deadLetters: [String]

    /// The records parsed as JSON objects.
    var objects: [[String: Any]] {
        records.map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    /// One output column across all records, as JSON text (`null` when absent).
    func column(_ name: String) -> [String] {
        records.map { record in
            let object = try! JSONSerialization.jsonObject(with: Data(record.utf8)) as! [String: Any]
            guard let value = object[name], !(value is NSNull) else { return "null" }
            let data = try! JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        }
    }
}

/// The state backends and worker counts every in-process job runs on: their results must be
/// identical. "Evicting every key" is rocksdb with a 1-byte memory budget, so every key is
/// written back and evicted after every batch and read back from RocksDB on its next event.
let conformanceBackends: [(name: String, backend: StateBackendKind, budget: Int, parallelism: Int)] = [
    ("memory", .memory, StateOptions.defaultMemoryBudget, 1),
    ("fs", .fs, StateOptions.defaultMemoryBudget, 1),
    ("rocksdb", .rocksdb, StateOptions.defaultMemoryBudget, 1),
    ("rocksdb, evicting every key", .rocksdb, 1, 1),
    ("memory, 3 workers", .memory, StateOptions.defaultMemoryBudget, 3),
    ("fs, 2 workers", .fs, StateOptions.defaultMemoryBudget, 2),
    ("rocksdb, 4 workers, evicting every key", .rocksdb, 1, 4),
]

/// Runs `spec` over `input` (JSON Lines or CSV text) on every backend of
/// `conformanceBackends`, expects identical results (or identical failures) from all,
/// and returns the memory backend's.
func runJob(
    _ spec: JobSpec, input: String, format: InputFormat = .jsonl, output: OutputFormat = .jsonl,
    onBadRecord: BadRecordPolicy = .skip, sourceLocation: SourceLocation = #_sourceLocation
) throws -> JobResult {
    var outcomes: [Result<JobResult, BadRecordStop>] = []
    var descriptions: [String] = []
    for (name, backend, budget, parallelism) in conformanceBackends {
        var inputPath = ""
        let outcome = try runJob(
            spec, input: input, format: format, output: output, onBadRecord: onBadRecord,
            backend: backend, memoryBudget: budget, parallelism: parallelism, inputPath: &inputPath)
        // Each run reads its own temporary copy of the input: its path is not a difference.
        let description = describe(outcome).replacingOccurrences(of: inputPath, with: "INPUT")
        if let first = descriptions.first {
            #expect(description == first, "\(name) backend differs from memory", sourceLocation: sourceLocation)
        }
        outcomes.append(outcome)
        descriptions.append(description)
    }
    return try outcomes[0].get()
}

private func describe(_ outcome: Result<JobResult, BadRecordStop>) -> String {
    switch outcome {
    case .success(let result):
        var summary = result.summary
        summary.elapsedSeconds = 0
        return "\(result.records)\n\(summary)\n\(result.late)\n\(result.deadLetters)"
    case .failure(let stop):
        var summary = stop.summary
        summary.elapsedSeconds = 0
        return "stopped: \(stop.message) \(summary)"
    }
}

/// Runs `spec` over `input` on one backend.
func runJob(
    _ spec: JobSpec, input: String, format: InputFormat, output: OutputFormat,
    onBadRecord: BadRecordPolicy, backend: StateBackendKind, memoryBudget: Int, parallelism: Int = 1
) throws -> Result<JobResult, BadRecordStop> {
    var inputPath = ""
    return try runJob(
        spec, input: input, format: format, output: output, onBadRecord: onBadRecord,
        backend: backend, memoryBudget: memoryBudget, parallelism: parallelism, inputPath: &inputPath)
}

private func runJob(
    _ spec: JobSpec, input: String, format: InputFormat, output: OutputFormat,
    onBadRecord: BadRecordPolicy, backend: StateBackendKind, memoryBudget: Int, parallelism: Int,
    inputPath: inout String
) throws -> Result<JobResult, BadRecordStop> {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    inputPath = directory.appendingPathComponent("input.\(format.rawValue)").path
    try input.write(toFile: inputPath, atomically: false, encoding: .utf8)
    let paths = ["out", "late", "dead"].map { directory.appendingPathComponent($0).path }
    let sinks = try paths.map { try ByteSink.create(path: $0) }
    let state = StateOptions(
        backend: backend, directory: directory.appendingPathComponent("state").path, memoryBudget: memoryBudget)
    let summary: RunSummary
    do {
        summary = try Eddy.runJob(
            plan: JobPlan(spec), state: state,
            options: RunOptions(inputFormat: format, outputFormat: output, onBadRecord: onBadRecord, parallelism: parallelism),
            inputs: [.file(inputPath)], output: sinks[0], lateOutput: sinks[1], deadLetters: sinks[2])
    } catch let stop as BadRecordStop {
        for sink in sinks { try sink.close() }
        return .failure(stop)
    }
    for sink in sinks { try sink.close() }
    let lines = try paths.map { path in
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }
    return .success(JobResult(records: lines[0], summary: summary, late: lines[1], deadLetters: lines[2]))
}

/// A one-feature job keyed by `k` with event time `t` in milliseconds.
func job(
    _ feature: FeatureSpec, time: String? = "t", watermark: Int64 = 0, carry: Carry = .none
) -> JobSpec {
    JobSpec(
        code: "test", keys: ["k"], time: time,
        watermark: EventDuration(microseconds: watermark * 1000, text: "\(watermark)ms"),
        features: [feature], carry: carry)
}

func feature(_ op: FeatureOperator, _ field: String? = "v", window: Int64? = nil, limit: Int? = nil, type: StateType? = nil) -> FeatureSpec {
    let inferred: StateType = switch op {
    case .first, .last: .value
    case .count, .sum, .min, .max: .reducing
    case .avg, .stddev: .aggregating
    case .countDistinct, .histogram: .map
    case .collect: .list
    case .lookup: .broadcast
    }
    return FeatureSpec(
        name: "f", type: type ?? inferred, op: op, field: field,
        window: window.map { EventDuration(microseconds: $0 * 1000, text: "\($0)ms") }, limit: limit)
}

/// JSON Lines for events of key "a": (time ms, value JSON text or nil for a missing field).
func events(_ items: [(Int, String?)], key: String = "a") -> String {
    items.map { time, value in
        value.map { "{\"k\":\"\(key)\",\"t\":\(time),\"v\":\($0)}" } ?? "{\"k\":\"\(key)\",\"t\":\(time)}"
    }.joined(separator: "\n") + "\n"
}

extension JobResult {
    /// The raw JSON text of the last output column (the feature in one-feature jobs), exactly as
    /// written: `5` and `5.0` differ here.
    var lastColumnTexts: [String] {
        records.map { record in
            let start = record.range(of: "\"f\":", options: .backwards)!.upperBound
            return String(record[start..<record.index(before: record.endIndex)])
        }
    }
}

/// The bytes `body` appends to a fresh output buffer.
func appended(_ body: (ByteBuffer) -> Void) -> [UInt8] {
    let buffer = ByteBuffer()
    body(buffer)
    return buffer.array
}
