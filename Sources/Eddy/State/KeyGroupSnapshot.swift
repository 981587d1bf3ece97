/// A snapshot of keyed state as one file per key group, the layout of the `fs` backend:
/// restoring with another parallelism reads exactly the files of the key
/// groups a worker owns.
///
/// A file `kg-NNNNN.state` holds: the magic `EDDYKGS`, the state format version, the key
/// group, the number of keys, then per key (in byte order) its canonical text and its row
/// (`KeyedStates.encodeRow`); the number of buffered events, then per event (in time,
/// arrival order) its time, sequence and bytes; and last the CRC-32C of everything before
/// it. Key groups without keys or buffered events have no file.
enum KeyGroupSnapshot {
    private static let magic: [UInt8] = Array("EDDYKGS".utf8)

    static func fileName(keyGroup: Int) -> String {
        let digits = String(keyGroup)
        return "kg-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits + ".state"
    }

    /// Writes every resident key of `workers` (each worker's states own distinct key groups)
    /// and the `buffered` events into a new snapshot directory `directory`, replacing the
    /// previous one atomically.
    static func write(_ workers: [KeyedStates], buffered: [BufferedEvent], to directory: String) throws(IOError) {
        let staged = directory + ".tmp"
        try DurableFiles.remove(staged)
        try DurableFiles.createDirectory(staged)
        var slotsByGroup: [Int: (states: KeyedStates, slots: [Int])] = [:]
        for states in workers {
            for slot in states.residentSlotsByKeyGroup() {
                slotsByGroup[Int(states.keyGroups[slot]), default: (states, [])].slots.append(slot)
            }
        }
        var eventsByGroup: [Int: [BufferedEvent]] = [:]
        for event in buffered.sorted(by: BufferedEvent.precedes) { eventsByGroup[event.keyGroup, default: []].append(event) }
        var row = StateWriter()
        for keyGroup in Set(slotsByGroup.keys).union(eventsByGroup.keys).sorted() {
            var file = StateWriter()
            for byte in magic { file.write(byte) }
            file.write(StateFormat.version)
            file.writeCount(keyGroup)
            let (states, slots) = slotsByGroup[keyGroup] ?? (workers[0], [])
            file.writeCount(slots.count)
            for slot in slots {
                file.write(states.keys[slot])
                row.removeAll()
                states.encodeRow(slot: slot, to: &row)
                file.writeBytes(row.bytes)
            }
            let events = eventsByGroup[keyGroup] ?? []
            file.writeCount(events.count)
            for event in events {
                file.write(event.time)
                file.write(event.sequence)
                file.writeBytes(event.bytes)
            }
            var bytes = file.bytes
            withUnsafeBytes(of: CRC32C.checksum(bytes).littleEndian) { bytes.append(contentsOf: $0) }
            try DurableFiles.write(bytes, to: staged + "/" + fileName(keyGroup: keyGroup))
        }
        try DurableFiles.publish(staged, as: directory)
    }

    /// Loads every key of `keyGroups` in the snapshot in `directory` into `states` (which
    /// must hold none of them), checking each file's checksum and that every key belongs to
    /// its key group; returns those key groups' buffered events, in key-group then (time,
    /// sequence) order.
    static func read(
        from directory: String, into states: KeyedStates, keyGroups: ClosedRange<Int>, translating translation: StateTranslation? = nil
    ) throws(IOError) -> [BufferedEvent] {
        var buffered: [BufferedEvent] = []
        let owned = Set(keyGroups.map { fileName(keyGroup: $0) })
        let valid = Set((0..<states.maxParallelism).map { fileName(keyGroup: $0) })
        for name in try DurableFiles.list(directory) where name.hasPrefix("kg-") && name.hasSuffix(".state") {
            // Other key groups' files belong to other workers. A name that is no key group's
            // goes to the worker of key group 0, whose load reports it.
            guard owned.contains(name) || (keyGroups.lowerBound == 0 && !valid.contains(name)) else { continue }
            let path = directory + "/" + name
            let bytes = try DurableFiles.read(path)
            do throws(StateFormatError) {
                try load(bytes, into: states, buffered: &buffered, fileName: name, translating: translation)
            } catch {
                throw IOError("\(path): \(error)")
            }
        }
        return buffered
    }

    private static func load(
        _ bytes: [UInt8], into states: KeyedStates, buffered: inout [BufferedEvent], fileName name: String,
        translating translation: StateTranslation?
    ) throws(StateFormatError) {
        guard bytes.count >= magic.count + 4 else { throw StateFormatError("file too short") }
        let body = Array(bytes[..<(bytes.count - 4)])
        let stored = bytes[(bytes.count - 4)...].withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        guard CRC32C.checksum(body) == stored else { throw StateFormatError("checksum mismatch") }
        let result = body.withUnsafeBytes { raw in
            Result { () throws(StateFormatError) in try parse(raw, into: states, fileName: name, translating: translation) }
        }
        buffered += try result.get()
    }

    private static func parse(
        _ raw: UnsafeRawBufferPointer, into states: KeyedStates, fileName name: String, translating translation: StateTranslation?
    ) throws(StateFormatError) -> [BufferedEvent] {
            var reader = StateReader(raw)
            for byte in magic where try reader.readByte() != byte {
                throw StateFormatError("not an eddy key-group snapshot")
            }
            let version = try reader.readByte()
            guard StateFormat.readableVersions.contains(version) else { throw StateFormat.unreadable(version) }
            let keyGroup = try reader.readVarint()
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
                let row = try reader.readBytes()
                guard states.find(key, hash: hash) == nil else { throw StateFormatError("key \(key) appears twice") }
                let slot = states.insert(key, hash: hash)
                if let translation {
                    let translated = try translation.row(row)
                    let decoded = translated.withUnsafeBytes { bytes in
                        Result { () throws(StateFormatError) in try states.decodeRow(slot: slot, from: bytes) }
                    }
                    try decoded.get()
                } else {
                    try states.decodeRow(slot: slot, from: row)
                }
            }
            var events: [BufferedEvent] = []
            for _ in 0..<(try reader.readCount()) {
                let time = try reader.readInt64()
                let sequence = try reader.readInt64()
                var bytes = Array(try reader.readBytes())
                if let translation { bytes = try translation.event(bytes) }
                events.append(BufferedEvent(keyGroup: keyGroup, time: time, sequence: sequence, bytes: bytes))
            }
            guard reader.isAtEnd else { throw StateFormatError("unexpected bytes after the last buffered event") }
            return events
    }
}
