import Foundation
import RocksStore

/// Keyed state in embedded RocksDB, with hot keys cached on the heap.
///
/// A get and a put per event would cap a job near 150-200k events/s (MEASURED.md), so the
/// heap holds every key in use (`states`, the same layout as the memory backend) and RocksDB
/// holds the rest:
/// - a key not on the heap is looked up in RocksDB once, decoded, and stays resident;
/// - a key touched since it was last written is dirty; `persist()` writes every dirty key in
///   write batches with the WAL off (durability comes from the flush that follows, and from
///   checkpoints);
/// - beyond the memory budget, cold keys (a CLOCK sweep over slots: a key touched since the
///   hand last passed gets a second chance) are written back if dirty and dropped from the
///   heap, down to 90% of the budget so that eviction runs in rounds, not per batch.
///
/// Every persisted key starts with its key group (`RocksStateLayout`), so one key group's
/// state is one contiguous range of the database.
public final class RocksStateBackend: KeyedStateBackend {
    public let states: KeyedStates
    public let directory: String
    /// The database this worker shares with the other workers of the run.
    public let store: RocksStateStore
    private let database: RocksDatabase
    /// The key groups this worker owns: it reads and writes no other rows.
    public let keyGroups: ClosedRange<Int>
    private let memoryBudget: Int
    private let batch = WriteBatch()
    private var writer = StateWriter()
    private var rowKey: [UInt8] = []

    /// Per slot: estimated bytes, touched since the CLOCK hand passed, written since touched.
    private var slotBytes: [Int] = []
    private var referenced: [Bool] = []
    private var dirty: [Bool] = []
    private var residentBytes = 0
    private var touched: [Int] = []
    /// Slots chosen in this eviction round, written back together in key order.
    private var victims: [Int] = []
    private var isVictim: [Bool] = []
    private var clockHand = 0
    /// The keys written to RocksDB: a key it has never held costs no read.
    private var written: KeyHashFilter
    private var distinctKeys = 0
    /// Key groups whose buffered events the last `persist` wrote: the next one replaces them.
    private var keyGroupsWithBufferedEvents: Set<Int> = []

    /// Bytes of pending writes after which a write batch is committed.
    private static let batchBytesLimit = 8 << 20
    /// Dirty rows from which a checkpoint writes them through an SST file rather than a
    /// write batch. Fewer go to the memtable: an ingested file costs a sync and a manifest
    /// update of its own, and each would be one more level-0 file.
    static let rowsWorthAFile = 4096

    /// A worker over `keyGroups` of `store`, with what the store holds of them (from the
    /// checkpoint it was restored from, if any): its keys stay in RocksDB until an event
    /// reads them, and its buffered events are in `restoredEvents`. `plannedKeys` sizes the
    /// filter of written keys of a fresh store, which doubles as needed.
    public init(
        plan: JobPlan, store: RocksStateStore, keyGroups: ClosedRange<Int>, memoryBudget: Int, plannedKeys: Int = 1 << 16
    ) throws {
        states = KeyedStates(plan: plan)
        self.store = store
        database = store.database
        directory = store.directory
        self.keyGroups = keyGroups
        self.memoryBudget = memoryBudget
        written = KeyHashFilter(plannedKeys: plannedKeys)
        let hashes = try persistedKeyHashes()
        if !hashes.isEmpty { written = .rebuilt(from: hashes, keys: max(hashes.count, 1 << 15)) }
        distinctKeys = hashes.count
        restoredEvents = try persistedBufferedEvents()
        keyGroupsWithBufferedEvents = Set(restoredEvents.map(\.keyGroup))
    }

    /// The only worker of a fresh database at `directory` (whatever was there is removed:
    /// state is restored from checkpoints, not from a previous run's directory).
    public convenience init(plan: JobPlan, directory: String, memoryBudget: Int, plannedKeys: Int = 1 << 16) throws {
        try self.init(
            plan: plan, store: RocksStateStore(directory: directory), keyGroups: 0...(plan.spec.maxParallelism - 1),
            memoryBudget: memoryBudget, plannedKeys: plannedKeys)
    }

    /// The only worker of a database rebuilt at `directory` from a checkpoint.
    public convenience init(
        plan: JobPlan, directory: String, memoryBudget: Int, restoring metadata: CheckpointMetadata, from root: String
    ) throws {
        try self.init(
            plan: plan, store: RocksStateStore(directory: directory, restoring: metadata, from: root),
            keyGroups: 0...(plan.spec.maxParallelism - 1), memoryBudget: memoryBudget)
    }

    public private(set) var restoredEvents: [BufferedEvent] = []

    /// Persists every worker's state (each writes its own key groups, in parallel), then
    /// takes a RocksDB checkpoint of the shared database into the staging directory.
    public static func checkpoint(_ workers: [RocksStateBackend], buffered: [BufferedEvent], into staging: CheckpointStaging) throws {
        try persist(workers, buffered: buffered)
        try workers[0].store.checkpoint(into: staging)
    }

    public var keyCount: Int { distinctKeys }

    /// Deletes the rows of expired keys: resident ones from the heap and RocksDB, then every
    /// persisted row of this worker's key groups whose key is not resident (a resident key's
    /// heap copy is newer than its row).
    public func expire(before cutoff: Int64) throws -> Int {
        var removed = 0
        for slot in states.expiredSlots(before: cutoff) {
            RocksStateLayout.rowKey(states.keys[slot], keyGroup: Int(states.keyGroups[slot]), into: &rowKey)
            batch.delete(key: rowKey)
            residentBytes -= slotBytes[slot]
            slotBytes[slot] = 0
            dirty[slot] = false
            referenced[slot] = false
            states.remove(slot: slot)
            removed += 1
        }
        try commitBatch()
        for keyGroup in keyGroups {
            try forEachPersistedRow(inKeyGroup: keyGroup) { key, row in
                guard KeyedStates.isExpired(lastUpdated: KeyedStates.lastUpdated(ofRow: row), before: cutoff) else { return }
                let text = String(decoding: key.dropFirst(3), as: UTF8.self)
                guard states.find(text, hash: KeyGroups.stableHash(ofKey: text)) == nil else { return }
                batch.delete(key: Array(key))
                removed += 1
            }
        }
        try commitBatch()
        distinctKeys -= removed
        return removed
    }

    @inline(__always)
    public func residentSlot(forKeyAt key: UnsafePointer<String>, hash: UInt64) -> Int? {
        guard let slot = states.find(keyAt: key, hash: hash) else { return nil }
        touch(slot)
        return slot
    }

    @inline(__always)
    public func slot(forKey key: String, hash: UInt64) throws -> Int {
        if let slot = states.find(key, hash: hash) {
            touch(slot)
            return slot
        }
        let slot = states.insert(key, hash: hash)
        while slotBytes.count < states.capacity {
            slotBytes.append(0)
            referenced.append(false)
            dirty.append(false)
            isVictim.append(false)
        }
        if written.mayContain(hash) {
            RocksStateLayout.rowKey(key, keyGroup: Int(states.keyGroups[slot]), into: &rowKey)
            let found = try database.withValue(forKey: rowKey) { row -> Bool in
                guard let row else { return false }
                do {
                    try states.decodeRow(slot: slot, from: row)
                } catch {
                    throw StateFormatError(
                        "key \(key) (key group \(states.keyGroups[slot])) in \(directory): \(error); resume from an earlier checkpoint with --resume PATH")
                }
                return true
            }
            if !found { distinctKeys += 1 }
        } else {
            distinctKeys += 1
        }
        touch(slot)
        return slot
    }

    @inline(__always)
    private func touch(_ slot: Int) {
        referenced[slot] = true
        dirty[slot] = true
        touched.append(slot)
    }

    /// No: `endOfBatch()` may evict keys to stay within the memory budget.
    public var keepsSlotsAcrossBatches: Bool { false }

    public func endOfBatch() throws {
        for slot in touched {
            let bytes = states.bytes(slot: slot)
            residentBytes += bytes - slotBytes[slot]
            slotBytes[slot] = bytes
        }
        touched.removeAll(keepingCapacity: true)
        if residentBytes > memoryBudget { try evict(downTo: memoryBudget / 10 * 9) }
    }

    /// Writes back and drops cold keys until the resident estimate is at most `target`.
    private func evict(downTo target: Int) throws {
        var visited = 0
        // Two full turns at most: the first clears every second chance.
        while residentBytes > target, visited < 2 * states.capacity {
            let slot = clockHand
            clockHand = (clockHand + 1) % states.capacity
            visited += 1
            guard states.isResident(slot: slot), !isVictim[slot] else { continue }
            if referenced[slot] {
                referenced[slot] = false
                continue
            }
            victims.append(slot)
            isVictim[slot] = true
            residentBytes -= slotBytes[slot]
            slotBytes[slot] = 0
        }
        try writeBack(victims.filter { dirty[$0] })
        for slot in victims {
            states.remove(slot: slot)
            isVictim[slot] = false
        }
        victims.removeAll(keepingCapacity: true)
        try commitBatch()
    }

    /// Writes `slots` back in key order: RocksDB inserts a sorted batch into its memtable
    /// skiplist much faster than a random one (each insert starts from the previous one's
    /// position), and memtable inserts are most of the cost of writing back.
    private func writeBack(_ slots: [Int]) throws {
        for slot in slots.sorted(by: states.precedesInStoreOrder) { try writeBack(slot) }
    }

    private func writeBack(_ slot: Int) throws {
        Self.encodeRow(slot, of: states, key: &rowKey, row: &writer)
        writer.withBytes { batch.put(key: rowKey, value: $0) }
        try markWritten(slot)
        if batch.byteSize >= Self.batchBytesLimit { try commitBatch() }
    }

    /// Writes `slots` back through SST files that the database ingests whole: RocksDB then
    /// neither inserts the rows into a memtable one by one nor flushes them again to make
    /// them durable. The rows are split in `files` ranges of keys, each written by its own
    /// thread: encoding a row and compressing it into a file take about the same time.
    private func writeBackThroughFiles(_ slots: [Int], files: Int) throws {
        // What the batch holds is older than the rows, so it goes first.
        try commitBatch()
        let ordered = slots.sorted(by: states.precedesInStoreOrder)
        let bounds = (0...files).map { ordered.count * $0 / files }
        let writers = try (0..<files).map { part in
            try SSTFileWriter(path: "\(directory)/ingest-\(keyGroups.lowerBound)-\(part).sst", options: RocksStateLayout.options)
        }
        let states = self.states
        // The threads only read the states; each has its own file and buffers.
        try forkJoin(files) { part in
            try Self.writeRows(ordered[bounds[part]..<bounds[part + 1]], of: states, to: writers[part])
        }
        try database.ingest(writers.map(\.path))
        // After the ingestion: marking may rebuild the filter of written keys from what
        // RocksDB holds, which must include these rows.
        for slot in ordered { try markWritten(slot) }
    }

    /// Adds the rows of `slots` (in key order, at least one) to `file`, and finishes it.
    private static func writeRows(_ slots: ArraySlice<Int>, of states: KeyedStates, to file: SSTFileWriter) throws {
        var writer = StateWriter()
        var rowKey: [UInt8] = []
        try slots.withUnsafeBufferPointer { slots in
            // Rows are taken in key order, scattered in memory: each one's row, then the
            // windows it points to, are prefetched some rows ahead, or every row is a chain
            // of cache misses.
            let rowsAhead = 16, objectsAhead = 8
            for (index, slot) in slots.enumerated() {
                if index + rowsAhead < slots.count {
                    states.prefetchStates(slots: UnsafeBufferPointer(rebasing: slots[(index + rowsAhead)...(index + rowsAhead)]))
                }
                if index + objectsAhead < slots.count {
                    states.prefetchReferencedObjects(slots: UnsafeBufferPointer(rebasing: slots[(index + objectsAhead)...(index + objectsAhead)]))
                }
                encodeRow(slot, of: states, key: &rowKey, row: &writer)
                try writer.withBytes { try file.put(key: rowKey, value: $0) }
            }
        }
        try file.finish()
    }

    /// Puts `slot`'s row key in `key` and its row in `row`.
    private static func encodeRow(_ slot: Int, of states: KeyedStates, key: inout [UInt8], row: inout StateWriter) {
        RocksStateLayout.rowKey(states.keys[slot], keyGroup: Int(states.keyGroups[slot]), into: &key)
        row.removeAll()
        states.encodeRow(slot: slot, to: &row)
    }

    /// Records that `slot`'s row is written: clean, and in the filter of written keys.
    private func markWritten(_ slot: Int) throws {
        dirty[slot] = false
        if !written.mayContain(states.hashes[slot]) {
            written.insert(states.hashes[slot])
            if written.isOverloaded { try rebuildWrittenFilter() }
        }
    }

    /// Whether the filter of written keys may hold `key` (for tests: a key written to RocksDB
    /// must be in it, or reading it back after an eviction would start it afresh).
    func mayHaveWritten(_ key: String) -> Bool { written.mayContain(KeyGroups.stableHash(ofKey: key)) }

    /// Rebuilds the filter of written keys at twice the size, from the keys in RocksDB and in
    /// the write batch not yet committed.
    private func rebuildWrittenFilter() throws {
        try commitBatch()
        let hashes = try persistedKeyHashes()
        written = .rebuilt(from: hashes, keys: hashes.count)
    }

    /// The stable hash of every key of this worker's key groups with a row in RocksDB.
    private func persistedKeyHashes() throws -> [UInt64] {
        var hashes: [UInt64] = []
        for keyGroup in keyGroups {
            try forEachPersistedRow(inKeyGroup: keyGroup) { key, _ in
                hashes.append(KeyGroups.stableHash(ofKey: String(decoding: key.dropFirst(3), as: UTF8.self)))
            }
        }
        return hashes
    }

    private func commitBatch() throws {
        guard batch.count > 0 else { return }
        try database.write(batch, disableWAL: true, sync: false)
        batch.clear()
    }

    /// Writes every worker's dirty resident keys and the buffered events (replacing those of
    /// the last call), the workers in parallel, each its own key groups; then flushes the
    /// memtable to SST files: with the WAL off, only flushed data is durable.
    public static func persist(_ workers: [RocksStateBackend], buffered: [BufferedEvent]) throws {
        let parts = partition(buffered, over: workers.map(\.keyGroups))
        // Cores left over by the workers write rows through more files at once; four at most,
        // as every file of a checkpoint after the first is one more level-0 file.
        let threads = min(4, max(1, ProcessInfo.processInfo.activeProcessorCount / workers.count))
        try forkJoin(workers.count) { index in try workers[index].writeDirty(buffered: parts[index], threads: threads) }
        try workers[0].store.flush()
    }

    /// Writes every dirty resident key (many of them through `threads` SST files at once)
    /// and `buffered` (this worker's key groups' events), replacing the buffered events the
    /// last call wrote.
    private func writeDirty(buffered: [BufferedEvent], threads: Int) throws {
        let dirtySlots = (0..<states.capacity).filter { states.isResident(slot: $0) && dirty[$0] }
        if dirtySlots.count >= Self.rowsWorthAFile {
            // Every file gets rows: RocksDB refuses to finish an empty one.
            try writeBackThroughFiles(dirtySlots, files: min(threads, dirtySlots.count))
        } else {
            try writeBack(dirtySlots)
        }
        for keyGroup in keyGroupsWithBufferedEvents.sorted() {
            batch.deleteRange(
                from: RocksStateLayout.namespacePrefix(RocksStateLayout.bufferedEvents, keyGroup: keyGroup),
                to: RocksStateLayout.namespacePrefix(RocksStateLayout.bufferedEvents + 1, keyGroup: keyGroup))
        }
        keyGroupsWithBufferedEvents.removeAll()
        for event in buffered {
            batch.put(key: RocksStateLayout.bufferedEventKey(event), value: event.bytes)
            keyGroupsWithBufferedEvents.insert(event.keyGroup)
            if batch.byteSize >= Self.batchBytesLimit { try commitBatch() }
        }
        try commitBatch()
    }

    /// The buffered events of this worker's key groups persisted last, in key-group then
    /// (time, sequence) order.
    func persistedBufferedEvents() throws -> [BufferedEvent] {
        var events: [BufferedEvent] = []
        for keyGroup in keyGroups {
            try database.scan(
                from: RocksStateLayout.namespacePrefix(RocksStateLayout.bufferedEvents, keyGroup: keyGroup),
                to: RocksStateLayout.namespacePrefix(RocksStateLayout.bufferedEvents + 1, keyGroup: keyGroup)
            ) { key, value in
                events.append(try RocksStateLayout.bufferedEvent(key: key, value: value))
            }
        }
        return events
    }

    /// Calls `body` with the key and row bytes of every persisted key in `keyGroup`, in key
    /// byte order (call `persist` first to include resident keys).
    func forEachPersistedRow(
        inKeyGroup keyGroup: Int, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try database.scan(
            from: RocksStateLayout.namespacePrefix(RocksStateLayout.featureRows, keyGroup: keyGroup),
            to: RocksStateLayout.namespacePrefix(RocksStateLayout.featureRows + 1, keyGroup: keyGroup), body)
    }
}

@available(*, unavailable, message: "a state backend belongs to one worker")
extension RocksStateBackend: Sendable {}

extension RocksStateBackend: CheckpointingStateBackend {}


/// The RocksDB database of a run, which every worker's `RocksStateBackend` shares (RocksDB
/// is thread-safe; each worker reads and writes only its own key groups), and how it is
/// flushed and checkpointed. One database for all workers makes rescaling free: a worker
/// of any parallelism finds its key groups' rows in the one database a checkpoint restores.
public final class RocksStateStore {
    public let directory: String
    let database: RocksDatabase
    /// The database directory is wiped on open: no other run may be using it.
    private let lock: DirectoryLock
    /// Shared names of SST files this database was restored with; files it writes later
    /// are named after `instance`.
    private var sharedNames: [String: String] = [:]
    /// Distinguishes this database's SST files from those of other runs, whose file
    /// numbers start over.
    private let instance = String(UInt64.random(in: 0...UInt64.max), radix: 36)

    /// Opens a fresh database at `directory`, removing whatever was there.
    public init(directory: String) throws {
        self.directory = directory
        lock = try Self.emptyStateDirectory(directory)
        database = try RocksDatabase(path: directory, options: RocksStateLayout.options)
    }

    /// The database closes here, before `lock` is released: stored properties are released
    /// after a deinit body, and each worker keeps a reference to the database that it
    /// releases after the store, so without this the next run could take the lock and wipe
    /// the directory under a database still open. Closing again later does nothing.
    deinit { database.close() }

    /// Rebuilds `directory` from a checkpoint: its private files copied, its shared SST
    /// files hard-linked (copied across file systems), then opened.
    /// Rewrites every row and buffered event of a restored database from the checkpoint's
    /// layout of features to the run's, before any worker reads one: afterwards the database
    /// holds one layout, which the run's checkpoints then record with the run's spec.
    public func translate(_ translation: StateTranslation) throws {
        let batch = WriteBatch()
        var pending = 0
        // The iterator reads the database as it was when the scan began: rewriting the
        // entries it has passed does not move it.
        try database.scan { key, value in
            guard key.count > 2 else { return }
            switch key[2] {
            case RocksStateLayout.featureRows: batch.put(key: Array(key), value: try translation.row(value))
            case RocksStateLayout.bufferedEvents: batch.put(key: Array(key), value: try translation.event(Array(value)))
            default: return
            }
            pending += 1
            if pending == 4096 {
                try database.write(batch, disableWAL: true, sync: false)
                batch.clear()
                pending = 0
            }
        }
        if pending > 0 { try database.write(batch, disableWAL: true, sync: false) }
    }

    public init(directory: String, restoring metadata: CheckpointMetadata, from root: String) throws {
        self.directory = directory
        lock = try Self.emptyStateDirectory(directory)
        let prefix = CheckpointStore.name(of: metadata.id) + "/rocksdb/"
        for file in metadata.files where file.path.hasPrefix(prefix) {
            try DurableFiles.write(try DurableFiles.read(root + "/" + file.path), to: directory + "/" + file.path.dropFirst(prefix.count))
        }
        for shared in metadata.sharedLinks {
            let source = root + "/shared/" + shared.sharedName
            let target = directory + "/" + shared.databaseName
            if link(source, target) != 0 { try DurableFiles.write(try DurableFiles.read(source), to: target) }
            sharedNames[shared.databaseName] = shared.sharedName
        }
        database = try RocksDatabase(path: directory, options: RocksStateLayout.options)
    }

    /// Locks the directory holding the database directory (`--state-dir`), then empties the
    /// database directory; the lock is held while the store lives.
    private static func emptyStateDirectory(_ directory: String) throws -> DirectoryLock {
        let lock = try DirectoryLock.stateDirectory((directory as NSString).deletingLastPathComponent)
        try DurableFiles.remove(directory)
        try DurableFiles.createDirectory(directory)
        return lock
    }

    func flush() throws { try database.flush(wait: true) }

    /// Takes a RocksDB checkpoint into the staging directory: SST files go to the shared
    /// directory (only those no earlier checkpoint has are added), the rest (MANIFEST,
    /// CURRENT, OPTIONS) stay private to this checkpoint. Call after the workers persisted.
    func checkpoint(into staging: CheckpointStaging) throws {
        let target = staging.directory + "/rocksdb"
        try database.createCheckpoint(at: target)
        var shared: [(path: String, databaseName: String, sharedName: String)] = []
        for name in try DurableFiles.list(target) {
            if name.hasSuffix(".sst") {
                shared.append((target + "/" + name, name, sharedNames[name] ?? instance + "-" + name))
            } else {
                try staging.addPrivateFile("rocksdb/" + name)
            }
        }
        try staging.addSharedFiles(shared)
    }
}

@available(*, unavailable, message: "a store is shared by the workers of one run, which own its lifetime")
extension RocksStateStore: Sendable {}

/// How keyed state is laid out in RocksDB.
///
/// Every key starts with the key group as two big-endian bytes and a namespace byte:
/// - namespace 0, keyed feature rows: then the key's canonical UTF-8 text;
/// - namespace 1, buffered events: then the event time (sign bit flipped, big-endian, so
///   that byte order is time order) and the arrival sequence (big-endian).
/// Big-endian key groups sort numerically, so key group g is exactly the range
/// [prefix(g), prefix(g + 1)).
enum RocksStateLayout {
    static let featureRows: UInt8 = 0
    static let bufferedEvents: UInt8 = 1

    static func namespacePrefix(_ namespace: UInt8, keyGroup: Int) -> [UInt8] {
        keyGroupPrefix(keyGroup) + [namespace]
    }

    static func bufferedEventKey(_ event: BufferedEvent) -> [UInt8] {
        var key = namespacePrefix(bufferedEvents, keyGroup: event.keyGroup)
        withUnsafeBytes(of: (UInt64(bitPattern: event.time) ^ (1 << 63)).bigEndian) { key.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(bitPattern: event.sequence).bigEndian) { key.append(contentsOf: $0) }
        return key
    }

    static func bufferedEvent(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(StateFormatError) -> BufferedEvent {
        guard key.count == 19, key[2] == bufferedEvents else { throw StateFormatError("not a buffered event key") }
        let time = UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 3, as: UInt64.self)) ^ (1 << 63)
        let sequence = UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 11, as: UInt64.self))
        return BufferedEvent(
            keyGroup: Int(key[0]) << 8 | Int(key[1]), time: Int64(bitPattern: time),
            sequence: Int64(bitPattern: sequence), bytes: Array(value))
    }

    static func keyGroupPrefix(_ keyGroup: Int) -> [UInt8] {
        [UInt8(truncatingIfNeeded: keyGroup >> 8), UInt8(truncatingIfNeeded: keyGroup)]
    }

    static func rowKey(_ key: String, keyGroup: Int, into bytes: inout [UInt8]) {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(UInt8(truncatingIfNeeded: keyGroup >> 8))
        bytes.append(UInt8(truncatingIfNeeded: keyGroup))
        bytes.append(featureRows)
        bytes.appendUTF8(key)
    }

    /// Writes come in large WAL-off batches or ingested SST files, and reads are point
    /// lookups of evicted keys: a bloom filter saves a disk read for keys that were never
    /// written; lz4 keeps SST files small at little CPU cost. Memtables of 32 MiB, three at
    /// most, bound memory beside the heap budget: an eviction round's write-back fills one,
    /// whose flush runs on another core while the rest is encoded; 16 MiB ones slowed runs
    /// that read evicted keys back (more level-0 files to look in).
    static var options: RocksOptions {
        RocksOptions(
            writeBufferSize: 32 << 20, maxWriteBufferNumber: 3, compression: .lz4,
            blockCacheBytes: 32 << 20, bloomFilterBitsPerKey: 10)
    }
}
