import CEddySupport

/// Open-addressing hash table from a key's canonical text to its slot, hashed with the same
/// stable hash that assigns key groups, so one hash per event serves both, and Swift's
/// per-process SipHash (the top of the profile with `Dictionary<String, _>`) is avoided.
/// An entry holds the full hash and the key next to the slot: a short key (up to 15 UTF-8
/// bytes) is stored inline in its `String`, so a probe usually costs one cache line.
///
/// The entries lie in an anonymous mapping, which is zero when fresh, and an all-zero entry
/// is an empty one: a new table needs no filling, and growing moves each key's bytes
/// without a retain or a release. (An array of entries was filled entry by entry, moved
/// entries with a uniqueness check each, and released the old array's empty keys one by
/// one: ~320 instructions per key added, against ~130 now.)
final class KeyTable {
    /// An entry's bytes: the key's hash (8), its slot plus one (4, 0 when empty), 4 unused,
    /// then the key's `String` (16), initialised only in an entry that is not empty.
    private static var entrySize: Int { 32 }
    private static var slotOffset: Int { 8 }
    private static var keyOffset: Int { 16 }

    private var entries: UnsafeMutableRawPointer
    private var capacity: Int
    private var mask: Int
    private(set) var count = 0

    init() {
        capacity = 1024
        mask = capacity - 1
        entries = Self.mapEntries(capacity)
    }

    deinit {
        for position in 0..<capacity where storedSlot(at: position) != 0 { key(at: position).deinitialize(count: 1) }
        eddy_unmap_memory(entries, capacity * Self.entrySize)
    }

    /// Zeroed room for `capacity` entries; in huge pages from 2 MiB, as the array was.
    private static func mapEntries(_ capacity: Int) -> UnsafeMutableRawPointer {
        let bytes = capacity * entrySize
        guard let memory = eddy_map_memory(bytes) else { fatalError("out of memory for \(bytes) bytes of key table") }
        if bytes >= HugePages.size { HugePages.adviseMapping(memory, bytes: bytes) }
        return memory
    }

    @inline(__always)
    private func entry(at position: Int) -> UnsafeMutableRawPointer { entries + position &* Self.entrySize }

    /// The slot plus one of the entry at `position`, 0 when it is empty.
    @inline(__always)
    private func storedSlot(at position: Int) -> UInt32 {
        entry(at: position).load(fromByteOffset: Self.slotOffset, as: UInt32.self)
    }

    @inline(__always)
    private func hash(at position: Int) -> UInt64 { entry(at: position).load(as: UInt64.self) }

    /// The key of a non-empty entry.
    @inline(__always)
    private func key(at position: Int) -> UnsafeMutablePointer<String> {
        (entry(at: position) + Self.keyOffset).assumingMemoryBound(to: String.self)
    }

    /// Starts loading the entries where lookups of `hashes` begin.
    @inline(__always)
    func prefetch(hashes: UnsafeBufferPointer<UInt64>) {
        let entries = entries
        let mask = mask
        for hash in hashes { eddy_prefetch(entries + (Int(truncatingIfNeeded: hash) & mask) &* Self.entrySize) }
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
        let entries = entries
        let mask = mask
        var position = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = entries + position &* Self.entrySize
            let stored = entry.load(fromByteOffset: Self.slotOffset, as: UInt32.self)
            if stored == 0 { return nil }
            if entry.load(as: UInt64.self) == hash,
               InlineText.same(at: (entry + Self.keyOffset).assumingMemoryBound(to: String.self), key) {
                return Int(stored) &- 1
            }
            position = (position &+ 1) & mask
        }
    }

    func insert(_ key: String, slot: Int, hash: UInt64) {
        // Slot plus one in 32 bits (traps past that, as the 32-bit slot did).
        let stored = UInt32(slot + 1)
        if (count + 1) * 2 > capacity { grow() }
        count += 1
        var position = Int(truncatingIfNeeded: hash) & mask
        while storedSlot(at: position) != 0 { position = (position &+ 1) & mask }
        let entry = entry(at: position)
        entry.storeBytes(of: hash, as: UInt64.self)
        entry.storeBytes(of: stored, toByteOffset: Self.slotOffset, as: UInt32.self)
        (entry + Self.keyOffset).initializeMemory(as: String.self, repeating: key, count: 1)
    }

    /// Removes the entry of `slot` (whose key hashed to `hash`), shifting later entries of
    /// its probe run back so that lookups never stop early at the hole.
    func remove(slot: Int, hash keyHash: UInt64) {
        let stored = UInt32(slot + 1)
        var hole = Int(truncatingIfNeeded: keyHash) & mask
        while storedSlot(at: hole) != stored {
            precondition(storedSlot(at: hole) != 0, "removing a key that is not in the table")
            hole = (hole + 1) & mask
        }
        key(at: hole).deinitialize(count: 1)
        markEmpty(hole)
        count -= 1
        var next = (hole + 1) & mask
        while storedSlot(at: next) != 0 {
            let home = Int(truncatingIfNeeded: hash(at: next)) & mask
            // The entry may fill the hole when the hole lies on its probe path, home..next.
            if (next &- hole) & mask <= (next &- home) & mask {
                move(from: next, to: hole)
                hole = next
            }
            next = (next + 1) & mask
        }
    }

    /// Moves the entry at `source` to the empty `target`, leaving `source` empty.
    private func move(from source: Int, to target: Int) {
        entry(at: target).storeBytes(of: hash(at: source), as: UInt64.self)
        entry(at: target).storeBytes(of: storedSlot(at: source), toByteOffset: Self.slotOffset, as: UInt32.self)
        (entry(at: target) + Self.keyOffset).moveInitializeMemory(as: String.self, from: key(at: source), count: 1)
        markEmpty(source)
    }

    @inline(__always)
    private func markEmpty(_ position: Int) {
        entry(at: position).storeBytes(of: 0, as: UInt64.self)
        entry(at: position).storeBytes(of: 0, toByteOffset: Self.slotOffset, as: UInt32.self)
    }

    private func grow() {
        let old = entries
        let oldCapacity = capacity
        capacity *= 2
        mask = capacity - 1
        entries = Self.mapEntries(capacity)
        let mask = mask
        for index in 0..<oldCapacity {
            let source = old + index &* Self.entrySize
            let stored = source.load(fromByteOffset: Self.slotOffset, as: UInt32.self)
            guard stored != 0 else { continue }
            let hash = source.load(as: UInt64.self)
            var position = Int(truncatingIfNeeded: hash) & mask
            while storedSlot(at: position) != 0 { position = (position &+ 1) & mask }
            let target = entry(at: position)
            target.storeBytes(of: hash, as: UInt64.self)
            target.storeBytes(of: stored, toByteOffset: Self.slotOffset, as: UInt32.self)
            // Moved: the old mapping goes without deinitialising what it held.
            (target + Self.keyOffset).moveInitializeMemory(
                as: String.self, from: (source + Self.keyOffset).assumingMemoryBound(to: String.self), count: 1)
        }
        eddy_unmap_memory(old, oldCapacity * Self.entrySize)
    }
}
