import CEddySupport

/// Open-addressing hash table from a key's canonical text to its slot, hashed with the same
/// stable hash that assigns key groups, so one hash per event serves both, and Swift's
/// per-process SipHash (the top of the profile with `Dictionary<String, _>`) is avoided.
/// An entry holds the full hash and the key next to the slot: a short key (up to 15 UTF-8
/// bytes) is stored inline in its `String`, so a probe usually costs one cache line.
struct KeyTable {
    private struct Entry {
        var hash: UInt64 = 0
        var slot: Int32 = -1  // -1: empty
        var key = ""
    }

    private var entries: [Entry]
    private var mask: Int
    private(set) var count = 0

    init() {
        entries = Array(repeating: Entry(), count: 1024)
        mask = 1023
    }

    /// Starts loading the entry where a lookup of `hash` begins.
    @inline(__always)
    func prefetch(hash: UInt64) {
        entries.withUnsafeBufferPointer { eddy_prefetch($0.baseAddress! + (Int(truncatingIfNeeded: hash) & mask)) }
    }

    /// The slot of `key`, or nil; `hash` must be `KeyGroups.stableHash(ofKey: key)`.
    @inline(__always)
    func find(_ key: String, hash: UInt64) -> Int? {
        // Compared in place: copying an entry out would retain and release its key.
        entries.withUnsafeBufferPointer { entries in
            var position = Int(truncatingIfNeeded: hash) & mask
            while true {
                let slot = entries[position].slot
                if slot < 0 { return nil }
                if entries[position].hash == hash, entries[position].key == key { return Int(slot) }
                position = (position + 1) & mask
            }
        }
    }

    mutating func insert(_ key: String, slot: Int, hash: UInt64) {
        if (count + 1) * 2 > entries.count { grow() }
        count += 1
        place(Entry(hash: hash, slot: Int32(slot), key: key))
    }

    /// Removes the entry of `slot` (whose key hashed to `hash`), shifting later entries of
    /// its probe run back so that lookups never stop early at the hole.
    mutating func remove(slot: Int, hash: UInt64) {
        var hole = Int(truncatingIfNeeded: hash) & mask
        while entries[hole].slot != Int32(slot) {
            precondition(entries[hole].slot >= 0, "removing a key that is not in the table")
            hole = (hole + 1) & mask
        }
        entries[hole] = Entry()
        count -= 1
        var next = (hole + 1) & mask
        while entries[next].slot >= 0 {
            let home = Int(truncatingIfNeeded: entries[next].hash) & mask
            // The entry may fill the hole when the hole lies on its probe path, home..next.
            if (next &- hole) & mask <= (next &- home) & mask {
                entries[hole] = entries[next]
                entries[next] = Entry()
                hole = next
            }
            next = (next + 1) & mask
        }
    }

    private mutating func place(_ entry: Entry) {
        var position = Int(truncatingIfNeeded: entry.hash) & mask
        while entries[position].slot >= 0 { position = (position + 1) & mask }
        entries[position] = entry
    }

    private mutating func grow() {
        let old = entries
        entries = Array(repeating: Entry(), count: old.count * 2)
        mask = entries.count - 1
        for entry in old where entry.slot >= 0 { place(entry) }
    }
}
