import Testing
@testable import Eddy

// `eddy export flink-sql`: the script's SQL is pinned statement by statement. The scripts of
// jobs/*.json were run on Flink 2.3 (PyFlink, tools/flink_check.py) and compared with eddy's
// output; these tests keep the translation where that comparison left it.

private func export(
    _ json: String, format: FlinkSQLExport.InputFormat = .jsonl, time: FlinkSQLExport.TimeFormat = .epoch,
    csvColumns: [String] = [], sinkPath: String? = nil
) throws -> String {
    let spec = try specDecode(json).spec
    return try FlinkSQLExport.script(
        for: spec,
        options: .init(sourcePath: "/data/in", inputFormat: format, timeFormat: time, csvColumns: csvColumns, sinkPath: sinkPath))
}

/// The script without its comment lines: the SQL Flink runs.
private func sqlOnly(_ script: String) -> String {
    script.split(separator: "\n", omittingEmptySubsequences: false)
        .filter { !$0.hasPrefix("--") }.joined(separator: "\n")
}

/// The refusals' `path: message` lines, or [] when the export succeeds.
private func refusals(_ json: String) throws -> [String] {
    do {
        _ = try export(json)
        return []
    } catch FlinkSQLExport.Failure.unsupported(let problems) {
        return problems.map(\.description)
    }
}

/// A one-feature event-mode job with time `ts` reading field `x`.
private func oneFeature(_ entry: String, root: String = #""time": "ts""#) -> String {
    specFeature(entry, root: root)
}

@Suite struct FlinkSQLExportGolden {
    @Test func eventModeScriptWithTwoWindows() throws {
        let script = try export(#"""
            {"code": "small", "keys": ["k"], "time": "ts", "watermark": "2s",
             "dict": [{"name": "n", "operator": "count"},
                      {"name": "x_sum_1m", "operator": "sum", "field": "x", "window": "1m"}]}
            """#)
        #expect(sqlOnly(script) == #"""

            SET 'table.local-time-zone' = 'UTC';
            SET 'pipeline.max-parallelism' = '128';

            CREATE TABLE `small_source` (
              `k` STRING,
              `ts` STRING,
              `x` STRING,
              `event_time` AS TO_TIMESTAMP_LTZ(COALESCE(TRY_CAST(`ts` AS BIGINT), 0), 3),
              WATERMARK FOR `event_time` AS `event_time` - INTERVAL '2.001' SECOND
            ) WITH (
              'connector' = 'filesystem',
              'path' = '/data/in',
              'format' = 'json',
              'json.ignore-parse-errors' = 'true'
            );

            CREATE TEMPORARY VIEW `small_events` AS
            SELECT
              `k`,
              TRY_CAST(`ts` AS BIGINT) AS `ts`,
              TRY_CAST(`x` AS DOUBLE) AS `x`,
              `event_time`
            FROM `small_source`
            WHERE `k` IS NOT NULL
              AND TRY_CAST(`ts` AS BIGINT) IS NOT NULL
              AND (`x` IS NULL OR TRY_CAST(`x` AS DOUBLE) IS NOT NULL);

            CREATE TABLE `small_sink` (
              `k` STRING,
              `ts` BIGINT,
              `n` BIGINT,
              `x_sum_1m` DOUBLE
            ) WITH (
              'connector' = 'print'
            );

            INSERT INTO `small_sink`
            SELECT
              `k`,
              `ts`,
              `f$0` AS `n`,
              `f$1` AS `x_sum_1m`
            FROM (
              SELECT *,
                SUM(`x`) OVER w AS `f$1`
              FROM (
                SELECT *,
                  COUNT(*) OVER w AS `f$0`
                FROM `small_events`
                WINDOW w AS (PARTITION BY `k` ORDER BY `event_time` RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
              )
              WINDOW w AS (PARTITION BY `k` ORDER BY `event_time` RANGE BETWEEN INTERVAL '1' MINUTE PRECEDING AND CURRENT ROW)
            );

            """#)
    }

    @Test func featuresOfOneWindowShareOneOverQuery() throws {
        let script = try export(specJob(#""time": "ts""#, dict: #"""
            [{"name": "a", "operator": "sum", "field": "x", "window": "1h"},
             {"name": "b", "operator": "max", "field": "x", "window": "60m"}]
            """#))
        // 1h and 60m are one window: one OVER query, Flink's one-window-per-SELECT rule holds,
        // over the innermost unbounded one that drops late rows by the watermark.
        #expect(script.components(separatedBy: "WINDOW w AS").count == 3)
        #expect(script.contains("SUM(`x`) OVER w AS `f$0`,\n    MAX(`x`) OVER w AS `f$1`"))
        #expect(script.contains("""
                SELECT *,
                  COUNT(*) OVER w AS `f$late`
                FROM `j_events`
                WINDOW w AS (PARTITION BY `k` ORDER BY `event_time` RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
            """))
        #expect(script.contains("the innermost query's count (f$late) is there to"))
        #expect(script.contains("RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW"))
        #expect(!script.contains("nested OVER queries"))
    }
}

@Suite struct FlinkSQLExportOperators {
    @Test(arguments: [
        (#"{"name": "f", "operator": "count"}"#, "COUNT(*) OVER w AS `f$0`", "BIGINT"),
        (#"{"name": "f", "operator": "count", "field": "x"}"#, "COUNT(`x`) OVER w AS `f$0`", "BIGINT"),
        (#"{"name": "f", "operator": "sum", "field": "x"}"#, "SUM(`x`) OVER w AS `f$0`", "DOUBLE"),
        (#"{"name": "f", "operator": "min", "field": "x"}"#, "MIN(`x`) OVER w AS `f$0`", "DOUBLE"),
        (#"{"name": "f", "operator": "max", "field": "x"}"#, "MAX(`x`) OVER w AS `f$0`", "DOUBLE"),
        (#"{"name": "f", "operator": "avg", "field": "x"}"#, "AVG(`x`) OVER w AS `f$0`", "DOUBLE"),
        (#"{"name": "f", "operator": "stddev", "field": "x"}"#, "STDDEV_SAMP(`x`) OVER w AS `f$0`", "DOUBLE"),
        (#"{"name": "f", "operator": "first", "field": "x"}"#, "FIRST_VALUE(`x`) OVER w AS `f$0`", "STRING"),
        (#"{"name": "f", "operator": "last", "field": "x"}"#, "LAST_VALUE(`x`) OVER w AS `f$0`", "STRING"),
        (#"{"name": "f", "operator": "count_distinct", "field": "x"}"#, "COUNT(DISTINCT `x`) OVER w AS `f$0`", "BIGINT"),
        (#"{"name": "f", "operator": "histogram", "field": "x"}"#,
         "CASE WHEN COUNT(`x`) OVER w = 0 THEN NULL ELSE COLLECT(`x`) OVER w END AS `f$0`", "MULTISET<STRING>"),
        (#"{"name": "f", "operator": "collect", "field": "x"}"#,
         "CASE WHEN COUNT(`x`) OVER w = 0 THEN NULL ELSE ARRAY_AGG(`x` IGNORE NULLS) OVER w END AS `f$0`", "ARRAY<STRING>"),
        (#"{"name": "f", "operator": "collect", "field": "x", "limit": 3}"#,
         "CASE WHEN COUNT(`x`) OVER w = 0 THEN NULL ELSE ARRAY_SLICE(ARRAY_AGG(`x` IGNORE NULLS) OVER w, -3) END AS `f$0`",
         "ARRAY<STRING>"),
    ])
    func eachOperatorInEventMode(entry: String, call: String, sinkType: String) throws {
        let script = try export(oneFeature(entry))
        #expect(script.contains("    \(call)\n"), "\(script)")
        #expect(script.contains("  `f` \(sinkType)\n"))
        #expect(script.contains("`f$0` AS `f`"))
    }

    @Test func numericFieldsAreParsedAndOthersStayText() throws {
        let script = try export(specJob(#""time": "ts""#, dict: #"""
            [{"name": "s", "operator": "sum", "field": "amount"},
             {"name": "m", "operator": "last", "field": "merchant"},
             {"name": "l", "operator": "last", "field": "amount"}]
            """#))
        #expect(script.contains("  TRY_CAST(`amount` AS DOUBLE) AS `amount`,\n  `merchant`,"))
        #expect(script.contains("AND (`amount` IS NULL OR TRY_CAST(`amount` AS DOUBLE) IS NOT NULL)"))
        // `last` of a numeric field keeps the number's type.
        #expect(script.contains("  `l` DOUBLE\n"))
        #expect(script.contains("  `m` STRING,\n"))
    }

    @Test func orderSensitiveOperatorsSayHowTheyOrder() throws {
        let script = try export(oneFeature(#"{"name": "f", "operator": "collect", "field": "x", "limit": 2}"#))
        #expect(script.contains("-- f (dict[0]): oldest to newest by time, peers in arrival order, as eddy; Flink keeps every value in state, eddy only the newest 2."))
        let stddev = try export(oneFeature(#"{"name": "sd", "operator": "stddev", "field": "x"}"#))
        #expect(stddev.contains("-- sd (dict[0]): STDDEV_SAMP works from sums of squares; eddy uses Welford's method"))
    }
}

@Suite struct FlinkSQLExportEmitModes {
    private let features = #"""
        [{"name": "n", "operator": "count"},
         {"name": "first_m", "operator": "first", "field": "m"},
         {"name": "last_m", "operator": "last", "field": "m"}]
        """#

    @Test func tumblingWindows() throws {
        let script = try export(specJob(#""time": "ts", "timeUnit": "s", "emit": {"tumbling": "1m"}"#, dict: features))
        #expect(script.contains("FROM TABLE(TUMBLE(TABLE `j_events`, DESCRIPTOR(`event_time`), INTERVAL '1' MINUTE))\nGROUP BY `k`, window_start, window_end;"))
        #expect(script.contains("  UNIX_TIMESTAMP(CAST(window_start AS STRING)) AS `window_start`,"))
        #expect(script.contains("  FIRST_VALUE(`m`) AS `first_m`,\n  LAST_VALUE(`m`) AS `last_m`\n"))
        #expect(script.contains("  `window_start` BIGINT,\n  `window_end` BIGINT,"))
        #expect(script.contains("inside a window Flink takes arrival order; eddy takes event time"))
    }

    @Test func hoppingWindowsTakeFirstAndLastFromArrayAgg() throws {
        let script = try export(specJob(#""time": "ts", "emit": {"hopping": {"size": "10m", "slide": "5m"}}"#, dict: features))
        // HOP(data, time, slide, size): the slide comes first.
        #expect(script.contains("FROM TABLE(HOP(TABLE `j_events`, DESCRIPTOR(`event_time`), INTERVAL '5' MINUTE, INTERVAL '10' MINUTE))"))
        #expect(script.contains("  (UNIX_TIMESTAMP(CAST(window_end AS STRING)) * 1000 + EXTRACT(MILLISECOND FROM window_end)) AS `window_end`,"))
        #expect(script.contains("  ARRAY_AGG(`m` IGNORE NULLS)[1] AS `first_m`,\n  ARRAY_SLICE(ARRAY_AGG(`m` IGNORE NULLS), -1)[1] AS `last_m`\n"))
        #expect(!sqlOnly(script).contains("FIRST_VALUE"))
    }

    @Test func sessionWindowsPartitionByEveryKey() throws {
        let script = try export(specJob(#""time": "ts", "emit": {"session": {"gap": "30m"}}"#, keys: #"["user", "device"]"#, dict: features))
        #expect(script.contains("FROM TABLE(SESSION(TABLE `j_events` PARTITION BY `user`, `device`, DESCRIPTOR(`event_time`), INTERVAL '30' MINUTE))\nGROUP BY `user`, `device`, window_start, window_end;"))
        #expect(!sqlOnly(script).contains("FIRST_VALUE"))
    }

    @Test func compositeKeysPartitionOverWindows() throws {
        let script = try export(specJob(#""time": "ts""#, keys: #"["user", "device"]"#))
        #expect(script.contains("WINDOW w AS (PARTITION BY `user`, `device` ORDER BY `event_time` RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"))
        #expect(script.contains("WHERE `user` IS NOT NULL\n  AND `device` IS NOT NULL\n"))
        #expect(script.contains("SELECT\n  `user`,\n  `device`,\n  `ts`,\n  `f$0` AS `n`\n"))
    }

    @Test func withoutTimeRowsInArrivalOrder() throws {
        let script = try export(specJob())
        #expect(script.contains("  `event_time` AS PROCTIME()\n"))
        #expect(!script.contains("WATERMARK"))
        #expect(script.contains("ORDER BY `event_time` ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"))
        #expect(script.contains("SELECT\n  `k`,\n  `f$0` AS `n`\n"))
    }
}

@Suite struct FlinkSQLExportTime {
    @Test(arguments: [
        ("s", "TO_TIMESTAMP_LTZ(COALESCE(TRY_CAST(`ts` AS BIGINT), 0), 0)"),
        ("ms", "TO_TIMESTAMP_LTZ(COALESCE(TRY_CAST(`ts` AS BIGINT), 0), 3)"),
        ("us", "CAST(TO_TIMESTAMP_LTZ(COALESCE(TRY_CAST(`ts` AS BIGINT), 0), 6) AS TIMESTAMP_LTZ(3))"),
    ])
    func epochUnits(unit: String, expression: String) throws {
        let script = try export(specJob(#""time": "ts", "timeUnit": "\#(unit)""#))
        #expect(script.contains("  `event_time` AS \(expression),\n"))
        #expect(script.contains("Times are in microseconds") == (unit == "us"))
    }

    @Test func rfc3339TextWithItsOffsetAsTheZone() throws {
        let script = try export(specJob(#""time": "at""#), time: .rfc3339)
        let parse = "CAST(TO_TIMESTAMP_LTZ(REGEXP_EXTRACT(`at`, '^(.*?)([Zz]|[+-][0-9][0-9]:[0-9][0-9])$', 1), "
            + "'yyyy-MM-dd''T''HH:mm:ss[.SSSSSSSSS][.SSSSSS][.SSS][.SS][.S]', "
            + "UPPER(REGEXP_EXTRACT(`at`, '^(.*?)([Zz]|[+-][0-9][0-9]:[0-9][0-9])$', 2))) AS TIMESTAMP_LTZ(3))"
        #expect(script.contains("  `event_time` AS COALESCE(\(parse), TO_TIMESTAMP_LTZ(0, 3)),\n"))
        #expect(script.contains("  AND \(parse) IS NOT NULL"))
        #expect(script.contains("  `at` STRING,\n  `n` BIGINT"))
    }

    @Test(arguments: [
        ("0s", "INTERVAL '0.001' SECOND"),
        ("5s", "INTERVAL '5.001' SECOND"),
        ("2m", "INTERVAL '120.001' SECOND(3)"),
        ("1500ms", "INTERVAL '1.501' SECOND"),
    ])
    func watermarkIsOneMillisecondMoreThanTheBound(watermark: String, interval: String) throws {
        let script = try export(specJob(#""time": "ts", "watermark": "\#(watermark)""#))
        #expect(script.contains("  WATERMARK FOR `event_time` AS `event_time` - \(interval)\n"))
    }

    @Test(arguments: [
        ("90s", "INTERVAL '90' SECOND"), ("1h30m", "INTERVAL '90' MINUTE"), ("7d", "INTERVAL '7' DAY"),
        ("400d", "INTERVAL '400' DAY(3)"), ("250ms", "INTERVAL '0.250' SECOND"), ("36h", "INTERVAL '36' HOUR"),
    ])
    func windowsInTheLargestWholeUnit(window: String, interval: String) throws {
        let script = try export(oneFeature(#"{"name": "f", "operator": "count", "window": "\#(window)"}"#))
        #expect(script.contains("RANGE BETWEEN \(interval) PRECEDING AND CURRENT ROW"), "\(script)")
    }

    @Test func timeColumnNamedEventTimeGetsAnotherAttribute() throws {
        let script = try export(specJob(#""time": "event_time""#), time: .rfc3339)
        #expect(script.contains("  `eddy_event_time` AS COALESCE("))
        #expect(script.contains("ORDER BY `eddy_event_time`"))
    }
}

@Suite struct FlinkSQLExportOptions {
    @Test func carriedColumnsFollowTheTime() throws {
        let script = try export(specJob(#""time": "ts", "carry": ["country"]"#))
        #expect(script.contains("SELECT\n  `k`,\n  `ts`,\n  `country`,\n  `f$0` AS `n`\n"))
        #expect(script.contains("  `country` STRING,\n  `n` BIGINT\n"))
    }

    @Test func ttlAndMaxParallelismBecomeSettings() throws {
        let script = try export(specJob(#""time": "ts", "ttl": "30d", "maxParallelism": 256"#))
        #expect(script.contains("SET 'table.exec.state.ttl' = '2592000000 ms';"))
        #expect(script.contains("-- when the job runs."))
        #expect(script.contains("SET 'pipeline.max-parallelism' = '256';"))
        #expect(!(try export(specJob(#""time": "ts""#)).contains("table.exec.state.ttl")))
    }

    @Test func sinkPathWritesJsonFilesAndCheckpoints() throws {
        let script = try export(specJob(#""time": "ts""#), sinkPath: "/out/it's")
        #expect(script.contains("  'connector' = 'filesystem',\n  'path' = '/out/it''s',\n  'format' = 'json'\n);"))
        #expect(script.contains("SET 'execution.checkpointing.interval' = '10 s';"))
    }

    @Test func csvColumnsInTheFilesOrderWithEmptyCellsAsNull() throws {
        let script = try export(
            oneFeature(#"{"name": "s", "operator": "sum", "field": "x"}"#), format: .csv, csvColumns: ["ts", "k", "x", "note"])
        #expect(script.contains("  `ts` STRING,\n  `k` STRING,\n  `x` STRING,\n  `note` STRING,\n"))
        #expect(script.contains("  'format' = 'csv',\n  'csv.ignore-parse-errors' = 'true'\n"))
        #expect(script.contains("  TRY_CAST(NULLIF(`x`, '') AS DOUBLE) AS `x`,"))
        // A short row leaves its last column null: eddy rejects it.
        #expect(script.contains("WHERE NULLIF(`k`, '') IS NOT NULL\n  AND `note` IS NOT NULL\n"))
    }

    @Test func csvColumnsMustHoldEveryColumnTheJobReads() throws {
        #expect(throws: FlinkSQLExport.Failure.csvColumnsMissing(["k", "x"])) {
            try export(oneFeature(#"{"name": "s", "operator": "sum", "field": "x"}"#), format: .csv, csvColumns: ["ts", "y"])
        }
    }

    @Test func tableNamesFromCodesWithDotsAndDashes() throws {
        let script = try export(specJob(code: #""card.v-2""#))
        #expect(script.contains("CREATE TABLE `card_v_2_source` ("))
        #expect(script.contains("INSERT INTO `card_v_2_sink`"))
    }
}

@Suite struct FlinkSQLExportRefusals {
    @Test func broadcastLookupsAreRefusedWithTheirPath() throws {
        let problems = try refusals(specJob(#""time": "ts""#, dict: #"""
            [{"name": "n", "operator": "count"},
             {"name": "tier", "operator": "lookup", "from": "m", "field": "merchant", "column": "tier"}]
            """#))
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("dict[1].operator: lookup (a broadcast input) has no export") == true)
    }

    @Test func carryAllIsRefused() throws {
        #expect(try refusals(specJob(#""time": "ts", "carry": ["*"]"#)).first?.hasPrefix("carry: [\"*\"] copies every input column") == true)
    }

    @Test func spansBelowAMillisecondAreRefused() throws {
        let problems = try refusals(specJob(#""time": "ts", "timeUnit": "us""#, dict: #"""
            [{"name": "n", "operator": "count", "window": "1500us"}]
            """#))
        #expect(problems == [#"dict[0].window: "1500us" is not whole milliseconds, and Flink's time attributes hold milliseconds; use a window of whole milliseconds"#])
        let emit = try refusals(specJob(#""time": "ts", "timeUnit": "us", "emit": {"tumbling": "2500us"}"#))
        #expect(emit.first?.hasPrefix(#"emit.tumbling: "2500us" is not whole milliseconds"#) == true)
    }

    @Test func everyRefusalAtOnce() throws {
        let problems = try refusals(specJob(#""time": "ts", "carry": ["*"]"#, dict: #"""
            [{"name": "a", "operator": "lookup", "from": "m", "field": "x", "column": "c"},
             {"name": "b", "operator": "lookup", "from": "m", "field": "x", "column": "d"}]
            """#))
        #expect(problems.map { $0.prefix(while: { $0 != ":" }) } == ["carry", "dict[0].operator", "dict[1].operator"])
    }
}
