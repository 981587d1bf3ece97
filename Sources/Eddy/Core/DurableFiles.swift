import CEddySupport
import Foundation
import Glibc

/// Files that must survive a crash once written: state snapshots and, later, checkpoint
/// metadata. Every write is fsynced, and a directory is published by renaming a complete
/// temporary one into place, then fsyncing its parent, so a reader sees all or nothing.
enum DurableFiles {
    /// Writes `bytes` to `path` (created or truncated) and fsyncs it.
    static func write(_ bytes: [UInt8], to path: String) throws(IOError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw IOError.ofFile("cannot create \(path): \(lastError())") }
        defer { close(descriptor) }
        var start = 0
        while start < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + start, $0.count - start) }
            if written < 0 {
                if errno == EINTR { continue }
                throw IOError.ofFile("cannot write \(path): \(lastError())")
            }
            start += written
        }
        guard fsync(descriptor) == 0 else { throw IOError.ofFile("cannot sync \(path): \(lastError())") }
    }

    static func read(_ path: String) throws(IOError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = access(path, R_OK) == 0 ? "read failed" : String(cString: strerror(errno))
            throw IOError.ofFile("cannot read \(path): \(reason)")
        }
        return [UInt8](data)
    }

    /// The size and CRC-32C of the file at `path`, read through one reused buffer: reading a
    /// checkpoint's SST files whole (tens of MB) into fresh arrays cost more in page faults
    /// than the checksum itself. Read, not mapped: a mapped file cut short while it is read
    /// (a damaged mirror) stops the process with SIGBUS instead of reporting it.
    static func checksum(_ path: String) throws(IOError) -> (size: Int64, crc32c: UInt32) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw IOError.ofFile("cannot read \(path): \(lastError())") }
        defer { close(descriptor) }
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        var crc = CRC32C()
        var size: Int64 = 0
        while true {
            let count = Glibc.read(descriptor, buffer, chunk)
            if count < 0 {
                if errno == EINTR { continue }
                throw IOError.ofFile("cannot read \(path): \(lastError())")
            }
            if count == 0 { return (size, crc.value) }
            crc.update(UnsafeRawBufferPointer(start: buffer, count: count))
            size += Int64(count)
        }
    }

    /// fsyncs a directory, making the entries created or renamed in it durable.
    static func syncDirectory(_ path: String) throws(IOError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw IOError.ofFile("cannot open directory \(path): \(lastError())") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw IOError.ofFile("cannot sync directory \(path): \(lastError())") }
    }

    /// Creates `path` and the directories above it that are missing. With `mkdir` rather
    /// than Foundation, whose errors read "The operation could not be completed.
    /// (NSCocoaErrorDomain error 512.)": the system's reason names what is wrong.
    static func createDirectory(_ path: String) throws(IOError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o777) != 0, errno != EEXIST {
                throw IOError.ofFile("cannot create directory \(path): \(prefix): \(String(cString: strerror(errno)))")
            }
            var status = stat()
            guard stat(prefix, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
                throw IOError.ofFile("cannot create directory \(path): \(prefix) exists and is not a directory")
            }
            prefix += "/"
        }
    }

    static func remove(_ path: String) throws(IOError) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw IOError.ofFile("cannot remove \(path): \(describe(error))")
        }
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// The names in a directory, sorted.
    static func list(_ path: String) throws(IOError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        } catch {
            throw IOError.ofFile("cannot list \(path): \(describe(error))")
        }
    }

    /// Replaces directory `target` with the complete directory `staged`, atomically for
    /// readers: `target` is either the old or the new directory, never a mix or missing
    /// (the two are exchanged in one `renameat2` call, then the old one is removed).
    static func publish(_ staged: String, as target: String) throws(IOError) {
        try syncDirectory(staged)
        if exists(target) {
            guard eddy_exchange_paths(staged, target) == 0 else {
                throw IOError.ofFile("cannot publish \(target): \(lastError())")
            }
            try remove(staged)
        } else {
            guard rename(staged, target) == 0 else { throw IOError.ofFile("cannot publish \(target): \(lastError())") }
        }
        try syncDirectory((target as NSString).deletingLastPathComponent)
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }

    /// The system's reason for a Foundation file error, when it has one underneath.
    private static func describe(_ error: any Error) -> String {
        let error = error as NSError
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return error.localizedFailureReason ?? error.localizedDescription
    }
}
