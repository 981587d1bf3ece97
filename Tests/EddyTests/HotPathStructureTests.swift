import Testing
@testable import Eddy

/// The small data structures of the hot path, each checked against the obvious model on
/// random operation sequences (the operator tests cover them only through whole jobs).
@Suite("Hot path structures")
struct HotPathStructureTests {
    @Test func textCountsMatchADictionaryUnderChurn() {
        var generator = SplitMix(seed: 7)
        var counts = TextCounts()
        var model: [String: Int64] = [:]
        // Few distinct texts, so probe runs collide and removals shift entries back.
        let texts = (0..<300).map { "\"v\($0)\"" }
        for step in 0..<50_000 {
            let text = texts[Int(generator.next() % UInt64(step < 25_000 ? 300 : 40))]
            if generator.next() % 3 == 0 {
                counts.remove(text)
                if let held = model[text] { model[text] = held > 1 ? held - 1 : nil }
            } else {
                counts.add(text)
                model[text, default: 0] += 1
            }
            if step % 997 == 0 {
                #expect(counts.count == model.count)
                #expect(Dictionary(uniqueKeysWithValues: counts.all.map { ($0.text, $0.occurrences) }) == model)
            }
        }
        #expect(Dictionary(uniqueKeysWithValues: counts.all.map { ($0.text, $0.occurrences) }) == model)
        for (text, held) in model {
            for _ in 0..<held { counts.remove(text) }
        }
        #expect(counts.isEmpty)
        #expect(counts.all.isEmpty)
    }

    @Test func textCountsRestoreOccurrencesAndIgnoreUnknownRemovals() {
        var counts = TextCounts()
        counts.add("\"a\"", occurrences: 5)
        counts.add("\"b\"")
        counts.remove("\"missing\"")
        counts.remove("\"b\"")
        #expect(counts.all.map(\.text) == ["\"a\""])
        #expect(counts.all.map(\.occurrences) == [5])
    }

    @Test func lookbackMatchesAnArrayModel() {
        var generator = SplitMix(seed: 11)
        var window = Lookback<Int>()
        var model: [(time: Int64, element: Int)] = []
        var time: Int64 = 0
        for step in 0..<40_000 {
            switch generator.next() % 10 {
            case 0..<6:
                time += Int64(generator.next() % 3)
                window.append(step, at: time)
                model.append((time, step))
            case 6..<9:
                let cutoff = time - Int64(generator.next() % 20)
                window.evict(olderThan: cutoff)
                model.removeAll { $0.time < cutoff }
            default:
                // Monotonic-deque use: drop newer entries below a threshold.
                let threshold = step - Int(generator.next() % 50)
                window.removeLast { $0 < threshold }
                while let last = model.last, last.element < threshold { model.removeLast() }
            }
            #expect(window.count == model.count)
            #expect(window.first == model.first?.element)
            #expect(window.last == model.last?.element)
            if step % 499 == 0 {
                #expect(window.elements.map(\.element) == model.map(\.element))
                #expect(window.elements.map(\.time) == model.map(\.time))
            }
        }
    }

    @Test func appendBufferGrowsAndKeepsEveryByte() {
        let buffer = ByteBuffer(capacity: 16)
        var model: [UInt8] = []
        for round in 0..<2_000 {
            let piece = (0..<(round % 37)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ round) }
            switch round % 3 {
            case 0:
                buffer.append(contentsOf: piece)
            case 1:
                buffer.append(reserving: piece.count) { target in
                    for (index, byte) in piece.enumerated() { target[index] = byte }
                    return piece.count
                }
            default:
                for byte in piece { buffer.append(byte) }
            }
            model += piece
        }
        #expect(buffer.array == model)
        buffer.removeAll()
        #expect(buffer.isEmpty)
    }

    @Test(arguments: 0...40)
    func shortCopiesCopyExactlyTheirBytes(count: Int) {
        let source = (0..<(count + 16)).map { UInt8(truncatingIfNeeded: $0 + 1) }
        var padded = [UInt8](repeating: 0, count: count + 16)
        source.withUnsafeBufferPointer { source in
            padded.withUnsafeMutableBufferPointer { padded in
                copyPadded(to: padded.baseAddress!, from: source.baseAddress!, count: count)
            }
        }
        #expect(Array(padded[..<count]) == Array(source[..<count]))
    }
}

/// A small deterministic generator, so that failures reproduce.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
