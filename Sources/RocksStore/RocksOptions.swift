internal import CRocksDB

/// How a database is opened. Knobs left nil keep RocksDB's own default.
public struct RocksOptions: Sendable {
    /// Block compression for SST files. All four are linked into Debian's librocksdb 7.8.3;
    /// a build without one rejects it when the database is opened.
    public enum Compression: Sendable {
        case none
        case snappy
        case lz4
        case zstd
    }

    /// Create the database if the directory holds none.
    public var createIfMissing: Bool
    /// Fail to open if a database already exists at the path.
    public var errorIfExists: Bool
    /// Bytes a memtable may hold before it is frozen and flushed (RocksDB default: 64 MiB).
    public var writeBufferSize: Int?
    /// Memtables (active plus frozen) kept before writes stall (RocksDB default: 2).
    public var maxWriteBufferNumber: Int?
    /// RocksDB's default is snappy.
    public var compression: Compression
    /// Overwrite a key's value inside the memtable when the new value fits, instead of
    /// appending a new version: fewer memtable bytes for workloads that rewrite the same keys.
    /// Turning it on also turns off concurrent memtable writes, which RocksDB requires.
    public var inplaceUpdateSupport: Bool
    /// Size of the LRU cache for uncompressed SST blocks. Nil keeps RocksDB's default,
    /// an 8 MiB cache of its own in 7.x.
    public var blockCacheBytes: Int?
    /// Bits per key of a full Bloom filter on each SST file; 10 gives about 1% false
    /// positives. Nil means no filter, RocksDB's default.
    public var bloomFilterBitsPerKey: Double?
    /// Stop background compactions; a manual `compactRange` still runs.
    public var disableAutoCompactions: Bool
    /// Table files kept open (RocksDB default: -1, unlimited).
    public var maxOpenFiles: Int?

    public init(
        createIfMissing: Bool = true,
        errorIfExists: Bool = false,
        writeBufferSize: Int? = nil,
        maxWriteBufferNumber: Int? = nil,
        compression: Compression = .snappy,
        inplaceUpdateSupport: Bool = false,
        blockCacheBytes: Int? = nil,
        bloomFilterBitsPerKey: Double? = nil,
        disableAutoCompactions: Bool = false,
        maxOpenFiles: Int? = nil
    ) {
        self.createIfMissing = createIfMissing
        self.errorIfExists = errorIfExists
        self.writeBufferSize = writeBufferSize
        self.maxWriteBufferNumber = maxWriteBufferNumber
        self.compression = compression
        self.inplaceUpdateSupport = inplaceUpdateSupport
        self.blockCacheBytes = blockCacheBytes
        self.bloomFilterBitsPerKey = bloomFilterBitsPerKey
        self.disableAutoCompactions = disableAutoCompactions
        self.maxOpenFiles = maxOpenFiles
    }
}

extension RocksOptions.Compression {
    var rocksValue: Int32 {
        switch self {
        case .none: Int32(rocksdb_no_compression)
        case .snappy: Int32(rocksdb_snappy_compression)
        case .lz4: Int32(rocksdb_lz4_compression)
        case .zstd: Int32(rocksdb_zstd_compression)
        }
    }
}

extension RocksOptions {
    /// Rejects values the C API would take as unsigned or silently clamp, so a bad setting
    /// fails at open with a message instead of trapping in a conversion.
    func validate() throws(RocksError) {
        func positive(_ value: Int?, _ name: String) throws(RocksError) {
            if let value, value <= 0 {
                throw RocksError(operation: "open", message: "\(name) must be positive, got \(value)")
            }
        }
        try positive(writeBufferSize, "writeBufferSize")
        try positive(maxWriteBufferNumber, "maxWriteBufferNumber")
        try positive(blockCacheBytes, "blockCacheBytes")
        if let maxWriteBufferNumber, maxWriteBufferNumber > Int(Int32.max) {
            throw RocksError(operation: "open", message: "maxWriteBufferNumber is too large")
        }
        if let maxOpenFiles, maxOpenFiles < -1 || maxOpenFiles == 0 || maxOpenFiles > Int(Int32.max) {
            throw RocksError(
                operation: "open", message: "maxOpenFiles must be -1 (unlimited) or positive, got \(maxOpenFiles)")
        }
        if let bloomFilterBitsPerKey, !(bloomFilterBitsPerKey > 0) {
            throw RocksError(
                operation: "open", message: "bloomFilterBitsPerKey must be positive, got \(bloomFilterBitsPerKey)")
        }
    }

    /// Builds a `rocksdb_options_t` the caller owns and must destroy. The block cache and
    /// filter policy end up owned by the table factory inside it (RocksDB holds both by
    /// shared_ptr), so nothing else needs to outlive this call.
    func makeRocksOptions() -> OpaquePointer {
        let options = rocksdb_options_create()!
        rocksdb_options_set_create_if_missing(options, createIfMissing ? 1 : 0)
        rocksdb_options_set_error_if_exists(options, errorIfExists ? 1 : 0)
        if let writeBufferSize {
            rocksdb_options_set_write_buffer_size(options, writeBufferSize)
        }
        if let maxWriteBufferNumber {
            rocksdb_options_set_max_write_buffer_number(options, Int32(maxWriteBufferNumber))
        }
        rocksdb_options_set_compression(options, compression.rocksValue)
        if inplaceUpdateSupport {
            rocksdb_options_set_inplace_update_support(options, 1)
            // RocksDB refuses in-place updates together with concurrent memtable writes.
            rocksdb_options_set_allow_concurrent_memtable_write(options, 0)
        }
        rocksdb_options_set_disable_auto_compactions(options, disableAutoCompactions ? 1 : 0)
        if let maxOpenFiles {
            rocksdb_options_set_max_open_files(options, Int32(maxOpenFiles))
        }

        if blockCacheBytes != nil || bloomFilterBitsPerKey != nil {
            let tableOptions = rocksdb_block_based_options_create()!
            defer { rocksdb_block_based_options_destroy(tableOptions) }
            if let blockCacheBytes {
                let cache = rocksdb_cache_create_lru(blockCacheBytes)!
                // The table options copy the cache's shared_ptr; this handle is ours to drop.
                defer { rocksdb_cache_destroy(cache) }
                rocksdb_block_based_options_set_block_cache(tableOptions, cache)
            }
            if let bloomFilterBitsPerKey {
                // Ownership of the policy passes to the table options (shared_ptr reset):
                // it must not be destroyed here.
                let policy = rocksdb_filterpolicy_create_bloom_full(bloomFilterBitsPerKey)
                rocksdb_block_based_options_set_filter_policy(tableOptions, policy)
            }
            // The factory copies the table options, so they can be destroyed right after.
            rocksdb_options_set_block_based_table_factory(options, tableOptions)
        }
        return options
    }
}
