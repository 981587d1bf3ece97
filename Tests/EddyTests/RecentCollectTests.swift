import Testing
@testable import Eddy

/// A `collect` with a small limit keeps its values in the key's row (`RecentCollectStore`):
/// it must behave, and persist, exactly as the heap-kept `CollectState` does.
@Suite("Collect kept in the row")
struct RecentCollectTests {
    /// Two stores over the same rows: the row-kept collect and the heap one, same limit and
    /// window.
    private struct Pair {
        let ring: RecentCollectStore
        let heap: CollectStore
        let rows: StateRows

        init(limit: Int, window: Int64?, keys: Int) {
            ring = RecentCollectStore(limit: limit, window: window)
            heap = CollectStore(CollectState(limit: limit), window: window)
            let stores: [FeatureStore] = [ring, heap]
            let (rows, offsets) = StateRows.laidOut(stores.map(\.stateLayout))
            for (store, offset) in zip(stores, offsets) { store.attach(to: rows, offset: offset) }
            self.rows = rows
            for slot in 0..<keys {
                #expect(rows.appendRow() == slot)
                for store in stores { store.initialiseState(slot: slot) }
            }
        }

        /// Written after other bytes, as a record's results are.
        func result(_ store: FeatureStore, _ slot: Int) -> String {
            let out = ByteBuffer()
            out.appendUTF8("prefix:")
            store.appendResult(slot: slot, to: out)
            return String(decoding: out.elements.dropFirst(7), as: UTF8.self)
        }

        func encoded(_ store: FeatureStore, _ slot: Int) -> [UInt8] {
            var writer = StateWriter()
            store.encode(slot: slot, to: &writer)
            return writer.bytes
        }

        func decode(_ bytes: [UInt8], into store: FeatureStore, _ slot: Int) throws {
            // A copy the reader can point into for as long as the decode runs.
            let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            defer { raw.deallocate() }
            raw.copyBytes(from: bytes)
            var reader = StateReader(UnsafeRawBufferPointer(rebasing: raw[0..<bytes.count]))
            try store.decode(slot: slot, from: &reader)
            #expect(reader.isAtEnd, "the whole state is read")
        }
    }

    /// Numbers, texts too long to be stored inline (17+ bytes), exactly 15 bytes long, or not
    /// ASCII, and nulls, in time order.
    private static func value(_ step: Int) -> FieldValue {
        if step % 7 == 3 { return .null }
        if step % 5 == 1 { return FieldValue(kind: .string, text: "\"a text longer than inline \(step)\"") }
        if step % 11 == 2 { return FieldValue(kind: .string, text: "\"fifteen-byte\(step % 10)\"") }
        if step % 13 == 4 { return FieldValue(kind: .string, text: "\"é\(step % 10)\"") }
        return FieldValue(kind: .number, text: "\(step)", number: Double(step), integer: Int64(step))
    }

    /// Event by event over three keys: the same result after every event, the same bytes
    /// persisted (with a window: without one the row keeps no times), and each restores
    /// what the other wrote (then goes on alike); a reset state is empty in both.
    @Test(arguments: [(1, nil), (3, nil), (5, 40), (8, 25), (8, nil)] as [(Int, Int64?)])
    func rowKeptCollectMatchesTheHeapOne(limit: Int, window: Int64?) throws {
        let pair = Pair(limit: limit, window: window, keys: 3)
        for step in 0..<600 {
            let slot = step % 3
            // Gaps now and then, so that windows empty and refill.
            let time = Int64(step * 3 + (step / 50) * 60)
            for store in [pair.ring, pair.heap] as [FeatureStore] { store.apply(Self.value(step), slot: slot, at: time) }
            #expect(pair.result(pair.ring, slot) == pair.result(pair.heap, slot))
            if step % 37 == 0 {
                let ringBytes = pair.encoded(pair.ring, slot)
                // Without a window the row keeps no times, and persists them as 0.
                if window != nil { #expect(ringBytes == pair.encoded(pair.heap, slot)) }
                // Restored crosswise: each store takes the other's bytes.
                try pair.decode(pair.encoded(pair.heap, slot), into: pair.ring, slot)
                try pair.decode(ringBytes, into: pair.heap, slot)
                #expect(pair.result(pair.ring, slot) == pair.result(pair.heap, slot))
            }
            if step % 101 == 100 {
                pair.ring.reset(slot: slot)
                pair.heap.reset(slot: slot)
                #expect(pair.result(pair.ring, slot) == "null")
                #expect(pair.result(pair.heap, slot) == "null")
            }
        }
        let lastResult = pair.result(pair.ring, 0)
        #expect(lastResult.hasPrefix("[") && lastResult.hasSuffix("]"))
    }

    /// A persisted collect holding more values than the row has room for is refused as
    /// corrupt, not written past the row.
    @Test func restoringMoreValuesThanTheLimitIsAnError() throws {
        let pair = Pair(limit: 8, window: nil, keys: 1)
        let wider = CollectStore(CollectState(limit: 9), window: nil)
        let (rows, offsets) = StateRows.laidOut([wider.stateLayout])
        wider.attach(to: rows, offset: offsets[0])
        _ = rows.appendRow()
        wider.initialiseState(slot: 0)
        for step in 0..<9 { wider.apply(FieldValue(kind: .number, text: "\(step)"), slot: 0, at: Int64(step)) }
        let bytes = pair.encoded(wider, 0)
        #expect(throws: StateFormatError.self) { try pair.decode(bytes, into: pair.ring, 0) }
    }

    /// The plan keeps limits up to `largestLimit` in the row, larger or no limits on the heap.
    @Test func planPicksTheRowForSmallLimits() {
        func store(limit: Int?, field: String? = "v") -> FeatureStore {
            JobPlan(job(feature(.collect, field, limit: limit))).features[0].makeStore(broadcasts: .empty)
        }
        #expect(store(limit: 1) is RecentCollectStore)
        #expect(store(limit: RecentCollectStore.largestLimit) is RecentCollectStore)
        #expect(store(limit: RecentCollectStore.largestLimit + 1) is CollectStore)
        #expect(store(limit: nil) is CollectStore)
        // Specs built in code may hold what a spec file may not: they go to the heap collect.
        #expect(store(limit: 0) is CollectStore)
        #expect(store(limit: 3, field: nil) is CollectStore)
    }
}
