/// A parsed JSON document, as the job-spec decoder sees it.
///
/// Our own type rather than Foundation's `JSONSerialization`/`Codable` because the spec
/// decoder needs two things those lose: the members of an object in the order written (so
/// diagnostics come out in document order) and precise syntax errors with line and column.
public indirect enum SpecJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    /// `isInteger` is true when the literal had no fraction and no exponent (`128`, not
    /// `128.0` or `1e2`): the decoder accepts only such literals where it wants an integer.
    case number(Double, isInteger: Bool)
    case string(String)
    case array([SpecJSON])
    /// Members in document order. Keys are unique: the parser rejects duplicates.
    case object([(key: String, value: SpecJSON)])

    // Written by hand: tuples are not Equatable, so the compiler cannot synthesize this.
    public static func == (lhs: SpecJSON, rhs: SpecJSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.number(a, ai), .number(b, bi)): a == b && ai == bi
        case let (.string(a), .string(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.object(a), .object(b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// The value of member `key` when this is an object that has it.
    public subscript(key: String) -> SpecJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Parses one JSON document (RFC 8259; a leading UTF-8 byte-order mark is skipped).
    ///
    /// Throws a single diagnostic at path `$` for a syntax error, worded
    /// `line L, column C: <what>`, or one diagnostic per duplicate object key at the path of
    /// the object holding it (`dict[1]: duplicate key "name"`), all duplicates reported.
    public static func parse(_ bytes: [UInt8]) throws(SpecErrors) -> SpecJSON {
        var parser = SpecJSONParser(bytes)
        let value: SpecJSON
        do {
            value = try parser.parseDocument()
        } catch {
            throw SpecErrors([SpecDiagnostic(.error, path: "$", parser.describe(error))])
        }
        if !parser.duplicates.isEmpty { throw SpecErrors(parser.duplicates) }
        return value
    }

    public static func parse(_ text: String) throws(SpecErrors) -> SpecJSON {
        try parse(Array(text.utf8))
    }
}

/// Builds the JSON paths used in diagnostics: `$` is the root, root members are written bare
/// (`dict`, not `$.dict`) because that is how users name them, nested members and elements
/// follow (`dict[2].operator`). Keys that are not identifiers are quoted (`dict[0]["a b"]`).
enum SpecPath {
    static let root = "$"

    static func member(_ parent: String, _ key: String) -> String {
        if isIdentifier(key) {
            return parent == root ? key : "\(parent).\(key)"
        }
        return "\(parent)[\(specQuoted(key))]"
    }

    static func element(_ parent: String, _ index: Int) -> String {
        "\(parent)[\(index)]"
    }

    private static func isIdentifier(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first == "_" || isASCIILetter(first) else {
            return false
        }
        return key.unicodeScalars.allSatisfy { $0 == "_" || isASCIILetter($0) || ("0"..."9").contains($0) }
    }

    private static func isASCIILetter(_ s: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(s) || ("A"..."Z").contains(s)
    }
}

/// `"text"` with JSON escapes, for quoting user input inside messages without letting a
/// quote or newline in it garble the message.
func specQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            out += "\\u" + hex4(scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

private func hex4(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

/// A syntax error: where (byte offset) and what was expected. Line and column are computed
/// from the offset only when reporting, so the happy path does not track them.
struct SpecJSONSyntaxError: Error {
    var offset: Int
    var message: String
}

/// Recursive descent over UTF-8 bytes.
struct SpecJSONParser {
    /// Deep enough for any real spec; the bound keeps a hostile `[[[[...` from overflowing
    /// the stack, which would crash instead of reporting.
    static let maxDepth = 256

    private let bytes: [UInt8]
    private var pos = 0
    private var depth = 0
    /// Duplicate-key diagnostics. Not fatal to parsing, so all of them are reported at once.
    private(set) var duplicates: [SpecDiagnostic] = []

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws(SpecJSONSyntaxError) -> SpecJSON {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3 }
        skipWhitespace()
        if pos == bytes.count { throw fail("expected a JSON value, found end of input (the file is empty)") }
        let value = try parseValue(path: SpecPath.root)
        skipWhitespace()
        if pos < bytes.count {
            throw fail("expected end of input after the JSON value, found \(foundDescription())")
        }
        return value
    }

    /// `line L, column C: <what>`: lines and columns count from 1; columns count Unicode
    /// scalars, not bytes, so they match what an editor shows for non-ASCII text.
    func describe(_ error: SpecJSONSyntaxError) -> String {
        var line = 1
        var column = 1
        var i = 0
        while i < min(error.offset, bytes.count) {
            let b = bytes[i]
            if b == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80, !(i < 3 && bytes.starts(with: [0xEF, 0xBB, 0xBF])) {
                column += 1  // count lead bytes only; the BOM is invisible in editors
            }
            i += 1
        }
        return "line \(line), column \(column): \(error.message)"
    }

    // MARK: Values

    private mutating func parseValue(path: String) throws(SpecJSONSyntaxError) -> SpecJSON {
        guard pos < bytes.count else { throw fail("expected a JSON value, found end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject(path: path)
        case UInt8(ascii: "["): return try parseArray(path: path)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return try parseLiteral()
        case UInt8(ascii: "'"):
            throw fail("expected a JSON value, found \(foundDescription()); JSON strings use double quotes")
        default:
            throw fail("expected a JSON value, found \(foundDescription())")
        }
    }

    private mutating func parseObject(path: String) throws(SpecJSONSyntaxError) -> SpecJSON {
        try enter()
        pos += 1  // {
        var members: [(key: String, value: SpecJSON)] = []
        var seen: Set<String> = []
        skipWhitespace()
        if peek(UInt8(ascii: "}")) {
            pos += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek(UInt8(ascii: "\"")) else {
                let trailing = !members.isEmpty && peek(UInt8(ascii: "}"))
                let singleQuote = peek(UInt8(ascii: "'"))
                throw fail(
                    "expected a member name (a string in double quotes), found \(foundDescription())"
                        + (trailing ? " (trailing commas are not allowed)" : "")
                        + (singleQuote ? "; JSON strings use double quotes" : ""))
            }
            let keyStart = pos
            let key = try parseString()
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else {
                throw fail("expected ':' after member name \(specQuoted(key)), found \(foundDescription())")
            }
            pos += 1
            skipWhitespace()
            if !seen.insert(key).inserted {
                // Where the second one is: the object's path alone does not find it in a long spec.
                let place = describe(SpecJSONSyntaxError(offset: keyStart, message: "name each key once"))
                duplicates.append(SpecDiagnostic(.error, path: path, "duplicate key \(specQuoted(key)) at \(place)"))
            }
            let value = try parseValue(path: SpecPath.member(path, key))
            members.append((key: key, value: value))
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                pos += 1
                continue
            }
            if peek(UInt8(ascii: "}")) {
                pos += 1
                depth -= 1
                return .object(members)
            }
            throw fail("expected ',' or '}' after a member, found \(foundDescription())")
        }
    }

    private mutating func parseArray(path: String) throws(SpecJSONSyntaxError) -> SpecJSON {
        try enter()
        pos += 1  // [
        var elements: [SpecJSON] = []
        skipWhitespace()
        if peek(UInt8(ascii: "]")) {
            pos += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if !elements.isEmpty, peek(UInt8(ascii: "]")) {
                throw fail("expected a JSON value after ',', found ']' (trailing commas are not allowed)")
            }
            elements.append(try parseValue(path: SpecPath.element(path, elements.count)))
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                pos += 1
                continue
            }
            if peek(UInt8(ascii: "]")) {
                pos += 1
                depth -= 1
                return .array(elements)
            }
            throw fail("expected ',' or ']' after an element, found \(foundDescription())")
        }
    }

    private mutating func enter() throws(SpecJSONSyntaxError) {
        depth += 1
        if depth > Self.maxDepth {
            throw fail("arrays and objects nest deeper than \(Self.maxDepth) levels")
        }
    }

    /// `true`, `false`, `null`; any other word is reported whole (`found True`), since a
    /// capitalised or bare word is a more common slip than a stray letter.
    private mutating func parseLiteral() throws(SpecJSONSyntaxError) -> SpecJSON {
        let start = pos
        var end = pos
        while end < bytes.count, isWordByte(bytes[end]) { end += 1 }
        let word = String(decoding: bytes[start..<end], as: UTF8.self)
        switch word {
        case "true": pos = end; return .bool(true)
        case "false": pos = end; return .bool(false)
        case "null": pos = end; return .null
        default:
            let lower = word.lowercased()
            if ["true", "false", "null"].contains(lower) {
                throw fail("expected a JSON value, found \(word); JSON literals are lowercase: \(lower)")
            }
            throw fail("expected a JSON value, found \(word); strings need double quotes")
        }
    }

    private func isWordByte(_ b: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "_")
    }

    /// RFC 8259 number grammar, strictly: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    private mutating func parseNumber() throws(SpecJSONSyntaxError) -> SpecJSON {
        let start = pos
        var isInteger = true
        if peek(UInt8(ascii: "-")) { pos += 1 }
        guard pos < bytes.count, isDigit(bytes[pos]) else {
            throw fail("expected a digit after '-', found \(foundDescription())")
        }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < bytes.count, isDigit(bytes[pos]) {
                throw fail("numbers must not have leading zeros")
            }
        } else {
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        if peek(UInt8(ascii: ".")) {
            isInteger = false
            pos += 1
            guard pos < bytes.count, isDigit(bytes[pos]) else {
                throw fail("expected a digit after '.', found \(foundDescription())")
            }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            isInteger = false
            pos += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { pos += 1 }
            guard pos < bytes.count, isDigit(bytes[pos]) else {
                throw fail("expected a digit in the exponent, found \(foundDescription())")
            }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw SpecJSONSyntaxError(offset: start, message: "number \(text) is out of range")
        }
        return .number(value, isInteger: isInteger)
    }

    private func isDigit(_ b: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }

    private mutating func parseString() throws(SpecJSONSyntaxError) -> String {
        let open = pos
        pos += 1  // "
        var utf8: [UInt8] = []
        while true {
            guard pos < bytes.count else {
                throw SpecJSONSyntaxError(offset: open, message: "string is not terminated (missing closing '\"')")
            }
            let b = bytes[pos]
            switch b {
            case UInt8(ascii: "\""):
                pos += 1
                guard let text = String(validating: utf8, as: UTF8.self) else {
                    throw SpecJSONSyntaxError(offset: open, message: "string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                try parseEscape(into: &utf8)
            case 0..<0x20:
                let name = b == UInt8(ascii: "\n") ? "a line break" : "control character U+\(hex4(UInt32(b)))"
                throw fail("\(name) inside a string; escape it (\\n, \\t, \\u00XX) or close the string")
            default:
                utf8.append(b)
                pos += 1
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(SpecJSONSyntaxError) {
        pos += 1  // backslash
        guard pos < bytes.count else { throw fail("string is not terminated (missing closing '\"')") }
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F,
            UInt8(ascii: "b"): 0x08, UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A,
            UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
        ]
        if let byte = simple[bytes[pos]] {
            utf8.append(byte)
            pos += 1
            return
        }
        guard bytes[pos] == UInt8(ascii: "u") else {
            pos -= 1
            throw fail("invalid escape; use one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")
        }
        let escapeStart = pos - 1
        pos += 1
        var code = try hexQuad()
        if (0xD800...0xDBFF).contains(code) {
            // A high surrogate must be followed by an escaped low surrogate (UTF-16 pair).
            guard bytes[pos...].starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "u")]) else {
                throw SpecJSONSyntaxError(offset: escapeStart, message: "unpaired UTF-16 surrogate in \\u escape")
            }
            pos += 2
            let low = try hexQuad()
            guard (0xDC00...0xDFFF).contains(low) else {
                throw SpecJSONSyntaxError(offset: escapeStart, message: "unpaired UTF-16 surrogate in \\u escape")
            }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(code) {
            throw SpecJSONSyntaxError(offset: escapeStart, message: "unpaired UTF-16 surrogate in \\u escape")
        }
        // Not a surrogate, so always a valid scalar.
        utf8.append(contentsOf: String(Character(Unicode.Scalar(code)!)).utf8)
    }

    private mutating func hexQuad() throws(SpecJSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard pos < bytes.count, let digit = hexValue(bytes[pos]) else {
                throw fail("expected 4 hex digits after \\u, found \(foundDescription())")
            }
            value = value << 4 | digit
            pos += 1
        }
        return value
    }

    private func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    // MARK: Helpers

    private mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    private func peek(_ byte: UInt8) -> Bool { pos < bytes.count && bytes[pos] == byte }

    private func fail(_ message: String) -> SpecJSONSyntaxError {
        SpecJSONSyntaxError(offset: pos, message: message)
    }

    /// What sits at the current position, for `found ...`: `end of input`, a quoted ASCII
    /// character (`']'`), or a code point for anything invisible or non-ASCII.
    private func foundDescription() -> String {
        guard pos < bytes.count else { return "end of input" }
        let b = bytes[pos]
        if b == UInt8(ascii: "'") { return "\"'\"" }  // '\'' would be unreadable
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        if b < 0x80 { return "U+\(hex4(UInt32(b)))" }
        // Decode the scalar starting here for the message; invalid UTF-8 says so.
        var iterator = bytes[pos...].makeIterator()
        var decoder = UTF8()
        if case .scalarValue(let scalar) = decoder.decode(&iterator) {
            return "'\(Character(scalar))' (U+\(hex4(scalar.value)))"
        }
        return "an invalid UTF-8 byte"
    }
}
