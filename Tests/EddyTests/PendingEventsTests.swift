import Testing
@testable import Eddy

/// Releases every pending event through `takeReady` at the given watermarks, then at the end
/// of time, and returns the arrival sequences in release order.
private func releaseOrder(times: [Int64], insertsPerRelease: Int, watermarks: (Int) -> Int64) -> [[Int64]] {
    var pending = PendingEvents(width: 1)
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
    pending.takeReady(upTo: .max, into: &ready)
    batches.append(ready.map(\.sequence))
    #expect(pending.count == 0)
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

@Test func pendingEventsReleaseInTimeThenArrivalOrder() {
    var generator = SystemRandomNumberGenerator()
    for insertsPerRelease in [1, 7, 256] {
        // Jittered times with a moving watermark, as a stream with bounded disorder.
        let jittered = (0..<5000).map { Int64($0 * 10) - Int64.random(in: 0..<3000, using: &generator) }
        let moving: (Int) -> Int64 = { Int64($0 * 10) - 3000 }
        #expect(releaseOrder(times: jittered, insertsPerRelease: insertsPerRelease, watermarks: moving)
            == expectedOrder(times: jittered, insertsPerRelease: insertsPerRelease, watermarks: moving))
        // Few distinct times: many peers, whose order is their arrival.
        let coarse = (0..<5000).map { _ in Int64.random(in: 0..<5, using: &generator) }
        let slow: (Int) -> Int64 = { Int64($0 / 1000) }
        #expect(releaseOrder(times: coarse, insertsPerRelease: insertsPerRelease, watermarks: slow)
            == expectedOrder(times: coarse, insertsPerRelease: insertsPerRelease, watermarks: slow))
    }
    // A watermark that never moves: runs pile up and get merged; ascending, descending and
    // equal times test the sort's pivots.
    let stuck: (Int) -> Int64 = { _ in .min }
    for times in [(0..<3000).map { Int64($0) }, (0..<3000).map { Int64(3000 - $0) }, Array(repeating: Int64(7), count: 3000)] {
        #expect(releaseOrder(times: times, insertsPerRelease: 10, watermarks: stuck)
            == expectedOrder(times: times, insertsPerRelease: 10, watermarks: stuck))
    }
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
        }
    }
}

@Test func radixSortByTimeKeepsArrivalOrderAmongPeers() {
    var generator = SystemRandomNumberGenerator()
    var scratch: [PendingEvents.Entry] = []
    for count in [0, 1, 63, 64, 65, 256, 5000] {
        // Spans of one time, one byte, several bytes, just under and over 2^32, and extremes.
        for span: Int64 in [1, 2, 200, 70_000, 1 << 31, (1 << 32) - 1, 1 << 40, .max] {
            let base = Int64.random(in: -1_000_000...1_000_000, using: &generator)
            // Arrival order: sequences ascending, times random.
            var entries = (0..<count).map { index in
                PendingEvents.Entry(
                    time: span == .max ? Int64.random(in: .min ... .max, using: &generator)
                        : base + Int64.random(in: 0..<span, using: &generator),
                    sequence: Int64(index), slot: index)
            }
            let expected = entries.sorted(by: PendingEvents.Entry.precedes).map(\.sequence)
            PendingEvents.Entry.sortByTimeKeepingOrder(&entries, scratch: &scratch)
            #expect(entries.map(\.sequence) == expected)
        }
    }
}
