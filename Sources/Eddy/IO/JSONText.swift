/// JSON string literals: minimal escaping on output, full decoding on input.
public enum JSONText {
    /// JSON string literal for `s`: only `"`, `\` and controls below 0x20 are escaped, so the
    /// canonical text of a string is unique (distinct counts compare these texts).
    public static func quote(_ s: String) -> String {
        var copy = s
        return copy.withUTF8 { utf8 -> String in
            let raw = UnsafeRawBufferPointer(utf8)
            if !needsEscaping(raw) { return "\"" + s + "\"" }
            var out: [UInt8] = []
            out.reserveCapacity(utf8.count + 8)
            appendQuoted(raw, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
    }

    @inline(__always)
    static func needsEscaping(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for b in bytes where b < 0x20 || b == 0x22 || b == 0x5C { return true }
        return false
    }

    /// Appends `bytes` (UTF-8) as a JSON string literal, escaped as in `quote`.
    public static func appendQuoted(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(0x22)
        var runStart = 0
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b >= 0x20 && b != 0x22 && b != 0x5C {
                i += 1
                continue
            }
            if runStart < i { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<i])) }
            out.append(0x5C)
            switch b {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            default:
                out.append(UInt8(ascii: "u"))
                out.append(0x30)
                out.append(0x30)
                out.append(hexDigit(b >> 4))
                out.append(hexDigit(b & 0xF))
            }
            i += 1
            runStart = i
        }
        if runStart < n { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<n])) }
        out.append(0x22)
    }

    @inline(__always)
    static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x61 + v - 10 }

    /// The value of a JSON string literal (including its quotes), or nil if it is not exactly one
    /// valid literal. Unpaired surrogates are rejected because a Swift String cannot hold them.
    public static func unquote(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { utf8 -> String? in
            let n = utf8.count
            guard n >= 2, utf8[0] == 0x22, utf8[n - 1] == 0x22 else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(n)
            let body = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[1..<(n - 1)])
            guard decodeBody(body, into: &out) == nil else { return nil }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Decodes the inside of a string literal into `out` (appending). Returns the problem with
    /// its offset relative to `body`, or nil. Non-ASCII bytes are copied as they are: callers
    /// check UTF-8 validity separately.
    static func decodeBody(_ body: UnsafeRawBufferPointer, into out: inout [UInt8]) -> RecordProblem? {
        let n = body.count
        var i = 0
        var runStart = 0
        while i < n {
            let b = body[i]
            if b == 0x22 { return RecordProblem(offset: i, message: "unescaped '\"' inside a string") }
            if b < 0x20 { return RecordProblem(offset: i, message: "control character in a string (must be escaped)") }
            if b != 0x5C {
                i += 1
                continue
            }
            if runStart < i { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[runStart..<i])) }
            guard i + 1 < n else { return RecordProblem(offset: i, message: "invalid escape sequence") }
            switch body[i + 1] {
            case 0x22: out.append(0x22); i += 2
            case 0x5C: out.append(0x5C); i += 2
            case 0x2F: out.append(0x2F); i += 2
            case UInt8(ascii: "b"): out.append(0x08); i += 2
            case UInt8(ascii: "f"): out.append(0x0C); i += 2
            case UInt8(ascii: "n"): out.append(0x0A); i += 2
            case UInt8(ascii: "r"): out.append(0x0D); i += 2
            case UInt8(ascii: "t"): out.append(0x09); i += 2
            case UInt8(ascii: "u"):
                guard let u = hex4(body, i + 2) else {
                    return RecordProblem(offset: i, message: "invalid \\u escape")
                }
                var scalar = u
                var len = 6
                if u >= 0xD800 && u <= 0xDBFF {
                    guard i + 7 < n, body[i + 6] == 0x5C, body[i + 7] == UInt8(ascii: "u"),
                          let lo = hex4(body, i + 8), lo >= 0xDC00 && lo <= 0xDFFF
                    else { return RecordProblem(offset: i, message: "unpaired surrogate in \\u escape") }
                    scalar = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                    len = 12
                } else if u >= 0xDC00 && u <= 0xDFFF {
                    return RecordProblem(offset: i, message: "unpaired surrogate in \\u escape")
                }
                appendUTF8(scalar, to: &out)
                i += len
            default:
                return RecordProblem(offset: i, message: "invalid escape sequence")
            }
            runStart = i
        }
        if runStart < n { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[runStart..<n])) }
        return nil
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: UInt32(c - 0x30)
        case 0x41...0x46: UInt32(c - 0x41 + 10)
        case 0x61...0x66: UInt32(c - 0x61 + 10)
        default: nil
        }
    }

    @inline(__always)
    static func hex4(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt32? {
        guard at + 4 <= b.count, let a = hexValue(b[at]), let c = hexValue(b[at + 1]),
              let d = hexValue(b[at + 2]), let e = hexValue(b[at + 3]) else { return nil }
        return a << 12 | c << 8 | d << 4 | e
    }

    static func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
        switch v {
        case 0..<0x80:
            out.append(UInt8(v))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | v >> 6))
            out.append(UInt8(0x80 | v & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | v >> 12))
            out.append(UInt8(0x80 | v >> 6 & 0x3F))
            out.append(UInt8(0x80 | v & 0x3F))
        default:
            out.append(UInt8(0xF0 | v >> 18))
            out.append(UInt8(0x80 | v >> 12 & 0x3F))
            out.append(UInt8(0x80 | v >> 6 & 0x3F))
            out.append(UInt8(0x80 | v & 0x3F))
        }
    }
}
