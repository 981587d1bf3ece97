public enum OutputFormat: String, Sendable, CaseIterable {
    case jsonl, csv
}

/// Writes one output record per emitted event: key columns, the time column, carried
/// columns, then the features, as a JSON object or a CSV row.
///
/// JSON output needs no per-record work beyond copying bytes: every value is already
/// canonical JSON text (see `FieldValue`), and column-name prefixes are built once.
final class EventEncoder {
    let format: OutputFormat
    private let plan: JobPlan
    /// For JSONL: `{"card_id":`, `,"ts":`, ... one per column (keys, time, carried,
    /// features), back to back: column k's prefix is `prefixBytes[prefixStarts[k]..<prefixStarts[k + 1]]`,
    /// followed by 16 bytes of padding for `copyPadded`. Held in raw buffers the encoder
    /// owns: reading an array stored in a class retained it on every record.
    private let prefixBytes: UnsafeMutableBufferPointer<UInt8>
    private let prefixStarts: UnsafeMutableBufferPointer<Int>
    /// Key, time and carried columns: the value slot of each, in output order.
    private let fixedSlots: UnsafeMutableBufferPointer<Int>
    private let carriesAllMembers: Bool
    /// Columns between the fixed ones and the features: `window_start` and `window_end` for
    /// windowed jobs, none for events.
    private let windowColumns: Int
    /// Microseconds per unit of the job's time, in which window bounds are written.
    private let timeUnit: Int64
    /// The prefixes again, each at the start of its own zeroed 32-byte slot, for `encodeRecords`,
    /// which copies 32 bytes a prefix whatever its length; the slot's last byte holds the
    /// length (read from the slot's own address: a table of lengths took a register more
    /// than the loop had, and was reloaded from the stack for every feature).
    private let prefixSlots: UnsafeMutableRawPointer
    private let columns: Int
    /// Whether records go through `encodeRecords`: JSON Lines of events (no window bounds),
    /// without `carry: ["*"]`, whose column prefixes are all shorter than 32 bytes.
    private let writesRecordsWhole: Bool
    /// What a record takes besides its feature results, at most: every prefix, 16 bytes a
    /// fixed column (an inline text's 16 raw bytes, or `null`), and "}\n".
    private let recordBoundBesideResults: Int

    init(plan: JobPlan, format: OutputFormat) {
        self.plan = plan
        self.format = format
        var prefixBytes: [UInt8] = []
        var prefixStarts: [Int] = []
        for (index, column) in plan.outputColumns.enumerated() {
            prefixStarts.append(prefixBytes.count)
            prefixBytes.append(contentsOf: ((index == 0 ? "{" : ",") + JSONText.quote(column) + ":").utf8)
        }
        prefixStarts.append(prefixBytes.count)
        prefixBytes.append(contentsOf: repeatElement(0, count: 16))
        var fixedSlots = plan.keySlots
        windowColumns = plan.spec.emit.isWindowed ? 2 : 0
        timeUnit = plan.spec.timeUnit.microseconds
        if let timeSlot = plan.timeSlot, windowColumns == 0 { fixedSlots.append(timeSlot) }
        if case .columns(let carried) = plan.carry { fixedSlots += carried.map(\.slot) }
        if case .all = plan.carry { carriesAllMembers = true } else { carriesAllMembers = false }
        self.prefixBytes = .allocate(capacity: prefixBytes.count)
        _ = self.prefixBytes.initialize(from: prefixBytes)
        self.prefixStarts = .allocate(capacity: prefixStarts.count)
        _ = self.prefixStarts.initialize(from: prefixStarts)
        self.fixedSlots = .allocate(capacity: fixedSlots.count)
        _ = self.fixedSlots.initialize(from: fixedSlots)
        let columns = prefixStarts.count - 1
        let slots = UnsafeMutableRawPointer.allocate(byteCount: max(columns, 1) * Self.prefixSlotSize, alignment: 16)
        slots.initializeMemory(as: UInt8.self, repeating: 0, count: max(columns, 1) * Self.prefixSlotSize)
        var longestPrefix = 0
        prefixBytes.withUnsafeBytes { bytes in
            for column in 0..<columns {
                let length = prefixStarts[column + 1] - prefixStarts[column]
                longestPrefix = max(longestPrefix, length)
                if length < Self.prefixSlotSize {
                    let slot = slots + column * Self.prefixSlotSize
                    slot.copyMemory(from: bytes.baseAddress! + prefixStarts[column], byteCount: length)
                    slot.storeBytes(of: UInt8(length), toByteOffset: Self.prefixSlotSize - 1, as: UInt8.self)
                }
            }
        }
        prefixSlots = slots
        self.columns = columns
        writesRecordsWhole = format == .jsonl && windowColumns == 0 && !carriesAllMembers
            && longestPrefix < Self.prefixSlotSize
        recordBoundBesideResults = prefixStarts[columns] + 16 * fixedSlots.count + 2
    }

    private static var prefixSlotSize: Int { 32 }

    deinit {
        prefixBytes.deallocate()
        prefixStarts.deallocate()
        fixedSlots.deallocate()
        prefixSlots.deallocate()
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

    /// Appends the record of the event whose values start at `base` in `values`, with its
    /// features' results: those of event `index` of the batch in `results`.
    func encode(
        values: UnsafeBufferPointer<FieldValue>, base: Int, members: [(name: String, value: FieldValue)],
        results: EncodedResults, index: Int, to out: ByteBuffer
    ) {
        if writesRecordsWhole, InlineText.holds {
            return withUnsafePointer(to: base) { base in
                encodeRecords(values: values, bases: UnsafeBufferPointer(start: base, count: 1), firstIndex: index, results: results, to: out)
            }
        }
        if format == .csv {
            return encodeCSV(values: values, base: base, members: members, results: results, index: index, to: out)
        }
        encodeInParts(values: values, base: base, members: members, results: results, index: index, to: out)
    }

    /// `encode` for JSON Lines, column by column (any text, `carry: ["*"]`).
    @inline(__always)
    private func encodeInParts(
        values: UnsafeBufferPointer<FieldValue>, base: Int, members: [(name: String, value: FieldValue)],
        results: EncodedResults, index: Int, to out: ByteBuffer
    ) {
        appendFixedColumns(values: values, base: base, to: out)
        if carriesAllMembers { appendAllMembers(members, to: out) }
        appendFeatureColumns(results, index: index, to: out)
    }

    /// `encode` for events `firstIndex...` of the batch in `results`, without members: the
    /// values of the k-th start at `bases[k]`. Records written whole go in one pass with one
    /// capacity check for the lot, each prefix as 32 bytes from its slot (no test of its
    /// length), each fixed column's text as an inline text's 16 raw bytes: called per event,
    /// `encode` re-read the encoder's fields and the results' buffers, and tested the
    /// format, about 90 instructions an event.
    func encodeRecords(
        values: UnsafeBufferPointer<FieldValue>, bases: UnsafeBufferPointer<Int>, firstIndex: Int = 0,
        results: EncodedResults, to out: ByteBuffer
    ) {
        // Texts read as inline words are tested once here, not per fixed column.
        guard writesRecordsWhole, InlineText.holds else {
            for index in bases.indices {
                encode(values: values, base: bases[index], members: [], results: results, index: firstIndex &+ index, to: out)
            }
            return
        }
        let prefixSlots = UnsafeRawPointer(prefixSlots)
        // Unwrapped without a test: the buffers are an append buffer's, and the events' values.
        let fixedSlots = self.fixedSlots.baseAddress.unsafelyUnwrapped
        let fixedColumns = self.fixedSlots.count
        let columns = self.columns
        let ends = results.ends.baseAddress.unsafelyUnwrapped
        let resultBytes = results.bytes.baseAddress.unsafelyUnwrapped
        let events = results.events
        guard let eventValues = values.baseAddress, let eventBases = bases.baseAddress else { return }
        let count = bases.count
        var index = 0
        while index < count {
            // The records left take at most their fixed parts and all of the batch's results;
            // 32 more: a prefix copy writes 32 bytes, a padded copy at most 16 past its piece.
            let bound = (count &- index) &* recordBoundBesideResults &+ results.bytes.count &+ Self.prefixSlotSize
            out.append(reserving: bound) { start in
                // Walked as pointers (the target, the prefix slot, the result's end), not as
                // offsets and column counters: about an instruction fewer a column.
                @inline(__always) func appendPrefix(_ source: UnsafeRawPointer, at target: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
                    let length = Int(source.load(fromByteOffset: Self.prefixSlotSize &- 1, as: UInt8.self))
                    let raw = UnsafeMutableRawPointer(target)
                    raw.storeBytes(of: source.load(as: (UInt64, UInt64).self), as: (UInt64, UInt64).self)
                    raw.storeBytes(of: source.load(fromByteOffset: 16, as: (UInt64, UInt64).self), toByteOffset: 16, as: (UInt64, UInt64).self)
                    return target + length
                }
                let fixedPrefixesEnd = prefixSlots + fixedColumns &* Self.prefixSlotSize
                let prefixesEnd = prefixSlots + columns &* Self.prefixSlotSize
                var target = start
                while index < count {
                    let recordStart = target
                    let event = eventValues + eventBases[index]
                    var prefix = prefixSlots
                    var fixedSlot = fixedSlots
                    while prefix < fixedPrefixesEnd {
                        target = appendPrefix(prefix, at: target)
                        let value = event + fixedSlot.pointee
                        prefix += Self.prefixSlotSize
                        fixedSlot += 1
                        // A text stored out of line: the record is dropped, and written in parts below.
                        guard let inline = InlineText.decoded(
                            UnsafeRawPointer(FieldValue.textAddress(value)).load(as: (UInt64, UInt64).self))
                        else { return recordStart - start }
                        // Only an empty text can be a missing value's (`""`; a present value's
                        // text is JSON, never empty): the kind, in another word of the value
                        // (often another cache line), is read only then.
                        if inline.count == 0, value.pointee.kind == .missing {
                            UnsafeMutableRawPointer(target).storeBytes(of: UInt32(0x6C6C_756E), as: UInt32.self) // "null"
                            target += 4
                            continue
                        }
                        target += InlineText.write(inline, to: target)
                    }
                    // Event `index`'s result of a feature ends at `resultEnd[0]` and starts at `resultEnd[-1]`.
                    var resultEnd = ends + (firstIndex &+ index)
                    while prefix < prefixesEnd {
                        target = appendPrefix(prefix, at: target)
                        let resultFrom = resultEnd[-1]
                        let resultLength = resultEnd[0] &- resultFrom
                        copyPadded(to: target, from: resultBytes + resultFrom, count: resultLength)
                        target += resultLength
                        resultEnd += events
                        prefix += Self.prefixSlotSize
                    }
                    UnsafeMutableRawPointer(target).storeBytes(of: UInt16(0x0A7D), as: UInt16.self) // "}\n"
                    target += 2
                    index &+= 1
                }
                return target - start
            }
            if index < count {
                encodeInParts(values: values, base: bases[index], members: [], results: results, index: firstIndex &+ index, to: out)
                index &+= 1
            }
        }
    }

    /// Appends the record of a key's window `[start, end)` (microseconds): the key columns
    /// of the event at `base`, the bounds in the job's time unit, and the features' results
    /// (those of event `index` in `results`).
    func encodeWindow(
        values: UnsafeBufferPointer<FieldValue>, base: Int, start: Int64, end: Int64, results: EncodedResults,
        index: Int, to out: ByteBuffer
    ) {
        if format == .csv {
            return encodeCSV(
                values: values, base: base, members: [], bounds: [start / timeUnit, end / timeUnit], results: results,
                index: index, to: out)
        }
        appendFixedColumns(values: values, base: base, to: out)
        // The bounds one at a time: an array of the two was allocated per window.
        for (offset, bound) in [(0, start), (1, end)] {
            let column = fixedSlots.count + offset
            out.append(UnsafeBufferPointer(rebasing: prefixBytes[prefixStarts[column]..<prefixStarts[column + 1]]))
            NumberText.append(bound / timeUnit, to: out)
        }
        appendFeatureColumns(results, index: index, to: out)
    }

    /// Batch result bytes up to which a record reserves room for all of them.
    private static var batchResultsBound: Int { 1 << 16 }

    /// Writes every feature column (prefix and result) and the record's end with one
    /// capacity check.
    ///
    /// Positions are computed with wrapping arithmetic over raw pointers: they index buffers
    /// of a few thousand entries, and the overflow checks of `+` and `*` were a third of the
    /// instructions of writing a record.
    @inline(__always)
    private func appendFeatureColumns(_ results: EncodedResults, index: Int, to out: ByteBuffer) {
        let prefixBytes = prefixBytes.baseAddress!
        let prefixStarts = prefixStarts.baseAddress!
        let ends = results.ends.baseAddress!
        let resultBytes = results.bytes.baseAddress!
        let events = results.events
        let firstColumn = fixedSlots.count &+ windowColumns
        let features = self.prefixStarts.count &- 1 &- firstColumn
        // Event `index`'s result of feature f ends at ends[f * events + index] and starts where
        // the one before it in `ends` ended (at ends[-1], 0, for the very first).
        @inline(__always) func resultStart(_ position: Int) -> Int { ends[position &- 1] }
        var bound = prefixStarts[features &+ firstColumn] &- prefixStarts[firstColumn] &+ 2
        if results.bytes.count <= Self.batchResultsBound {
            // Every result of the batch: a bound on this event's without a pass over them.
            bound &+= results.bytes.count
        } else {
            // Large results (long collects, histograms): this event's own, so that the
            // buffer does not grow by a whole batch's results for each record.
            var position = index
            for _ in 0..<features {
                bound &+= ends[position] &- resultStart(position)
                position &+= events
            }
        }
        // 16 more: `copyPadded` writes 16 bytes for every short piece.
        out.append(reserving: bound &+ 16) { start in
            // `start` has room for `bound` + 16 bytes: the prefixes, results and "}\n" below
            // take `bound`, and a padded copy writes at most 16 past its piece.
            var written = 0
            var position = index
            for feature in 0..<features {
                let prefixStart = prefixStarts[firstColumn &+ feature]
                let prefixLength = prefixStarts[firstColumn &+ feature &+ 1] &- prefixStart
                copyPadded(to: start + written, from: prefixBytes + prefixStart, count: prefixLength)
                written &+= prefixLength
                let resultFrom = resultStart(position)
                let resultLength = ends[position] &- resultFrom
                copyPadded(to: start + written, from: resultBytes + resultFrom, count: resultLength)
                written &+= resultLength
                position &+= events
            }
            start[written] = UInt8(ascii: "}")
            start[written &+ 1] = UInt8(ascii: "\n")
            return written &+ 2
        }
    }

    /// Writes the key, time and carried columns (prefix and text each) with one capacity
    /// check: appending piece by piece cost a uniqueness and a capacity check per piece.
    @inline(__always)
    private func appendFixedColumns(values: UnsafeBufferPointer<FieldValue>, base: Int, to out: ByteBuffer) {
        let prefixBytes = prefixBytes.baseAddress!
        let prefixStarts = prefixStarts.baseAddress!
        let fixedSlots = fixedSlots
        // The event's values, read in place (a copy would retain and release each text).
        let event = values.baseAddress! + base
        // The fixed columns are the first ones, so their prefixes are the front of prefixBytes.
        var bound = prefixStarts[fixedSlots.count]
        for valueSlot in fixedSlots { bound &+= max(InlineText.byteCount(event[valueSlot].text), 4) }
        out.append(reserving: bound &+ 16) { start in
            // `start` has room for `bound` + 16 bytes: the prefixes and texts (or `null`)
            // below take `bound`, and a padded copy writes at most 16 past its piece.
            var written = 0
            for column in 0..<fixedSlots.count {
                let prefixStart = prefixStarts[column]
                let prefixLength = prefixStarts[column &+ 1] &- prefixStart
                copyPadded(to: start + written, from: prefixBytes + prefixStart, count: prefixLength)
                written &+= prefixLength
                let value = event + fixedSlots[column]
                if value.pointee.kind == .missing {
                    for byte in "null".utf8 {
                        start[written] = byte
                        written &+= 1
                    }
                } else {
                    written &+= InlineText.write(value.pointee.text, to: start + written)
                }
            }
            return written
        }
    }

    private func encodeCSV(
        values: UnsafeBufferPointer<FieldValue>, base: Int, members: [(name: String, value: FieldValue)],
        bounds: [Int64] = [], results: EncodedResults, index: Int, to out: ByteBuffer
    ) {
        var line: [UInt8] = []
        for (column, valueSlot) in fixedSlots.enumerated() {
            if column > 0 { line.append(UInt8(ascii: ",")) }
            CSVText.appendValueAsCell(values[base + valueSlot], to: &line)
        }
        for bound in bounds { line.append(contentsOf: ("," + String(bound)).utf8) }
        if carriesAllMembers {
            for (name, value) in members where !plan.reservedOutputNames.contains(name) {
                line.append(UInt8(ascii: ","))
                CSVText.appendValueAsCell(value, to: &line)
            }
        }
        for feature in 0..<results.features {
            line.append(UInt8(ascii: ","))
            CSVText.appendJSONValueAsCell(
                Array(UnsafeBufferPointer(rebasing: results.bytes[results.range(feature: feature, event: index)])), to: &line)
        }
        line.append(UInt8(ascii: "\n"))
        out.append(contentsOf: line)
    }

    /// `carry: ["*"]` in JSON Lines: every input column not already written as a key, the
    /// time or a feature.
    private func appendAllMembers(_ members: [(name: String, value: FieldValue)], to out: ByteBuffer) {
        for (name, value) in members where !plan.reservedOutputNames.contains(name) {
            out.append(UInt8(ascii: ","))
            out.appendUTF8(JSONText.quote(name))
            out.append(UInt8(ascii: ":"))
            out.appendUTF8(value.text)
        }
    }
}

/// The features' results of a batch as the encoder reads them (`BatchResults`' buffers).
struct EncodedResults {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Preceded in memory by a 0, the start of the first result (`BatchResults`).
    let ends: UnsafeBufferPointer<Int>
    /// Events in the batch.
    let events: Int

    var features: Int { events == 0 ? 0 : ends.count / events }

    /// Where the JSON text of `feature`'s result for `event` lies in `bytes`.
    @inline(__always)
    func range(feature: Int, event: Int) -> Range<Int> {
        let position = feature * events + event
        return (position == 0 ? 0 : ends[position - 1])..<ends[position]
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
