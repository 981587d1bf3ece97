import ArgumentParser
import Eddy
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a job spec as a job for another engine.",
        subcommands: [FlinkSQL.self]
    )

    struct FlinkSQL: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "flink-sql",
            abstract: "Print the job as a Flink SQL script (source table, sink table, INSERT) for Flink's SQL client.",
            discussion: """
                Event mode becomes OVER aggregation, windowed modes Flink's window TVFs. Where Flink \
                computes something differently the script says so in a comment; a feature with no \
                Flink SQL equivalent (a broadcast lookup, carry ["*"]) is refused with its JSON path.
                Exit codes: 0 printed; 1 the CSV columns lack a column the job reads; 2 invalid spec, or \
                a part of it Flink SQL cannot express; 64 usage error (also: a CSV job without \
                --csv-columns or a readable --source-path).
                """
        )

        @Argument(help: "The job spec (JSON).")
        var job: String

        @Option(help: ArgumentHelp("The input file or directory for the source table's 'path'.", valueName: "path"))
        var sourcePath: String?

        @Option(help: ArgumentHelp("Write the results as JSON files to this directory (a filesystem sink); default: Flink's print sink.", valueName: "dir"))
        var sinkPath: String?

        @Option(help: "jsonl|csv; default: csv when --source-path ends in .csv (any case), else jsonl.")
        var inputFormat: String?

        @Option(help: "epoch|rfc3339: how the time column is written; default: read from the first record of --source-path, else epoch.")
        var timeFormat: String?

        @Option(help: ArgumentHelp("CSV only: the file's columns in order (a,b,c); default: the header of --source-path.", valueName: "columns"))
        var csvColumns: String?

        func validate() throws {
            if let inputFormat, FlinkSQLExport.InputFormat(rawValue: inputFormat) == nil {
                throw ValidationError("--input-format must be jsonl or csv, not \"\(inputFormat)\"")
            }
            if let timeFormat, FlinkSQLExport.TimeFormat(rawValue: timeFormat) == nil {
                throw ValidationError("--time-format must be epoch or rfc3339, not \"\(timeFormat)\"")
            }
        }

        func run() throws {
            let spec = try loadSpec(job)
            let sourcePath = self.sourcePath ?? "/path/to/\(spec.code).input.\(inputFormat == "csv" ? "csv" : "jsonl")"
            let format = inputFormat.flatMap(FlinkSQLExport.InputFormat.init(rawValue:))
                ?? (sourcePath.lowercased().hasSuffix(".csv") ? .csv : .jsonl)
            let sample = self.sourcePath.flatMap(firstLines)
            var columns: [String] = []
            if format == .csv {
                if let csvColumns {
                    columns = csvColumns.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                } else if let header = sample?.first {
                    columns = csvCells(header)
                } else {
                    writeToStandardError("eddy: Flink's CSV format maps columns by position: give --csv-columns a,b,c or a readable --source-path with a header\n")
                    throw ExitCode(64)
                }
            }
            let time = timeFormat.flatMap(FlinkSQLExport.TimeFormat.init(rawValue:))
                ?? sample.flatMap { timeFormatOf(spec: spec, format: format, lines: $0) } ?? .epoch
            let options = FlinkSQLExport.Options(
                sourcePath: sourcePath, inputFormat: format, timeFormat: time, csvColumns: columns, sinkPath: sinkPath)
            do {
                print(try FlinkSQLExport.script(for: spec, options: options), terminator: "")
            } catch .unsupported(let problems) {
                let count = problems.count
                writeToStandardError("eddy: \(job): \(count) part\(count == 1 ? "" : "s") of the job \(count == 1 ? "has" : "have") no Flink SQL equivalent:\n")
                for problem in problems { writeToStandardError("  \(problem)\n") }
                throw ExitStatus.invalidSpec
            } catch .csvColumnsMissing(let missing) {
                let listed = missing.map { "\"\($0)\"" }.joined(separator: ", ")
                writeToStandardError("eddy: the CSV columns (\(columns.joined(separator: ","))) lack \(listed), which the job reads; give the file's columns with --csv-columns\n")
                throw ExitStatus.runtimeFailure
            }
        }
    }
}

/// The first two lines that are not blank in a local file (a CSV header and a record, or two
/// JSON records), read as `eddy run` reads them (a byte order mark skipped, CRLF line ends),
/// or nil when it cannot be read (the path may be one only the Flink cluster sees).
private func firstLines(_ path: String) -> [String]? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    guard var bytes = (try? handle.read(upToCount: 64 * 1024)).map(Array.init), !bytes.isEmpty else { return nil }
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
    // Split on the byte: as Characters, "\r\n" is one, which "\n" does not match.
    let lines = bytes.split(separator: 10, omittingEmptySubsequences: true).lazy
        .map { $0.last == 13 ? $0.dropLast() : $0[...] }
        .map { String(decoding: $0, as: UTF8.self) }
        .filter { !$0.allSatisfy(\.isWhitespace) }
    return Array(lines.prefix(2))
}

/// A CSV header's cells (RFC 4180 quotes, no line breaks inside: a header is one line).
private func csvCells(_ line: String) -> [String] {
    var cells: [String] = []
    var cell = ""
    var quoted = false
    var characters = Array(line.hasSuffix("\r") ? String(line.dropLast()) : line)[...]
    while let character = characters.popFirst() {
        if quoted {
            if character == "\"" {
                if characters.first == "\"" { cell.append("\""); characters.removeFirst() } else { quoted = false }
            } else {
                cell.append(character)
            }
        } else if character == "\"" {
            quoted = true
        } else if character == "," {
            cells.append(cell)
            cell = ""
        } else {
            cell.append(character)
        }
    }
    cells.append(cell)
    return cells
}

/// Whether the sample's first record writes its time as a string (RFC 3339) or a number.
private func timeFormatOf(spec: JobSpec, format: FlinkSQLExport.InputFormat, lines: [String]) -> FlinkSQLExport.TimeFormat? {
    guard let time = spec.time else { return nil }
    switch format {
    case .jsonl:
        guard let first = lines.first, let object = try? JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any],
              let value = object[time] else { return nil }
        return value is String ? .rfc3339 : .epoch
    case .csv:
        guard lines.count == 2, let index = csvCells(lines[0]).firstIndex(of: time) else { return nil }
        let cells = csvCells(lines[1])
        guard index < cells.count else { return nil }
        return Double(cells[index]) == nil ? .rfc3339 : .epoch
    }
}
