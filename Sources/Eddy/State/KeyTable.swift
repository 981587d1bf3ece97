/// Open-addressing hash table from a key's canonical text to its row, hashed with the same
/// stable hash that assigns key groups, so one hash per event serves both, and Swift's
/// per-process SipHash (the top of the profile with `Dictionary<String, _>`) is avoided.
struct KeyTable {
    private var slots: [Int32]  // index into rows + 1; 0 is empty
    private var hashes: [UInt64] = []
    private(set) var rows: [KeyState] = []
    private var mask: Int

    init() {
        slots = Array(repeating: 0, count: 1024)
        mask = 1023
    }

    var count: Int { rows.count }

    /// The row for `key`, or nil; `hash` must be `KeyGroups.stableHash(ofKey: key)`.
    @inline(__always)
    func find(_ key: String, hash: UInt64) -> KeyState? {
        var position = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = Int(slots[position])
            if entry == 0 { return nil }
            if hashes[entry - 1] == hash, rows[entry - 1].key == key { return rows[entry - 1] }
            position = (position + 1) & mask
        }
    }

    mutating func insert(_ row: KeyState, hash: UInt64) {
        if (rows.count + 1) * 4 > slots.count * 3 { grow() }
        rows.append(row)
        hashes.append(hash)
        place(Int32(rows.count), hash: hash)
    }

    private mutating func place(_ entry: Int32, hash: UInt64) {
        var position = Int(truncatingIfNeeded: hash) & mask
        while slots[position] != 0 { position = (position + 1) & mask }
        slots[position] = entry
    }

    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for (index, hash) in hashes.enumerated() { place(Int32(index + 1), hash: hash) }
    }
}
