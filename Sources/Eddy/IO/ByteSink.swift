import CEddySupport
import Glibc

/// A buffered writer over a file descriptor with write(2): the global `stdout` is off
/// limits under strict concurrency, and one large write per buffer is what makes output cheap.
public final class ByteSink {
    public let name: String
    private let descriptor: Int32
    private let closesDescriptor: Bool
    /// Bytes waiting to be written; append to it, then call `flushIfFull()`.
    let buffer: ByteBuffer
    private let capacity: Int
    /// Bytes handed to the descriptor so far.
    public private(set) var bytesWritten: Int64 = 0

    public init(descriptor: Int32, name: String, closesDescriptor: Bool = false, capacity: Int = 1 << 18) {
        self.descriptor = descriptor
        self.name = name
        self.closesDescriptor = closesDescriptor
        self.capacity = capacity
        buffer = ByteBuffer(capacity: capacity + 4096)
    }

    /// Creates or truncates `path` for writing.
    public static func create(path: String) throws(IOError) -> ByteSink {
        let sink = try open(path: path, keeping: 0)
        try sink.cutBackToKept()
        return sink
    }

    public static func standardOutput() -> ByteSink { ByteSink(descriptor: 1, name: "stdout") }

    @inline(__always)
    public func flushIfFull() throws(IOError) {
        if buffer.count >= capacity, !holdsUntilReleased { try flush() }
    }

    /// Keep everything buffered until `releaseHeld()`: stdout under `--exactly-once`, whose
    /// records may leave only once the checkpoint covering them has committed.
    public var holdsUntilReleased = false

    public func flush() throws(IOError) {
        if holdsUntilReleased { return }
        try write()
    }

    /// Counts from `bytes` already written by an earlier run (stdout continued on resume),
    /// so lengths recorded in checkpoints cover the whole output.
    public func continueCounting(from bytes: Int64) { bytesWritten = bytes }

    /// Writes what `holdsUntilReleased` kept back.
    public func releaseHeld() throws(IOError) { try write() }

    /// The descriptor's size when it is a regular file (stdout redirected to one), else nil.
    public func regularFileSize() -> Int64? {
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    /// Cuts a regular file back to `size` bytes (what a crash wrote past a known point).
    public func cutBack(to size: Int64) throws(IOError) {
        guard ftruncate(descriptor, off_t(size)) == 0, lseek(descriptor, 0, SEEK_END) >= 0 else {
            throw IOError.ofFile("cannot cut \(name) back to \(size) bytes: \(String(cString: strerror(errno)))")
        }
    }

    private func write() throws(IOError) {
        var start = 0
        // What reached the descriptor leaves the buffer and is counted also when a later
        // write fails: a flush tried again (a close after a failed one) must not send it twice.
        defer {
            bytesWritten += Int64(start)
            buffer.removeFirst(start)
        }
        while start < buffer.count {
            let written = Glibc.write(descriptor, buffer.base + start, buffer.count - start)
            if written < 0 {
                if errno == EINTR {
                    // A stop signal while a reader of stdout does not read: give up the write.
                    if eddy_stop_signal() != 0 { throw IOError.ofFile("stopped by a signal while writing \(name)") }
                    continue
                }
                throw IOError.ofFile("cannot write \(name): \(String(cString: strerror(errno)))")
            }
            start += written
        }
    }

    /// Opens `path` (created if missing) to write after its first `length` bytes, checking
    /// it has them, but changes none of its bytes until `cutBackToKept()`: a run opens all
    /// its outputs before it cuts any back, so one it cannot open leaves the others intact.
    public static func open(path: String, keeping length: Int64) throws(IOError) -> ByteSink {
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw IOError.ofFile("cannot \(length == 0 ? "create" : "open") \(path): \(String(cString: strerror(errno)))")
        }
        // Released when a check below fails, the sink closes the descriptor.
        let sink = ByteSink(descriptor: descriptor, name: path, closesDescriptor: true)
        sink.bytesWritten = length
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw IOError.ofFile("cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        if (info.st_mode & S_IFMT) == S_IFREG, Int64(info.st_size) < length {
            throw IOError.ofFile("\(path) has \(info.st_size) bytes, fewer than the \(length) the checkpoint committed: it was changed since; restore it, or start over without --resume")
        }
        return sink
    }

    /// Cuts a regular file back to the bytes `open(path:keeping:)` kept (what a crash or
    /// an earlier run wrote after them goes). A device or a pipe (`-o /dev/null`) cannot be
    /// cut back: it is written on, like stdout.
    public func cutBackToKept() throws(IOError) {
        guard regularFileSize() != nil else { return }
        try cutBack(to: bytesWritten)
    }

    /// Writes what is buffered and makes it durable (fsync; nothing to sync on a pipe or
    /// terminal): the length a checkpoint records is then on disk.
    public func sync() throws(IOError) {
        try flush()
        if fsync(descriptor) != 0, errno != EINVAL, errno != EROFS {
            throw IOError.ofFile("cannot sync \(name): \(String(cString: strerror(errno)))")
        }
    }

    /// Whether `close()` has been called, whether or not its flush succeeded.
    private var isClosed = false

    /// Flushes and closes the descriptor if this sink opened it. Held bytes no checkpoint
    /// released are dropped: they are not committed, and a resumed run writes them again.
    /// The descriptor is closed also when the flush fails (the error is thrown): a sink is
    /// closed once, and calling it again does nothing, since the descriptor's number may be
    /// another file's by then.
    public func close() throws(IOError) {
        guard !isClosed else { return }
        isClosed = true
        defer { if closesDescriptor { _ = Glibc.close(descriptor) } }
        try flush()
    }

    /// A sink released without `close()` (its run failed first) closes the descriptor it
    /// opened, without writing: what it buffered was not committed.
    deinit {
        if closesDescriptor, !isClosed { _ = Glibc.close(descriptor) }
    }
}
