import Glibc

/// The hot-path JSON parser: validates a whole one-object record, but builds values only for
/// the top-level members the job reads (DESIGN: scan bytes, parse only the fields a job needs).
public struct JSONObjectScanner {
    private let fieldNames: [[UInt8]]
    private let captureAllMembers: Bool
    /// With `captureAllMembers`: every top-level member of the last record, in input order.
    public private(set) var members: [(name: String, value: FieldValue)] = []
    private var scratch: [UInt8] = []
    private static let maximumDepth = 512

    public init(fieldNames: [String], captureAllMembers: Bool = false) {
        self.fieldNames = fieldNames.map { Array($0.utf8) }
        self.captureAllMembers = captureAllMembers
    }

    /// Fills `values[i]` for `fieldNames[i]` (`.missing` when absent) from one record; returns
    /// the first problem instead when the record is not exactly one valid JSON object.
    public mutating func scan(_ record: UnsafeRawBufferPointer, into values: inout [FieldValue]) -> RecordProblem? {
        for index in values.indices { values[index] = .missing }
        if captureAllMembers { members.removeAll(keepingCapacity: true) }
        var cursor = Cursor(bytes: record)
        cursor.skipWhitespace()
        guard cursor.peek == UInt8(ascii: "{") else {
            return RecordProblem(offset: cursor.position, message: "record is not a JSON object")
        }
        cursor.position += 1
        cursor.skipWhitespace()
        if cursor.peek == UInt8(ascii: "}") {
            cursor.position += 1
        } else {
            while true {
                guard cursor.peek == UInt8(ascii: "\"") else {
                    return cursor.problem("expected a member name")
                }
                let nameStart = cursor.position
                var nameHasEscapes = false
                if let problem = cursor.scanString(hasEscapes: &nameHasEscapes) { return problem }
                let nameEnd = cursor.position
                cursor.skipWhitespace()
                guard cursor.peek == UInt8(ascii: ":") else { return cursor.problem("expected ':' after a member name") }
                cursor.position += 1
                cursor.skipWhitespace()
                let slot = nameHasEscapes
                    ? slotOfEscapedName(record, nameStart, nameEnd)
                    : slotOfName(record, nameStart + 1, nameEnd - 1)
                let valueStart = cursor.position
                var kind = ValueKind.null
                var valueHasEscapes = false
                if let problem = cursor.scanValue(kind: &kind, hasEscapes: &valueHasEscapes, depth: 0) { return problem }
                if slot != nil || captureAllMembers {
                    let value = makeValue(record, valueStart, cursor.position, kind: kind, hasEscapes: valueHasEscapes)
                    if let slot { values[slot] = value }
                    if captureAllMembers {
                        let name = decodedName(record, nameStart, nameEnd)
                        if let existing = members.firstIndex(where: { $0.name == name }) {
                            members[existing].value = value  // a repeated member: the last wins, as for slots
                        } else {
                            members.append((name, value))
                        }
                    }
                }
                cursor.skipWhitespace()
                guard let next = cursor.peek else { return cursor.problem("expected ',' or '}' after a member") }
                cursor.position += 1
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else {
                    cursor.position -= 1
                    return cursor.problem("expected ',' or '}' after a member")
                }
                cursor.skipWhitespace()
            }
        }
        cursor.skipWhitespace()
        guard cursor.atEnd else { return cursor.problem("trailing characters after the object") }
        return nil
    }

    @inline(__always)
    private func slotOfName(_ record: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        let length = end - start
        let first = record[start]
        for (slot, name) in fieldNames.enumerated() where name.count == length && (length == 0 || name[0] == first) {
            let equal = name.withUnsafeBytes { memcmp($0.baseAddress!, record.baseAddress! + start, length) == 0 }
            if equal || length == 0 { return slot }
        }
        return nil
    }

    private mutating func slotOfEscapedName(_ record: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        let name = Array(decodedName(record, start, end).utf8)
        return fieldNames.firstIndex(of: name)
    }

    private func decodedName(_ record: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String {
        let quoted = String(decoding: UnsafeRawBufferPointer(rebasing: record[start..<end]), as: UTF8.self)
        return JSONText.unquote(quoted) ?? quoted
    }

    private mutating func makeValue(
        _ record: UnsafeRawBufferPointer, _ start: Int, _ end: Int, kind: ValueKind, hasEscapes: Bool
    ) -> FieldValue {
        let range = UnsafeRawBufferPointer(rebasing: record[start..<end])
        switch kind {
        case .number:
            return NumberText.parse(range) ?? FieldValue(kind: .number, text: String(decoding: range, as: UTF8.self))
        case .string:
            guard hasEscapes else { return FieldValue(kind: .string, text: String(decoding: range, as: UTF8.self)) }
            // Canonical text: decode the escapes, then re-quote minimally.
            scratch.removeAll(keepingCapacity: true)
            _ = JSONText.decodeStringBody(UnsafeRawBufferPointer(rebasing: range.dropFirst().dropLast()), into: &scratch)
            var quoted: [UInt8] = []
            scratch.withUnsafeBytes { JSONText.appendQuoted($0, to: &quoted) }
            return FieldValue(kind: .string, text: String(decoding: quoted, as: UTF8.self))
        case .bool:
            return FieldValue(kind: .bool, text: range.count == 4 ? "true" : "false")
        case .null:
            return .null
        case .json, .missing:
            return FieldValue(kind: .json, text: String(decoding: range, as: UTF8.self))
        }
    }
}

/// A position in one record, with the JSON grammar's scanning steps.
private struct Cursor {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count }
    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    func problem(_ message: String) -> RecordProblem {
        RecordProblem(offset: position, message: message)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while position < bytes.count {
            let byte = bytes[position]
            guard byte == 32 || byte == 9 || byte == 13 || byte == 10 else { return }
            position += 1
        }
    }

    /// At an opening quote: moves past the closing quote, checking escapes, control
    /// characters and UTF-8.
    @inline(__always)
    mutating func scanString(hasEscapes: inout Bool) -> RecordProblem? {
        let start = position
        position += 1
        var sawNonASCII = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                if sawNonASCII, let bad = firstInvalidUTF8(bytes, from: start, to: position) {
                    return RecordProblem(offset: bad, message: "invalid UTF-8")
                }
                return nil
            }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                guard position + 1 < bytes.count else { break }
                let escape = bytes[position + 1]
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 2
                case UInt8(ascii: "u"):
                    guard let unit = hex4(at: position + 2) else {
                        return RecordProblem(offset: position, message: "invalid \\u escape")
                    }
                    if (0xDC00..<0xE000).contains(unit) {
                        return RecordProblem(offset: position, message: "unpaired surrogate in \\u escape")
                    }
                    if (0xD800..<0xDC00).contains(unit) {
                        guard position + 12 <= bytes.count, bytes[position + 6] == UInt8(ascii: "\\"),
                              bytes[position + 7] == UInt8(ascii: "u"), let low = hex4(at: position + 8),
                              (0xDC00..<0xE000).contains(low) else {
                            return RecordProblem(offset: position, message: "unpaired surrogate in \\u escape")
                        }
                        position += 6
                    }
                    position += 6
                default:
                    return RecordProblem(offset: position, message: "invalid escape sequence")
                }
                continue
            }
            if byte < 0x20 { return RecordProblem(offset: position, message: "control character in a string (must be escaped)") }
            if byte >= 0x80 { sawNonASCII = true }
            position += 1
        }
        return RecordProblem(offset: start, message: "unterminated string")
    }

    private func hex4(at start: Int) -> UInt32? { JSONText.hex4(bytes, start) }

    /// Moves past one JSON value, validating it, and says what kind it is.
    mutating func scanValue(kind: inout ValueKind, hasEscapes: inout Bool, depth: Int) -> RecordProblem? {
        guard let byte = peek else { return problem("expected a value") }
        switch byte {
        case UInt8(ascii: "\""):
            kind = .string
            return scanString(hasEscapes: &hasEscapes)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            kind = .number
            return scanNumber()
        case UInt8(ascii: "t"):
            kind = .bool
            return scanLiteral("true")
        case UInt8(ascii: "f"):
            kind = .bool
            return scanLiteral("false")
        case UInt8(ascii: "n"):
            kind = .null
            return scanLiteral("null")
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            kind = .json
            return scanContainer(depth: depth + 1)
        default:
            return problem("expected a value")
        }
    }

    private mutating func scanLiteral(_ literal: StaticString) -> RecordProblem? {
        let length = literal.utf8CodeUnitCount
        guard position + length <= bytes.count,
              memcmp(bytes.baseAddress! + position, literal.utf8Start, length) == 0 else {
            return problem("invalid literal")
        }
        position += length
        return nil
    }

    private mutating func scanNumber() -> RecordProblem? {
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            guard (byte &- 48) < 10 || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") else { break }
            position += 1
        }
        let text = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
        if !NumberText.isValid(text) {
            return RecordProblem(offset: start, message: "invalid number")
        }
        // Only an exponent or hundreds of digits can overflow a double; check just those.
        if position - start > 300 || text.contains(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
           NumberText.parse(text) == nil {
            return RecordProblem(offset: start, message: "number is out of range")
        }
        return nil
    }

    private mutating func scanContainer(depth: Int) -> RecordProblem? {
        guard depth <= 512 else { return problem("nesting deeper than 512 levels") }
        let isObject = bytes[position] == UInt8(ascii: "{")
        let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        position += 1
        skipWhitespace()
        if peek == close {
            position += 1
            return nil
        }
        var kind = ValueKind.null
        var escapes = false
        while true {
            if isObject {
                guard peek == UInt8(ascii: "\"") else { return problem("expected a member name") }
                if let problem = scanString(hasEscapes: &escapes) { return problem }
                skipWhitespace()
                guard peek == UInt8(ascii: ":") else { return problem("expected ':' after a member name") }
                position += 1
                skipWhitespace()
            }
            if let problem = scanValue(kind: &kind, hasEscapes: &escapes, depth: depth) { return problem }
            skipWhitespace()
            guard let next = peek else { return problem(isObject ? "expected ',' or '}' after a member" : "expected ',' or ']' after an element") }
            position += 1
            if next == close { return nil }
            guard next == UInt8(ascii: ",") else {
                position -= 1
                return problem(isObject ? "expected ',' or '}' after a member" : "expected ',' or ']' after an element")
            }
            skipWhitespace()
        }
    }
}
