internal import CRocksDB

/// A failure reported by RocksDB (or by this wrapper about a RocksDB handle), naming the
/// operation that failed: `rocksdb put: IO error: No space left on device`.
public struct RocksError: Error, CustomStringConvertible, Sendable {
    /// What the wrapper was doing: "open", "put", "checkpoint", ...
    public let operation: String
    /// RocksDB's own status text, e.g. "IO error: ...", or the wrapper's reason.
    public let message: String

    public init(operation: String, message: String) {
        self.operation = operation
        self.message = message
    }

    public var description: String { "rocksdb \(operation): \(message)" }
}

/// The one place that turns RocksDB's `char** errptr` convention into a Swift error.
///
/// RocksDB sets `*errptr` to a malloc'd message on failure and leaves it alone on success,
/// so the slot starts as nil; the message is copied into the error and freed here.
func callRocks<Result>(
    _ operation: String,
    _ call: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Result
) throws(RocksError) -> Result {
    var errorMessage: UnsafeMutablePointer<CChar>? = nil
    let result = call(&errorMessage)
    if let errorMessage {
        let message = String(cString: errorMessage)
        rocksdb_free(errorMessage)
        throw RocksError(operation: operation, message: message)
    }
    return result
}
