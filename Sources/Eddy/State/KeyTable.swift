/// Open-addressing hash table from a key's canonical text to its row, hashed with the same
/// stable hash that assigns key groups, so one hash per event serves both, and Swift's
/// per-process SipHash (the top of the profile with `Dictionary<String, _>`) is avoided.
/// A slot holds the hash next to the row index, so a probe costs one cache line.
struct KeyTable {
    private struct Slot {
        var hash: UInt64 = 0
        var entry: Int32 = 0  // index into rows + 1; 0 is empty
    }

    private var slots: [Slot]
    private(set) var rows: [KeyState] = []
    private var mask: Int

    init() {
        slots = Array(repeating: Slot(), count: 1024)
        mask = 1023
    }

    var count: Int { rows.count }

    /// The row for `key`, or nil; `hash` must be `KeyGroups.stableHash(ofKey: key)`.
    @inline(__always)
    func find(_ key: String, hash: UInt64) -> KeyState? {
        var position = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[position]
            if slot.entry == 0 { return nil }
            if slot.hash == hash {
                let row = rows[Int(slot.entry) - 1]
                if row.key == key { return row }
            }
            position = (position + 1) & mask
        }
    }

    mutating func insert(_ row: KeyState, hash: UInt64) {
        if (rows.count + 1) * 2 > slots.count { grow() }
        rows.append(row)
        place(Slot(hash: hash, entry: Int32(rows.count)))
    }

    private mutating func place(_ slot: Slot) {
        var position = Int(truncatingIfNeeded: slot.hash) & mask
        while slots[position].entry != 0 { position = (position + 1) & mask }
        slots[position] = slot
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Slot(), count: old.count * 2)
        mask = slots.count - 1
        for slot in old where slot.entry != 0 { place(slot) }
    }
}
