/// The keyed stage: finds the event's key row in the state backend and applies the event
/// to every feature, evicting what left each lookback window first.
final class KeyedFeatureOperator<Backend: KeyedStateBackend> {
    let backend: Backend
    private let keySlots: [Int]
    private let featureInputs: [(fieldSlot: Int?, window: Int64?)]

    init(plan: JobPlan, backend: Backend) {
        self.backend = backend
        keySlots = plan.keySlots
        featureInputs = plan.features.map { ($0.fieldSlot, $0.window) }
    }

    /// The canonical key of the event at `base`: its key columns' JSON texts joined by
    /// U+001F, which JSON text cannot contain unescaped, so distinct keys never collide.
    @inline(__always)
    func canonicalKey(_ values: [FieldValue], base: Int) -> String {
        if keySlots.count == 1 { return values[base + keySlots[0]].text }
        var key = ""
        for (index, slot) in keySlots.enumerated() {
            if index > 0 { key.append("\u{1F}") }
            key.append(values[base + slot].text)
        }
        return key
    }

    /// The row of the event whose values start at `base`.
    @inline(__always)
    func row(_ values: [FieldValue], base: Int) -> KeyState {
        backend.row(forKey: canonicalKey(values, base: base))
    }

    /// Applies one event (values at `base`, event time `time`) to its key's row.
    @inline(__always)
    func apply(_ values: [FieldValue], base: Int, time: Int64) -> KeyState {
        let row = row(values, base: base)
        apply(values, base: base, time: time, to: row)
        return row
    }

    @inline(__always)
    func apply(_ values: [FieldValue], base: Int, time: Int64, to row: KeyState) {
        for (index, input) in featureInputs.enumerated() {
            let state = row.features[index]
            if let window = input.window { state.evict(olderThan: time &- window) }
            if let slot = input.fieldSlot {
                state.add(values[base + slot], at: time)
            } else {
                state.add(countedEvent, at: time)
            }
        }
    }
}
