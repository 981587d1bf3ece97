import Foundation

/// Which state backend a run uses (`--state-backend`).
public enum StateBackendKind: String, Sendable, CaseIterable {
    /// Heap state, nothing durable.
    case memory
    /// Heap state, snapshots written per key group to files under the state directory.
    case fs
    /// Embedded RocksDB under the state directory, hot keys cached within a memory budget.
    case rocksdb
}

public struct StateOptions: Sendable {
    public var backend: StateBackendKind
    /// Where durable backends keep their files.
    public var directory: String
    /// Heap bytes the rocksdb backend keeps resident before evicting cold keys.
    public var memoryBudget: Int

    public static let defaultMemoryBudget = 512 << 20

    public init(backend: StateBackendKind = .rocksdb, directory: String, memoryBudget: Int = defaultMemoryBudget) {
        self.backend = backend
        self.directory = directory
        self.memoryBudget = memoryBudget
    }

    /// `eddy-state/<code>` under the working directory.
    public static func defaultDirectory(code: String) -> String { "eddy-state/" + code }
}

/// Runs `plan` over `inputs` with the backend `state` names.
public func runJob(
    plan: JobPlan, state: StateOptions, options: RunOptions, inputs: [InputSource],
    output: ByteSink, lateOutput: ByteSink? = nil, deadLetters: ByteSink? = nil
) throws -> RunSummary {
    func run<Backend: KeyedStateBackend>(_ backend: Backend) throws -> RunSummary {
        try JobRunner(
            plan: plan, backend: backend, options: options,
            output: output, lateOutput: lateOutput, deadLetters: deadLetters
        ).run(inputs)
    }
    switch state.backend {
    case .memory:
        return try run(MemoryStateBackend(plan: plan))
    case .fs:
        return try run(FileSystemStateBackend(plan: plan, directory: state.directory + "/snapshot"))
    case .rocksdb:
        return try run(RocksStateBackend(plan: plan, directory: state.directory + "/rocksdb", memoryBudget: state.memoryBudget))
    }
}

/// Byte sizes as users write them: `512MB`, `64MiB`, `1GB`, `100k`, `4096`. Units are
/// binary (1 KB = 1024 bytes), as memory budgets usually are.
public enum ByteSize {
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber }
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let shift: Int
        switch unit {
        case "", "b": shift = 0
        case "k", "kb", "kib": shift = 10
        case "m", "mb", "mib": shift = 20
        case "g", "gb", "gib": shift = 30
        case "t", "tb", "tib": shift = 40
        default: return nil
        }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : bytes
    }
}
