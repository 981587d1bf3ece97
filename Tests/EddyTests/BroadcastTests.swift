import Foundation
import Testing
@testable import Eddy

@Suite("Broadcast state")
struct BroadcastTests {
    /// Runs a lookup job over `input` with the side input `side` (a file named `sideName`),
    /// on `workers` workers; returns the lookup column's texts.
    private func lookups(_ input: String, side: String, sideName: String, key: String? = nil, workers: Int = 1) throws -> [String] {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputPath = directory.appendingPathComponent("in.jsonl").path
        let sidePath = directory.appendingPathComponent(sideName).path
        try input.write(toFile: inputPath, atomically: false, encoding: .utf8)
        try side.write(toFile: sidePath, atomically: false, encoding: .utf8)
        let spec = job(FeatureSpec(
            name: "f", type: .broadcast, op: .lookup, field: "v", lookup: BroadcastLookup(from: "side", column: "tier", key: key)))
        let outputPath = directory.appendingPathComponent("out").path
        let sink = try ByteSink.create(path: outputPath)
        _ = try Eddy.runJob(
            plan: JobPlan(spec), state: StateOptions(backend: .memory, directory: directory.path),
            options: RunOptions(parallelism: workers), inputs: [.file(inputPath)], output: sink, broadcasts: ["side": sidePath])
        try sink.close()
        let result = JobResult(
            records: try String(contentsOfFile: outputPath, encoding: .utf8).split(separator: "\n").map(String.init),
            summary: RunSummary(), late: [], deadLetters: [])
        return result.lastColumnTexts
    }

    @Test func keysMatchByStringFormAndTheFirstRowWins() throws {
        let side = """
            {"v": 5, "tier": "five"}
            {"v": "a", "tier": {"level": 2}}
            {"v": "a", "tier": "later row"}
            {"v": null, "tier": "null key"}
            {"v": "b"}

            """
        let input = events([(1, "5"), (2, "\"5\""), (3, "\"a\""), (4, nil), (5, "null"), (6, "\"b\""), (7, "\"zzz\"")], key: "k1")
        let found = try lookups(input, side: side, sideName: "side.jsonl")
        #expect(found == [
            "\"five\"", "\"five\"", "{\"level\": 2}", "null", "null", "null", "null",
        ])
    }

    @Test func keysSpelledDifferentlyDoNotMatchEvenWhenCanonicallyEquivalent() throws {
        // "é" decomposed in the side input, composed in the events: two texts, as they are
        // two keys and two distinct values.
        let side = "{\"v\": \"e\u{301}\", \"tier\": \"decomposed\"}\n"
        let found = try lookups(events([(1, "\"\u{E9}\""), (2, "\"e\u{301}\"")], key: "k1"), side: side, sideName: "side.jsonl")
        #expect(found == ["null", "\"decomposed\""])
    }

    @Test func aCSVSideInputWithAnotherKeyColumnOnSeveralWorkers() throws {
        let side = "id,tier\n7,seven\nx,\"ex, quoted\"\n"
        let input = (0..<40).map { #"{"k":"key\#($0)","t":\#($0),"v":\#($0 % 2 == 0 ? "7" : "\"x\"")}"# }.joined(separator: "\n") + "\n"
        let expected = (0..<40).map { $0 % 2 == 0 ? "\"seven\"" : "\"ex, quoted\"" }
        let found = try lookups(input, side: side, sideName: "side.csv", key: "id", workers: 3)
        #expect(found == expected)
    }

    @Test func aBrokenSideInputNamesItsLine() throws {
        #expect(throws: IOError.self) { try lookups(events([(1, "1")]), side: "{\"v\": 1}\n{\"v\": \n", sideName: "side.jsonl") }
        do {
            _ = try lookups(events([(1, "1")]), side: "{\"v\": 1}\n{\"v\": \n", sideName: "side.jsonl")
        } catch let error as IOError {
            #expect(error.message.contains("broadcast side ("), "\(error.message)")
            #expect(error.message.contains(": line 2 (byte "), "\(error.message)")
        }
    }

    @Test func tablesRoundTripThroughTheirCheckpointForm() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("side.csv").path
        try "id,tier,note\n1,a,\"x\"\"y\"\n2,,z\n".write(toFile: path, atomically: false, encoding: .utf8)
        let table = try BroadcastInputs.load(name: "side", path: path)
        #expect(table.rows.count == 2)
        let copy = directory.appendingPathComponent("copy.jsonl").path
        try Data(table.jsonLines()).write(to: URL(fileURLWithPath: copy))
        #expect(try BroadcastInputs.load(name: "side", path: copy) == table)
    }
}
