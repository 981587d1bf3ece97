internal import CRocksDB

/// Operations collected in memory and applied together by
/// ``RocksDatabase/write(_:disableWAL:sync:)``: atomically, in the order added.
///
/// Owns its `rocksdb_writebatch_t` and destroys it in `deinit`. Reuse a batch with `clear()`
/// rather than making one per write. Not `Sendable`: one thread at a time, like the database.
public final class WriteBatch {
    let handle: OpaquePointer  // rocksdb_writebatch_t*

    public init() {
        handle = rocksdb_writebatch_create()!
    }

    deinit {
        rocksdb_writebatch_destroy(handle)
    }

    @inlinable
    public func put(key: some RocksBytes, value: some RocksBytes) {
        key.withRocksBytes { key in
            value.withRocksBytes { value in putBytes(key: key, value: value) }
        }
    }

    @usableFromInline
    func putBytes(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        // The batch copies the bytes into its own buffer.
        rocksdb_writebatch_put(handle, key.rocksPointer, key.count, value.rocksPointer, value.count)
    }

    @inlinable
    public func delete(key: some RocksBytes) {
        key.withRocksBytes { key in deleteBytes(key: key) }
    }

    @usableFromInline
    func deleteBytes(key: UnsafeRawBufferPointer) {
        rocksdb_writebatch_delete(handle, key.rocksPointer, key.count)
    }

    /// Removes every key `k` with `start <= k < end` (bytewise) when the batch is written.
    @inlinable
    public func deleteRange(from start: some RocksBytes, to end: some RocksBytes) {
        start.withRocksBytes { start in
            end.withRocksBytes { end in deleteRangeBytes(from: start, to: end) }
        }
    }

    @usableFromInline
    func deleteRangeBytes(from start: UnsafeRawBufferPointer, to end: UnsafeRawBufferPointer) {
        rocksdb_writebatch_delete_range(handle, start.rocksPointer, start.count, end.rocksPointer, end.count)
    }

    /// Drops every operation, keeping the allocated buffer for reuse.
    public func clear() {
        rocksdb_writebatch_clear(handle)
    }

    /// Operations in the batch (a range delete counts as one).
    public var count: Int {
        Int(rocksdb_writebatch_count(handle))
    }

    /// Size of the batch's serialized form, header included: what the write will log.
    public var byteSize: Int {
        var size = 0
        _ = rocksdb_writebatch_data(handle, &size)
        return size
    }
}

/// Deliberately not `Sendable`: see the threading note on ``RocksDatabase``.
@available(*, unavailable)
extension WriteBatch: Sendable {}
