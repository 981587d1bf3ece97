/// RFC 4180 records: comma separated, double-quoted fields with `""` escapes and embedded newlines.
public struct CSVRecordScanner {
    public let columns: [String]
    public let fieldNames: [String]
    public let captureAllMembers: Bool
    /// When captureAllMembers: every column in header order with this record's value.
    public private(set) var members: [(name: String, value: FieldValue)] = []

    /// First slot fed by each column (-1 when no field needs it); further slots for the same
    /// column chain through `nextSlot`, so a job naming a column twice still gets both.
    private let firstSlot: [Int]
    private let nextSlot: [Int]
    private var unescaped: [UInt8] = []
    private var quoted: [UInt8] = []

    /// Parses the header record into column names (RFC 4180 quoting; duplicate or empty column
    /// names are a RecordProblem).
    public static func parseHeader(_ record: UnsafeRawBufferPointer) -> Result<[String], RecordProblem> {
        if let base = record.baseAddress, let bad = UTF8Check.firstInvalid(base.assumingMemoryBound(to: UInt8.self), record.count) {
            return .failure(RecordProblem(offset: bad, message: "invalid UTF-8"))
        }
        var names: [String] = []
        var scratch: [UInt8] = []
        let problem = splitFields(record) { _, start, cell, isQuoted in
            let name = cellText(cell, isQuoted, &scratch)
            if name.isEmpty {
                return RecordProblem(offset: start, message: "column \(names.count + 1) has an empty name")
            }
            if names.firstIndex(ofExact: name) != nil {
                return RecordProblem(offset: start, message: "duplicate column name \(JSONText.quote(name))")
            }
            names.append(name)
            return nil
        }
        if let problem { return .failure(problem) }
        return .success(names)
    }

    public init(columns: [String], fieldNames: [String], captureAllMembers: Bool = false) {
        self.columns = columns
        self.fieldNames = fieldNames
        self.captureAllMembers = captureAllMembers
        var first = Array(repeating: -1, count: columns.count)
        var next = Array(repeating: -1, count: fieldNames.count)
        for slot in fieldNames.indices.reversed() {
            guard let column = columns.firstIndex(ofExact: fieldNames[slot]) else { continue }
            next[slot] = first[column]
            first[column] = slot
        }
        firstSlot = first
        nextSlot = next
    }

    /// One CSV record. A field-count mismatch with the header is a problem.
    public mutating func scan(_ record: UnsafeRawBufferPointer, into values: inout [FieldValue]) -> RecordProblem? {
        values.withUnsafeMutableBufferPointer { scan(record, into: $0) }
    }

    /// `scan` into values held elsewhere (the slot a record waits in for the watermark).
    public mutating func scan(_ record: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<FieldValue>) -> RecordProblem? {
        precondition(values.count == fieldNames.count, "values must have one slot per field name")
        for k in 0..<values.count where values[k].kind != .missing { values[k] = .missing }
        if captureAllMembers { members.removeAll(keepingCapacity: true) }
        if let base = record.baseAddress, let bad = UTF8Check.firstInvalid(base.assumingMemoryBound(to: UInt8.self), record.count) {
            return RecordProblem(offset: bad, message: "invalid UTF-8")
        }
        let expected = columns.count
        var extraStart = -1
        var count = 0
        let problem = Self.splitFields(record) { column, start, cell, isQuoted in
            count += 1
            if column >= expected {
                if extraStart < 0 { extraStart = start }
                return nil
            }
            var slot = firstSlot[column]
            guard slot >= 0 || captureAllMembers else { return nil }
            let value = typedValue(cell, isQuoted)
            while slot >= 0 {
                values[slot] = value
                slot = nextSlot[slot]
            }
            if captureAllMembers { members.append((columns[column], value)) }
            return nil
        }
        if let problem { return problem }
        if count != expected {
            return RecordProblem(offset: extraStart >= 0 ? extraStart : record.count,
                                 message: "expected \(expected) field\(expected == 1 ? "" : "s") as in the header, found \(count)")
        }
        return nil
    }

    /// Empty is null, a JSON number is a number, anything else a string; quoting does not matter
    /// so that quoted and unquoted exports of the same data agree.
    private mutating func typedValue(_ cell: UnsafeRawBufferPointer, _ isQuoted: Bool) -> FieldValue {
        if isQuoted && cell.contains(0x22) {
            unescaped.removeAll(keepingCapacity: true)
            Self.unescape(cell, into: &unescaped)
            return unescaped.withUnsafeBytes { typedPlain($0) }
        }
        return typedPlain(cell)
    }

    private mutating func typedPlain(_ cell: UnsafeRawBufferPointer) -> FieldValue {
        if cell.isEmpty { return .null }
        if let p = cell.baseAddress?.assumingMemoryBound(to: UInt8.self), let shape = NumberText.shape(p, cell.count),
           let v = NumberText.value(p, cell.count, shape) {
            return v
        }
        quoted.removeAll(keepingCapacity: true)
        JSONText.appendQuoted(cell, to: &quoted)
        let text = quoted.withUnsafeBufferPointer { InlineText.make($0.baseAddress!, $0.count) }
        return FieldValue(kind: .string, text: text)
    }

    private static func unescape(_ cell: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        var k = 0
        while k < cell.count {
            out.append(cell[k])
            // Inside a quoted cell every quote is doubled; keep one.
            k += cell[k] == 0x22 ? 2 : 1
        }
    }

    private static func cellText(_ cell: UnsafeRawBufferPointer, _ isQuoted: Bool, _ scratch: inout [UInt8]) -> String {
        if isQuoted && cell.contains(0x22) {
            scratch.removeAll(keepingCapacity: true)
            unescape(cell, into: &scratch)
            return String(decoding: scratch, as: UTF8.self)
        }
        return String(decoding: cell, as: UTF8.self)
    }

    /// Calls `field(column, startOffset, cellBytes, isQuoted)` for each field; for quoted fields
    /// the cell is the inside of the quotes with `""` still doubled.
    static func splitFields(
        _ record: UnsafeRawBufferPointer,
        _ field: (Int, Int, UnsafeRawBufferPointer, Bool) -> RecordProblem?
    ) -> RecordProblem? {
        let n = record.count
        var i = 0
        var column = 0
        while true {
            let start = i
            if i < n && record[i] == 0x22 {
                i += 1
                let inner = i
                while true {
                    guard i < n else { return RecordProblem(offset: start, message: "unterminated quoted field") }
                    if record[i] == 0x22 {
                        if i + 1 < n && record[i + 1] == 0x22 { i += 2; continue }
                        break
                    }
                    i += 1
                }
                let cell = UnsafeRawBufferPointer(rebasing: record[inner..<i])
                i += 1
                if i < n && record[i] != 0x2C {
                    return RecordProblem(offset: i, message: "expected ',' after a closing quote")
                }
                if let p = field(column, start, cell, true) { return p }
            } else {
                while i < n && record[i] != 0x2C {
                    if record[i] == 0x22 { return RecordProblem(offset: i, message: "unexpected '\"' in an unquoted field") }
                    i += 1
                }
                if let p = field(column, start, UnsafeRawBufferPointer(rebasing: record[start..<i]), false) { return p }
            }
            column += 1
            if i >= n { return nil }
            i += 1  // the comma
        }
    }
}
