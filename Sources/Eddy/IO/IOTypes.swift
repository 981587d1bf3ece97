public enum InputFormat: String, Sendable, CaseIterable {
    case jsonl, csv
}

/// A problem with one input record: where in the record (byte offset from its start) and what.
public struct RecordProblem: Error, Sendable, Equatable {
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }
}

/// An input or output that cannot be opened, read or written.
public struct IOError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
