internal import CRocksDB
import Glibc

/// Writes one SST file of keys added in strictly increasing (bytewise) order, for
/// ``RocksDatabase/ingest(_:)``: a database takes the finished file in as a whole, without
/// inserting its keys into a memtable one by one or flushing them again.
///
/// Owns its `rocksdb_sstfilewriter_t` (and the options it was made with) and destroys them
/// in `deinit`. Not `Sendable`: one thread at a time.
public final class SSTFileWriter {
    private let handle: OpaquePointer  // rocksdb_sstfilewriter_t*
    private let environmentOptions: OpaquePointer  // rocksdb_envoptions_t*
    private let options: OpaquePointer  // rocksdb_options_t*
    /// The file being written.
    public let path: String
    /// Keys added so far.
    public private(set) var count = 0

    /// Creates the file at `path` (replacing any), its blocks built as a database opened with
    /// `options` builds them (compression, filter, block cache settings).
    public init(path: String, options: RocksOptions) throws {
        try options.validate()
        self.path = path
        self.options = options.makeRocksOptions()
        environmentOptions = rocksdb_envoptions_create()!
        handle = rocksdb_sstfilewriter_create(environmentOptions, self.options)!
        try callRocks("open SST file \(path)") { error in rocksdb_sstfilewriter_open(handle, path, error) }
    }

    deinit {
        rocksdb_sstfilewriter_destroy(handle)
        rocksdb_envoptions_destroy(environmentOptions)
        rocksdb_options_destroy(options)
    }

    /// Adds `key` with `value`; `key` must follow every key added before it.
    @inlinable
    public func put(key: some RocksBytes, value: some RocksBytes) throws {
        try key.withRocksBytes { key in
            try value.withRocksBytes { value in try putBytes(key: key, value: value) }
        }
    }

    @usableFromInline
    func putBytes(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(RocksError) {
        try callRocks("add to SST file \(path)") { error in
            rocksdb_sstfilewriter_put(handle, key.rocksPointer, key.count, value.rocksPointer, value.count, error)
        }
        count += 1
    }

    /// Completes the file (index, filter, footer) and syncs it. A writer that added no key
    /// cannot finish: RocksDB refuses an empty file.
    public func finish() throws {
        try callRocks("finish SST file \(path)") { error in rocksdb_sstfilewriter_finish(handle, error) }
    }
}

extension RocksDatabase {
    /// Takes the finished SST files at `paths` into the database, moving them in (they must be
    /// on the database's file system). Their keys become newer than everything written
    /// before; a memtable holding keys in their range is flushed first.
    public func ingest(_ paths: [String]) throws {
        let handles = try openHandles("ingest")
        let options = rocksdb_ingestexternalfileoptions_create()!
        defer { rocksdb_ingestexternalfileoptions_destroy(options) }
        rocksdb_ingestexternalfileoptions_set_move_files(options, 1)
        let names = paths.map { strdup($0) }
        defer { for name in names { free(name) } }
        var list = names.map { UnsafePointer<CChar>($0) }
        try callRocks("ingest \(paths.joined(separator: ", "))") { error in
            rocksdb_ingest_external_file_cf(handles.database, handles.defaultColumnFamily, &list, list.count, options, error)
        }
    }
}
