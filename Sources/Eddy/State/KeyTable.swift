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
        entries = Self.emptyEntries(1024)
        mask = 1023
    }

    /// `count` empty entries.
    private static func emptyEntries(_ count: Int) -> [Entry] { Array(initialisedInPlace: count, with: Entry()) }

    /// Starts loading the entries where lookups of `hashes` begin: all in one access to the
    /// table's storage (one per hash retained and released it, an atomic pair per event).
    @inline(__always)
    func prefetch(hashes: UnsafeBufferPointer<UInt64>) {
        let mask = mask
        entries.withUnsafeBufferPointer { entries in
            for hash in hashes { eddy_prefetch(entries.baseAddress! + (Int(truncatingIfNeeded: hash) & mask)) }
        }
    }

    /// The slot of `key`, or nil; `hash` must be `KeyGroups.stableHash(ofKey: key)`.
    @inline(__always)
    func find(_ key: String, hash: UInt64) -> Int? {
        withUnsafePointer(to: key) { find(keyAt: $0, hash: hash) }
    }

    /// `find` for the key stored at `key`, compared in place (see `InlineText.same`):
    /// passing the key itself copied it, a retain and a release per event.
    @inline(__always)
    func find(keyAt key: UnsafePointer<String>, hash: UInt64) -> Int? {
        entries.withUnsafeBufferPointer { entries in
            let keyOffset = MemoryLayout<Entry>.offset(of: \.key)!
            var position = Int(truncatingIfNeeded: hash) & mask
            while true {
                let slot = entries[position].slot
                if slot < 0 { return nil }
                if entries[position].hash == hash,
                   InlineText.same(at: (UnsafeRawPointer(entries.baseAddress! + position) + keyOffset).assumingMemoryBound(to: String.self), key) {
                    return Int(slot)
                }
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
        var old = Self.emptyEntries(entries.count * 2)
        swap(&old, &entries)
        mask = entries.count - 1
        let mask = mask
        // Both buffers taken once: taking the new one per moved entry checked its
        // uniqueness each time.
        old.withUnsafeMutableBufferPointer { old in
            entries.withUnsafeMutableBufferPointer { entries in
                for index in old.indices where old[index].slot >= 0 {
                    var position = Int(truncatingIfNeeded: old[index].hash) & mask
                    while entries[position].slot >= 0 { position = (position + 1) & mask }
                    // Moved, not copied (a copy retained every key): the old entry gets the new
                    // one's empty key, which owns nothing, in exchange.
                    swap(&entries[position], &old[index])
                }
            }
        }
    }
}
