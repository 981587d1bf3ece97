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

    /// A table's texts in byte order, as rows persist them: inline texts sort by their words,
    /// and a table holding one long text sorts by comparing the texts themselves.
    @Test func textCountsVisitTheirTextsInByteOrder() {
        func visited(_ counts: TextCounts) -> [(String, Int64)] {
            var seen: [(String, Int64)] = []
            counts.forEachInByteOrder { text, occurrences in seen.append((text.pointee, occurrences)) }
            return seen
        }
        var generator = SplitMix(seed: 11)
        // Prefixes of one another, bytes above 0x7F, the 8-byte word boundary, numbers.
        let inline = ["\"a\"", "\"ab\"", "\"abcdefg\"", "\"abcdefgh\"", "\"abcdefghijklm\"", "\"é\"", "\"z\"", "12.5", "125", "-1", "true"]
        let long = "\"a text longer than fifteen bytes\""
        for texts in [inline, inline + [long]] {
            var counts = TextCounts()
            var model: [String: Int64] = [:]
            for _ in 0..<200 {
                let text = texts[Int(generator.next() % UInt64(texts.count))]
                counts.add(text)
                model[text, default: 0] += 1
            }
            let expected = model.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            let seen = visited(counts)
            #expect(seen.map(\.0) == expected.map(\.key))
            #expect(seen.map(\.1) == expected.map(\.value))
        }
        #expect(visited(TextCounts()).isEmpty)
    }

    /// A windowed distinct count goes without a table while its window holds at most
    /// `smallWindow` values, and with one beyond: across both, and across checkpoints taken
    /// in either, its results follow the model, and it persists the very bytes of a state
    /// that always keeps a table (a histogram over the same values).
    @Test func windowedDistinctCountsMatchAModelWithAndWithoutTheirTable() throws {
        var generator = SplitMix(seed: 23)
        var state = ValueCountsState(windowed: true, histogram: false)
        var tabled = ValueCountsState(windowed: true, histogram: true)
        var model: [(time: Int64, text: String)] = []
        // Short and long texts, ASCII and not, two texts that print alike but differ in bytes,
        // and a short text stored out of line beside its inline twin (the same bytes, found
        // by a scan, not by the inline texts' presence bits).
        var values = (0..<12).map { "\"v\($0)\"" } + ["\"a text longer than fifteen bytes\"", "\"é\"", "\"e\u{301}\"", "12.5"]
        var outOfLineTwin = String()
        outOfLineTwin.reserveCapacity(64)
        outOfLineTwin += "\"v1\""
        values.insert(outOfLineTwin, at: 4)
        let window: Int64 = 100
        var time: Int64 = 0
        var modes: [Bool] = []
        for step in 0..<20_000 {
            // Bursts of close times fill the window past the small size; sparse stretches
            // thin it, and jumps past the window empty it.
            time += step % 400 < 200 ? Int64(generator.next() % 4)
                : step % 400 == 399 ? window + 1 : Int64(generator.next() % 60)
            let text = values[Int(generator.next() % UInt64(step % 1000 < 500 ? 5 : values.count))]
            state.evict(olderThan: time - window)
            tabled.evict(olderThan: time - window)
            model.removeAll { $0.time < time - window }
            withUnsafePointer(to: FieldValue(kind: .string, text: text)) {
                state.add($0, at: time)
                tabled.add($0, at: time)
            }
            model.append((time, text))
            let out = ByteBuffer()
            state.appendResult(to: out)
            #expect(String(decoding: out.array, as: UTF8.self) == String(Set(model.map { Array($0.text.utf8) }).count))
            if modes.last != state.keepsTable { modes.append(state.keepsTable) }
            if step % 97 == 0 {
                var written = StateWriter()
                state.encodeState(to: &written)
                var reference = StateWriter()
                tabled.encodeState(to: &reference)
                #expect(written.bytes == reference.bytes)
                // Resume from what was written, as a restored checkpoint would.
                var restored = ValueCountsState(windowed: true, histogram: false)
                try written.bytes.withUnsafeBytes { raw in
                    var reader = StateReader(raw)
                    try restored.decodeState(from: &reader)
                }
                state = restored
            }
        }
        // Both modes, and back to no table (when the window empties) more than once.
        #expect(modes.count >= 5 && modes.first == false)
    }

    /// Texts copied, assigned and compared in place behave as the texts themselves, inline or
    /// not: equal exactly when their bytes are.
    @Test func textsCopiedAssignedAndComparedInPlace() {
        // A short text stored out of line, as some of the standard library's operations leave it.
        var outOfLine = String()
        outOfLine.reserveCapacity(64)
        outOfLine += "\"m00019\""
        let texts = [
            "", "a", "\"m00019\"", "exactly 15 byte", "é", "e\u{301}", outOfLine, "a text longer than fifteen bytes",
            "a text longer than fifteen bytez",
        ]
        if InlineText.holds {
            withUnsafePointer(to: texts[2]) { #expect(InlineText.isInline(at: $0)) }
            withUnsafePointer(to: texts[6]) { #expect(!InlineText.isInline(at: $0)) }
        }
        for a in texts {
            for b in texts {
                withUnsafePointer(to: a) { first in
                    withUnsafePointer(to: b) { second in
                        #expect(InlineText.same(at: first, second) == (Array(a.utf8) == Array(b.utf8)))
                    }
                }
                var target = a
                withUnsafePointer(to: b) { InlineText.assign(&target, from: $0) }
                #expect(target == b && Array(target.utf8) == Array(b.utf8))
                var value = FieldValue(kind: .string, text: a)
                withUnsafePointer(to: FieldValue(kind: .number, text: b, number: 2.5, integer: 7)) { FieldValue.assign(&value, from: $0) }
                #expect(value == FieldValue(kind: .number, text: b, number: 2.5, integer: 7))
            }
            let copy = withUnsafePointer(to: a) { InlineText.copy(at: $0) }
            #expect(copy == a && Array(copy.utf8) == Array(a.utf8))
        }
        var window = Lookback<String>()
        for (time, text) in texts.prefix(4).enumerated() { window.append(text, at: Int64(time)) }
        #expect(texts.map { window.contains($0) } == [true, true, true, true, false, false, true, false, false])
    }

    /// Keys found in place are the keys found by value, through the key table's growth.
    @Test func keysFoundInPlaceMatchKeysFoundByValue() {
        let table = KeyTable()
        let keys = (0..<5000).map { $0 % 3 == 0 ? "\"a key longer than fifteen bytes \($0)\"" : "\"c\($0)\"" }
        for (slot, key) in keys.enumerated() { table.insert(key, slot: slot, hash: KeyGroups.stableHash(ofKey: key)) }
        for (slot, key) in keys.enumerated().map({ ($0.offset, $0.element) }) + [(-1, "\"absent\"")] {
            let hash = KeyGroups.stableHash(ofKey: key)
            let found = withUnsafePointer(to: key) { table.find(keyAt: $0, hash: hash) }
            #expect(found == table.find(key, hash: hash))
            #expect(found == (slot >= 0 ? slot : nil))
        }
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
