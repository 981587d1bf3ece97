/// The state of every resident key: the keys, their key groups, and one store per feature
/// (in `dict` order), all indexed by the key's slot; the features' states lie side by side
/// in one row per slot (`rows`). Slots of removed keys are reused.
public final class KeyedStates {
    let stores: [FeatureStore]
    /// The stores whose states point to heap objects (windows, maps).
    private let heapStores: [FeatureStore]
    private let rows: StateRows
    let maxParallelism: Int
    private let table = KeyTable()
    /// The canonical text of each slot's key ("" for a free slot).
    private(set) var keys: [String] = []
    // The per-slot columns of trivial values are append buffers, not arrays: a new key
    // appended to four arrays checked each one's uniqueness, through calls (~60
    // instructions a key).
    /// The key group of each slot's key.
    let keyGroups = AppendBuffer<Int32>()
    let hashes = AppendBuffer<UInt64>()
    /// The latest event time applied to each slot's key (µs); `.min` when not known (a fresh
    /// key, or one restored from a row older than format 3): such a key does not expire
    /// before its next update.
    let lastUpdated = AppendBuffer<Int64>()
    private let freeSlots = AppendBuffer<Int>()

    public init(plan: JobPlan) {
        stores = plan.features.map { $0.makeStore(broadcasts: plan.broadcasts) }
        heapStores = stores.filter(\.holdsHeap)
        maxParallelism = plan.spec.maxParallelism
        let (rows, offsets) = StateRows.laidOut(stores.map(\.stateLayout))
        self.rows = rows
        for (store, offset) in zip(stores, offsets) { store.attach(to: rows, offset: offset) }
    }

    /// Keys resident in memory.
    public var count: Int { table.count }
    /// Slots allocated, resident or free: slot indices are below it.
    var capacity: Int { keys.count }

    /// Starts loading the feature states of `slots` into the cache.
    func prefetchStates(slots: UnsafeBufferPointer<Int>) { rows.prefetch(slots: slots) }

    /// Starts loading the windows and maps the states of `slots` point to (their rows should
    /// be in cache, or on their way).
    func prefetchReferencedObjects(slots: UnsafeBufferPointer<Int>) {
        // Without a field slot, a store prefetches only what its states point to.
        for store in heapStores {
            store.prefetchHeap(slots: slots, values: UnsafeBufferPointer(start: nil, count: 0), bases: UnsafeBufferPointer(start: nil, count: 0), fieldSlot: nil)
        }
    }

    /// Starts loading what `slot(forKey:hash:)` will read first, for each of `hashes`.
    @inline(__always)
    func prefetch(hashes: UnsafeBufferPointer<UInt64>) { table.prefetch(hashes: hashes) }

    /// The slot of a resident key, or nil; `hash` is the key's `KeyGroups.stableHash`.
    @inline(__always)
    func find(_ key: String, hash: UInt64) -> Int? { table.find(key, hash: hash) }

    /// `find` for the key stored at `key`, read in place.
    @inline(__always)
    func find(keyAt key: UnsafePointer<String>, hash: UInt64) -> Int? { table.find(keyAt: key, hash: hash) }

    /// The slot of `key`, created with empty state on first use.
    @inline(__always)
    func slot(forKey key: String, hash: UInt64) -> Int {
        find(key, hash: hash) ?? insert(key, hash: hash)
    }

    /// Makes `key` resident with empty state; it must not be resident already.
    func insert(_ key: String, hash: UInt64) -> Int {
        let keyGroup = Int32(truncatingIfNeeded: hash % UInt64(maxParallelism))
        let slot: Int
        if !freeSlots.isEmpty {
            slot = freeSlots.removeLast()
            keys[slot] = key
            keyGroups[slot] = keyGroup
            hashes[slot] = hash
            lastUpdated[slot] = .min
        } else {
            slot = keys.count
            keys.append(key)
            keyGroups.append(keyGroup)
            hashes.append(hash)
            lastUpdated.append(.min)
            let row = rows.appendRow()
            assert(row == slot, "a row per slot")
            for store in stores { store.initialiseState(slot: slot) }
        }
        table.insert(key, slot: slot, hash: hash)
        return slot
    }

    /// A canonical key is JSON text, never empty, so an empty key marks a free slot.
    func isResident(slot: Int) -> Bool { !keys[slot].isEmpty }

    /// Forgets a resident key and frees its slot.
    func remove(slot: Int) {
        table.remove(slot: slot, hash: hashes[slot])
        for store in stores { store.reset(slot: slot) }
        keys[slot] = ""
        freeSlots.append(slot)
    }

    /// Every resident slot, ordered by (key group, key): the order snapshots are written in.
    func residentSlotsByKeyGroup() -> [Int] {
        (0..<keys.count).filter(isResident).sorted(by: precedesInStoreOrder)
    }

    /// Whether slot `a`'s key comes before slot `b`'s in persisted order: by key group, then
    /// by the key's bytes (the order of RocksDB keys and of snapshot files).
    func precedesInStoreOrder(_ a: Int, _ b: Int) -> Bool {
        keyGroups[a] != keyGroups[b]
            ? keyGroups[a] < keyGroups[b] : keys[a].utf8Precedes(keys[b])
    }

    /// All features' state of one key, in the persisted format: the format version, the
    /// time of its last update, then each feature in `dict` order.
    func encodeRow(slot: Int, to writer: inout StateWriter) {
        writer.write(StateFormat.version)
        writer.write(lastUpdated[slot])
        stores.withUnsafeBufferPointer { stores in
            // Each store used in place: a `for store in stores` loop retained and released
            // every store (atomically) per key.
            for index in stores.indices { stores[index].encode(slot: slot, to: &writer) }
        }
    }

    /// When a row written by `encodeRow` was last updated (`.min` before format 3).
    static func lastUpdated(ofRow bytes: UnsafeRawBufferPointer) -> Int64 {
        guard bytes.count >= 9, bytes[0] >= 3 else { return .min }
        return Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 1, as: Int64.self))
    }

    /// Whether a key last updated at `lastUpdated` has expired for `cutoff` (the watermark
    /// minus the TTL); a key whose last update is not known does not expire.
    static func isExpired(lastUpdated: Int64, before cutoff: Int64) -> Bool {
        lastUpdated != .min && lastUpdated < cutoff
    }

    /// The resident slots whose keys expired for `cutoff`.
    func expiredSlots(before cutoff: Int64) -> [Int] {
        (0..<keys.count).filter { isResident(slot: $0) && Self.isExpired(lastUpdated: lastUpdated[$0], before: cutoff) }
    }

    /// Forgets every resident key expired for `cutoff`; returns how many.
    func removeExpired(before cutoff: Int64) -> Int {
        let expired = expiredSlots(before: cutoff)
        for slot in expired { remove(slot: slot) }
        return expired.count
    }

    /// Empties a resident key's state, as if it were new (its TTL ran out).
    func reset(slot: Int) {
        for store in stores { store.reset(slot: slot) }
        lastUpdated[slot] = .min
    }

    /// Replaces one key's state with a row written by `encodeRow`.
    func decodeRow(slot: Int, from bytes: UnsafeRawBufferPointer) throws(StateFormatError) {
        var reader = StateReader(bytes)
        let version = try reader.readByte()
        guard StateFormat.readableVersions.contains(version) else { throw StateFormat.unreadable(version) }
        reader.version = version
        lastUpdated[slot] = version >= 3 ? try reader.readInt64() : .min
        for store in stores { try store.decode(slot: slot, from: &reader) }
        guard reader.isAtEnd else {
            throw StateFormatError("\(bytes.count - reader.position) bytes left after the last feature: the state was written by another job")
        }
    }

    /// Approximate bytes one resident key holds: its table entry, key, row, and what its
    /// features hold on the heap (asked only of the stores that can hold any: the budget
    /// is checked for every key an event touched).
    func bytes(slot: Int) -> Int {
        var total = 64 + InlineText.byteCount(keys[slot]) + rows.stride
        heapStores.withUnsafeBufferPointer { stores in
            for index in stores.indices { total += stores[index].heapBytes(slot: slot) }
        }
        return total
    }
}
