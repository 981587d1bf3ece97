import Testing
@testable import Eddy

/// A windowed sum keeps its window's log in chunks shared by all keys (`WindowedSumStore`):
/// results must follow the window exactly, the persisted form must restore the same state,
/// and chunks freed by evictions and resets must be reused.
@Suite("Windowed sum store")
struct WindowedSumStoreTests {
    private struct Setup {
        let store: WindowedSumStore
        let rows: StateRows

        init(average: Bool, window: Int64, keys: Int) {
            store = WindowedSumStore(WindowedSumState(average: average), window: window)
            let (rows, offsets) = StateRows.laidOut([store.stateLayout])
            store.attach(to: rows, offset: offsets[0])
            self.rows = rows
            for slot in 0..<keys {
                #expect(rows.appendRow() == slot)
                store.initialiseState(slot: slot)
            }
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

        func decode(_ bytes: [UInt8], into slot: Int) throws {
            let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            defer { raw.deallocate() }
            raw.copyBytes(from: bytes)
            var reader = StateReader(UnsafeRawBufferPointer(rebasing: raw[0..<bytes.count]))
            reader.version = StateFormat.version
            try store.decode(slot: slot, from: &reader)
            #expect(reader.isAtEnd, "the whole state is read")
        }
    }

    /// Integers, halves (exact in binary, so any order of additions gives the same sum),
    /// and nulls.
    private static func value(_ step: Int) -> FieldValue {
        if step % 7 == 3 { return .null }
        if step % 3 == 1 {
            let number = Double(step % 40) / 2 - 5
            return FieldValue(kind: .number, text: "\(number)", number: number, integer: nil)
        }
        return FieldValue(kind: .number, text: "\(step % 50)", number: Double(step % 50), integer: Int64(step % 50))
    }

    /// The expected text of a window holding `values` (nil for an integer's absence of a
    /// fraction is not needed: each value says whether it is an integer).
    private static func expected(_ values: [FieldValue], average: Bool) -> String {
        let out = ByteBuffer()
        if values.isEmpty {
            out.appendUTF8("null")
        } else if average {
            NumberText.append(values.map(\.number).reduce(0, +) / Double(values.count), to: out)
        } else if values.allSatisfy({ $0.integer != nil }) {
            NumberText.append(values.map { $0.integer! }.reduce(0, +), to: out)
        } else {
            NumberText.append(values.map(\.number).reduce(0, +), to: out)
        }
        return String(decoding: out.elements, as: UTF8.self)
    }

    @Test(arguments: [(false, 40), (true, 40), (false, 7), (true, 1000)] as [(Bool, Int64)])
    func followsTheWindowAndRestores(average: Bool, window: Int64) throws {
        let keys = 3
        // One more slot, for restored copies.
        let setup = Setup(average: average, window: window, keys: keys + 1)
        var windows = [[(time: Int64, value: FieldValue)]](repeating: [], count: keys)
        var peakBytes = 0
        for step in 0..<900 {
            let slot = step % keys
            // Gaps now and then, so that windows empty and refill.
            let time = Int64(step * 2 + (step / 60) * 50)
            let value = Self.value(step)
            setup.store.apply(value, slot: slot, at: time)
            windows[slot].removeAll { $0.time < time - window }
            if !value.kind.isAbsent { windows[slot].append((time, value)) }
            #expect(setup.result(slot) == Self.expected(windows[slot].map(\.value), average: average))
            peakBytes = max(peakBytes, setup.store.heapBytes(slot: slot))
            if step % 37 == 0 {
                let bytes = setup.encoded(slot)
                try setup.decode(bytes, into: keys)
                #expect(setup.result(keys) == setup.result(slot))
                #expect(setup.encoded(keys) == bytes)
                // The restored copy goes on alike.
                setup.store.apply(value, slot: keys, at: time + window / 2)
                setup.store.apply(value, slot: slot, at: time + window / 2)
                #expect(setup.result(keys) == setup.result(slot))
                try setup.decode(bytes, into: slot)
                setup.store.reset(slot: keys)
                #expect(setup.result(keys) == "null" && setup.store.heapBytes(slot: keys) == 0)
            }
        }
        // A window holds at most window / 2 + 1 events of a key here: its log, a few chunks.
        let chunkBytes = NumberLogChunks.chunkSize
        #expect(peakBytes <= (Int(window) / 6 / NumberLogChunks.entriesPerChunk + 2) * chunkBytes)
    }

    /// Persisted as the log was when it was a `Lookback<LoggedNumber>`: the total, the
    /// entry count, then each entry's time and value (an integer's number as its Double).
    @Test func persistsTheLookbackForm() {
        let setup = Setup(average: false, window: 100, keys: 1)
        setup.store.apply(FieldValue(kind: .number, text: "2", number: 2, integer: 2), slot: 0, at: 10)
        setup.store.apply(FieldValue(kind: .number, text: "0.5", number: 0.5, integer: nil), slot: 0, at: 20)
        var expected = StateWriter()
        var total = NumericTotal()
        total.add(NumericValue(number: 2, integer: 2))
        total.add(NumericValue(number: 0.5, integer: nil))
        total.encode(to: &expected)
        expected.writeCount(2)
        expected.write(Int64(10))
        NumericValue(number: 2, integer: 2).encode(to: &expected)
        expected.write(Int64(20))
        NumericValue(number: 0.5, integer: nil).encode(to: &expected)
        #expect(setup.encoded(0) == expected.bytes)
    }

    /// Chunks freed by evictions and resets are handed out again.
    @Test func reusesFreedChunks() {
        let setup = Setup(average: false, window: 10, keys: 2)
        let one = FieldValue(kind: .number, text: "1", number: 1, integer: 1)
        for step in 0..<5000 {
            setup.store.apply(one, slot: step % 2, at: Int64(step))
            if step % 500 == 499 { setup.store.reset(slot: 0) }
        }
        #expect(setup.result(1) == "6")
        // Two keys of at most 11 entries: 2 chunks each at most, and a few freed ones.
        #expect(setup.store.allocatedChunks <= 8)
    }
}
