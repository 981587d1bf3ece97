/// The keyed stage: finds the event's key slot in the state backend and applies the event
/// to every feature's store.
///
/// Event values arrive as unsafe buffers over the runtime's value arenas: the runtime takes
/// the buffer once per batch, so passing it per event costs no array retain and release.
final class KeyedFeatureOperator<Backend: KeyedStateBackend> {
    let backend: Backend
    private let keySlots: [Int]
    /// The value slot of the key when it is a single column: read per event, a stored `Int`
    /// costs no retain and release of `keySlots`.
    private let singleKeySlot: Int?
    private let stores: [FeatureStore]
    /// The value slot feeding each feature, nil for a field-less count.
    private let fieldSlots: [Int?]
    /// The stores whose states keep heap storage worth prefetching, with their value slots.
    private let heapStores: [(store: FeatureStore, fieldSlot: Int?)]

    /// The job's state TTL in microseconds, if it has one.
    let ttl: Int64?

    init(plan: JobPlan, backend: Backend) {
        self.backend = backend
        ttl = plan.spec.ttl?.microseconds
        keySlots = plan.keySlots
        singleKeySlot = plan.keySlots.count == 1 ? plan.keySlots[0] : nil
        stores = backend.states.stores
        fieldSlots = plan.features.map(\.fieldSlot)
        heapStores = zip(stores, fieldSlots).filter { $0.0.holdsHeap }.map { ($0.0, $0.1) }
    }

    /// The canonical key of the event at `base`: its key columns' JSON texts joined by
    /// U+001F, which JSON text cannot contain unescaped, so distinct keys never collide.
    @inline(__always)
    func canonicalKey(_ values: UnsafeBufferPointer<FieldValue>, base: Int) -> String {
        if keySlots.count == 1 { return values[base + keySlots[0]].text }
        var key = ""
        for (index, slot) in keySlots.enumerated() {
            if index > 0 { key.append("\u{1F}") }
            key.append(values[base + slot].text)
        }
        return key
    }

    /// Where the key of the event at `base` is stored when it is a single column's text (the
    /// canonical key itself), to be read in place; nil for composite keys.
    @inline(__always)
    private func singleKeyAddress(_ values: UnsafeBufferPointer<FieldValue>, base: Int) -> UnsafePointer<String>? {
        singleKeySlot.map { FieldValue.textAddress(values.baseAddress! + base + $0) }
    }

    /// `KeyGroups.stableHash(ofKey: canonicalKey(values, base: base))`, with a single key
    /// column's text hashed where it lies instead of copied out.
    @inline(__always)
    func keyHash(_ values: UnsafeBufferPointer<FieldValue>, base: Int) -> UInt64 {
        guard let key = singleKeyAddress(values, base: base) else {
            return KeyGroups.stableHash(ofKey: canonicalKey(values, base: base))
        }
        return KeyGroups.stableHash(ofTextAt: key)
    }

    /// The state slots of a batch of events (values starting at each of `bases`, their keys'
    /// stable hashes `hashes`), in order.
    ///
    /// One key's lookup is a chain of dependent cache misses (table entry, then each
    /// feature's state); done one event at a time they add up. So a batch goes in phases:
    /// prefetch every key's table entry, then resolve every slot (here), then prefetch every
    /// feature's states of the batch (`prefetchStates`), then the windows and maps they point
    /// to (`prefetchHeap`), so that the misses of many keys overlap before `apply` touches them.
    func resolveSlots(
        ofEventsAt bases: UnsafeBufferPointer<Int>, hashes: UnsafeBufferPointer<UInt64>,
        in values: UnsafeBufferPointer<FieldValue>, into slotBuffer: AppendBuffer<Int>
    ) throws {
        let states = backend.states
        states.prefetch(hashes: hashes)
        // Room reserved once and written in place, committed once all are resolved.
        slotBuffer.removeAll()
        let slots = UnsafeMutableBufferPointer(start: slotBuffer.reserve(bases.count), count: bases.count)
        try {
            if let singleKeySlot, let values = values.baseAddress {
                // A loop of its own: the key slot's optional and the arena's address tested
                // once a batch, not per event.
                for index in bases.indices {
                    let key = FieldValue.textAddress(values + bases[index] + singleKeySlot)
                    if let slot = backend.residentSlot(forKeyAt: key, hash: hashes[index]) {
                        slots[index] = slot
                        continue
                    }
                    slots[index] = try backend.slot(forKeyNotResident: key.pointee, hash: hashes[index])
                }
                return
            }
            for index in bases.indices {
                // A single key column's text is looked up where it lies; only a key that is not
                // resident is copied out, to be stored.
                if let key = singleKeyAddress(values, base: bases[index]),
                   let slot = backend.residentSlot(forKeyAt: key, hash: hashes[index]) {
                    slots[index] = slot
                    continue
                }
                // Not looked up in place when the key is composite.
                slots[index] = try backend.slot(forKey: canonicalKey(values, base: bases[index]), hash: hashes[index])
            }
        }()
        slotBuffer.commit(bases.count)
    }

    /// Starts loading every feature's state of `slots` into the cache.
    func prefetchStates(_ slots: AppendBuffer<Int>) {
        backend.states.prefetchStates(slots: slots.elements)
    }

    /// Starts loading the windows and maps the states of `slots` point to (and, in maps, the
    /// entries of the values the events at `bases` add): their references are read from the
    /// states, which should be in cache (or on their way) by now.
    func prefetchHeap(_ slots: UnsafeBufferPointer<Int>, values: UnsafeBufferPointer<FieldValue>, bases: UnsafeBufferPointer<Int>) {
        for (store, fieldSlot) in heapStores { store.prefetchHeap(slots: slots, values: values, bases: bases, fieldSlot: fieldSlot) }
    }

    /// Applies a release batch feature by feature, into `results`.
    func apply(_ batch: FeatureBatch, results: inout BatchResults) {
        results.removeAll()
        for index in stores.indices {
            stores[index].apply(batch, fieldSlot: fieldSlots[index], results: &results)
        }
    }
}
