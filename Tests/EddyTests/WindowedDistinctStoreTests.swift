import Testing
@testable import Eddy

/// A windowed distinct count keeps its windows' logs in blocks shared by all keys
/// (`WindowedDistinctStore`): results must follow the window exactly, the persisted form
/// must be `ValueCountsState`'s byte for byte and restore the same state, and blocks freed
/// by growth, evictions and resets must be reused.
@Suite("Windowed distinct store")
struct WindowedDistinctStoreTests {
    private struct Setup {
        let store: WindowedDistinctStore
        let rows: StateRows

        init(window: Int64, keys: Int) {
            store = WindowedDistinctStore(window: window)
            let (rows, offsets) = StateRows.laidOut([store.stateLayout])
            store.attach(to: rows, offset: offsets[0])
            self.rows = rows
            for _ in 0..<keys { addKey() }
        }

        func addKey() {
            let slot = rows.appendRow()
            store.initialiseState(slot: slot)
        }

        func result(_ slot: Int) -> String {
            let out = ByteBuffer()
            out.appendUTF8("prefix:")
            store.appendResult(slot: slot, to: out)
            return String(decoding: out.elements.dropFirst(7), as: UTF8.self)
        }

        func encoded(_ slot: Int) -> [UInt8] {
            var writer = StateWriter()
            store.encode(slot: slot, to: &writer)
            return writer.bytes
        }

        func decode(_ bytes: [UInt8], into slot: Int) throws(StateFormatError) {
            let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            defer { raw.deallocate() }
            raw.copyBytes(from: bytes)
            var reader = StateReader(UnsafeRawBufferPointer(rebasing: raw[0..<bytes.count]))
            reader.version = StateFormat.version
            try store.decode(slot: slot, from: &reader)
            #expect(reader.isAtEnd, "the whole state is read")
        }
    }

    /// Short and long texts, ASCII and not, two that print alike but differ in bytes, and a
    /// short text stored out of line beside its inline twin.
    private static let texts: [String] = {
        var values = (0..<12).map { "\"v\($0)\"" } + ["\"a text longer than fifteen bytes\"", "\"another text longer than fifteen\"", "\"é\"", "\"e\u{301}\"", "12.5"]
        var outOfLineTwin = String()
        outOfLineTwin.reserveCapacity(64)
        outOfLineTwin += "\"v1\""
        values.insert(outOfLineTwin, at: 4)
        return values
    }()

    /// Against `ValueCountsState`, the reference, over keys whose windows fill past the small
    /// size (a table), slide (evictions), empty and refill: the same results, the same
    /// persisted bytes, and a restored copy that goes on alike; resets and reuse of slots.
    @Test(arguments: [100, 5000] as [Int64])
    func followsTheReferenceStateAndRestores(window: Int64) throws {
        var generator = SplitMix(seed: UInt64(window))
        let keys = 4
        // One more slot, for restored copies.
        let setup = Setup(window: window, keys: keys + 1)
        var references = [ValueCountsState](repeating: ValueCountsState(windowed: true, histogram: false), count: keys)
        var times = [Int64](repeating: 0, count: keys)
        var tabled = 0
        for step in 0..<12_000 {
            let slot = Int(generator.next() % UInt64(keys))
            // Bursts of close times fill the window past the small size; sparse stretches
            // thin it, and jumps past the window empty it.
            times[slot] += step % 400 < 200 ? Int64(generator.next() % 4)
                : step % 1000 == 999 ? window + 1 : Int64(generator.next() % 60)
            let time = times[slot]
            let text = Self.texts[Int(generator.next() % UInt64(step % 1000 < 500 ? 5 : Self.texts.count))]
            let value = step % 53 == 7 ? FieldValue.null : FieldValue(kind: .string, text: text)
            setup.store.apply(value, slot: slot, at: time)
            references[slot].evict(olderThan: time - window)
            withUnsafePointer(to: value) { references[slot].add($0, at: time) }
            let out = ByteBuffer()
            references[slot].appendResult(to: out)
            #expect(setup.result(slot) == String(decoding: out.elements, as: UTF8.self))
            if references[slot].keepsTable { tabled += 1 }
            if step % 97 == 0 {
                let bytes = setup.encoded(slot)
                var reference = StateWriter()
                references[slot].encodeState(to: &reference)
                #expect(bytes == reference.bytes)
                try setup.decode(bytes, into: keys)
                #expect(setup.encoded(keys) == bytes)
                #expect(setup.result(keys) == setup.result(slot))
                // The restored copy goes on alike.
                let later = FieldValue(kind: .string, text: Self.texts[step % Self.texts.count])
                setup.store.apply(later, slot: keys, at: time + window / 2)
                var copy = references[slot]
                copy.evict(olderThan: time + window / 2 - window)
                withUnsafePointer(to: later) { copy.add($0, at: time + window / 2) }
                let copied = ByteBuffer()
                copy.appendResult(to: copied)
                #expect(setup.result(keys) == String(decoding: copied.elements, as: UTF8.self))
                setup.store.reset(slot: keys)
                #expect(setup.result(keys) == "0" && setup.store.heapBytes(slot: keys) == 0)
            }
            if step % 2_501 == 2_500 {
                // A key starts over (as when its slot is reused).
                setup.store.reset(slot: slot)
                references[slot] = ValueCountsState(windowed: true, histogram: false)
            }
        }
        // Both modes were met.
        #expect(tabled > 100 && tabled < 12_000 - 100, "\(tabled) steps with a table")
    }

    /// Persisted as `ValueCountsState` writes a windowed distinct count: the distinct texts
    /// in byte order with their counts, then the window's entries oldest first.
    @Test func persistsTheValueCountsForm() {
        let setup = Setup(window: 100, keys: 1)
        for (time, text) in [(10, "\"b\""), (20, "\"a\""), (30, "\"b\"")] as [(Int64, String)] {
            setup.store.apply(FieldValue(kind: .string, text: text), slot: 0, at: time)
        }
        var expected = StateWriter()
        expected.writeCount(2)
        expected.write("\"a\"")
        expected.write(Int64(1))
        expected.write("\"b\"")
        expected.write(Int64(2))
        expected.writeCount(3)
        for (time, text) in [(10, "\"b\""), (20, "\"a\""), (30, "\"b\"")] as [(Int64, String)] {
            expected.write(time)
            expected.write(text)
        }
        #expect(setup.encoded(0) == expected.bytes)
        #expect(setup.result(0) == "2")
    }

    /// A state that does not decode is rejected with `ValueCountsState`'s messages.
    @Test func rejectsWhatValueCountsRejects() {
        let setup = Setup(window: 100, keys: 1)
        var miscounted = StateWriter()
        miscounted.writeCount(1)
        miscounted.write("\"a\"")
        miscounted.write(Int64(1))
        miscounted.writeCount(2)
        for (time, text) in [(10, "\"a\""), (20, "\"b\"")] as [(Int64, String)] {
            miscounted.write(time)
            miscounted.write(text)
        }
        func rejection(_ bytes: [UInt8]) -> String? {
            do {
                try setup.decode(bytes, into: 0)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(rejection(miscounted.bytes) == "a window of 2 distinct values counted as 1")
        var unordered = StateWriter()
        unordered.writeCount(1)
        unordered.write("\"a\"")
        unordered.write(Int64(2))
        unordered.writeCount(2)
        for time in [20, 10] as [Int64] {
            unordered.write(time)
            unordered.write("\"a\"")
        }
        #expect(rejection(unordered.bytes) == "window entries out of time order")
        // The slot is still usable.
        setup.store.reset(slot: 0)
        setup.store.apply(FieldValue(kind: .string, text: "\"a\""), slot: 0, at: 5)
        #expect(setup.result(0) == "1")
    }

    /// Blocks grow by doubling, moving long texts intact; blocks freed by growth and resets
    /// are handed out again; the rows' growth (which moves the states) and the blocks'
    /// (which moves the texts) keep every value.
    @Test func growsAndReusesBlocks() {
        let setup = Setup(window: 1 << 40, keys: 1)
        let long = (0..<300).map { "\"a long text number \($0), well past fifteen bytes\"" }
        for (index, text) in long.enumerated() {
            setup.store.apply(FieldValue(kind: .string, text: text), slot: 0, at: Int64(index))
        }
        #expect(setup.result(0) == "300")
        // Blocks doubling from the smallest: the smaller ones freed on the way, the first
        // of at least 300 entries held.
        var capacity = TimedTextBlocks.smallestBlock
        while capacity < 300 { capacity *= 2 }
        #expect(setup.store.heapBytes(slot: 0) >= capacity * MemoryLayout<TimedText>.stride)
        let before = setup.store.allocatedUnits
        // New keys take the freed blocks rather than new ones.
        for _ in 0..<20 { setup.addKey() }
        for slot in 1...20 {
            for step in 0..<9 {
                setup.store.apply(FieldValue(kind: .string, text: long[(slot + step) % long.count]), slot: slot, at: Int64(step))
            }
            #expect(setup.result(slot) == "9")
        }
        let afterNewKeys = setup.store.allocatedUnits
        for slot in 1...20 { setup.store.reset(slot: slot) }
        for slot in 1...20 {
            for step in 0..<9 {
                setup.store.apply(FieldValue(kind: .string, text: long[step]), slot: slot, at: Int64(step))
            }
        }
        #expect(setup.store.allocatedUnits == afterNewKeys)
        // 20 keys of 9 values: a smallest block each, one of them the block the first key
        // freed when it grew.
        #expect(afterNewKeys - before == 19)
        // The first key's texts survived every move.
        var reference = ValueCountsState(windowed: true, histogram: false)
        for (index, text) in long.enumerated() {
            withUnsafePointer(to: FieldValue(kind: .string, text: text)) { reference.add($0, at: Int64(index)) }
        }
        var expected = StateWriter()
        reference.encodeState(to: &expected)
        #expect(setup.encoded(0) == expected.bytes)
    }

    /// Evictions drop the oldest texts (long ones released), and a window that slides keeps
    /// reusing its block: it slides its entries down rather than growing.
    @Test func evictsAndSlidesWithinItsBlock() {
        let setup = Setup(window: 10, keys: 1)
        for step in 0..<5_000 {
            let text = step % 3 == 0 ? "\"a text longer than fifteen bytes \(step % 7)\"" : "\"s\(step % 5)\""
            setup.store.apply(FieldValue(kind: .string, text: text), slot: 0, at: Int64(step))
        }
        // The last 11 values (times 4989...4999): their distinct texts.
        let last = (4989..<5000).map { $0 % 3 == 0 ? "l\($0 % 7)" : "s\($0 % 5)" }
        #expect(setup.result(0) == String(Set(last).count))
        // A window of at most 11 values: a block of at most 32 entries, and the smaller
        // ones it grew from.
        #expect(setup.store.allocatedUnits * TimedTextBlocks.smallestBlock <= 64)
        #expect(setup.store.heapBytes(slot: 0) <= 32 * MemoryLayout<TimedText>.stride)
    }
}
