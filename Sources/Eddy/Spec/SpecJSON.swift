/// A JSON document as the spec decoder needs it: member order kept, and syntax errors
/// reported by line and column (Foundation's parser gives neither).
public indirect enum SpecJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double, isInteger: Bool)
    case string(String)
    case array([SpecJSON])
    case object([Member])

    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: SpecJSON
    }

    /// What the value is, for messages: "a string", "an object".
    var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number(_, let isInteger): isInteger ? "an integer" : "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    public struct SyntaxError: Error, Sendable, Equatable {
        public var line: Int
        public var column: Int
        public var message: String
        public var description: String { "line \(line), column \(column): \(message)" }
    }

    public static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> SpecJSON {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        if parser.index < bytes.count { throw parser.error("unexpected \(parser.found) after the document") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        var found: String {
            guard index < bytes.count else { return "end of file" }
            let byte = bytes[index]
            return byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : String(format: byte)
        }

        func error(_ message: String) -> SyntaxError {
            var line = 1
            var column = 1
            for byte in bytes[0..<min(index, bytes.count)] {
                if byte == 10 {
                    line += 1
                    column = 1
                } else if byte & 0xC0 != 0x80 {
                    column += 1
                }
            }
            return SyntaxError(line: line, column: column, message: message)
        }

        mutating func skipWhitespace() {
            while index < bytes.count, [32, 9, 10, 13].contains(bytes[index]) { index += 1 }
        }

        mutating func value(depth: Int) throws(SyntaxError) -> SpecJSON {
            guard depth < 200 else { throw error("nesting too deep") }
            guard index < bytes.count else { throw error("expected a value, found end of file") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("expected a value, found \(found)")
            }
        }

        mutating func literal(_ word: String) throws(SyntaxError) {
            let expected = Array(word.utf8)
            guard index + expected.count <= bytes.count, Array(bytes[index..<(index + expected.count)]) == expected else {
                throw error("expected a value, found \(found)")
            }
            index += expected.count
        }

        mutating func number() throws(SyntaxError) -> SpecJSON {
            let start = index
            while index < bytes.count, "+-.eE0123456789".utf8.contains(bytes[index]) { index += 1 }
            let parsed = bytes[start..<index].withUnsafeBytes { NumberText.parse($0) }
            guard let parsed else {
                index = start
                throw error("invalid number")
            }
            return .number(parsed.number, isInteger: parsed.integer != nil)
        }

        mutating func string() throws(SyntaxError) -> String {
            let start = index
            index += 1
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                index += 1
            }
            guard index < bytes.count else {
                index = start
                throw error("unterminated string")
            }
            index += 1
            var decoded: [UInt8] = []
            let problem = bytes[(start + 1)..<(index - 1)].withUnsafeBytes { JSONText.decodeStringBody($0, into: &decoded) }
            if let problem {
                index = start + 1 + problem.offset
                throw error(problem.message)
            }
            guard let text = String(validating: decoded, as: UTF8.self) else {
                index = start
                throw error("invalid UTF-8 in a string")
            }
            return text
        }

        mutating func array(depth: Int) throws(SyntaxError) -> SpecJSON {
            index += 1
            var items: [SpecJSON] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard index < bytes.count else { throw error("expected ',' or ']' in an array, found end of file") }
                let next = bytes[index]
                if next == UInt8(ascii: "]") {
                    index += 1
                    return .array(items)
                }
                guard next == UInt8(ascii: ",") else { throw error("expected ',' or ']' in an array, found \(found)") }
                index += 1
            }
        }

        mutating func object(depth: Int) throws(SyntaxError) -> SpecJSON {
            index += 1
            var members: [Member] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw error("expected a member name in double quotes, found \(found)")
                }
                let key = try string()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                    throw error("expected ':' after the member name \"\(key)\", found \(found)")
                }
                index += 1
                skipWhitespace()
                members.append(Member(key: key, value: try value(depth: depth + 1)))
                skipWhitespace()
                guard index < bytes.count else { throw error("expected ',' or '}' after a member, found end of file") }
                let next = bytes[index]
                if next == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                }
                guard next == UInt8(ascii: ",") else { throw error("expected ',' or '}' after a member, found \(found)") }
                index += 1
            }
        }
    }
}

private extension String {
    init(format byte: UInt8) {
        let digits = Array("0123456789ABCDEF")
        self = "byte 0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
    }
}
