import Glibc

/// Broadcast inputs as a run gets them: read from `--broadcast NAME=FILE` (JSON Lines, or
/// CSV with a header when the file name ends in `.csv`), or from the checkpoint a run
/// resumes, which keeps each input once as `broadcast/NAME.jsonl`.
enum BroadcastInputs {
    static func checkpointFile(_ name: String) -> String { "broadcast/" + name + ".jsonl" }

    /// The broadcast state of a run of `plan`: each input its lookups read comes from `files`
    /// when given there (a resumed run then applies the new contents), else from the
    /// resumed checkpoint's copy (`checkpoint`, its directory).
    static func state(
        for plan: JobPlan, files: [String: String], checkpoint: String?, notice: (String) -> Void
    ) throws -> BroadcastState {
        let inputs = plan.broadcastInputs
        for name in files.keys.sorted() where inputs[name] == nil {
            let known = inputs.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            throw IOError("--broadcast \(name): no lookup in the job reads it (\(known.isEmpty ? "the job has no lookups" : "its lookups read \(known)")); check the name or the spec's \"from\"")
        }
        var tables: [String: BroadcastTable] = [:]
        for (name, readers) in inputs.sorted(by: { $0.key < $1.key }) {
            if let path = files[name] {
                let table = try load(name: name, path: path)
                if let checkpoint, DurableFiles.exists(checkpoint + "/" + checkpointFile(name)) {
                    notice("broadcast \(name): \(table.rows.count) rows from \(path) replace the checkpoint's")
                }
                tables[name] = table
            } else if let checkpoint, DurableFiles.exists(checkpoint + "/" + checkpointFile(name)) {
                tables[name] = try load(name: name, path: checkpoint + "/" + checkpointFile(name), format: .jsonl)
            } else {
                let features = readers.map { "\"\($0.name)\"" }.joined(separator: ", ")
                throw IOError("broadcast input \"\(name)\" (read by \(features)) is not loaded: give it with --broadcast \(name)=FILE (JSON Lines or CSV)")
            }
        }
        // A misspelt column would make a lookup null everywhere without a word.
        for feature in plan.features {
            guard let lookup = feature.spec.lookup, let table = tables[lookup.from], !table.rows.isEmpty else { continue }
            for column in [lookup.key ?? feature.spec.field ?? "", lookup.column]
            where !table.rows.contains(where: { $0.columns.firstIndex(ofExact: column) != nil }) {
                notice("broadcast \(lookup.from): no row has a column \"\(column)\", so \"\(feature.name)\" is null for every event; check the spec's \"key\", \"field\" and \"column\"")
            }
        }
        return BroadcastState(tables: tables, lookups: plan.lookups)
    }

    /// Writes every input of `state` into a staged checkpoint, once for all workers.
    static func write(_ state: BroadcastState, into staging: CheckpointStaging) throws {
        for (name, table) in state.tables.sorted(by: { $0.key < $1.key }) {
            try DurableFiles.createDirectory(staging.directory + "/broadcast")
            try DurableFiles.write(table.jsonLines(), to: staging.directory + "/" + checkpointFile(name))
            try staging.addPrivateFile(checkpointFile(name))
        }
    }

    /// Reads one side input whole; a bad row fails with its place, as the user must fix it.
    static func load(name: String, path: String, format: InputFormat? = nil) throws -> BroadcastTable {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw IOError("--broadcast \(name): cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let format = format ?? InputSource.file(path).inferredFormat
        let reader = RecordReader(fileDescriptor: descriptor, format: format)
        var rows: [BroadcastRow] = []
        var values: [FieldValue] = []
        func place(_ line: Int, _ offset: Int64) -> String { "broadcast \(name) (\(path)): line \(line) (byte \(offset))" }
        func row(_ members: [(name: String, value: FieldValue)]) -> BroadcastRow {
            BroadcastRow(columns: members.map(\.name), values: members.map(\.value))
        }
        do {
            switch format {
            case .jsonl:
                var scanner = JSONObjectScanner(fieldNames: [], captureAllMembers: true)
                try reader.forEachRecord { record, line, offset in
                    if let problem = scanner.scan(record, into: &values) {
                        throw IOError("\(place(line, offset + Int64(problem.offset))): \(problem.message)")
                    }
                    rows.append(row(scanner.members))
                    return true
                }
            case .csv:
                var scanner: CSVRecordScanner?
                try reader.forEachRecord { record, line, offset in
                    guard scanner != nil else {
                        switch CSVRecordScanner.parseHeader(record) {
                        case .success(let columns): scanner = CSVRecordScanner(columns: columns, fieldNames: [], captureAllMembers: true)
                        case .failure(let problem): throw IOError("\(place(line, offset + Int64(problem.offset))): bad CSV header: \(problem.message)")
                        }
                        return true
                    }
                    if let problem = scanner!.scan(record, into: &values) {
                        throw IOError("\(place(line, offset + Int64(problem.offset))): \(problem.message)")
                    }
                    rows.append(row(scanner!.members))
                    return true
                }
            }
        } catch let error as IOError where !error.message.hasPrefix("broadcast ") {
            throw IOError("broadcast \(name) (\(path)): \(error.message)")
        }
        return BroadcastTable(name: name, rows: rows)
    }
}
