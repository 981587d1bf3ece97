internal import CRocksDB
import Foundation

/// A RocksDB database opened at a directory: the typed, throwing face of the RocksDB C API.
/// RocksStore is the only code in eddy that calls that API.
///
/// Ownership. Every C object this module creates has exactly one Swift owner that destroys
/// it exactly once:
/// - `RocksDatabase` owns the `rocksdb_t`, its default column family handle, and the read
///   and write options reused by every call. `close()` destroys them and may be called any
///   number of times; `deinit` closes a database the caller did not close.
/// - `RocksIterator` owns its `rocksdb_iterator_t`, its read options and its own copies of
///   the bounds (RocksDB keeps pointers to the bound bytes, not copies). It holds a strong
///   reference to its database, so the database outlives it. Closing a database while one
///   of its iterators is alive is a programming error and traps.
/// - `WriteBatch` owns its `rocksdb_writebatch_t`.
/// - Temporaries (open options, block cache handle, pinnable slices, checkpoint and flush
///   objects, error and property strings) are destroyed before the call that made them
///   returns. The Bloom filter policy is handed to RocksDB, which owns it from then on.
///
/// Threading. RocksDB's own `rocksdb_t` is thread-safe, and so is this wrapper between
/// `init` and `close()`: reads, writes, flushes, checkpoints and iterators may come from
/// several threads at once (eddy's parallel workers share one database, each writing its
/// own key groups). Its read and write options are created once and never changed after,
/// and the count of live iterators is kept under a lock. `close()` must come after every
/// other call has returned. `WriteBatch` and `RocksIterator` are not shared: each belongs
/// to the thread that uses it.
///
/// Keys and values are byte strings compared bytewise (RocksDB's default comparator).
/// Every failure is thrown as a ``RocksError`` naming the operation.
public final class RocksDatabase {
    /// The C handles of an open database; nil once closed.
    struct OpenHandles {
        let database: OpaquePointer  // rocksdb_t*
        let defaultColumnFamily: OpaquePointer  // rocksdb_column_family_handle_t*
        /// Reused by every point read: allocating read options per get is measurable.
        let readOptions: OpaquePointer
        /// One write options object per (WAL, sync) pair, created with the database and
        /// never changed, so concurrent writers never see each other's flags.
        let writeOptions: [OpaquePointer]
    }

    /// The directory the database lives in.
    public let path: String
    private var handles: OpenHandles?
    /// Iterators created and not yet deinitialized; `close()` requires zero.
    var liveIteratorCount: Int {
        iteratorCountLock.lock()
        defer { iteratorCountLock.unlock() }
        return iteratorCount
    }
    private var iteratorCount = 0
    private let iteratorCountLock = NSLock()

    func iteratorOpened() {
        iteratorCountLock.lock()
        iteratorCount += 1
        iteratorCountLock.unlock()
    }

    func iteratorClosed() {
        iteratorCountLock.lock()
        iteratorCount -= 1
        iteratorCountLock.unlock()
    }

    /// Opens (or, with `createIfMissing`, creates) the database in the directory at `path`.
    ///
    /// The database is opened with its default column family only; a directory holding other
    /// column families fails to open.
    public init(path: String, options: RocksOptions = RocksOptions()) throws {
        try options.validate()
        self.path = path
        let rocksOptions = options.makeRocksOptions()
        defer { rocksdb_options_destroy(rocksOptions) }

        // Opening through the column-family call is what yields a handle for the default
        // column family, which the 7.8 C API needs for rocksdb_delete_range_cf and has no
        // other way to obtain.
        var defaultColumnFamily: OpaquePointer? = nil
        let database = try "default".withCString { defaultName in
            var columnFamilyName: UnsafePointer<CChar>? = defaultName
            var columnFamilyOptions: OpaquePointer? = rocksOptions
            return try callRocks("open") { error in
                rocksdb_open_column_families(
                    rocksOptions, path, 1, &columnFamilyName, &columnFamilyOptions,
                    &defaultColumnFamily, error)
            }
        }
        guard let database else {
            throw RocksError(operation: "open", message: "RocksDB returned no database for \(path)")
        }
        guard let defaultColumnFamily else {
            rocksdb_close(database)
            throw RocksError(operation: "open", message: "RocksDB returned no default column family for \(path)")
        }
        handles = OpenHandles(
            database: database,
            defaultColumnFamily: defaultColumnFamily,
            readOptions: rocksdb_readoptions_create()!,
            writeOptions: (0..<4).map { flags in
                let options = rocksdb_writeoptions_create()!
                rocksdb_writeoptions_disable_WAL(options, Int32(flags & 1))
                rocksdb_writeoptions_set_sync(options, flags & 2 != 0 ? 1 : 0)
                return options
            })
    }

    deinit {
        close()
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool { handles == nil }

    /// Closes the database, releasing its lock and files. Calling it again does nothing;
    /// any other call on a closed database throws.
    public func close() {
        guard let handles else { return }
        precondition(
            liveIteratorCount == 0,
            "RocksDatabase.close() with \(liveIteratorCount) live iterator(s) on \(path)")
        self.handles = nil
        // Column family handles must go before the database that issued them.
        rocksdb_column_family_handle_destroy(handles.defaultColumnFamily)
        rocksdb_close(handles.database)
        rocksdb_readoptions_destroy(handles.readOptions)
        for options in handles.writeOptions { rocksdb_writeoptions_destroy(options) }
    }

    /// The open handles, or a "database is closed" error for `operation`.
    func openHandles(_ operation: String) throws(RocksError) -> OpenHandles {
        guard let handles else {
            throw RocksError(operation: operation, message: "database at \(path) is closed")
        }
        return handles
    }

    private func writeOptions(_ handles: OpenHandles, disableWAL: Bool, sync: Bool) -> OpaquePointer {
        handles.writeOptions[(disableWAL ? 1 : 0) | (sync ? 2 : 0)]
    }

    // MARK: Point reads

    /// A copy of the value stored for `key`, or nil if there is none.
    @inlinable
    public func get(_ key: some RocksBytes) throws -> [UInt8]? {
        try key.withRocksBytes { key in
            try withPinnedValue(forKey: key) { value in value.map { [UInt8]($0) } }
        }
    }

    /// Calls `body` with the value stored for `key` (nil if there is none) without copying
    /// it: the bytes are pinned inside RocksDB and valid only until `body` returns.
    @inlinable
    public func withValue<Result>(
        forKey key: some RocksBytes,
        _ body: (UnsafeRawBufferPointer?) throws -> Result
    ) throws -> Result {
        try key.withRocksBytes { key in try withPinnedValue(forKey: key, body) }
    }

    @usableFromInline
    func withPinnedValue<Result>(
        forKey key: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer?) throws -> Result
    ) throws -> Result {
        let handles = try openHandles("get")
        let pinned = try callRocks("get") { error in
            rocksdb_get_pinned_cf(
                handles.database, handles.readOptions, handles.defaultColumnFamily,
                key.rocksPointer, key.count, error)
        }
        // RocksDB returns no slice at all for a missing key.
        guard let pinned else { return try body(nil) }
        defer { rocksdb_pinnableslice_destroy(pinned) }
        var length = 0
        let start = rocksdb_pinnableslice_value(pinned, &length)
        return try body(UnsafeRawBufferPointer(start: start, count: length))
    }

    // MARK: Writes

    /// Stores `value` under `key`, replacing any previous value.
    ///
    /// - Parameters:
    ///   - disableWAL: skip the write-ahead log. Faster, but the write survives a crash
    ///     only once flushed; see ``createCheckpoint(at:logSizeForFlush:)``.
    ///   - sync: fsync the write-ahead log before returning.
    @inlinable
    public func put(
        key: some RocksBytes, value: some RocksBytes, disableWAL: Bool = false, sync: Bool = false
    ) throws {
        try key.withRocksBytes { key in
            try value.withRocksBytes { value in
                try putBytes(key: key, value: value, disableWAL: disableWAL, sync: sync)
            }
        }
    }

    @usableFromInline
    func putBytes(
        key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, disableWAL: Bool, sync: Bool
    ) throws(RocksError) {
        let handles = try openHandles("put")
        let options = writeOptions(handles, disableWAL: disableWAL, sync: sync)
        try callRocks("put") { error in
            rocksdb_put_cf(
                handles.database, options, handles.defaultColumnFamily,
                key.rocksPointer, key.count, value.rocksPointer, value.count, error)
        }
    }

    /// Removes `key`; removing a missing key is not an error.
    @inlinable
    public func delete(key: some RocksBytes, disableWAL: Bool = false, sync: Bool = false) throws {
        try key.withRocksBytes { key in
            try deleteBytes(key: key, disableWAL: disableWAL, sync: sync)
        }
    }

    @usableFromInline
    func deleteBytes(key: UnsafeRawBufferPointer, disableWAL: Bool, sync: Bool) throws(RocksError) {
        let handles = try openHandles("delete")
        let options = writeOptions(handles, disableWAL: disableWAL, sync: sync)
        try callRocks("delete") { error in
            rocksdb_delete_cf(
                handles.database, options, handles.defaultColumnFamily,
                key.rocksPointer, key.count, error)
        }
    }

    /// Removes every key `k` with `start <= k < end` (bytewise), with one range tombstone
    /// rather than one tombstone per key.
    @inlinable
    public func deleteRange(
        from start: some RocksBytes, to end: some RocksBytes, disableWAL: Bool = false, sync: Bool = false
    ) throws {
        try start.withRocksBytes { start in
            try end.withRocksBytes { end in
                try deleteRangeBytes(from: start, to: end, disableWAL: disableWAL, sync: sync)
            }
        }
    }

    @usableFromInline
    func deleteRangeBytes(
        from start: UnsafeRawBufferPointer, to end: UnsafeRawBufferPointer, disableWAL: Bool, sync: Bool
    ) throws(RocksError) {
        let handles = try openHandles("delete range")
        let options = writeOptions(handles, disableWAL: disableWAL, sync: sync)
        try callRocks("delete range") { error in
            rocksdb_delete_range_cf(
                handles.database, options, handles.defaultColumnFamily,
                start.rocksPointer, start.count, end.rocksPointer, end.count, error)
        }
    }

    /// Applies every operation in `batch` atomically: all of them or, on error, none.
    /// The batch is left as it was, ready to be cleared and reused.
    public func write(_ batch: WriteBatch, disableWAL: Bool, sync: Bool) throws {
        let handles = try openHandles("write")
        let options = writeOptions(handles, disableWAL: disableWAL, sync: sync)
        try callRocks("write") { error in
            rocksdb_write(handles.database, options, batch.handle, error)
        }
    }

    // MARK: Maintenance

    /// Writes the memtable out to an SST file. With `wait`, returns once the file is written.
    public func flush(wait: Bool = true) throws {
        let handles = try openHandles("flush")
        let flushOptions = rocksdb_flushoptions_create()!
        defer { rocksdb_flushoptions_destroy(flushOptions) }
        rocksdb_flushoptions_set_wait(flushOptions, wait ? 1 : 0)
        try callRocks("flush") { error in
            rocksdb_flush_cf(handles.database, flushOptions, handles.defaultColumnFamily, error)
        }
    }

    /// Compacts the files holding keys in `start ... end` (both inclusive), dropping
    /// deleted and overwritten entries. Blocks until done.
    @inlinable
    public func compactRange(from start: some RocksBytes, to end: some RocksBytes) throws {
        try start.withRocksBytes { start in
            try end.withRocksBytes { end in try compactRangeBytes(from: start, to: end) }
        }
    }

    /// Compacts the whole key space. Blocks until done.
    public func compactAll() throws {
        try compactRangeBytes(from: nil, to: nil)
    }

    @usableFromInline
    func compactRangeBytes(from start: UnsafeRawBufferPointer?, to end: UnsafeRawBufferPointer?) throws(RocksError) {
        let handles = try openHandles("compact range")
        // The C call has no error slot; a nil bound means "from the first key" / "to the last".
        rocksdb_compact_range_cf(
            handles.database, handles.defaultColumnFamily,
            start?.rocksPointer, start?.count ?? 0, end?.rocksPointer, end?.count ?? 0)
    }

    /// Writes a consistent, openable copy of the database into the new directory `path`,
    /// hard-linking SST files where the file system allows.
    ///
    /// `logSizeForFlush` is RocksDB's `log_size_for_flush`: with 0 the memtable is always
    /// flushed first, so the checkpoint holds every write. A larger value skips the flush
    /// while the write-ahead log is smaller than it, relying on the copied log to replay the
    /// memtable. Writes made with `disableWAL` are in no log, so with a non-zero value they
    /// are silently missing from the checkpoint unless `flush()` ran first. Keep 0 unless
    /// every write since the last flush went through the log.
    ///
    /// The target directory must not exist yet.
    public func createCheckpoint(at path: String, logSizeForFlush: UInt64 = 0) throws {
        let handles = try openHandles("checkpoint")
        let checkpoint = try callRocks("checkpoint") { error in
            rocksdb_checkpoint_object_create(handles.database, error)
        }
        guard let checkpoint else {
            throw RocksError(operation: "checkpoint", message: "RocksDB returned no checkpoint object")
        }
        defer { rocksdb_checkpoint_object_destroy(checkpoint) }
        try callRocks("checkpoint") { error in
            rocksdb_checkpoint_create(checkpoint, path, logSizeForFlush, error)
        }
    }

    /// The text of a RocksDB property such as "rocksdb.estimate-num-keys" or "rocksdb.stats";
    /// nil for an unknown property or a closed database.
    public func property(_ name: String) -> String? {
        guard let handles else { return nil }
        guard let value = rocksdb_property_value_cf(handles.database, handles.defaultColumnFamily, name) else {
            return nil
        }
        defer { rocksdb_free(value) }
        return String(cString: value)
    }

    /// A numeric RocksDB property such as "rocksdb.estimate-num-keys" or
    /// "rocksdb.total-sst-files-size"; nil for an unknown or non-numeric property or a closed
    /// database.
    public func integerProperty(_ name: String) -> UInt64? {
        guard let handles else { return nil }
        var value: UInt64 = 0
        // Returns 0 on success.
        guard rocksdb_property_int_cf(handles.database, handles.defaultColumnFamily, name, &value) == 0 else {
            return nil
        }
        return value
    }

    // MARK: Scans

    /// An iterator over the keys `k` with `lowerBound <= k < upperBound` in bytewise order.
    /// A nil bound leaves that side open. The iterator starts unpositioned: call
    /// `seekToFirst()` or `seek(to:)`.
    public func makeIterator(lowerBound: [UInt8]? = nil, upperBound: [UInt8]? = nil) throws -> RocksIterator {
        try RocksIterator(database: self, lowerBound: lowerBound, upperBound: upperBound)
    }

    /// Calls `body` with each key and value with `start <= key < end`, in bytewise order,
    /// without copying them. The buffers are valid only during the call. A nil bound leaves
    /// that side open.
    public func scan(
        from start: [UInt8]? = nil,
        to end: [UInt8]? = nil,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let iterator = try makeIterator(lowerBound: start, upperBound: end)
        iterator.seekToFirst()
        while iterator.isValid {
            try iterator.withKey { key in
                try iterator.withValue { value in try body(key, value) }
            }
            iterator.next()
        }
        // An iterator also stops on an I/O or corruption error; tell that apart from the end.
        try iterator.checkStatus()
    }

    /// Calls `body` with each key that starts with `prefix` and its value, in bytewise order.
    public func forEach(
        prefix: some RocksBytes,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let lowerBound = prefix.withRocksBytes { [UInt8]($0) }
        try scan(from: lowerBound, to: Self.firstKeyAfterPrefix(lowerBound), body)
    }

    /// The smallest key greater than every key starting with `prefix`, or nil when there is
    /// none (an empty prefix or one made only of 0xFF bytes): drop trailing 0xFF bytes, then
    /// add one to the last byte.
    static func firstKeyAfterPrefix(_ prefix: [UInt8]) -> [UInt8]? {
        guard let lastBelowMax = prefix.lastIndex(where: { $0 != 0xFF }) else { return nil }
        var bound = Array(prefix[...lastBelowMax])
        bound[lastBelowMax] += 1
        return bound
    }
}

/// Shared by threads as the threading note on ``RocksDatabase`` says: its mutable parts are
/// the handles, set in `init` and cleared by `close()`, and the iterator count, under a lock.
extension RocksDatabase: @unchecked Sendable {}
