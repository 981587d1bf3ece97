/// CSV records (RFC 4180: commas, double-quoted fields with `""` escapes and embedded
/// newlines), typed by content: an empty cell is null, a cell that reads as a JSON number is
/// a number, anything else a string. Quotes do not change the type.
public struct CSVRecordScanner {
    /// For each header column, the job's slot that reads it, or nil.
    private let slotOfColumn: [Int?]
    private let columns: [String]
    private let captureAllMembers: Bool
    public private(set) var members: [(name: String, value: FieldValue)] = []
    private var cell: [UInt8] = []

    /// Column names from a header record; empty or repeated names are a problem.
    public static func parseHeader(_ record: UnsafeRawBufferPointer) -> Result<[String], RecordProblem> {
        var names: [String] = []
        var cell: [UInt8] = []
        var position = 0
        while true {
            let start = position
            if let problem = nextCell(record, &position, into: &cell) { return .failure(problem) }
            let name = String(decoding: cell, as: UTF8.self)
            if name.isEmpty {
                return .failure(RecordProblem(offset: start, message: "column \(names.count + 1) has no name"))
            }
            if names.contains(name) {
                return .failure(RecordProblem(offset: start, message: "column \"\(name)\" appears twice"))
            }
            names.append(name)
            if position >= record.count { return .success(names) }
            position += 1  // the comma
        }
    }

    public init(columns: [String], fieldNames: [String], captureAllMembers: Bool = false) {
        self.columns = columns
        slotOfColumn = columns.map { fieldNames.firstIndex(of: $0) }
        self.captureAllMembers = captureAllMembers
    }

    public mutating func scan(_ record: UnsafeRawBufferPointer, into values: inout [FieldValue]) -> RecordProblem? {
        for index in values.indices { values[index] = .missing }
        if captureAllMembers { members.removeAll(keepingCapacity: true) }
        var position = 0
        var column = 0
        while true {
            if let problem = Self.nextCell(record, &position, into: &cell) { return problem }
            if column < slotOfColumn.count, slotOfColumn[column] != nil || captureAllMembers {
                guard let value = typedCell() else {
                    return RecordProblem(offset: position, message: "invalid UTF-8 in column \"\(columns[column])\"")
                }
                if let slot = slotOfColumn[column] { values[slot] = value }
                if captureAllMembers { members.append((columns[column], value)) }
            }
            column += 1
            if position >= record.count { break }
            position += 1  // the comma
        }
        guard column == columns.count else {
            return RecordProblem(offset: 0, message: "expected \(columns.count) fields as in the header, found \(column)")
        }
        return nil
    }

    private func typedCell() -> FieldValue? {
        cell.withUnsafeBytes { bytes -> FieldValue? in
            if bytes.isEmpty { return .null }
            if let number = NumberText.parse(bytes) { return number }
            if firstInvalidUTF8(bytes) != nil { return nil }
            var quoted: [UInt8] = []
            JSONText.appendQuoted(bytes, to: &quoted)
            return FieldValue(kind: .string, text: String(decoding: quoted, as: UTF8.self))
        }
    }

    /// Reads the cell at `position` into `cell` (quotes removed, `""` unescaped) and leaves
    /// `position` at the comma after it or at the end.
    static func nextCell(_ record: UnsafeRawBufferPointer, _ position: inout Int, into cell: inout [UInt8]) -> RecordProblem? {
        cell.removeAll(keepingCapacity: true)
        let count = record.count
        guard position < count, record[position] == UInt8(ascii: "\"") else {
            while position < count {
                let byte = record[position]
                if byte == UInt8(ascii: ",") { break }
                if byte == UInt8(ascii: "\"") {
                    return RecordProblem(offset: position, message: "a double quote inside an unquoted field (quote the whole field and double the quote)")
                }
                cell.append(byte)
                position += 1
            }
            return nil
        }
        let opening = position
        position += 1
        while position < count {
            let byte = record[position]
            position += 1
            if byte == UInt8(ascii: "\"") {
                if position < count, record[position] == UInt8(ascii: "\"") {
                    cell.append(byte)
                    position += 1
                    continue
                }
                guard position >= count || record[position] == UInt8(ascii: ",") else {
                    return RecordProblem(offset: position, message: "expected ',' after a closing quote")
                }
                return nil
            }
            cell.append(byte)
        }
        return RecordProblem(offset: opening, message: "unterminated quoted field")
    }
}
