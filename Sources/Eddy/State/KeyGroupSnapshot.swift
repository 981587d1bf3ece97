/// A snapshot of keyed state as one file per key group, the layout of the `fs` backend:
/// restoring with another parallelism (a later issue) reads exactly the files of the key
/// groups a worker owns.
///
/// A file `kg-NNNNN.state` holds: the magic `EDDYKGS`, the state format version, the key
/// group, the number of keys, then per key (in byte order) its canonical text and its row
/// (`KeyedStates.encodeRow`), and last the CRC-32C of everything before it. Key groups
/// without keys have no file.
enum KeyGroupSnapshot {
    private static let magic: [UInt8] = Array("EDDYKGS".utf8)

    static func fileName(keyGroup: Int) -> String {
        let digits = String(keyGroup)
        return "kg-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits + ".state"
    }

    /// Writes every resident key of `states` into a new snapshot directory `directory`,
    /// replacing the previous one atomically.
    static func write(_ states: KeyedStates, to directory: String) throws(IOError) {
        let staged = directory + ".tmp"
        try DurableFiles.remove(staged)
        try DurableFiles.createDirectory(staged)
        let slots = states.residentSlotsByKeyGroup()
        var start = 0
        var row = StateWriter()
        while start < slots.count {
            let keyGroup = states.keyGroups[slots[start]]
            var end = start
            while end < slots.count, states.keyGroups[slots[end]] == keyGroup { end += 1 }
            var file = StateWriter()
            for byte in magic { file.write(byte) }
            file.write(StateFormat.version)
            file.writeCount(Int(keyGroup))
            file.writeCount(end - start)
            for slot in slots[start..<end] {
                file.write(states.keys[slot])
                row.removeAll()
                states.encodeRow(slot: slot, to: &row)
                file.writeCount(row.bytes.count)
                for byte in row.bytes { file.write(byte) }
            }
            var bytes = file.bytes
            withUnsafeBytes(of: CRC32C.checksum(bytes).littleEndian) { bytes.append(contentsOf: $0) }
            try DurableFiles.write(bytes, to: staged + "/" + fileName(keyGroup: Int(keyGroup)))
            start = end
        }
        try DurableFiles.publish(staged, as: directory)
    }

    /// Loads every key of the snapshot in `directory` into `states` (which must hold none
    /// of them), checking each file's checksum and that every key belongs to its key group.
    static func read(from directory: String, into states: KeyedStates) throws(IOError) {
        for name in try DurableFiles.list(directory) where name.hasPrefix("kg-") && name.hasSuffix(".state") {
            let path = directory + "/" + name
            let bytes = try DurableFiles.read(path)
            do throws(StateFormatError) {
                try load(bytes, into: states, fileName: name)
            } catch {
                throw IOError("\(path): \(error)")
            }
        }
    }

    private static func load(_ bytes: [UInt8], into states: KeyedStates, fileName name: String) throws(StateFormatError) {
        guard bytes.count >= magic.count + 4 else { throw StateFormatError("file too short") }
        let body = Array(bytes[..<(bytes.count - 4)])
        let stored = bytes[(bytes.count - 4)...].withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        guard CRC32C.checksum(body) == stored else { throw StateFormatError("checksum mismatch") }
        let result = body.withUnsafeBytes { raw in
            Result { () throws(StateFormatError) in try parse(raw, into: states, fileName: name) }
        }
        try result.get()
    }

    private static func parse(_ raw: UnsafeRawBufferPointer, into states: KeyedStates, fileName name: String) throws(StateFormatError) {
            var reader = StateReader(raw)
            for byte in magic where try reader.readByte() != byte {
                throw StateFormatError("not an eddy key-group snapshot")
            }
            let version = try reader.readByte()
            guard version == StateFormat.version else {
                throw StateFormatError("state format version \(version), this eddy reads version \(StateFormat.version)")
            }
            let keyGroup = try reader.readCount()
            guard name == fileName(keyGroup: keyGroup) else {
                throw StateFormatError("holds key group \(keyGroup), but its name says otherwise")
            }
            let keyCount = try reader.readCount()
            for _ in 0..<keyCount {
                let key = try reader.readString()
                let hash = KeyGroups.stableHash(ofKey: key)
                guard Int(hash % UInt64(states.maxParallelism)) == keyGroup else {
                    throw StateFormatError(
                        "key \(key) belongs to key group \(hash % UInt64(states.maxParallelism)) with maxParallelism \(states.maxParallelism), not \(keyGroup): was the snapshot written with another maxParallelism?")
                }
                let length = try reader.readCount()
                let rowStart = reader.position
                try reader.skip(length)
                guard states.find(key, hash: hash) == nil else { throw StateFormatError("key \(key) appears twice") }
                let slot = states.insert(key, hash: hash)
                try states.decodeRow(slot: slot, from: UnsafeRawBufferPointer(rebasing: raw[rowStart..<rowStart + length]))
            }
            guard reader.isAtEnd else { throw StateFormatError("unexpected bytes after the last key") }
    }
}
