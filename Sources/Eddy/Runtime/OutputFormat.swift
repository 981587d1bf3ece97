public enum OutputFormat: String, Sendable, CaseIterable {
    case jsonl, csv
}

/// Writes one output record per emitted event: key columns, the time column, carried
/// columns, then the features, as a JSON object or a CSV row.
///
/// JSON output needs no per-record work beyond copying bytes: every value is already
/// canonical JSON text (see `FieldValue`), and column-name prefixes are built once.
struct EventEncoder {
    let format: OutputFormat
    private let plan: JobPlan
    /// For JSONL: `{"card_id":`, `,"ts":`, ... one per fixed column (keys, time, carried, features).
    private let prefixes: [[UInt8]]
    private var scratch: [UInt8] = []

    init(plan: JobPlan, format: OutputFormat) {
        self.plan = plan
        self.format = format
        var prefixes: [[UInt8]] = []
        for (index, column) in plan.outputColumns.enumerated() {
            prefixes.append(Array(((index == 0 ? "{" : ",") + JSONText.quote(column) + ":").utf8))
        }
        self.prefixes = prefixes
    }

    /// The CSV header line, or nil for JSON Lines.
    func header() -> [UInt8]? {
        guard format == .csv else { return nil }
        var line: [UInt8] = []
        for (index, column) in plan.outputColumns.enumerated() {
            if index > 0 { line.append(UInt8(ascii: ",")) }
            CSVText.appendCell(Array(column.utf8), to: &line)
        }
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// Appends the record of the event whose values start at `base` in `values`.
    mutating func encode(
        values: [FieldValue], base: Int, members: [(name: String, value: FieldValue)],
        states: KeyedStates, slot: Int, to out: inout [UInt8]
    ) {
        var column = 0
        for slot in plan.keySlots {
            appendValue(values[base + slot], column: column, to: &out)
            column += 1
        }
        if let timeSlot = plan.timeSlot {
            appendValue(values[base + timeSlot], column: column, to: &out)
            column += 1
        }
        switch plan.carry {
        case .none: break
        case .columns(let carried):
            for (_, slot) in carried {
                appendValue(values[base + slot], column: column, to: &out)
                column += 1
            }
        case .all:
            appendAllMembers(members, to: &out)
        }
        for store in states.stores {
            if format == .jsonl {
                out.append(contentsOf: prefixes[column])
                store.appendResult(slot: slot, to: &out)
            } else {
                out.append(UInt8(ascii: ","))
                scratch.removeAll(keepingCapacity: true)
                store.appendResult(slot: slot, to: &scratch)
                CSVText.appendJSONValueAsCell(scratch, to: &out)
            }
            column += 1
        }
        out.append(format == .jsonl ? UInt8(ascii: "}") : UInt8(ascii: "\n"))
        if format == .jsonl { out.append(UInt8(ascii: "\n")) }
    }

    private func appendValue(_ value: FieldValue, column: Int, to out: inout [UInt8]) {
        if format == .jsonl {
            out.append(contentsOf: prefixes[column])
            if value.kind == .missing { out.append(contentsOf: "null".utf8) } else { out.appendUTF8(value.text) }
        } else {
            if column > 0 { out.append(UInt8(ascii: ",")) }
            CSVText.appendValueAsCell(value, to: &out)
        }
    }

    /// `carry: ["*"]`: every input column not already written as a key, the time or a feature.
    private func appendAllMembers(_ members: [(name: String, value: FieldValue)], to out: inout [UInt8]) {
        for (name, value) in members where !plan.reservedOutputNames.contains(name) {
            if format == .jsonl {
                out.append(UInt8(ascii: ","))
                out.appendUTF8(JSONText.quote(name))
                out.append(UInt8(ascii: ":"))
                out.appendUTF8(value.text)
            } else {
                out.append(UInt8(ascii: ","))
                CSVText.appendValueAsCell(value, to: &out)
            }
        }
    }
}

/// CSV cells (RFC 4180) from eddy's JSON-text values.
enum CSVText {
    /// Appends raw bytes as one cell, quoted when they hold a comma, quote, CR or LF.
    static func appendCell(_ bytes: [UInt8], to out: inout [UInt8]) {
        let needsQuotes = bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }
        guard needsQuotes else {
            out.append(contentsOf: bytes)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Strings lose their JSON quotes, null becomes an empty cell, the rest stays JSON text.
    static func appendValueAsCell(_ value: FieldValue, to out: inout [UInt8]) {
        switch value.kind {
        case .missing, .null: break
        case .string: appendCell(Array((JSONText.unquote(value.text) ?? value.text).utf8), to: &out)
        default: appendCell(Array(value.text.utf8), to: &out)
        }
    }

    static func appendJSONValueAsCell(_ json: [UInt8], to out: inout [UInt8]) {
        if json == Array("null".utf8) { return }
        if json.first == UInt8(ascii: "\""), let text = JSONText.unquote(String(decoding: json, as: UTF8.self)) {
            appendCell(Array(text.utf8), to: &out)
        } else {
            appendCell(json, to: &out)
        }
    }
}
