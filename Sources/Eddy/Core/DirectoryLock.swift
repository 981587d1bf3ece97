import Foundation
import Glibc

/// An exclusive lock on a directory (`flock` on `DIR/LOCK`), held until the lock is released
/// or the process ends, kill -9 included. The file names the holder, for the message a
/// second process gets.
public final class DirectoryLock {
    private let descriptor: Int32

    /// Takes the lock on `directory` (created if missing); `purpose` is what the directory
    /// is to the user ("checkpoint directory"), `fix` what to do about a holder.
    public init(_ directory: String, purpose: String, fix: String) throws(IOError) {
        // The descriptor is the only stored property, set once the lock is held: an init
        // that throws after every stored property is set still runs deinit, which would
        // close the descriptor the failure path already closed, a second time. By then its
        // number may belong to a file another thread opened (close frees the number and
        // the next open anywhere in the process takes the lowest free one).
        descriptor = try Self.lockedDescriptor(directory, purpose: purpose, fix: fix)
    }

    /// Opens and locks `directory`/LOCK and writes the holder into it; on failure the
    /// descriptor is closed here, and only here.
    private static func lockedDescriptor(_ directory: String, purpose: String, fix: String) throws(IOError) -> Int32 {
        try DurableFiles.createDirectory(directory)
        let path = directory + "/LOCK"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw IOError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? DurableFiles.read(path)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            close(descriptor)
            let who = holder.trimmingCharacters(in: .whitespacesAndNewlines)
            throw IOError("\(purpose) \(directory) is in use by \(who.isEmpty ? "another process" : who); \(fix)")
        }
        var host = [UInt8](repeating: 0, count: 256)
        let hostName = host.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { _ = gethostname($0.baseAddress!, $0.count - 1) }
            return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
        }
        let formatter = ISO8601DateFormatter()
        let holder = "eddy pid \(getpid()) on \(hostName) since \(formatter.string(from: Date()))\n"
        _ = ftruncate(descriptor, 0)
        _ = holder.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        return descriptor
    }

    deinit { close(descriptor) }
}
