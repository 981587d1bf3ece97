import Testing
@testable import Eddy

/// The rows that hold every key's feature states side by side.
@Suite("State rows")
struct StateRowsTests {
    @Test func statesAreLaidOutAlignedAndRowsNeverStraddleALineNeedlessly() {
        let one = StateRows.laidOut([(8, 8)])
        #expect(one.offsets == [0] && one.rows.stride == 8)
        // Rows of at most a line: the most aligned first, then the largest: 16, 4, 1 bytes in
        // 32 (in the order given, 1, 16, 4 took 48).
        let padded = StateRows.laidOut([(1, 1), (16, 16), (4, 4)])
        #expect(padded.offsets == [20, 0, 16] && padded.rows.stride == 32)
        let small = StateRows.laidOut([(8, 8), (12, 4)])
        #expect(small.offsets == [0, 8] && small.rows.stride == 32)
        // Wider rows: states of more than a line from a line's start, smaller ones inside a
        // line, in the room the larger ones leave; no more lines than packed (448 bytes here).
        let wide = StateRows.laidOut([(100, 8), (200, 16), (0, 1), (49, 16), (42, 8)])
        #expect(wide.offsets == [256, 0, 0, 384, 200] && wide.rows.stride == 448)
        #expect(StateRows.packedLayout([(100, 8), (200, 16), (0, 1), (49, 16), (42, 8)]).offsets == [264, 0, 410, 208, 368])
        // Equal layouts keep the order given.
        #expect(StateRows.laidOut([(24, 8), (24, 8), (24, 8)]).offsets == [0, 24, 64])
        #expect(Int(bitPattern: wide.rows.address(ofRow: 0)) % StateRows.lineSize == 0)
        // When lines cost more lines of row, the states are packed.
        let tight = StateRows.layout([(40, 8), (40, 8), (40, 8)])
        #expect(tight.offsets == [0, 40, 80] && tight.stride == 128)
    }

    /// The card job's states (count, windowed sum, max, average, last, distinct count, collect
    /// of 5): each loads the fewest lines its size allows, in six lines as when packed.
    @Test func theCardJobsStatesEachSpanTheFewestLines() {
        let layouts = [(8, 8), (72, 16), (35, 8), (48, 16), (26, 8), (61, 8), (88, 8)]
        let (stride, offsets) = StateRows.layout(layouts.map { (size: $0.0, alignment: $0.1) })
        #expect(stride == 384)
        #expect(offsets == [200, 128, 88, 208, 320, 256, 0])
        #expect(MemoryLayout<WindowedSumState>.size == 72 && MemoryLayout<WindowedDistinctState>.size == 61)
        for ((size, alignment), offset) in zip(layouts, offsets) {
            #expect(offset % alignment == 0)
            let lines = (offset + size - 1) / StateRows.lineSize - offset / StateRows.lineSize + 1
            #expect(lines == (size + StateRows.lineSize - 1) / StateRows.lineSize)
        }
        for (index, (size, _)) in layouts.enumerated() {
            for (other, (otherSize, _)) in layouts.enumerated() where other != index {
                #expect(offsets[index] + size <= offsets[other] || offsets[other] + otherSize <= offsets[index])
            }
        }
    }

    /// States keep their values (heap storage included) as the rows grow and move; a reset
    /// state releases what it held and starts empty; every state is deinitialised, releasing
    /// what it holds, when the rows go.
    @Test func statesSurviveGrowthResetAndAreReleasedWithTheRows() {
        weak var firstTracker: Tracker?
        weak var lastTracker: Tracker?
        weak var resetTracker: Tracker?
        do {
            let stores = [TrackedStore(), TrackedStore()]
            let (rows, offsets) = StateRows.laidOut(stores.map(\.stateLayout))
            for (store, offset) in zip(stores, offsets) { store.attach(to: rows, offset: offset) }
            let out = ByteBuffer()
            func result(_ store: TrackedStore, _ slot: Int) -> String {
                out.removeAll()
                store.appendResult(slot: slot, to: out)
                return String(decoding: out.elements, as: UTF8.self)
            }
            for slot in 0..<1000 {
                #expect(rows.appendRow() == slot)
                for store in stores { store.initialiseState(slot: slot) }
                for (index, store) in stores.enumerated() {
                    store.apply(FieldValue(kind: .string, text: "\"k\(slot)-\(index)\""), slot: slot, at: Int64(slot))
                }
            }
            for slot in stride(from: 0, to: 1000, by: 37) + [999] {
                for (index, store) in stores.enumerated() {
                    #expect(result(store, slot) == "[\"k\(slot)-\(index)\"]")
                }
            }
            func tracker(_ slot: Int) -> Tracker { stores[0].column.state(slot, as: TrackedState.self).pointee.tracker }
            firstTracker = tracker(0)
            lastTracker = tracker(999)
            resetTracker = tracker(500)
            stores[0].reset(slot: 500)
            #expect(resetTracker == nil)
            #expect(result(stores[0], 500) == "[]")
            #expect(result(stores[1], 500) == "[\"k500-1\"]")
            #expect(firstTracker != nil && lastTracker != nil)
        }
        #expect(firstTracker == nil && lastTracker == nil)
    }

    /// The arena grows well past a huge page (it is asked for huge pages as a whole, and
    /// grows by moving its pages) with every row kept. Rows of 320 bytes, as the card job's,
    /// so that the arena's sizes are not multiples of a huge page.
    @Test func rowsGrowPastHugePagesIntact() {
        let stores = (0..<20).map { _ in TrackedStore() }
        let (rows, offsets) = StateRows.laidOut(stores.map(\.stateLayout))
        for (store, offset) in zip(stores, offsets) { store.attach(to: rows, offset: offset) }
        #expect(rows.stride == 320)
        let count = 3 * HugePages.size / rows.stride
        for slot in 0..<count {
            #expect(rows.appendRow() == slot)
            for store in stores { store.initialiseState(slot: slot) }
            stores[slot % 20].apply(FieldValue(kind: .number, text: "\(slot)"), slot: slot, at: 0)
        }
        let out = ByteBuffer()
        for slot in stride(from: 0, to: count, by: 997) + [count - 1] {
            out.removeAll()
            stores[slot % 20].appendResult(slot: slot, to: out)
            #expect(String(decoding: out.elements, as: UTF8.self) == "[\(slot)]")
        }
    }

    /// Huge pages are asked for only over whole 2 MiB pages inside a range.
    @Test func hugePagesCoverOnlyWholeHugePagesOfARange() {
        let size = HugePages.size
        #expect(HugePages.wholePages(start: 0, bytes: size - 1) == nil)
        #expect(HugePages.wholePages(start: 1, bytes: size) == nil)
        #expect(HugePages.wholePages(start: 0, bytes: size)! == 0..<size)
        #expect(HugePages.wholePages(start: 100, bytes: 3 * size)! == size..<3 * size)
        #expect(HugePages.wholePages(start: size, bytes: 2 * size + 5)! == size..<3 * size)
    }
}

final class Tracker {}

/// A state holding a class instance and an array, to see both kept and released.
struct TrackedState: FeatureAccumulator {
    var tracker = Tracker()
    var texts: [String] = []
    mutating func add(_ event: UnsafePointer<FieldValue>, at time: Int64) { texts.append(event.pointee.text) }
    func appendResult(to out: ByteBuffer) { out.appendUTF8("[" + texts.joined(separator: ",") + "]") }
    func encodeState(to writer: inout StateWriter) {}
    mutating func decodeState(from reader: inout StateReader) throws(StateFormatError) {}
}

final class TrackedStore: AccumulatorStore {
    var empty: TrackedState { TrackedState() }
    let window: Int64? = nil
    var column = StateColumn()
}
