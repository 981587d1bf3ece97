/// JSON string literals: minimal escaping out, full decoding in.
public enum JSONText {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `s` as a JSON string literal: `"` `\` and control characters escaped, the rest literal.
    public static func quote(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        var copy = s
        copy.withUTF8 { appendQuoted(UnsafeRawBufferPointer($0), to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func appendQuoted(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case 10: out.append(contentsOf: [92, UInt8(ascii: "n")])
            case 13: out.append(contentsOf: [92, UInt8(ascii: "r")])
            case 9: out.append(contentsOf: [92, UInt8(ascii: "t")])
            case 8: out.append(contentsOf: [92, UInt8(ascii: "b")])
            case 12: out.append(contentsOf: [92, UInt8(ascii: "f")])
            case 0..<0x20:
                out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 15)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The value of a JSON string literal (with its quotes), or nil if it is not one.
    public static func unquote(_ text: String) -> String? {
        var copy = text
        return copy.withUTF8 { bytes -> String? in
            guard bytes.count >= 2, bytes.first == 34, bytes.last == 34 else { return nil }
            var out: [UInt8] = []
            let inner = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[1..<(bytes.count - 1)])
            guard decodeStringBody(inner, into: &out) == nil else { return nil }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Decodes the inside of a string literal (no quotes) into UTF-8 bytes; returns the offset
    /// of the first problem, if any, with a message.
    static func decodeStringBody(_ body: UnsafeRawBufferPointer, into out: inout [UInt8]) -> RecordProblem? {
        var index = 0
        let count = body.count
        while index < count {
            let byte = body[index]
            if byte == 92 {
                guard index + 1 < count else { return RecordProblem(offset: index, message: "unterminated escape") }
                let escape = body[index + 1]
                index += 2
                switch escape {
                case UInt8(ascii: "\""): out.append(34)
                case UInt8(ascii: "\\"): out.append(92)
                case UInt8(ascii: "/"): out.append(47)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4(body, index) else {
                        return RecordProblem(offset: index - 2, message: "invalid \\u escape")
                    }
                    index += 4
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard index + 6 <= count, body[index] == 92, body[index + 1] == UInt8(ascii: "u"),
                              let low = hex4(body, index + 2), (0xDC00..<0xE000).contains(low) else {
                            return RecordProblem(offset: index - 6, message: "unpaired surrogate in \\u escape")
                        }
                        index += 6
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        return RecordProblem(offset: index - 6, message: "unpaired surrogate in \\u escape")
                    }
                    appendUTF8(scalar, to: &out)
                default:
                    return RecordProblem(offset: index - 2, message: "invalid escape")
                }
            } else if byte == UInt8(ascii: "\"") {
                return RecordProblem(offset: index, message: "unescaped quote in a string")
            } else if byte < 0x20 {
                return RecordProblem(offset: index, message: "control character in a string (escape it)")
            } else {
                out.append(byte)
                index += 1
            }
        }
        return nil
    }

    /// The value of 4 hex digits at `start` (a `\u` escape's), or nil.
    static func hex4(_ body: UnsafeRawBufferPointer, _ start: Int) -> UInt32? {
        guard start + 4 <= body.count else { return nil }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let c = body[start + offset]
            let digit: UInt8
            switch c {
            case 48...57: digit = c - 48
            case 97...102: digit = c - 87
            case 65...70: digit = c - 55
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80: out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (scalar >> 6)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (scalar >> 12)))
            out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (scalar >> 18)))
            out.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }
}
