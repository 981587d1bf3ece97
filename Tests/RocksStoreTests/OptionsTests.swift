import Testing

@testable import RocksStore

@Suite("RocksOptions")
struct OptionsTests {
    /// Writes compressible values, flushes them to one SST file, and reports its size.
    static func sstBytes(with compression: RocksOptions.Compression) throws -> UInt64 {
        try withTemporaryDirectory { directory in
            let path = directory.path("db")
            let database = try RocksDatabase(path: path, options: RocksOptions(compression: compression))
            let value = [UInt8](repeating: 0x5A, count: 1000)
            for index in 0..<500 {
                try database.put(key: bytes("key-\(index)"), value: value)
            }
            try database.flush()
            let size = try #require(database.integerProperty("rocksdb.total-sst-files-size"))
            database.close()

            // Read back through a fresh open, so blocks are decompressed from the file.
            let reopened = try RocksDatabase(path: path, options: RocksOptions(compression: compression))
            #expect(try reopened.get(bytes("key-499")) == value)
            return size
        }
    }

    @Test(arguments: [RocksOptions.Compression.snappy, .lz4, .zstd])
    func compressionIsAvailableAndShrinksFiles(_ compression: RocksOptions.Compression) throws {
        let uncompressed = try Self.sstBytes(with: .none)
        let compressed = try Self.sstBytes(with: compression)
        #expect(uncompressed > 500 * 1000)
        #expect(compressed * 4 < uncompressed, "\(compression): \(compressed) vs \(uncompressed) bytes")
    }

    @Test func inplaceUpdatesOverwriteValues() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(
                path: directory.path("db"),
                options: RocksOptions(writeBufferSize: 1 << 20, maxWriteBufferNumber: 3, inplaceUpdateSupport: true))
            for round in 0..<100 {
                try database.put(key: bytes("counter"), value: [UInt8(round), 0, 0, 0], disableWAL: true)
            }
            #expect(try database.get(bytes("counter")) == [99, 0, 0, 0])
            // A longer value does not fit in place and is appended instead.
            try database.put(key: bytes("counter"), value: [UInt8](repeating: 1, count: 64))
            #expect(try database.get(bytes("counter")) == [UInt8](repeating: 1, count: 64))
        }
    }

    @Test func blockCacheAndBloomFilterServeReads() throws {
        try withTemporaryDirectory { directory in
            let path = directory.path("db")
            let options = RocksOptions(blockCacheBytes: 1 << 20, bloomFilterBitsPerKey: 10, maxOpenFiles: 64)
            let database = try RocksDatabase(path: path, options: options)
            for index in 0..<1000 {
                try database.put(key: bytes("key-\(index)"), value: bytes("value-\(index)"))
            }
            try database.flush()
            #expect(try database.get(bytes("key-123")) == bytes("value-123"))
            #expect(try database.get(bytes("key-1000")) == nil)
            database.close()

            let reopened = try RocksDatabase(path: path, options: options)
            #expect(try reopened.get(bytes("key-999")) == bytes("value-999"))
            #expect(reopened.integerProperty("rocksdb.block-cache-capacity") == 1 << 20)
        }
    }
}
