/// The byte format of persisted state: what a durable backend writes for one key's features
/// (RocksDB values, snapshot files) and reads back.
///
/// Little-endian fixed-width integers and doubles, unsigned LEB128 varints for lengths and
/// counts, strings as varint length + UTF-8. The format is versioned by the backends that
/// store it (`StateFormat.version`); a state written today must restore tomorrow, so a
/// change here needs a new version and a reader for the old one.
public enum StateFormat {
    /// Version 3: a row starts with the event time its key was last updated (for the TTL).
    /// Version 2: sums keep a 128-bit integer part (version 1 had 64 bits).
    public static let version: UInt8 = 3
    /// The versions this eddy reads.
    public static let readableVersions: ClosedRange<UInt8> = 1...3

    /// The error for a version this eddy cannot read.
    static func unreadable(_ version: UInt8) -> StateFormatError {
        StateFormatError("state format version \(version), this eddy reads versions \(readableVersions.lowerBound) to \(readableVersions.upperBound)")
    }
}

/// A persisted state could not be read back.
public struct StateFormatError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "corrupt state: \(message)" }
}

/// Writes state in the persisted format into a buffer it reuses.
///
/// The bytes live in an append buffer (a class): writing a key's row at a checkpoint makes
/// dozens of small appends, and each `Array.append` checked uniqueness and capacity through
/// the runtime (a fifth of a rocksdb run went to writing rows back at its checkpoint). So a
/// writer must not be copied and then written to from both copies: they share the buffer.
struct StateWriter {
    private let buffer = ByteBuffer(capacity: 256)

    init() {}

    /// The bytes written since the last `removeAll()`, as an array (a copy).
    var bytes: [UInt8] { buffer.array }

    /// Calls `body` with the bytes written since the last `removeAll()`, without copying them.
    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(buffer.elements))
    }

    mutating func removeAll() { buffer.removeAll() }

    mutating func write(_ value: UInt8) { buffer.append(value) }

    mutating func write(_ value: Int64) {
        buffer.append(reserving: 8) { target in
            UnsafeMutableRawPointer(target).storeBytes(of: value.littleEndian, as: Int64.self)
            return 8
        }
    }

    mutating func write(_ value: Double) { write(Int64(bitPattern: value.bitPattern)) }

    mutating func write(_ value: Bool) { buffer.append(value ? 1 : 0) }

    mutating func writeCount(_ value: Int) {
        // At most 10 bytes of LEB128 for 64 bits.
        buffer.append(reserving: 10) { target in
            var rest = UInt64(value)
            var written = 0
            while rest >= 0x80 {
                target[written] = UInt8(truncatingIfNeeded: rest) | 0x80
                rest >>= 7
                written += 1
            }
            target[written] = UInt8(rest)
            return written + 1
        }
    }

    /// Length-prefixed bytes.
    mutating func writeBytes(_ value: [UInt8]) {
        writeCount(value.count)
        buffer.append(contentsOf: value)
    }

    mutating func write(_ text: String) {
        InlineText.withBytes(of: text) { utf8 in
            writeCount(utf8.count)
            buffer.append(utf8)
        }
    }

    /// `write` for the string stored at `text`, read in place when it is inline.
    mutating func write(textAt text: UnsafePointer<String>) {
        guard let inline = InlineText.inlineWords(at: text) else { return write(text.pointee) }
        writeCount(inline.count)
        buffer.append(reserving: 16) { InlineText.write(inline, to: $0) }
    }

    mutating func write<Value: StateCodable>(_ value: Value?) {
        if let value {
            write(true)
            value.encode(to: &self)
        } else {
            write(false)
        }
    }
}

struct StateReader {
    private let bytes: UnsafeRawBufferPointer
    private(set) var position = 0
    /// The format version of what is being read, for decoders of fields that changed.
    var version = StateFormat.version

    /// `bytes` must stay valid while the reader is used.
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isAtEnd: Bool { position == bytes.count }

    private mutating func take(_ count: Int) throws(StateFormatError) -> UnsafeRawBufferPointer {
        guard count >= 0, bytes.count - position >= count else {
            throw StateFormatError("truncated at byte \(position) of \(bytes.count)")
        }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<position + count])
    }

    mutating func readByte() throws(StateFormatError) -> UInt8 { try take(1)[0] }

    /// Bytes written by `StateWriter.writeBytes`; valid as long as the reader's buffer.
    mutating func readBytes() throws(StateFormatError) -> UnsafeRawBufferPointer { try take(try readCount()) }

    mutating func readInt64() throws(StateFormatError) -> Int64 {
        Int64(littleEndian: try take(8).loadUnaligned(as: Int64.self))
    }

    mutating func readDouble() throws(StateFormatError) -> Double {
        Double(bitPattern: UInt64(bitPattern: try readInt64()))
    }

    mutating func readBool() throws(StateFormatError) -> Bool {
        switch try readByte() {
        case 0: return false
        case 1: return true
        case let other: throw StateFormatError("expected a boolean at byte \(position - 1), found \(other)")
        }
    }

    /// A count of things stored after it: never more than the bytes there are.
    /// Reads `count` window entries as the windows write them, oldest first: each a time,
    /// then what `readEntry` reads; entries out of time order are refused.
    mutating func readWindowEntries(
        count: Int, _ readEntry: (_ time: Int64, _ reader: inout StateReader) throws(StateFormatError) -> Void
    ) throws(StateFormatError) {
        var previous = Int64.min
        for _ in 0..<count {
            let time = try readInt64()
            guard time >= previous else { throw StateFormatError("window entries out of time order") }
            previous = time
            try readEntry(time, &self)
        }
    }

    mutating func readCount() throws(StateFormatError) -> Int {
        let value = try readVarint()
        guard value <= bytes.count else {
            throw StateFormatError("count \(value) exceeds the \(bytes.count) bytes of the state")
        }
        return value
    }

    mutating func readVarint() throws(StateFormatError) -> Int {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            guard shift < 63 else { throw StateFormatError("count too long at byte \(position)") }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        guard value <= UInt64(Int.max) else { throw StateFormatError("number too large at byte \(position)") }
        return Int(value)
    }

    mutating func readString() throws(StateFormatError) -> String {
        let utf8 = try take(try readCount())
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw StateFormatError("invalid UTF-8 in a string ending at byte \(position)")
        }
        return text
    }

    mutating func readOptional<Value: StateCodable>(_ type: Value.Type) throws(StateFormatError) -> Value? {
        try readBool() ? try Value.decode(from: &self) : nil
    }
}

/// A value that persists in the state format.
protocol StateCodable {
    func encode(to writer: inout StateWriter)
    static func decode(from reader: inout StateReader) throws(StateFormatError) -> Self
}

extension Int64: StateCodable {
    func encode(to writer: inout StateWriter) { writer.write(self) }
    static func decode(from reader: inout StateReader) throws(StateFormatError) -> Int64 { try reader.readInt64() }
}

extension Double: StateCodable {
    func encode(to writer: inout StateWriter) { writer.write(self) }
    static func decode(from reader: inout StateReader) throws(StateFormatError) -> Double { try reader.readDouble() }
}

extension String: StateCodable {
    func encode(to writer: inout StateWriter) { writer.write(self) }
    static func decode(from reader: inout StateReader) throws(StateFormatError) -> String { try reader.readString() }
}

extension FieldValue: StateCodable {
    func encode(to writer: inout StateWriter) {
        writer.write(kind.rawValue)
        writer.write(text)
        writer.write(number)
        writer.write(integer)
    }

    static func decode(from reader: inout StateReader) throws(StateFormatError) -> FieldValue {
        let code = try reader.readByte()
        guard let kind = ValueKind(rawValue: code) else {
            throw StateFormatError("unknown value kind \(code) at byte \(reader.position - 1)")
        }
        return FieldValue(
            kind: kind, text: try reader.readString(), number: try reader.readDouble(),
            integer: try reader.readOptional(Int64.self))
    }
}
