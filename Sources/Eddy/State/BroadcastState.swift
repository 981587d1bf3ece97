/// Broadcast state (Flink's broadcast state pattern): side inputs that every keyed worker
/// sees whole, not split by key. Loaded once per run (`--broadcast NAME=FILE`, or restored
/// from the checkpoint, which stores each input once, not once per worker) and read-only
/// while the run goes on, so workers share it without locks.
public final class BroadcastState: Sendable {
    /// The loaded inputs, by name.
    public let tables: [String: BroadcastTable]
    /// Per lookup (input, key column, output column): the output column's JSON text by the
    /// key column's string form.
    private let indexes: [LookupIndex: [ExactText: String]]

    public static let empty = BroadcastState(tables: [:], lookups: [])

    /// The state of `tables`, indexed for each of `lookups` (with the field each reads).
    public init(tables: [String: BroadcastTable], lookups: [(lookup: BroadcastLookup, field: String)]) {
        self.tables = tables
        var indexes: [LookupIndex: [ExactText: String]] = [:]
        for (lookup, field) in lookups {
            let index = LookupIndex(lookup, field: field)
            guard indexes[index] == nil, let table = tables[lookup.from] else { continue }
            var values: [ExactText: String] = [:]
            for row in table.rows {
                guard let key = row.value(of: index.keyColumn), !key.isAbsent else { continue }
                // The first row of a key wins, as a file read top down would give it.
                let name = ExactText(stringForm(key))
                if values[name] == nil { values[name] = row.value(of: lookup.column)?.text ?? "null" }
            }
            indexes[index] = values
        }
        self.indexes = indexes
    }

    /// The output values of `lookup` (reading `field`) by key string form; empty when its
    /// input is not loaded.
    func index(of lookup: BroadcastLookup, field: String) -> [ExactText: String] {
        indexes[LookupIndex(lookup, field: field)] ?? [:]
    }
}

private struct LookupIndex: Hashable {
    let from: String
    let keyColumn: String
    let column: String

    init(_ lookup: BroadcastLookup, field: String) {
        from = lookup.from
        keyColumn = lookup.key ?? field
        column = lookup.column
    }
}

/// The string form of a value, by which lookups match keys (as histogram buckets do): a
/// string's contents, anything else its JSON text, so the CSV cell `5` and the JSON string
/// `"5"` meet.
func stringForm(_ value: FieldValue) -> String {
    value.kind == .string ? (JSONText.unquote(value.text) ?? value.text) : value.text
}

/// One side input: its rows, each its columns in input order.
public struct BroadcastTable: Sendable, Equatable {
    public var name: String
    public var rows: [BroadcastRow]

    public init(name: String, rows: [BroadcastRow]) {
        self.name = name
        self.rows = rows
    }

    /// The rows as JSON Lines, one object per row: how checkpoints keep the input.
    public func jsonLines() -> [UInt8] {
        var bytes: [UInt8] = []
        for row in rows {
            bytes.append(UInt8(ascii: "{"))
            for (index, column) in row.columns.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                bytes.append(contentsOf: JSONText.quote(column).utf8)
                bytes.append(UInt8(ascii: ":"))
                bytes.append(contentsOf: row.values[index].text.utf8)
            }
            bytes.append(contentsOf: "}\n".utf8)
        }
        return bytes
    }
}

public struct BroadcastRow: Sendable, Equatable {
    public var columns: [String]
    public var values: [FieldValue]

    public init(columns: [String], values: [FieldValue]) {
        self.columns = columns
        self.values = values
    }

    func value(of column: String) -> FieldValue? {
        columns.firstIndex(ofExact: column).map { values[$0] }
    }
}
