internal import CRocksDB

/// A cursor over a database's keys in bytewise order, limited to the bounds it was made with
/// (see ``RocksDatabase/makeIterator(lowerBound:upperBound:)``).
///
/// It reads from an implicit snapshot taken when it was created. It owns its C iterator,
/// read options and copies of the bound bytes, which RocksDB points into rather than copies,
/// so they must live exactly as long as the iterator. It keeps its database alive; close
/// the database only after the iterator is gone.
public final class RocksIterator {
    private let database: RocksDatabase
    private let handle: OpaquePointer  // rocksdb_iterator_t*
    private let readOptions: OpaquePointer  // rocksdb_readoptions_t*, holds the bounds
    private let lowerBound: UnsafeMutableRawBufferPointer?
    private let upperBound: UnsafeMutableRawBufferPointer?

    init(database: RocksDatabase, lowerBound: [UInt8]?, upperBound: [UInt8]?) throws(RocksError) {
        let handles = try database.openHandles("iterator")
        self.database = database
        self.lowerBound = lowerBound.map(Self.ownedCopy)
        self.upperBound = upperBound.map(Self.ownedCopy)
        readOptions = rocksdb_readoptions_create()!
        if let lowerBound = self.lowerBound {
            let bytes = UnsafeRawBufferPointer(lowerBound)
            rocksdb_readoptions_set_iterate_lower_bound(readOptions, bytes.rocksPointer, bytes.count)
        }
        if let upperBound = self.upperBound {
            let bytes = UnsafeRawBufferPointer(upperBound)
            rocksdb_readoptions_set_iterate_upper_bound(readOptions, bytes.rocksPointer, bytes.count)
        }
        handle = rocksdb_create_iterator_cf(handles.database, readOptions, handles.defaultColumnFamily)!
        database.iteratorOpened()
    }

    deinit {
        // The iterator reads the bounds through the read options: destroy it first.
        rocksdb_iter_destroy(handle)
        rocksdb_readoptions_destroy(readOptions)
        lowerBound?.deallocate()
        upperBound?.deallocate()
        database.iteratorClosed()
    }

    private static func ownedCopy(_ bytes: [UInt8]) -> UnsafeMutableRawBufferPointer {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        copy.copyBytes(from: bytes)
        return copy
    }

    /// Whether the iterator is on an entry. False past either bound, at the end, before the
    /// first positioning call, or after an error (see `checkStatus()`).
    public var isValid: Bool {
        rocksdb_iter_valid(handle) != 0
    }

    /// Moves to the first key at or above the lower bound.
    public func seekToFirst() {
        rocksdb_iter_seek_to_first(handle)
    }

    /// Moves to the first key at or after `key` (clamped to the lower bound).
    @inlinable
    public func seek(to key: some RocksBytes) {
        key.withRocksBytes { key in seekBytes(to: key) }
    }

    @usableFromInline
    func seekBytes(to key: UnsafeRawBufferPointer) {
        rocksdb_iter_seek(handle, key.rocksPointer, key.count)
    }

    /// Moves to the next key. The iterator must be valid.
    public func next() {
        precondition(isValid, "RocksIterator.next() on an iterator that is not on an entry")
        rocksdb_iter_next(handle)
    }

    /// Calls `body` with the current key, without copying; the bytes are valid only until
    /// `body` returns. The iterator must be valid.
    public func withKey<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        precondition(isValid, "RocksIterator.withKey on an iterator that is not on an entry")
        var length = 0
        let start = rocksdb_iter_key(handle, &length)
        return try body(UnsafeRawBufferPointer(start: start, count: length))
    }

    /// Calls `body` with the current value, without copying; the bytes are valid only until
    /// `body` returns. The iterator must be valid.
    public func withValue<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        precondition(isValid, "RocksIterator.withValue on an iterator that is not on an entry")
        var length = 0
        let start = rocksdb_iter_value(handle, &length)
        return try body(UnsafeRawBufferPointer(start: start, count: length))
    }

    /// A copy of the current key. The iterator must be valid.
    public var key: [UInt8] {
        withKey { [UInt8]($0) }
    }

    /// A copy of the current value. The iterator must be valid.
    public var value: [UInt8] {
        withValue { [UInt8]($0) }
    }

    /// Throws if iteration stopped on an error rather than at the end of the range.
    public func checkStatus() throws {
        try callRocks("iterator") { error in rocksdb_iter_get_error(handle, error) }
    }
}

/// Deliberately not `Sendable`: see the threading note on ``RocksDatabase``.
@available(*, unavailable)
extension RocksIterator: Sendable {}
