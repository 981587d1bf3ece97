/// A span of event time, as written in a job spec (`"90s"`, `"1h"`, `"1h30m"`, `"500ms"`).
public struct EventDuration: Sendable, Equatable, CustomStringConvertible {
    /// The span in microseconds, eddy's internal time resolution.
    public var microseconds: Int64
    /// The text as the user wrote it, for messages and `eddy plan`.
    public var text: String

    public init(microseconds: Int64, text: String) {
        self.microseconds = microseconds
        self.text = text
    }

    public var description: String { text }
}
