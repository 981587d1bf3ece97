import Testing

@testable import RocksStore

@Suite("RocksIterator and scans")
struct IteratorTests {
    /// Keys inserted out of order, including ones that differ only in zero and 0xFF bytes.
    static let keys: [[UInt8]] = [
        [0x62],  // "b"
        [0x61, 0xFF],
        [0x61],  // "a"
        [0x61, 0x00],
        [0x63, 0x00, 0x01],
        [0x62, 0x00],
        [0xFF],
        [0x00],
        [0x62, 0xFF, 0xFF],
        [0x63],
    ]

    static func databaseWithKeys(in directory: TemporaryDirectory) throws -> RocksDatabase {
        let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
        for key in keys {
            try database.put(key: key, value: [UInt8(key.count)] + key)
        }
        return database
    }

    static func visitAll(_ iterator: RocksIterator) throws -> [[UInt8]] {
        var visited: [[UInt8]] = []
        while iterator.isValid {
            visited.append(iterator.key)
            #expect(iterator.value == [UInt8(iterator.key.count)] + iterator.key)
            iterator.next()
        }
        try iterator.checkStatus()
        return visited
    }

    @Test func unboundedIteratorVisitsAllKeysInByteOrder() throws {
        try withTemporaryDirectory { directory in
            let database = try Self.databaseWithKeys(in: directory)
            let iterator = try database.makeIterator()
            #expect(!iterator.isValid)  // unpositioned until a seek
            iterator.seekToFirst()
            let visited = try Self.visitAll(iterator)
            #expect(visited == Self.keys.sorted { $0.lexicographicallyPrecedes($1) })
        }
    }

    @Test func boundsLimitTheIteratorToHalfOpenRange() throws {
        try withTemporaryDirectory { directory in
            let database = try Self.databaseWithKeys(in: directory)
            // Half the keys in SST files, half in the memtable: the bounds must hold for both.
            try database.flush()
            try database.put(key: [0x62, 0x01], value: [2, 0x62, 0x01])

            let lower: [UInt8] = [0x61, 0x00]
            let upper: [UInt8] = [0x63]
            var iterator: RocksIterator? = try database.makeIterator(lowerBound: lower, upperBound: upper)
            iterator!.seekToFirst()
            let visited = try Self.visitAll(iterator!)
            #expect(visited == [[0x61, 0x00], [0x61, 0xFF], [0x62], [0x62, 0x00], [0x62, 0x01], [0x62, 0xFF, 0xFF]])

            // Seeking below the lower bound lands on the lower bound.
            iterator!.seek(to: [0x00] as [UInt8])
            #expect(iterator!.key == lower)
            // Seeking to the upper bound or beyond leaves the range.
            iterator!.seek(to: upper)
            #expect(!iterator!.isValid)
            iterator = nil
            database.close()
        }
    }

    @Test func seekLandsOnFirstKeyAtOrAfterTarget() throws {
        try withTemporaryDirectory { directory in
            let database = try Self.databaseWithKeys(in: directory)
            let iterator = try database.makeIterator()
            iterator.seek(to: [0x61, 0x01] as [UInt8])
            #expect(iterator.key == [0x61, 0xFF])
            iterator.seek(to: [0x62] as [UInt8])
            #expect(iterator.key == [0x62])
            iterator.next()
            #expect(iterator.key == [0x62, 0x00])
            iterator.withKey { key in #expect(Array(key) == [0x62, 0x00]) }
            iterator.withValue { value in #expect(Array(value) == [2, 0x62, 0x00]) }
            iterator.seek(to: [0xFF, 0x00] as [UInt8])
            #expect(!iterator.isValid)
            try iterator.checkStatus()
        }
    }

    @Test func iteratorReadsTheSnapshotFromItsCreation() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            try database.put(key: bytes("a"), value: bytes("1"))
            let iterator = try database.makeIterator()
            try database.put(key: bytes("b"), value: bytes("2"))
            iterator.seekToFirst()
            #expect(iterator.key == bytes("a"))
            iterator.next()
            #expect(!iterator.isValid)
            #expect(try database.get(bytes("b")) == bytes("2"))
        }
    }

    @Test func emptyUpperBoundAdmitsNothing() throws {
        try withTemporaryDirectory { directory in
            let database = try Self.databaseWithKeys(in: directory)
            let iterator = try database.makeIterator(upperBound: [])
            iterator.seekToFirst()
            #expect(!iterator.isValid)
        }
    }

    @Test func scanVisitsHalfOpenRangeInOrder() throws {
        try withTemporaryDirectory { directory in
            let database = try Self.databaseWithKeys(in: directory)
            var visited: [[UInt8]] = []
            try database.scan(from: [0x62], to: [0xFF]) { key, value in
                visited.append(Array(key))
                #expect(Array(value) == [UInt8(key.count)] + Array(key))
            }
            #expect(visited == [[0x62], [0x62, 0x00], [0x62, 0xFF, 0xFF], [0x63], [0x63, 0x00, 0x01]])

            var all = 0
            try database.scan { _, _ in all += 1 }
            #expect(all == Self.keys.count)
        }
    }

    @Test func scanPassesBodyErrorsThroughAndReleasesTheIterator() throws {
        struct StopScan: Error {}
        try withTemporaryDirectory { directory in
            let database = try Self.databaseWithKeys(in: directory)
            var seen = 0
            #expect(throws: StopScan.self) {
                try database.scan { _, _ in
                    seen += 1
                    if seen == 3 { throw StopScan() }
                }
            }
            #expect(seen == 3)
            #expect(database.liveIteratorCount == 0)
            database.close()  // would trap if the scan's iterator were still alive
        }
    }

    @Test func prefixScanStopsAtThePrefixEnd() throws {
        try withTemporaryDirectory { directory in
            let database = try RocksDatabase(path: directory.path("db"), options: RocksOptions())
            let keys: [[UInt8]] = [
                [0x01, 0xFE], [0x01, 0xFF], [0x01, 0xFF, 0x00], [0x01, 0xFF, 0xFF, 0xFF],
                [0x02], [0x01], [0x00, 0xFF], [0x01, 0xFF, 0x01],
            ]
            for key in keys {
                try database.put(key: key, value: key)
            }

            var withPrefix: [[UInt8]] = []
            try database.forEach(prefix: [0x01, 0xFF] as [UInt8]) { key, value in
                #expect(Array(key) == Array(value))
                withPrefix.append(Array(key))
            }
            #expect(withPrefix == [[0x01, 0xFF], [0x01, 0xFF, 0x00], [0x01, 0xFF, 0x01], [0x01, 0xFF, 0xFF, 0xFF]])

            var allAfterFF: [[UInt8]] = []
            try database.forEach(prefix: [0x01] as [UInt8]) { key, _ in allAfterFF.append(Array(key)) }
            #expect(allAfterFF.count == 6)
            #expect(allAfterFF.allSatisfy { $0.first == 0x01 })

            var everything = 0
            try database.forEach(prefix: [UInt8]()) { _, _ in everything += 1 }
            #expect(everything == keys.count)
        }
    }

    @Test func iteratorKeepsItsDatabaseAlive() throws {
        try withTemporaryDirectory { directory in
            var database: RocksDatabase? = try Self.databaseWithKeys(in: directory)
            let iterator = try database!.makeIterator(lowerBound: [0x63])
            #expect(database!.liveIteratorCount == 1)
            database = nil  // the iterator still holds it
            iterator.seekToFirst()
            #expect(iterator.key == [0x63])
        }
    }
}
