import Foundation
import Testing

@testable import RocksStore

@Suite("RocksDatabase")
struct DatabaseTests {
    @Test func valuesSurviveCloseAndReopen() throws {
        try withTemporaryDirectory { directory in
            let path = directory.path("db")
            let database = try RocksDatabase(path: path, options: RocksOptions())
            try database.put(key: bytes("alpha"), value: bytes("one"))
            try database.put(key: bytes("beta"), value: bytes("two"))
            database.close()
            #expect(database.isClosed)

            let reopened = try RocksDatabase(path: path, options: RocksOptions(createIfMissing: false))
            #expect(try reopened.get(bytes("alpha")) == bytes("one"))
            #expect(try reopened.get(bytes("beta")) == bytes("two"))
            reopened.close()
        }
    }

    @Test func valuesWrittenWithoutWALSurviveCloseAndReopen() throws {
        // A clean close flushes the memtable even when nothing went through the log.
        try withTemporaryDirectory { directory in
            let path = directory.path("db")
            let database = try RocksDatabase(path: path, options: RocksOptions())
            try database.put(key: bytes("k"), value: bytes("v"), disableWAL: true)
            database.close()

            let reopened = try RocksDatabase(path: path, options: RocksOptions())
            #expect(try reopened.get(bytes("k")) == bytes("v"))
        }
    }

    @Test func missingKeyReadsAsNil() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            #expect(try database.get(bytes("absent")) == nil)
            let sawValue = try database.withValue(forKey: bytes("absent")) { $0 != nil }
            #expect(!sawValue)
        }
    }

    @Test func putGetOverwriteDelete() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            try database.put(key: bytes("key"), value: bytes("first"))
            #expect(try database.get(bytes("key")) == bytes("first"))
            try database.put(key: bytes("key"), value: bytes("second"), sync: true)
            #expect(try database.get(bytes("key")) == bytes("second"))
            try database.delete(key: bytes("key"))
            #expect(try database.get(bytes("key")) == nil)
            // Deleting what is not there is fine.
            try database.delete(key: bytes("key"), disableWAL: true)
        }
    }

    @Test func binaryKeysAndValuesKeepZeroBytesAndEmptiness() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            let zeroKey: [UInt8] = [0, 0, 0]
            let shorterZeroKey: [UInt8] = [0, 0]
            let mixedKey: [UInt8] = [0xFF, 0, 0x7F, 0, 0x80]
            let mixedValue: [UInt8] = [0, 1, 0, 2, 0, 0, 0xFF]
            try database.put(key: zeroKey, value: mixedValue)
            try database.put(key: shorterZeroKey, value: [0])
            try database.put(key: mixedKey, value: [UInt8]())
            try database.put(key: [UInt8](), value: bytes("empty key"))

            #expect(try database.get(zeroKey) == mixedValue)
            #expect(try database.get(shorterZeroKey) == [0])
            // A stored empty value is present, not missing.
            #expect(try database.get(mixedKey) == [])
            #expect(try database.get([UInt8]()) == bytes("empty key"))
            #expect(try database.get([0, 0, 0, 0] as [UInt8]) == nil)
        }
    }

    @Test func rawBufferAndSliceKeysMatchArrayKeys() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            let key: [UInt8] = [1, 2, 3, 0, 4]
            let value: [UInt8] = [9, 0, 9]
            try key.withUnsafeBytes { rawKey in
                try value.withUnsafeBytes { rawValue in
                    try database.put(key: rawKey, value: rawValue)
                }
            }
            #expect(try database.get(key) == value)
            let padded: [UInt8] = [7] + key + [7]
            #expect(try database.get(padded[1..<(padded.count - 1)]) == value)
            #expect(try database.get(ContiguousArray(key)) == value)
        }
    }

    @Test func withValueLendsTheStoredBytes() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            let value = [UInt8](repeating: 0xAB, count: 4096) + [0, 1, 2]
            try database.put(key: bytes("big"), value: value)
            try database.flush()  // read it back from an SST block, not the memtable
            let (count, lastThree) = try database.withValue(forKey: bytes("big")) { buffer in
                let buffer = try #require(buffer)
                return (buffer.count, Array(buffer.suffix(3)))
            }
            #expect(count == value.count)
            #expect(lastThree == [0, 1, 2])
        }
    }

    @Test func withValuePassesBodyErrorsThrough() throws {
        struct BodyError: Error {}
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            try database.put(key: bytes("k"), value: bytes("v"))
            #expect(throws: BodyError.self) {
                try database.withValue(forKey: bytes("k")) { _ in throw BodyError() }
            }
        }
    }

    @Test func deleteRangeRemovesHalfOpenRange() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            for name in ["a", "b", "b\u{0}", "ba", "c", "d"] {
                try database.put(key: bytes(name), value: bytes(name))
            }
            try database.deleteRange(from: bytes("b"), to: bytes("c"))
            #expect(try database.get(bytes("a")) == bytes("a"))
            #expect(try database.get(bytes("b")) == nil)
            #expect(try database.get(bytes("b\u{0}")) == nil)
            #expect(try database.get(bytes("ba")) == nil)
            // The end key is excluded.
            #expect(try database.get(bytes("c")) == bytes("c"))
            #expect(try database.get(bytes("d")) == bytes("d"))

            // The tombstone also hides keys already flushed to SST files.
            try database.flush()
            try database.deleteRange(from: bytes("c"), to: bytes("z"), disableWAL: true)
            #expect(try database.get(bytes("c")) == nil)
            #expect(try database.get(bytes("d")) == nil)
            #expect(try database.get(bytes("a")) == bytes("a"))
        }
    }

    @Test func reversedDeleteRangeIsRejectedByRocksDB() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            try database.put(key: bytes("m"), value: bytes("kept"))
            let error = try #require(throws: RocksError.self) {
                try database.deleteRange(from: bytes("z"), to: bytes("a"))
            }
            #expect(error.operation == "delete range")
            #expect(error.description.hasPrefix("rocksdb delete range: Invalid argument"))
            #expect(try database.get(bytes("m")) == bytes("kept"))
        }
    }

    @Test func writeBatchAppliesAllOperationsAtOnce() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            try database.put(key: bytes("stale"), value: bytes("old"))
            for name in ["r1", "r2", "r3"] {
                try database.put(key: bytes(name), value: bytes(name))
            }

            let batch = WriteBatch()
            let emptySize = batch.byteSize
            #expect(batch.count == 0)
            batch.put(key: bytes("new1"), value: bytes("v1"))
            batch.put(key: bytes("new2"), value: [0, 0])
            batch.delete(key: bytes("stale"))
            batch.deleteRange(from: bytes("r1"), to: bytes("r3"))
            batch.put(key: bytes("new1"), value: bytes("v1 again"))  // later operations win
            #expect(batch.count == 5)
            #expect(batch.byteSize > emptySize)

            // Nothing is visible before the write.
            #expect(try database.get(bytes("new1")) == nil)
            #expect(try database.get(bytes("stale")) == bytes("old"))

            try database.write(batch, disableWAL: false, sync: false)
            #expect(try database.get(bytes("new1")) == bytes("v1 again"))
            #expect(try database.get(bytes("new2")) == [0, 0])
            #expect(try database.get(bytes("stale")) == nil)
            #expect(try database.get(bytes("r1")) == nil)
            #expect(try database.get(bytes("r2")) == nil)
            #expect(try database.get(bytes("r3")) == bytes("r3"))

            // Writing does not consume the batch; clearing empties it for reuse.
            #expect(batch.count == 5)
            batch.clear()
            #expect(batch.count == 0)
            #expect(batch.byteSize == emptySize)
            batch.put(key: bytes("after clear"), value: bytes("x"))
            try database.write(batch, disableWAL: true, sync: false)
            #expect(try database.get(bytes("after clear")) == bytes("x"))
            #expect(try database.get(bytes("new1")) == bytes("v1 again"))
        }
    }

    @Test func closeIsIdempotentAndLaterCallsThrow() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            database.close()
            database.close()
            let error = try #require(throws: RocksError.self) { try database.put(key: bytes("k"), value: bytes("v")) }
            #expect(error.operation == "put")
            #expect(error.description.hasPrefix("rocksdb put: "))
            #expect(error.description.contains("closed"))
            #expect(throws: RocksError.self) { try database.get(bytes("k")) }
            #expect(throws: RocksError.self) { try database.makeIterator() }
            #expect(throws: RocksError.self) { try database.flush() }
            #expect(throws: RocksError.self) { try database.write(WriteBatch(), disableWAL: false, sync: false) }
            #expect(throws: RocksError.self) { try database.createCheckpoint(at: directory.path("cp")) }
            #expect(database.property("rocksdb.estimate-num-keys") == nil)
        }
    }

    @Test func reopeningWhileOpenFailsOnTheLock() throws {
        try withTemporaryDirectory { directory in
            let path = directory.path("db")
            let database = try RocksDatabase(path: path, options: RocksOptions())
            let error = try #require(throws: RocksError.self) { try RocksDatabase(path: path, options: RocksOptions()) }
            #expect(error.operation == "open")
            database.close()
            // Closing released the lock.
            _ = try RocksDatabase(path: path, options: RocksOptions())
        }
    }

    @Test func openingARegularFileThrowsNamingTheOperation() throws {
        try withTemporaryDirectory { directory in
            let path = directory.path("not-a-directory")
            #expect(FileManager.default.createFile(atPath: path, contents: Data("plain file".utf8)))
            let error = try #require(throws: RocksError.self) {
                try RocksDatabase(path: path, options: RocksOptions())
            }
            #expect(error.operation == "open")
            #expect(error.description.hasPrefix("rocksdb open: "))
            #expect(!error.message.isEmpty)
        }
    }

    @Test func errorIfExistsRefusesAnExistingDatabase() throws {
        try withTemporaryDirectory { directory in
            let path = directory.path("db")
            try RocksDatabase(path: path, options: RocksOptions(errorIfExists: true)).close()
            let error = try #require(throws: RocksError.self) {
                try RocksDatabase(path: path, options: RocksOptions(errorIfExists: true))
            }
            #expect(error.operation == "open")
            #expect(error.message.contains("exists"))
        }
    }

    @Test func missingDatabaseWithoutCreateIfMissingThrows() throws {
        try withTemporaryDirectory { directory in
            #expect(throws: RocksError.self) {
                try RocksDatabase(path: directory.path("nothing here"), options: RocksOptions(createIfMissing: false))
            }
        }
    }

    @Test func invalidOptionsAreRejectedBeforeOpening() throws {
        try withTemporaryDirectory { directory in
            let path = directory.path("db")
            for options in [
                RocksOptions(writeBufferSize: 0),
                RocksOptions(maxWriteBufferNumber: -1),
                RocksOptions(blockCacheBytes: -5),
                RocksOptions(bloomFilterBitsPerKey: 0),
                RocksOptions(maxOpenFiles: 0),
            ] {
                let error = try #require(throws: RocksError.self) { try RocksDatabase(path: path, options: options) }
                #expect(error.operation == "open")
            }
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func propertiesReportKeysAndUnknownNamesAreNil() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            for index in 0..<100 {
                try database.put(key: bytes("key\(index)"), value: bytes("value"))
            }
            #expect(database.integerProperty("rocksdb.estimate-num-keys") == 100)
            #expect(database.property("rocksdb.estimate-num-keys") == "100")
            #expect(database.property("rocksdb.no-such-property") == nil)
            #expect(database.integerProperty("rocksdb.no-such-property") == nil)
            #expect(database.property("rocksdb.stats")?.contains("Compaction Stats") == true)
        }
    }

    @Test func flushAndCompactionKeepTheLiveData() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(
                path: directory.path("db"), options: RocksOptions(disableAutoCompactions: true))
            for round in 0..<3 {
                for index in 0..<50 {
                    try database.put(key: bytes("key\(index)"), value: bytes("round\(round)"))
                }
                try database.flush()
            }
            try database.deleteRange(from: bytes("key2"), to: bytes("key3"))
            // A string-only property: RocksDB has no integer form of it.
            #expect(database.property("rocksdb.num-files-at-level0") == "3")
            #expect(database.integerProperty("rocksdb.num-files-at-level0") == nil)
            try database.compactAll()
            #expect(database.property("rocksdb.num-files-at-level0") == "0")
            try database.compactRange(from: bytes("key0"), to: bytes("key9"))
            #expect(try database.get(bytes("key10")) == bytes("round2"))
            #expect(try database.get(bytes("key25")) == nil)
            var liveKeys = 0
            try database.scan { _, _ in liveKeys += 1 }
            #expect(liveKeys == 50 - 11)  // key2 and key20...key29 are gone
        }
    }
}

@Suite("RocksDatabase prefix bound")
struct PrefixBoundTests {
    @Test func firstKeyAfterPrefix() {
        #expect(RocksDatabase.firstKeyAfterPrefix([1, 2, 3]) == [1, 2, 4])
        #expect(RocksDatabase.firstKeyAfterPrefix([1, 0xFF]) == [2])
        #expect(RocksDatabase.firstKeyAfterPrefix([1, 0xFF, 0xFF]) == [2])
        #expect(RocksDatabase.firstKeyAfterPrefix([0xFF, 0xFF]) == nil)
        #expect(RocksDatabase.firstKeyAfterPrefix([]) == nil)
        #expect(RocksDatabase.firstKeyAfterPrefix([0]) == [1])
    }
}
