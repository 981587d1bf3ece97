import Foundation
import Testing

@testable import RocksStore

@Suite("Checkpoints")
struct CheckpointTests {
    static func key(_ index: Int) -> [UInt8] {
        bytes("key-\(index)")
    }

    /// Writes `count` keys with the write-ahead log off, so they exist only in the memtable.
    static func writeWithoutWAL(_ database: RocksDatabase, count: Int) throws {
        let batch = WriteBatch()
        for index in 0..<count {
            batch.put(key: key(index), value: [UInt8(index % 256), 0])
        }
        try database.write(batch, disableWAL: true, sync: false)
    }

    @Test func checkpointAfterWALOffWritesHoldsEveryKey() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            try database.put(key: bytes("flushed"), value: bytes("yes"))
            try database.flush()
            try Self.writeWithoutWAL(database, count: 1000)
            try database.put(key: Self.key(5), value: bytes("overwritten"), disableWAL: true)
            try database.delete(key: Self.key(6), disableWAL: true)

            let checkpointPath = directory.path("checkpoint")
            try database.createCheckpoint(at: checkpointPath)

            // Writes after the checkpoint must not leak into it.
            try database.put(key: bytes("after"), value: bytes("no"), disableWAL: true)

            let files = try FileManager.default.contentsOfDirectory(atPath: checkpointPath)
            #expect(files.contains("CURRENT"))
            #expect(files.contains { $0.hasSuffix(".sst") })

            let restored = try RocksDatabase(path: checkpointPath, options: RocksOptions(createIfMissing: false))
            #expect(try restored.get(bytes("flushed")) == bytes("yes"))
            for index in 0..<1000 where index != 5 && index != 6 {
                #expect(try restored.get(Self.key(index)) == [UInt8(index % 256), 0])
            }
            #expect(try restored.get(Self.key(5)) == bytes("overwritten"))
            #expect(try restored.get(Self.key(6)) == nil)
            #expect(try restored.get(bytes("after")) == nil)
            #expect(restored.integerProperty("rocksdb.estimate-num-keys") ?? 0 >= 999)
        }
    }

    /// The trap the default guards against, pinned down so a RocksDB upgrade that changes it
    /// gets noticed: a non-zero log_size_for_flush skips the flush while the log is small, and
    /// WAL-off writes are in no log, so the checkpoint lacks them.
    @Test func checkpointWithoutFlushLosesWALOffWrites() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            try database.put(key: bytes("logged"), value: bytes("in the WAL"))
            try Self.writeWithoutWAL(database, count: 10)

            let checkpointPath = directory.path("checkpoint")
            try database.createCheckpoint(at: checkpointPath, logSizeForFlush: UInt64.max / 2)

            let restored = try RocksDatabase(path: checkpointPath, options: RocksOptions(createIfMissing: false))
            #expect(try restored.get(bytes("logged")) == bytes("in the WAL"))
            #expect(try restored.get(Self.key(0)) == nil)

            // Flushing first makes the same call safe.
            try database.flush()
            let flushedPath = directory.path("checkpoint-after-flush")
            try database.createCheckpoint(at: flushedPath, logSizeForFlush: UInt64.max / 2)
            let flushedCopy = try RocksDatabase(path: flushedPath, options: RocksOptions(createIfMissing: false))
            #expect(try flushedCopy.get(Self.key(9)) == [9, 0])
        }
    }

    @Test func checkpointIntoAnExistingDirectoryThrows() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            try database.put(key: bytes("k"), value: bytes("v"))
            let existing = directory.path("existing")
            try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: false)
            let error = try #require(throws: RocksError.self) { try database.createCheckpoint(at: existing) }
            #expect(error.operation == "checkpoint")
            #expect(error.description.hasPrefix("rocksdb checkpoint: "))
        }
    }
}
