import Foundation
import Testing
@testable import Eddy

private func withTTL(_ spec: JobSpec, _ milliseconds: Int64) -> JobSpec {
    var spec = spec
    spec.ttl = EventDuration(microseconds: milliseconds * 1000, text: "\(milliseconds)ms")
    return spec
}

@Suite("State TTL")
struct TTLTests {
    @Test func aKeyNotUpdatedForTheTTLBehavesAsNew() throws {
        // 2 s TTL: 3500 comes 2500 ms after the key's last update, so it starts over; 5400
        // comes 1900 ms after 3500, so it does not.
        let input = events([(0, "1"), (1000, "2"), (3500, "4"), (5400, "8")])
        let sums = try runJob(withTTL(job(feature(.sum)), 2000), input: input)
        #expect(sums.column("f") == ["1", "3", "4", "12"])
        let counts = try runJob(withTTL(job(feature(.count, nil)), 2000), input: input)
        #expect(counts.column("f") == ["1", "2", "1", "2"])
    }

    @Test func expiryBetweenTwoEventsOfAKeyInOneBatchIsExact() throws {
        // A 10 s watermark holds everything until the end, so both events of "a" are released
        // in one batch; the second must still not see the first.
        var input = events([(0, "1"), (3000, "2")])
        input += events([(1000, "5"), (1500, "6")], key: "b")
        let result = try runJob(withTTL(job(feature(.sum), watermark: 10_000), 2000), input: input)
        #expect(result.records == [
            #"{"k":"a","t":0,"f":1}"#, #"{"k":"b","t":1000,"f":5}"#, #"{"k":"b","t":1500,"f":11}"#, #"{"k":"a","t":3000,"f":2}"#,
        ])
    }

    @Test func expiredKeysAreRemovedNotJustHidden() throws {
        // 300 keys each active once early, then only "hot" for a long while: at the end only
        // keys updated within the TTL of the last watermark remain, on every backend.
        var lines: [String] = []
        for index in 0..<300 { lines.append(#"{"k":"old\#(index)","t":\#(index),"v":1}"#) }
        for index in 0..<2000 { lines.append(#"{"k":"hot","t":\#(1000 + index * 10),"v":1}"#) }
        let result = try runJob(withTTL(job(feature(.count, nil)), 5000), input: lines.joined(separator: "\n") + "\n")
        #expect(result.summary.keys == 1)
        #expect(result.records.count == 2300)
    }

    @Test func rocksdbDeletesExpiredRowsOfKeysNotResident() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = withTTL(job(feature(.sum)), 1000)
        let backend = try RocksStateBackend(
            plan: JobPlan(spec), directory: directory.appendingPathComponent("db/rocksdb").path, memoryBudget: 1)
        for index in 0..<100 {
            let key = "\"k\(index)\""
            let slot = try backend.slot(forKey: key, hash: KeyGroups.stableHash(ofKey: key))
            backend.states.stores[0].apply(FieldValue(kind: .number, text: "1", number: 1, integer: 1), slot: slot, at: 0)
            backend.states.lastUpdated[slot] = Int64(index) * 1000
        }
        // A 1-byte budget evicts every key to RocksDB at the end of the batch.
        try backend.endOfBatch()
        #expect(backend.states.count == 0)
        #expect(try backend.expire(before: 40_000) == 40)
        #expect(backend.keyCount == 60)
        var rows = 0
        for keyGroup in 0..<128 { try backend.forEachPersistedRow(inKeyGroup: keyGroup) { _, _ in rows += 1 } }
        #expect(rows == 60)
    }

    @Test func ttlIsValidated() throws {
        #expect(specErrors(specJob(#""time": "ts", "ttl": "0s""#)) == [#"ttl: must be longer than 0s; remove "ttl" to keep every key's state"#])
        #expect(specErrors(specJob(#""ttl": "30d""#)) == [
            #"ttl: the TTL is measured in event time; add "time": "<column>" to the job, or remove "ttl""#,
        ])
        #expect(try specDecode(specJob(#""time": "ts", "ttl": "30d""#)).spec.ttl?.microseconds == 30 * 86_400_000_000)
    }
}
