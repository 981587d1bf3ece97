/// `eddy export flink-sql`: the same job as a Flink SQL script (DESIGN sections 1 and 2).
///
/// A pure translation from a validated `JobSpec` to text, so the command stays thin and the
/// tests can pin the script without a Flink cluster. Event mode becomes OVER aggregation
/// (`RANGE BETWEEN <window | UNBOUNDED> PRECEDING AND CURRENT ROW`), windowed modes become
/// Flink's window TVFs. Where Flink computes something slightly different, the script says
/// so in a comment next to the feature; where it has no equivalent at all (broadcast
/// lookups, `carry: ["*"]`, spans below a millisecond), the export is refused with the JSON
/// path, never approximated silently.
public enum FlinkSQLExport {
    /// The input format of the source table.
    public enum InputFormat: String, Sendable, CaseIterable {
        case jsonl
        case csv
    }

    /// How the time column's values are written: eddy reads a number as an epoch and a string
    /// as RFC 3339, per value, but a Flink column has one type.
    public enum TimeFormat: String, Sendable, CaseIterable {
        case epoch
        case rfc3339
    }

    public struct Options: Sendable, Equatable {
        /// The source table's `path`: a file or directory Flink's filesystem connector reads.
        public var sourcePath: String
        public var inputFormat: InputFormat
        public var timeFormat: TimeFormat
        /// CSV only: the file's columns in order (Flink's CSV format maps columns by
        /// position and does not read the header row).
        public var csvColumns: [String]
        /// Where the sink writes JSON files (a directory), or nil for Flink's `print` sink.
        public var sinkPath: String?

        public init(sourcePath: String, inputFormat: InputFormat = .jsonl, timeFormat: TimeFormat = .epoch, csvColumns: [String] = [], sinkPath: String? = nil) {
            self.sourcePath = sourcePath
            self.inputFormat = inputFormat
            self.timeFormat = timeFormat
            self.csvColumns = csvColumns
            self.sinkPath = sinkPath
        }
    }

    public enum Failure: Error, Sendable, Equatable {
        /// Parts of the spec with no faithful Flink SQL equivalent, each with its JSON path.
        case unsupported([SpecDiagnostic])
        /// The CSV columns given (or read from the header) lack a column the job reads.
        case csvColumnsMissing([String])
    }

    /// The whole script: settings, source table, the typed events view, sink table, INSERT.
    public static func script(for spec: JobSpec, options: Options) throws(Failure) -> String {
        var translation = Translation(spec: spec, options: options)
        return try translation.render()
    }
}

/// Flink's time attributes hold milliseconds at most (`TIMESTAMP_LTZ(3)`), so every span the
/// script writes is whole milliseconds.
private let microsecondsPerMillisecond: Int64 = 1_000

private struct Translation {
    let spec: JobSpec
    let options: FlinkSQLExport.Options
    /// Fields read as numbers (sum, min, max, avg, stddev): typed DOUBLE in the events view.
    let numericFields: Set<String>
    /// The identifiers used for the job's tables, from its code.
    let sourceTable: String
    let eventsView: String
    let sinkTable: String
    /// The computed time attribute's column: `event_time` unless the input has a column of
    /// that name (jobs/sessions.json's time column is `event_time`).
    let timeAttribute: String

    init(spec: JobSpec, options: FlinkSQLExport.Options) {
        self.spec = spec
        self.options = options
        numericFields = Set(spec.features.filter { $0.op.readsNumbers }.compactMap(\.field))
        let base = sqlName(spec.code)
        sourceTable = "\(base)_source"
        eventsView = "\(base)_events"
        sinkTable = "\(base)_sink"
        let taken = Set(spec.keys + [spec.time].compactMap { $0 } + spec.features.compactMap(\.field) + options.csvColumns)
            .union(spec.carry.columnNames)
        var name = "event_time"
        while taken.contains(name) { name = "eddy_" + name }
        timeAttribute = name
    }

    mutating func render() throws(FlinkSQLExport.Failure) -> String {
        try refuseWhatFlinkCannotDo()
        let physical = try physicalColumns()
        var lines: [String] = []
        lines += header()
        lines += settings()
        lines += sourceDDL(physical)
        lines += eventsViewDDL()
        lines += sinkDDL()
        lines += spec.emit.isWindowed ? windowedInsert() : eventInsert()
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: refusals

    private func refuseWhatFlinkCannotDo() throws(FlinkSQLExport.Failure) {
        var problems: [SpecDiagnostic] = []
        if spec.carry == .all {
            problems.append(SpecDiagnostic(.error, path: "carry",
                "[\"*\"] copies every input column, but a Flink table needs its columns named; list the columns to carry"))
        }
        for (index, feature) in spec.features.enumerated() {
            if feature.op == .lookup {
                problems.append(SpecDiagnostic(.error, path: "dict[\(index)].operator",
                    "lookup (a broadcast input) has no export: Flink's lookup joins read the side table at processing time, not eddy's table loaded once before the first event; compute \"\(feature.name)\" with a join in Flink yourself, or drop it from the exported spec"))
            }
            if let window = feature.window, window.microseconds % microsecondsPerMillisecond != 0 {
                problems.append(SpecDiagnostic(.error, path: "dict[\(index)].window",
                    "\"\(window.text)\" is not whole milliseconds, and Flink's time attributes hold milliseconds; use a window of whole milliseconds"))
            }
        }
        let emitSpans: [(String, EventDuration)] = switch spec.emit {
        case .event: []
        case .tumbling(let size): [("emit.tumbling", size)]
        case .hopping(let size, let slide): [("emit.hopping.size", size), ("emit.hopping.slide", slide)]
        case .session(let gap): [("emit.session.gap", gap)]
        }
        for (path, span) in emitSpans where span.microseconds % microsecondsPerMillisecond != 0 {
            problems.append(SpecDiagnostic(.error, path: path,
                "\"\(span.text)\" is not whole milliseconds, and Flink's windows are; use whole milliseconds"))
        }
        if !problems.isEmpty { throw .unsupported(problems) }
    }

    // MARK: columns

    /// The input columns the job reads, in a stable order: keys, time, fields, carried columns.
    private var readColumns: [String] {
        var seen: Set<String> = []
        var columns: [String] = []
        func add(_ column: String) { if seen.insert(column).inserted { columns.append(column) } }
        spec.keys.forEach(add)
        if let time = spec.time { add(time) }
        for feature in spec.features { if let field = feature.field { add(field) } }
        if case .columns(let carried) = spec.carry { carried.forEach(add) }
        return columns
    }

    /// The source table's physical columns: for JSON the columns the job reads (the format
    /// ignores the others); for CSV every column of the file, in its order.
    private func physicalColumns() throws(FlinkSQLExport.Failure) -> [String] {
        guard options.inputFormat == .csv else { return readColumns }
        let missing = readColumns.filter { !options.csvColumns.contains($0) }
        if !missing.isEmpty { throw .csvColumnsMissing(missing) }
        return options.csvColumns
    }

    /// The SQL type of an input column once the events view has parsed it.
    private func columnType(_ column: String) -> String {
        if column == spec.time { return timeColumnType }
        return numericFields.contains(column) && !spec.keys.contains(column) ? "DOUBLE" : "STRING"
    }

    private var timeIsEpoch: Bool { options.timeFormat == .epoch }
    private var timeColumnType: String { timeIsEpoch ? "BIGINT" : "STRING" }

    /// The column as the events view gives it: numbers parsed, everything else as read.
    private func parsedColumn(_ column: String) -> String {
        let quoted = raw(column)
        if column == spec.time, timeIsEpoch { return "TRY_CAST(\(quoted) AS BIGINT)" }
        if columnType(column) == "DOUBLE" { return "TRY_CAST(\(quoted) AS DOUBLE)" }
        return quoted
    }

    // MARK: script parts

    private func header() -> [String] {
        var lines = [
            "-- Flink SQL for the eddy job \"\(spec.code)\", written by `eddy export flink-sql`.",
            "-- Paste into Flink's SQL client (Flink 2.x; checked against Flink 2.3).",
        ]
        if spec.emit.isWindowed {
            lines.append("-- One record per key per window, as eddy's windowed jobs write, with Flink's window TVFs.")
        } else {
            lines.append("-- One record per event, as eddy's event mode: agg(...) OVER (PARTITION BY keys ORDER BY time")
            lines.append("-- RANGE BETWEEN <window | UNBOUNDED> PRECEDING AND CURRENT ROW).")
        }
        lines += [
            "--",
            "-- Where Flink differs from eddy:",
            "-- * Bad records: eddy rejects a record with a missing key, a missing or unparseable time, or a",
            "--   non-number where a numeric feature reads (and counts it); here such rows are filtered out",
            "--   silently. A number written as a JSON string (\"12.5\") passes here, where eddy rejects it.",
            "-- * Late events are dropped silently (Flink counts them in the numLateRecordsDropped metric).",
        ]
        if spec.time != nil {
            lines += [
                "--   The watermark is assigned as each row is read, so rows eddy rejects still advance it here,",
                "--   and Flink emits it every 'pipeline.auto-watermark-interval' (200 ms by default) where eddy",
                "--   moves it after every event, so an event eddy finds late can be on time here.",

            ]
        }
        lines += [
            "-- * Key columns are STRING: a number key prints as a string (17 -> \"17\"); keys 17 and \"17\" are",
            "--   one key here and two in eddy.",
            "-- * Numbers read by numeric features are DOUBLE: integer sums print as doubles (12 -> 12.0) and",
            "--   past 2^53 lose digits eddy's 128-bit integer sums keep. Other columns are STRING: a number",
            "--   that first/last/collect/histogram read prints as a string (404 -> \"404\").",
        ]
        if spec.timeUnit == .microseconds, options.timeFormat == .epoch {
            lines.append("-- * Times are in microseconds, but Flink's time attributes hold milliseconds: events within one")
            lines.append("--   millisecond are peers here, and the watermark's extra tick is 1 ms rather than 1 us.")
        }
        lines.append("")
        return lines
    }

    private func settings() -> [String] {
        var lines = [
            "-- eddy aligns windows to the epoch and reads epoch times in UTC.",
            "SET 'table.local-time-zone' = 'UTC';",
            "-- The spec's maxParallelism: the number of key groups, as in eddy.",
            "SET 'pipeline.max-parallelism' = '\(spec.maxParallelism)';",
        ]
        if let ttl = spec.ttl {
            lines += [
                "-- ttl \"\(ttl.text)\": eddy's TTL runs in event time (against the watermark, the same on every",
                "-- replay); Flink's state TTL runs in processing time, so which keys have expired depends on",
                "-- when the job runs. Flink also expires each state on its own, where eddy drops a key's whole row.",
                "SET 'table.exec.state.ttl' = '\(max(ttl.microseconds / microsecondsPerMillisecond, 1)) ms';",
            ]
        }
        if options.sinkPath != nil {
            lines += [
                "-- The filesystem sink commits its files on checkpoints.",
                "SET 'execution.checkpointing.interval' = '10 s';",
            ]
        }
        lines.append("")
        return lines
    }

    private func sourceDDL(_ physical: [String]) -> [String] {
        var columns = physical.map { "  \(quote($0)) STRING" }
        if let time = spec.time {
            columns.append("  \(quote(timeAttribute)) AS \(eventTimeExpression(time))")
            columns.append("  WATERMARK FOR \(quote(timeAttribute)) AS \(quote(timeAttribute)) - \(interval(microseconds: spec.watermark.microseconds + tick))")
        } else {
            columns.append("  \(quote(timeAttribute)) AS PROCTIME()")
        }
        var connector = [
            "  'connector' = 'filesystem'",
            "  'path' = \(literal(options.sourcePath))",
        ]
        switch options.inputFormat {
        case .jsonl:
            connector += ["  'format' = 'json'", "  'json.ignore-parse-errors' = 'true'"]
        case .csv:
            connector += ["  'format' = 'csv'", "  'csv.ignore-parse-errors' = 'true'"]
        }
        var lines = ["-- Every column is read as text and parsed in the view below, so a bad value filters its row out"]
        lines.append("-- (as eddy rejects it) instead of failing the job.")
        if spec.time != nil {
            lines.append("-- eddy's watermark is max time - \(spec.watermark.text) - 1 tick and a row at or below it is late;")
            lines.append("-- Flink's is the expression below, so the extra millisecond keeps the same events late.")
        } else {
            lines.append("-- The job has no time column: processing time, arrival order, as eddy.")
        }
        if options.inputFormat == .csv {
            lines.append("-- Flink's CSV format maps columns by position and reads the header row as data: the header's")
            lines.append("-- time cell does not parse, so the view filters the header out (the header is taken to be the")
            lines.append("-- columns listed here, in this order).")
        }
        lines.append("CREATE TABLE \(quote(sourceTable)) (")
        lines.append(columns.joined(separator: ",\n"))
        lines.append(") WITH (")
        lines.append(connector.joined(separator: ",\n"))
        lines.append(");")
        lines.append("")
        return lines
    }

    /// eddy's watermark is one tick below Flink's `time - bound`; Flink's ticks are milliseconds.
    private var tick: Int64 { microsecondsPerMillisecond }

    /// An input column as read: in CSV an empty cell is null in eddy, '' in Flink (which
    /// leaves null for cells missing from a short row, so the two stay apart).
    private func raw(_ column: String) -> String {
        options.inputFormat == .csv ? "NULLIF(\(quote(column)), '')" : quote(column)
    }

    private func eventTimeExpression(_ time: String) -> String {
        let column = raw(time)
        switch options.timeFormat {
        case .epoch:
            // A row whose time does not parse gets time 0 here (a null time attribute fails the
            // job) and is filtered out by the view.
            let epoch = "COALESCE(TRY_CAST(\(column) AS BIGINT), 0)"
            switch spec.timeUnit {
            case .seconds: return "TO_TIMESTAMP_LTZ(\(epoch), 0)"
            case .milliseconds: return "TO_TIMESTAMP_LTZ(\(epoch), 3)"
            case .microseconds: return "CAST(TO_TIMESTAMP_LTZ(\(epoch), 6) AS TIMESTAMP_LTZ(3))"
            }
        case .rfc3339:
            return "COALESCE(\(rfc3339Expression(column)), TO_TIMESTAMP_LTZ(0, 3))"
        }
    }

    /// RFC 3339 text to TIMESTAMP_LTZ(3): Flink's TO_TIMESTAMP_LTZ(text, format) drops a UTC
    /// offset in the text, so the offset is split off and passed as the time zone.
    private func rfc3339Expression(_ column: String) -> String {
        let pattern = literal("^(.*?)([Zz]|[+-][0-9][0-9]:[0-9][0-9])$")
        let format = literal("yyyy-MM-dd'T'HH:mm:ss[.SSSSSSSSS][.SSSSSS][.SSS][.SS][.S]")
        return "CAST(TO_TIMESTAMP_LTZ(REGEXP_EXTRACT(\(column), \(pattern), 1), \(format), "
            + "UPPER(REGEXP_EXTRACT(\(column), \(pattern), 2))) AS TIMESTAMP_LTZ(3))"
    }

    private func eventsViewDDL() -> [String] {
        var selected = readColumns.map { column in
            let parsed = parsedColumn(column)
            return parsed == quote(column) ? "  \(parsed)" : "  \(parsed) AS \(quote(column))"
        }
        selected.append("  \(quote(timeAttribute))")
        var conditions = spec.keys.map { "\(raw($0)) IS NOT NULL" }
        if options.inputFormat == .csv, let last = options.csvColumns.last {
            // A row with fewer cells than the header leaves its last columns null (an empty cell
            // is ''): eddy rejects such a row.
            conditions.append("\(quote(last)) IS NOT NULL")
        }
        if let time = spec.time {
            conditions.append(
                timeIsEpoch ? "TRY_CAST(\(raw(time)) AS BIGINT) IS NOT NULL" : "\(rfc3339Expression(raw(time))) IS NOT NULL")
        }
        for field in readColumns where columnType(field) == "DOUBLE" {
            conditions.append("(\(raw(field)) IS NULL OR TRY_CAST(\(raw(field)) AS DOUBLE) IS NOT NULL)")
        }
        return [
            "-- The records eddy would accept, with numbers parsed.",
            "CREATE TEMPORARY VIEW \(quote(eventsView)) AS",
            "SELECT",
            selected.joined(separator: ",\n"),
            "FROM \(quote(sourceTable))",
            "WHERE " + conditions.joined(separator: "\n  AND ") + ";",
            "",
        ]
    }

    // MARK: output columns

    private var outputColumns: [(name: String, type: String)] {
        var columns = spec.keys.map { (name: $0, type: "STRING") }
        if spec.emit.isWindowed {
            columns += [(name: "window_start", type: "BIGINT"), (name: "window_end", type: "BIGINT")]
        } else {
            if let time = spec.time { columns.append((name: time, type: timeColumnType)) }
            if case .columns(let carried) = spec.carry {
                let taken = Set(columns.map(\.name)).union(spec.features.map(\.name))
                for column in carried where !taken.contains(column) {
                    columns.append((name: column, type: columnType(column)))
                }
            }
        }
        columns += spec.features.map { (name: $0.name, type: resultType($0)) }
        return columns
    }

    private func resultType(_ feature: FeatureSpec) -> String {
        let fieldType = feature.field.map(columnType) ?? "STRING"
        switch feature.op {
        case .count, .countDistinct: return "BIGINT"
        case .sum, .min, .max, .avg, .stddev: return "DOUBLE"
        case .first, .last, .lookup: return fieldType
        case .collect: return "ARRAY<\(fieldType)>"
        case .histogram: return "MULTISET<\(fieldType)>"
        }
    }

    private func sinkDDL() -> [String] {
        let columns = outputColumns.map { "  \(quote($0.name)) \($0.type)" }
        let connector: [String]
        if let sinkPath = options.sinkPath {
            connector = ["  'connector' = 'filesystem'", "  'path' = \(literal(sinkPath))", "  'format' = 'json'"]
        } else {
            connector = ["  'connector' = 'print'"]
        }
        var lines: [String] = []
        if spec.emit.isWindowed {
            lines.append("-- window_start and window_end as epoch numbers in the job's time unit (\(spec.timeUnit.rawValue)), as eddy writes them.")
        }
        lines += ["CREATE TABLE \(quote(sinkTable)) (", columns.joined(separator: ",\n"), ") WITH (",
                  connector.joined(separator: ",\n"), ");", ""]
        return lines
    }

    // MARK: features

    /// The aggregate call computing a feature, `OVER w` appended to each aggregate when
    /// `over` is given (event mode); nil `over` for a windowed GROUP BY.
    private func aggregate(_ feature: FeatureSpec, over: String?) -> String {
        let suffix = over.map { " OVER \($0)" } ?? ""
        let field = feature.field.map(quote) ?? "*"
        switch feature.op {
        case .count: return "COUNT(\(field))\(suffix)"
        case .sum: return "SUM(\(field))\(suffix)"
        case .min: return "MIN(\(field))\(suffix)"
        case .max: return "MAX(\(field))\(suffix)"
        case .avg: return "AVG(\(field))\(suffix)"
        case .stddev: return "STDDEV_SAMP(\(field))\(suffix)"
        case .first where over == nil && needsMergeableAggregates, .last where over == nil && needsMergeableAggregates:
            // FIRST_VALUE and LAST_VALUE cannot merge the slices of hopping windows or merging
            // sessions in Flink ("Could not find an implementation method 'merge'"); ARRAY_AGG
            // can, and its first or last element is the same value.
            let values = "ARRAY_AGG(\(field) IGNORE NULLS)"
            return feature.op == .first ? "\(values)[1]" : "ARRAY_SLICE(\(values), -1)[1]"
        case .first: return "FIRST_VALUE(\(field))\(suffix)"
        case .last: return "LAST_VALUE(\(field))\(suffix)"
        case .countDistinct: return "COUNT(DISTINCT \(field))\(suffix)"
        case .histogram:
            // COLLECT gives an empty multiset over no values, where eddy gives null.
            return "CASE WHEN COUNT(\(field))\(suffix) = 0 THEN NULL ELSE COLLECT(\(field))\(suffix) END"
        case .collect:
            var values = "ARRAY_AGG(\(field) IGNORE NULLS)\(suffix)"
            if let limit = feature.limit { values = "ARRAY_SLICE(\(values), -\(limit))" }
            return "CASE WHEN COUNT(\(field))\(suffix) = 0 THEN NULL ELSE \(values) END"
        case .lookup:
            // Refused before rendering; kept total so a new refusal cannot crash.
            return "CAST(NULL AS STRING)"
        }
    }

    /// Whether the window TVF merges partial aggregates (hopping slices, sessions), which
    /// Flink allows only for aggregates with a `merge` method.
    private var needsMergeableAggregates: Bool {
        switch spec.emit {
        case .hopping, .session: true
        case .event, .tumbling: false
        }
    }

    /// What a feature computes differently in Flink, for a comment beside it; nil when exact.
    private func difference(_ feature: FeatureSpec) -> String? {
        switch feature.op {
        case .count, .min, .max, .countDistinct:
            if feature.op == .countDistinct {
                return "values are compared as text here; eddy compares their JSON text, so 5 and \"5\" are one value here, two in eddy"
            }
            return nil
        case .sum, .avg:
            return feature.window != nil && !spec.emit.isWindowed
                ? "over a lookback, Flink subtracts expired doubles from a running sum, so its last digits can differ from eddy's"
                : nil
        case .stddev:
            return "STDDEV_SAMP works from sums of squares; eddy uses Welford's method, so on near-equal large values the last digits differ"
        case .first, .last:
            return spec.emit.isWindowed
                ? "inside a window Flink takes arrival order; eddy takes event time (then arrival), so an out-of-order event can change the value"
                    + (needsMergeableAggregates ? " (taken from ARRAY_AGG, which keeps the window's values in state, as FIRST_VALUE and LAST_VALUE cannot merge these windows' parts)" : "")
                : "ordered by time, peers (same key and time) in arrival order, as eddy"
        case .collect:
            return spec.emit.isWindowed
                ? "inside a window Flink keeps arrival order; eddy lists values by event time (then arrival)"
                : "oldest to newest by time, peers in arrival order, as eddy\(feature.limit != nil && feature.window == nil ? "; Flink keeps every value in state, eddy only the newest \(feature.limit!)" : "")"
        case .histogram:
            return "a multiset prints as a JSON object from value to count, as eddy's histogram; the order of its members may differ"
        case .lookup:
            return nil
        }
    }

    private func featureComments() -> [String] {
        spec.features.enumerated().compactMap { index, feature in
            difference(feature).map { "-- \(feature.name) (dict[\(index)]): \($0)." }
        }
    }

    // MARK: event mode

    /// One OVER query per distinct window, nested: Flink requires every OVER aggregate of
    /// one SELECT to use the same window, and an OVER aggregation keeps its input's rows and
    /// time attribute, so stacking them gives every feature on one row per event without a
    /// join (Flink SQL has no row identifier to join per-window queries back on).
    private func eventInsert() -> [String] {
        // The innermost query is always over UNBOUNDED PRECEDING: Flink drops a late row there by
        // the watermark, as eddy does, where its bounded OVER drops a row only when the row's key
        // has already emitted a later time.
        var layers: [(window: EventDuration?, features: [Int])] = [(nil, [])]
        for (index, feature) in spec.features.enumerated() {
            if let layer = layers.firstIndex(where: { $0.window?.microseconds == feature.window?.microseconds }) {
                layers[layer].features.append(index)
            } else {
                layers.append((feature.window, [index]))
            }
        }
        let partition = spec.keys.map(quote).joined(separator: ", ")
        var query = ""
        for layer in layers {
            let frame: String
            if spec.time == nil {
                // Processing time: each row sees itself and what arrived before, as eddy's
                // arrival order; ROWS, since rows of one processing instant are not peers in eddy.
                frame = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
            } else if let window = layer.window {
                frame = "RANGE BETWEEN \(interval(microseconds: window.microseconds)) PRECEDING AND CURRENT ROW"
            } else {
                frame = "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
            }
            var calls = layer.features.map { "  \(aggregate(spec.features[$0], over: "w")) AS `f$\($0)`" }
            if calls.isEmpty {
                calls = ["  COUNT(*) OVER w AS `f$late`"]
            }
            let source = query.isEmpty ? quote(eventsView) : "(\n\(indented(query))\n)"
            query = """
                SELECT *,
                \(calls.joined(separator: ",\n"))
                FROM \(source)
                WINDOW w AS (PARTITION BY \(partition) ORDER BY \(quote(timeAttribute)) \(frame))
                """
        }
        var selected = spec.keys.map(quote)
        if let time = spec.time { selected.append(quote(time)) }
        if case .columns(let carried) = spec.carry {
            let taken = Set(spec.keys + [spec.time].compactMap { $0 } + spec.features.map(\.name))
            selected += carried.filter { !taken.contains($0) }.map(quote)
        }
        selected += spec.features.enumerated().map { "`f$\($0.offset)` AS \(quote($0.element.name))" }
        var lines = featureComments()
        if layers[0].features.isEmpty {
            lines.append("-- No feature runs over all of a key's events: the innermost query's count (f$late) is there to")
            lines.append("-- drop late rows by the watermark, as eddy does, before the lookback windows see them.")
        }
        if layers.filter({ !$0.features.isEmpty }).count > 1 {
            lines.append("-- Features with different windows are computed by nested OVER queries, one per window.")
        }
        lines += [
            "INSERT INTO \(quote(sinkTable))",
            "SELECT",
            selected.map { "  \($0)" }.joined(separator: ",\n"),
            "FROM (",
            indented(query),
            ");",
        ]
        return lines
    }

    // MARK: windowed modes

    private func windowedInsert() -> [String] {
        let events = "TABLE \(quote(eventsView))"
        let keys = spec.keys.map(quote)
        let windowFunction: String
        var lines = featureComments()
        switch spec.emit {
        case .event:
            return eventInsert()
        case .tumbling(let size):
            windowFunction = "TUMBLE(\(events), DESCRIPTOR(\(quote(timeAttribute))), \(interval(microseconds: size.microseconds)))"
        case .hopping(let size, let slide):
            windowFunction = "HOP(\(events), DESCRIPTOR(\(quote(timeAttribute))), \(interval(microseconds: slide.microseconds)), \(interval(microseconds: size.microseconds)))"
        case .session(let gap):
            windowFunction = "SESSION(\(events) PARTITION BY \(keys.joined(separator: ", ")), DESCRIPTOR(\(quote(timeAttribute))), \(interval(microseconds: gap.microseconds)))"
            lines += [
                "-- Sessions: a session is [first event, last event + gap) and sessions that touch merge, as in eddy.",
            ]
        }
        var selected = keys
        selected.append("\(epoch("window_start")) AS `window_start`")
        selected.append("\(epoch("window_end")) AS `window_end`")
        selected += spec.features.map { "\(aggregate($0, over: nil)) AS \(quote($0.name))" }
        lines += [
            "INSERT INTO \(quote(sinkTable))",
            "SELECT",
            selected.map { "  \($0)" }.joined(separator: ",\n"),
            "FROM TABLE(\(windowFunction))",
            "GROUP BY \((keys + ["window_start", "window_end"]).joined(separator: ", "));",
        ]
        return lines
    }

    /// A window bound (a TIMESTAMP(3) in the session time zone, UTC) as an epoch number in the
    /// job's time unit.
    private func epoch(_ column: String) -> String {
        let seconds = "UNIX_TIMESTAMP(CAST(\(column) AS STRING))"
        let milliseconds = "EXTRACT(MILLISECOND FROM \(column))"
        switch spec.timeUnit {
        case .seconds: return seconds
        case .milliseconds: return "(\(seconds) * 1000 + \(milliseconds))"
        case .microseconds: return "(\(seconds) * 1000000 + \(milliseconds) * 1000)"
        }
    }
}

// MARK: SQL text

private extension Carry {
    var columnNames: Set<String> {
        if case .columns(let columns) = self { return Set(columns) }
        return []
    }
}

private extension FeatureOperator {
    /// Operators eddy applies to numbers only (a non-number is a rejected record).
    var readsNumbers: Bool {
        switch self {
        case .sum, .min, .max, .avg, .stddev: true
        default: false
        }
    }
}

/// SQL text moved two spaces right, for a nested query.
private func indented(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
}

/// A back-quoted Flink SQL identifier.
private func quote(_ identifier: String) -> String {
    "`" + identifier.replacingOccurrences(of: "`", with: "``") + "`"
}

/// A single-quoted SQL string literal.
private func literal(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
}

/// A table name from a job code (`[A-Za-z0-9_.-]+`): dots and dashes become underscores.
private func sqlName(_ code: String) -> String {
    String(code.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
}

/// A whole-millisecond span as a Flink interval literal in the largest unit that divides it.
private func interval(microseconds: Int64) -> String {
    let milliseconds = microseconds / microsecondsPerMillisecond
    let units: [(name: String, milliseconds: Int64)] = [
        ("DAY", 86_400_000), ("HOUR", 3_600_000), ("MINUTE", 60_000), ("SECOND", 1_000),
    ]
    for unit in units where milliseconds % unit.milliseconds == 0 {
        return intervalLiteral(String(milliseconds / unit.milliseconds), unit: unit.name)
    }
    let whole = String(milliseconds / 1_000)
    let fraction = String(milliseconds % 1_000)
    return intervalLiteral(whole + "." + String(repeating: "0", count: 3 - fraction.count) + fraction, unit: "SECOND", wholeDigits: whole.count)
}

/// Interval literals default to two leading digits; a longer value names its precision.
private func intervalLiteral(_ value: String, unit: String, wholeDigits: Int? = nil) -> String {
    let digits = wholeDigits ?? value.count
    return "INTERVAL '\(value)' \(unit)\(digits > 2 ? "(\(digits))" : "")"
}
