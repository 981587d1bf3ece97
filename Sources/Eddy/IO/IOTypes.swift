/// The record formats eddy reads.
public enum InputFormat: String, Sendable, CaseIterable {
    case jsonl, csv
}

/// A problem with one input record: where in the record (byte offset from the record's start) and what.
public struct RecordProblem: Error, Sendable, Equatable {
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }
}

/// A failure of the input itself (not of one record), e.g. a read error.
public struct IOError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// Whether the message names the file it is about (an output, a checkpoint file), so
    /// that a caller reading an input does not put the input's name in front of it.
    public var namesItsFile = false

    public init(_ message: String) {
        self.message = message
    }

    /// An error about the file its message names.
    static func ofFile(_ message: String) -> IOError {
        var error = IOError(message)
        error.namesItsFile = true
        return error
    }

    public var description: String { message }
}

/// UTF-8 validation shared by the scanners; strict (no overlongs, no surrogates, <= U+10FFFF)
/// because the bytes end up inside Swift Strings and output JSON.
enum UTF8Check {
    /// Length of the valid multi-byte sequence starting at `p[i]` (a byte >= 0x80), or 0 if invalid.
    @inline(__always)
    static func sequenceLength(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Int {
        let b0 = p[i]
        if b0 < 0xC2 { return 0 }
        if b0 < 0xE0 {
            guard i + 1 < n, p[i + 1] & 0xC0 == 0x80 else { return 0 }
            return 2
        }
        if b0 < 0xF0 {
            guard i + 2 < n else { return 0 }
            let b1 = p[i + 1]
            switch b0 {
            case 0xE0: guard b1 >= 0xA0 && b1 <= 0xBF else { return 0 }
            case 0xED: guard b1 >= 0x80 && b1 <= 0x9F else { return 0 }
            default: guard b1 & 0xC0 == 0x80 else { return 0 }
            }
            guard p[i + 2] & 0xC0 == 0x80 else { return 0 }
            return 3
        }
        if b0 < 0xF5 {
            guard i + 3 < n else { return 0 }
            let b1 = p[i + 1]
            switch b0 {
            case 0xF0: guard b1 >= 0x90 && b1 <= 0xBF else { return 0 }
            case 0xF4: guard b1 >= 0x80 && b1 <= 0x8F else { return 0 }
            default: guard b1 & 0xC0 == 0x80 else { return 0 }
            }
            guard p[i + 2] & 0xC0 == 0x80, p[i + 3] & 0xC0 == 0x80 else { return 0 }
            return 4
        }
        return 0
    }

    /// Offset of the first byte that does not start a valid UTF-8 sequence, or nil when all valid.
    static func firstInvalid(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int? {
        var i = 0
        while i < n {
            // Most input is ASCII: test 8 bytes at a time for any high bit.
            if i + 8 <= n {
                let w = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
                if w & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                    continue
                }
            }
            if p[i] < 0x80 {
                i += 1
                continue
            }
            let l = sequenceLength(p, i, n)
            if l == 0 { return i }
            i += l
        }
        return nil
    }
}
