import Testing
@testable import Eddy

/// Releases every pending event through `takeReady` at the given watermarks, then at the end
/// of time, and returns the arrival sequences in release order.
private func releaseOrder(
    times: [Int64], insertsPerRelease: Int, watermarks: (Int) -> Int64, horizon: Int64 = 0, granularity: Int64 = 1
) -> [[Int64]] {
    let pending = PendingEvents(width: 1, horizon: horizon, granularity: granularity)
    var ready: [PendingEvents.Entry] = []
    var batches: [[Int64]] = []
    var values = [FieldValue.missing]
    for (index, time) in times.enumerated() {
        pending.insert(time: time, sequence: Int64(index), keyHash: 0, values: &values, members: nil)
        if (index + 1) % insertsPerRelease == 0 {
            pending.takeReady(upTo: watermarks(index), into: &ready)
            batches.append(ready.map(\.sequence))
            for entry in ready { pending.free(slot: entry.slot) }
        }
    }
    #expect(pending.waiting.count == pending.count)
    pending.takeReady(upTo: .max, into: &ready)
    batches.append(ready.map(\.sequence))
    #expect(pending.count == 0 && pending.waiting.isEmpty)
    return batches
}

/// The same releases computed the plain way: filter, then sort by (time, arrival).
private func expectedOrder(times: [Int64], insertsPerRelease: Int, watermarks: (Int) -> Int64) -> [[Int64]] {
    var waiting: [(time: Int64, sequence: Int64)] = []
    var batches: [[Int64]] = []
    func take(_ watermark: Int64) {
        let ready = waiting.filter { $0.time <= watermark }.sorted { ($0.time, $0.sequence) < ($1.time, $1.sequence) }
        waiting.removeAll { $0.time <= watermark }
        batches.append(ready.map(\.sequence))
    }
    for (index, time) in times.enumerated() {
        waiting.append((time, Int64(index)))
        if (index + 1) % insertsPerRelease == 0 { take(watermarks(index)) }
    }
    take(.max)
    return batches
}

/// Ring geometries: a bucket per microsecond and a ring too short for the disorder (most
/// events wait outside it), a bucket per time unit spanning the horizon (the usual case),
/// a bucket per 1,000 units, and several units per bucket (a horizon beyond the ring's
/// 65,536 buckets).
private let geometries: [(horizon: Int64, granularity: Int64)] = [(0, 1), (3000, 10), (3000, 1), (1 << 20, 1), (5000, 1000)]

@Test(arguments: geometries)
func pendingEventsReleaseInTimeThenArrivalOrder(horizon: Int64, granularity: Int64) {
    var generator = SystemRandomNumberGenerator()
    func check(_ times: [Int64], _ insertsPerRelease: Int, _ watermarks: (Int) -> Int64) {
        #expect(releaseOrder(times: times, insertsPerRelease: insertsPerRelease, watermarks: watermarks, horizon: horizon, granularity: granularity)
            == expectedOrder(times: times, insertsPerRelease: insertsPerRelease, watermarks: watermarks))
    }
    for insertsPerRelease in [1, 7, 256] {
        // Jittered times with a moving watermark, as a stream with bounded disorder; times on
        // the unit and off it.
        let jittered = (0..<5000).map { Int64($0 * 10) - Int64.random(in: 0..<3000, using: &generator) }
        check(jittered, insertsPerRelease) { Int64($0 * 10) - 3000 }
        check(jittered.map { $0 * 1000 }, insertsPerRelease) { Int64($0 * 10_000) - 3_000_000 }
        // Few distinct times: many peers, whose order is their arrival.
        let coarse = (0..<5000).map { _ in Int64.random(in: 0..<5, using: &generator) }
        check(coarse, insertsPerRelease) { Int64($0 / 1000) }
        // Jumps in time far beyond the ring between releases, and negative times.
        let jumping = (0..<3000).map { Int64(($0 / 500) * 1_000_000_000 - 2_000_000_000) + Int64.random(in: 0..<3000, using: &generator) }
        check(jumping, insertsPerRelease) { jumping[$0] - 3000 }
    }
    // A watermark that never moves; ascending, descending and equal times; and the extremes
    // of Int64 times with a watermark at the end of time.
    let stuck: (Int) -> Int64 = { _ in .min }
    for times in [(0..<3000).map { Int64($0) }, (0..<3000).map { Int64(3000 - $0) }, Array(repeating: Int64(7), count: 3000)] {
        check(times, 10, stuck)
    }
    let extremes: [Int64] = [.max, .min + 1, 0, .max - 1, -1, .min + 1, 5, .max]
    check(extremes, 3) { $0 < 5 ? 0 : .max }
}

@Test func entrySortMatchesTheStandardSort() {
    var generator = SystemRandomNumberGenerator()
    for count in [0, 1, 2, 15, 16, 17, 100, 1000, 10_000] {
        for timeRange: Int64 in [1, 3, 1_000_000] {
            var entries = (0..<count).map {
                PendingEvents.Entry(time: Int64.random(in: 0..<timeRange, using: &generator), sequence: Int64($0), slot: $0)
            }
            entries.shuffle(using: &generator)
            let expected = entries.sorted(by: PendingEvents.Entry.precedes).map(\.sequence)
            PendingEvents.Entry.sort(&entries)
            #expect(entries.map(\.sequence) == expected)
            // A suffix only, as a bucket found out of order is sorted.
            let start = count / 3
            var suffix = Array(entries.prefix(start)) + entries.suffix(from: start).shuffled(using: &generator)
            suffix.withUnsafeMutableBufferPointer { PendingEvents.Entry.sort(UnsafeMutableBufferPointer(rebasing: $0[start...])) }
            #expect(suffix.map(\.sequence) == expected)
        }
    }
}

/// Records are read straight into a reserved slot: one that is not queued (rejected, late)
/// is handed to the next record, values written there survive the arena growing under
/// later events (inserted by copy too, as a window's extra fire times are), and every
/// queued event comes back with its own values.
@Test func reservedSlotsKeepTheirValuesAcrossArenaGrowth() {
    let pending = PendingEvents(width: 2, horizon: 1000, granularity: 1)
    var expected: [Int64: [String]] = [:]
    // Texts stored out of line too, so that a value moved or dropped wrongly shows.
    func texts(_ sequence: Int64) -> [String] { ["k\(sequence)", "a value longer than fifteen bytes, \(sequence)"] }
    func write(_ slot: UnsafeMutableBufferPointer<FieldValue>, _ sequence: Int64) {
        for (index, text) in texts(sequence).enumerated() { slot[index] = FieldValue(kind: .string, text: text) }
    }
    var sequence: Int64 = 0
    for time in 0..<Int64(1000) {
        sequence += 1
        let slot = pending.reserveSlot()
        write(slot, sequence)
        if time % 7 == 3 {
            // Not queued: the next record gets the same slot, its old values still there.
            let again = pending.reserveSlot()
            #expect(again.baseAddress == slot.baseAddress)
            #expect(again.map(\.text) == texts(sequence))
            continue
        }
        pending.insertReserved(time: time, sequence: sequence, keyHash: UInt64(sequence), members: nil)
        expected[sequence] = texts(sequence)
        if time % 5 == 0 {
            // A copy under another time, in a slot of its own, after the reserved one.
            sequence += 1
            var copy = texts(sequence).map { FieldValue(kind: .string, text: $0) }
            pending.insert(time: time + 1, sequence: sequence, keyHash: UInt64(sequence), values: &copy, members: nil)
            expected[sequence] = texts(sequence)
        }
        if time % 100 == 99 {
            var ready: [PendingEvents.Entry] = []
            pending.takeReady(upTo: time - 50, into: &ready)
            pending.withValues { values in
                for entry in ready {
                    #expect((0..<2).map { values[entry.slot * 2 + $0].text } == expected.removeValue(forKey: entry.sequence))
                    #expect(pending.keyHash(ofSlot: entry.slot) == UInt64(entry.sequence))
                }
            }
            for entry in ready { pending.free(slot: entry.slot) }
        }
    }
    var ready: [PendingEvents.Entry] = []
    pending.takeReady(upTo: .max, into: &ready)
    pending.withValues { values in
        for entry in ready {
            #expect((0..<2).map { values[entry.slot * 2 + $0].text } == expected.removeValue(forKey: entry.sequence))
        }
    }
    #expect(expected.isEmpty)
}
