import Glibc

/// Splits a byte stream into records, reading large chunks with read(2) and finding line
/// ends with memchr; a record is handed out as a view into the chunk, never copied.
public final class RecordReader {
    private let descriptor: Int32
    private let format: InputFormat
    private var buffer: UnsafeMutableRawPointer
    /// Bytes the buffer holds for input; `padding` more follow them, the first of the ones
    /// after the input a zero byte (see `unreadBytes`).
    private var capacity: Int
    static let padding = 16
    /// The longest record the buffer grows to hold: past it the input is refused with its
    /// place, rather than the buffer doubling until an allocation fails (`/dev/zero`, a file
    /// without line ends, a CSV quote never closed).
    private let maxRecordBytes: Int
    /// Bytes consumed from the stream so far (for progress lines), counting a resumed
    /// stream's skipped prefix.
    public private(set) var bytesRead: Int64 = 0
    private let start: ReadPosition
    /// Where the record after the one being handed out starts: a checkpoint taken while
    /// `body` runs resumes there.
    public private(set) var next: ReadPosition
    /// The last record handed out, while it is still in the buffer: where it starts and its
    /// length, -1 for none (its stream offset follows from the start). Two words rather than
    /// an optional of three, written per record (~3 instructions a record).
    private var lastRecordStart = 0
    private var lastRecordLength = -1
    /// Its fingerprint, taken before a refill moved it out of the buffer.
    private var savedFingerprint: RecordFingerprint?

    /// Reads `fileDescriptor`, which the reader does not close, positioned at `start` (the
    /// caller seeks or skips there; a resumed stream has no byte order mark to skip).
    ///
    /// Reads of 64 KiB rather than 1 MiB: the bytes a read copies in are still in the core's
    /// cache when they are parsed, instead of pushed out by the key state touched meanwhile
    /// (card job, 1M events: simulated 4 MB-cache read misses 9.4 -> 7.7 per event, the same
    /// instructions; the extra reads cost ~1,400 system calls on 95 MB).
    ///
    /// `readsUnterminatedLastRecord` false leaves a last record without its newline unread
    /// (`unreadTailBytes`): a run that will be resumed on the grown input (`--no-drain`)
    /// cannot tell a half-written line from a whole one, so it leaves it for that run.
    public init(
        fileDescriptor: Int32, format: InputFormat, chunkSize: Int = 1 << 16, maxRecordBytes: Int = 1 << 30,
        startingAt start: ReadPosition = .beginning, readsUnterminatedLastRecord: Bool = true
    ) {
        self.readsUnterminatedLastRecord = readsUnterminatedLastRecord
        descriptor = fileDescriptor
        self.format = format
        capacity = max(chunkSize, 1)
        self.maxRecordBytes = max(maxRecordBytes, capacity)
        buffer = Self.allocateBuffer(capacity)
        self.start = start
        next = start
        bytesRead = start.offset
        bufferOffset = start.offset
        line = start.line
        atStreamStart = start.offset == 0
    }

    deinit { buffer.deallocate() }

    /// Calls `body` with each record (without its `\n` or `\r\n`), its 1-based line number and
    /// the stream offset of its first byte. Blank lines are skipped; in CSV, a newline inside
    /// a quoted field stays in the record. `body` returns false to stop. `afterChunk` runs when
    /// the records of one read are handed out, before the next read, which may block.
    public func forEachRecord(
        afterChunk: () throws -> Void = {},
        _ body: (UnsafeRawBufferPointer, _ line: Int, _ offset: Int64) throws -> Bool
    ) throws {
        repeat {
            while let (record, line, offset) = nextBufferedRecord() {
                guard try body(record, line, offset) else { return }
            }
        } while try readMore(afterChunk: afterChunk)
    }

    // Where `nextBufferedRecord` stands in the buffer and the stream.
    /// The first byte of the next record in the buffer.
    private var position = 0
    /// Bytes filled.
    private var end = 0
    /// The stream offset of the buffer's first byte.
    private var bufferOffset: Int64
    /// The line number of the next record.
    private var line: Int
    private var atStreamStart: Bool
    private var endOfInput = false
    private let readsUnterminatedLastRecord: Bool

    /// Bytes after the last record handed out that were left unread at the end of input: a
    /// last record without its newline, when the reader does not read one.
    public var unreadTailBytes: Int { endOfInput ? end &- position : 0 }

    /// The next record in the buffer (as `forEachRecord` hands them out), or nil when it holds
    /// no whole one: then `readMore` reads on, or tells the end of input.
    ///
    /// For a caller's own record loop: `forEachRecord`'s per-record closure cost two forwarding
    /// thunks and the closure's saves and restores per record, and `forEachRecord` would not
    /// inline (the optimizer inlines an `@inline(__always)` function of more than 64 blocks
    /// only into a caller of fewer). Small for the same reason: CSV's record ends are found
    /// out of line, and reading is left to `readMore`.
    ///
    /// Per record, positions and counts move with wrapping arithmetic: they stay within the
    /// buffer, and stream offsets and line numbers within Int64 (an overflow check each was
    /// ~8 instructions a record).
    @inline(__always)
    public func nextBufferedRecord() -> (record: UnsafeRawBufferPointer, line: Int, offset: Int64)? {
        while position < end {
            guard let (recordEnd, newlines) = findRecordEnd(from: position, to: end, final: endOfInput && readsUnterminatedLastRecord) else { return nil }
            let start = position
            var length = recordEnd &- start
            if length > 0, buffer.load(fromByteOffset: recordEnd &- 1, as: UInt8.self) == 13 { length &-= 1 }
            let record = UnsafeRawBufferPointer(start: buffer + start, count: length)
            let recordLine = line
            let recordOffset = bufferOffset &+ Int64(start)
            line &+= newlines &+ 1
            // Not past `end` after a last record without a newline (see `unreadBytes`).
            position = min(recordEnd &+ 1, end)
            next = ReadPosition(offset: bufferOffset &+ Int64(position), line: line)
            if !isBlank(record) {
                lastRecordStart = start
                lastRecordLength = length
                return (record, recordLine, recordOffset)
            }
        }
        return nil
    }

    /// The unread bytes of the buffer, from where the next record starts, for a caller that
    /// finds a JSON Lines record's end by reading it (`JSONObjectScanner.scanLine`) and then
    /// takes it with `takeRecord(newlineAt:)`; empty when the buffer is used up.
    @inline(__always)
    var unreadBytes: ZeroPaddedBytes {
        ZeroPaddedBytes(start: UnsafePointer(buffer.assumingMemoryBound(to: UInt8.self)) + position, count: end &- position)
    }

    /// Hands out, as `nextBufferedRecord` would, the record of `unreadBytes` whose line ends
    /// with the newline at index `newline` there (a record that is not blank).
    @inline(__always)
    func takeRecord(newlineAt newline: Int) -> (record: UnsafeRawBufferPointer, line: Int, offset: Int64) {
        assert(format == .jsonl && newline >= 0 && newline < end &- position
            && buffer.load(fromByteOffset: position &+ newline, as: UInt8.self) == 10, "no newline at \(newline)")
        let start = position
        let recordEnd = start &+ newline
        var length = newline
        if length > 0, buffer.load(fromByteOffset: recordEnd &- 1, as: UInt8.self) == 13 { length &-= 1 }
        let recordLine = line
        let recordOffset = bufferOffset &+ Int64(start)
        line &+= 1
        position = recordEnd &+ 1
        next = ReadPosition(offset: bufferOffset &+ Int64(position), line: line)
        lastRecordStart = start
        lastRecordLength = length
        return (UnsafeRawBufferPointer(start: buffer + start, count: length), recordLine, recordOffset)
    }

    /// Reads more input for `nextBufferedRecord`, once `afterChunk` has run (the records read
    /// before are handed out, and the read may block); false at the end of input.
    public func readMore(afterChunk: () throws -> Void) throws -> Bool {
        if endOfInput { return false }
        try refill(afterChunk: afterChunk)
        return true
    }

    /// Reads more input after what the buffer holds (moving an unfinished record to the
    /// front, or growing the buffer for it), once `afterChunk` has run; sets `endOfInput` at
    /// the end of the stream.
    @inline(never)
    private func refill(afterChunk: () throws -> Void) throws {
        while true {
            if bytesRead > start.offset { try afterChunk() }
            if end == capacity {
                if let last = lastRecord {
                    savedFingerprint = fingerprint(last)
                    lastRecordLength = -1
                }
                if position > 0 {
                    memmove(buffer, buffer + position, end - position)
                    bufferOffset += Int64(position)
                    end -= position
                    position = 0
                    buffer.storeBytes(of: 0, toByteOffset: end, as: UInt8.self)
                } else {
                    guard capacity < maxRecordBytes else {
                        throw IOError(tooLong(line: line, offset: bufferOffset))
                    }
                    grow()
                }
            }
            let count = read(descriptor, buffer + end, capacity - end)
            if count < 0 {
                if errno == EINTR {
                    // A signal (a stop request) interrupted a wait for input: let the caller look.
                    try afterChunk()
                    continue
                }
                throw IOError("cannot read input: \(String(cString: strerror(errno)))")
            }
            if count == 0 {
                endOfInput = true
            } else {
                end += count
                bytesRead += Int64(count)
            }
            // The zero byte after the input (see `unreadBytes`).
            buffer.storeBytes(of: 0, toByteOffset: end, as: UInt8.self)
            if atStreamStart {
                // Wait for three bytes to tell a UTF-8 byte order mark, which is skipped.
                if end < 3 && !endOfInput { continue }
                atStreamStart = false
                if end >= 3, buffer.load(fromByteOffset: 0, as: UInt8.self) == 0xEF,
                   buffer.load(fromByteOffset: 1, as: UInt8.self) == 0xBB,
                   buffer.load(fromByteOffset: 2, as: UInt8.self) == 0xBF {
                    position = 3
                }
            }
            return
        }
    }

    /// The last record handed out, while it is still in the buffer.
    private var lastRecord: (start: Int, length: Int, offset: Int64)? {
        lastRecordLength < 0 ? nil : (lastRecordStart, lastRecordLength, bufferOffset + Int64(lastRecordStart))
    }

    /// The last record handed out (its stream offset, length and CRC-32C): a checkpoint
    /// stores it so that a resumed run can check it reads the same input.
    public func lastRecordFingerprint() -> RecordFingerprint? {
        if let last = lastRecord { return fingerprint(last) }
        return savedFingerprint
    }

    private func fingerprint(_ record: (start: Int, length: Int, offset: Int64)) -> RecordFingerprint {
        var crc = CRC32C()
        crc.update(UnsafeRawBufferPointer(start: buffer + record.start, count: record.length))
        return RecordFingerprint(offset: record.offset, length: record.length, crc32c: crc.value)
    }

    /// The index of the newline ending the record that starts at `start`, and how many
    /// newlines the record holds inside quotes; at the end of input, the end of the data.
    @inline(__always)
    private func findRecordEnd(from start: Int, to end: Int, final: Bool) -> (Int, Int)? {
        switch format {
        case .jsonl:
            if let newline = memchr(buffer + start, 10, end &- start) {
                return (buffer.distance(to: newline), 0)
            }
        case .csv:
            return findCSVRecordEnd(from: start, to: end, final: final)
        }
        return final ? (end, 0) : nil
    }

    /// `findRecordEnd` for CSV, out of line: inlined, its loop made `nextBufferedRecord` too
    /// large to inline into a record loop.
    @inline(never)
    private func findCSVRecordEnd(from start: Int, to end: Int, final: Bool) -> (Int, Int)? {
        // A quote opens a quoted field only at the start of a field; inside one, `""` is an
        // escaped quote. A stray quote elsewhere (`x"y`) is left for the scanner to reject,
        // instead of swallowing every following line into one record.
        var inQuotes = false
        var atFieldStart = true
        var justClosedQuote = false
        var newlines = 0
        for index in start..<end {
            let byte = buffer.load(fromByteOffset: index, as: UInt8.self)
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    inQuotes = false
                    justClosedQuote = true
                } else if byte == 10 {
                    newlines += 1
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                if atFieldStart || justClosedQuote { inQuotes = true }
                atFieldStart = false
                justClosedQuote = false
            case UInt8(ascii: ","):
                atFieldStart = true
                justClosedQuote = false
            case 10:
                return (index, newlines)
            default:
                atFieldStart = false
                justClosedQuote = false
            }
        }
        if final { return (end, newlines) }
        return nil
    }

    /// JSON Lines skips lines of whitespace; in CSV only an empty line is blank, since a line
    /// of spaces is a one-column value.
    private func isBlank(_ record: UnsafeRawBufferPointer) -> Bool {
        if format == .csv { return record.isEmpty }
        for byte in record where !(byte == 32 || byte == 9 || byte == 13) { return false }
        return true
    }

    /// A buffer of `capacity` bytes and the padding after them, all zero (initialised: the
    /// padding is read, if never used, by the 16-byte loads of `JSONObjectScanner.scanLine`).
    private static func allocateBuffer(_ capacity: Int) -> UnsafeMutableRawPointer {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity + padding, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: capacity + padding)
        return buffer
    }

    private func grow() {
        let grown = min(capacity * 2, maxRecordBytes)
        let larger = Self.allocateBuffer(grown)
        larger.copyMemory(from: buffer, byteCount: capacity)
        buffer.deallocate()
        buffer = larger
        capacity = grown
    }

    private func tooLong(line: Int, offset: Int64) -> String {
        let size = maxRecordBytes % (1 << 30) == 0 ? "\(maxRecordBytes >> 30) GiB"
            : maxRecordBytes % (1 << 20) == 0 ? "\(maxRecordBytes >> 20) MiB" : "\(maxRecordBytes) bytes"
        let hint = switch format {
        case .jsonl: "JSON Lines needs a line end after each record; is this input JSON Lines?"
        case .csv: "a quoted field left open takes in every line after it; close its quote or fix the row"
        }
        return "line \(line) (byte \(offset)): a record runs past \(size) without a line end; \(hint)"
    }
}

/// Bytes that are followed in memory by a zero byte and 15 more readable bytes (of any
/// value), as `RecordReader.unreadBytes` are: a reader may look at the byte after them, and
/// load 16 bytes from any place up to it, without testing the count first.
struct ZeroPaddedBytes {
    let start: UnsafePointer<UInt8>
    let count: Int
}

/// A place in an input stream: a byte offset at the start of a record, and that record's
/// 1-based line number.
public struct ReadPosition: Sendable, Equatable {
    public var offset: Int64
    public var line: Int

    public init(offset: Int64, line: Int) {
        self.offset = offset
        self.line = line
    }

    public static let beginning = ReadPosition(offset: 0, line: 1)
}

/// A record identified by its place and content, to recognise an input on resume.
public struct RecordFingerprint: Sendable, Equatable {
    public var offset: Int64
    public var length: Int
    public var crc32c: UInt32
}

extension RecordReader {
    /// Moves `descriptor` to `offset` for a resumed read, after checking that the `length`
    /// bytes at `fingerprintOffset` (the last record before `offset`) still have CRC-32C
    /// `fingerprint`: the input must be the one the checkpoint read, not another. A file
    /// is seeked; a pipe (a replayed stdin) is read and its consumed prefix discarded.
    public static func position(
        _ descriptor: Int32, at offset: Int64, fingerprintOffset: Int64, length: Int, fingerprint: UInt32
    ) throws(IOError) {
        let seekable = lseek(descriptor, 0, SEEK_CUR) >= 0
        var consumed: Int64 = seekable ? fingerprintOffset : 0
        if seekable {
            guard lseek(descriptor, off_t(fingerprintOffset), SEEK_SET) == fingerprintOffset else {
                throw IOError("cannot seek to byte \(fingerprintOffset): \(String(cString: strerror(errno)))")
            }
        }
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { chunk.deallocate() }
        var crc = CRC32C()
        while consumed < offset {
            let wanted = Int(min(Int64(1 << 16), offset - consumed))
            let count = read(descriptor, chunk, wanted)
            if count < 0 {
                if errno == EINTR { continue }
                throw IOError("cannot read input: \(String(cString: strerror(errno)))")
            }
            guard count > 0 else {
                throw IOError("input ends at byte \(consumed), before byte \(offset) where the checkpoint left it: is it the input the checkpoint read?")
            }
            // The part of this read inside [fingerprintOffset, fingerprintOffset + length).
            let from = max(consumed, fingerprintOffset)
            let to = min(consumed + Int64(count), fingerprintOffset + Int64(length))
            if from < to {
                crc.update(UnsafeRawBufferPointer(start: chunk + Int(from - consumed), count: Int(to - from)))
            }
            consumed += Int64(count)
        }
        guard crc.value == fingerprint else {
            throw IOError("the input differs from the one the checkpoint read: the record before byte \(offset) does not match; resume with the same input (a replayed stdin must start from its beginning)")
        }
    }
}
