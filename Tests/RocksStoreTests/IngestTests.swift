import Foundation
import Testing

@testable import RocksStore

@Suite("SST files and ingestion")
struct IngestTests {
    /// A file's keys become readable as a whole, newer than what the database held: they
    /// replace older values (also ones still in the memtable), and keys the file lacks keep
    /// theirs. The file is moved in, and the database reopens with it.
    @Test func ingestedFileReplacesOlderValuesAndKeepsTheRest() throws {
        try withTemporaryDirectory { directory in
            let options = RocksOptions(compression: .lz4, bloomFilterBitsPerKey: 10)
            let database = try RocksDatabase(path: directory.path("db"), options: options)
            try database.put(key: bytes("a"), value: bytes("old a"))
            try database.flush()
            try database.put(key: bytes("b"), value: bytes("old b"), disableWAL: true)
            try database.put(key: bytes("z"), value: bytes("untouched"), disableWAL: true)

            let path = directory.path("rows.sst")
            let file = try SSTFileWriter(path: path, options: options)
            for (key, value) in [("a", "new a"), ("b", "new b"), ("c", "new c")] {
                try file.put(key: bytes(key), value: bytes(value))
            }
            #expect(file.count == 3)
            try file.finish()
            try database.ingest([path])

            #expect(!FileManager.default.fileExists(atPath: path))
            for (key, value) in [("a", "new a"), ("b", "new b"), ("c", "new c"), ("z", "untouched")] {
                #expect(try database.get(bytes(key)) == bytes(value), "\(key)")
            }
            try database.flush()
            database.close()
            let reopened = try RocksDatabase(path: directory.path("db"), options: options)
            #expect(try reopened.get(bytes("c")) == bytes("new c"))
            #expect(try reopened.get(bytes("a")) == bytes("new a"))
        }
    }

    /// Keys out of order, an empty file, and a missing file are errors naming the operation.
    @Test func misuseIsReportedAsErrors() throws {
        try withTemporaryDirectory { directory in
            let unordered = try SSTFileWriter(path: directory.path("unordered.sst"), options: RocksOptions())
            try unordered.put(key: bytes("b"), value: bytes("1"))
            #expect(throws: RocksError.self) { try unordered.put(key: bytes("a"), value: bytes("2")) }
            #expect(throws: RocksError.self) { try unordered.put(key: bytes("b"), value: bytes("3")) }

            let empty = try SSTFileWriter(path: directory.path("empty.sst"), options: RocksOptions())
            #expect(throws: RocksError.self) { try empty.finish() }

            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            do {
                try database.ingest([directory.path("missing.sst")])
                Issue.record("ingesting a missing file did not throw")
            } catch let error as RocksError {
                #expect(error.operation.hasPrefix("ingest"))
            }
        }
    }
}
