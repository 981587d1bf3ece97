import Foundation

/// A fresh directory under the system temporary directory. Each test gets its own, so tests
/// can run in parallel.
struct TemporaryDirectory {
    let url: URL

    /// The path of `name` inside the directory (not created).
    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }
}

/// Runs `body` with a fresh temporary directory and removes the directory afterwards, also
/// when `body` throws. Scoping by closure (rather than a deinit) guarantees every database
/// opened inside is gone before its files are deleted.
@discardableResult
func withTemporaryDirectory<Result>(_ body: (TemporaryDirectory) throws -> Result) throws -> Result {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("eddy-rocksstore-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(TemporaryDirectory(url: url))
}

/// The UTF-8 bytes of `text`, for readable keys in tests.
func bytes(_ text: String) -> [UInt8] {
    Array(text.utf8)
}
