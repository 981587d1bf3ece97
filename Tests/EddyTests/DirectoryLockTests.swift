import Foundation
import Glibc
import Testing
@testable import Eddy

@Suite("DirectoryLock")
struct DirectoryLockTests {
    @Test func aSecondLockIsRefusedUntilTheFirstIsReleased() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("locked").path
        var holder: DirectoryLock? = try DirectoryLock(path, purpose: "test directory", fix: "wait")
        let error = try #require(throws: IOError.self) { try DirectoryLock(path, purpose: "test directory", fix: "wait") }
        #expect(error.message.hasPrefix("test directory \(path) is in use by eddy pid \(getpid())"))
        #expect(error.message.hasSuffix("; wait"))
        _ = holder
        holder = nil
        _ = try DirectoryLock(path, purpose: "test directory", fix: "wait")
    }

    /// A refused lock closes the descriptor it opened exactly once. It used to close it a
    /// second time (the throwing init closed it, then deinit ran on the initialised object
    /// and closed the same number again), so a file another thread opened in between, and
    /// got the freed number for, was closed under it: in the test suite a RocksDB info LOG,
    /// whose next write then aborted RocksDB (an assertion in its WritableFileWriter).
    /// Here another thread keeps opening descriptors while locks are refused, and checks
    /// none of them is closed by someone else.
    @Test func aRefusedLockClosesNoDescriptorItDoesNotOwn() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("locked").path
        let holder = try DirectoryLock(path, purpose: "test directory", fix: "wait")
        let watch = DescriptorWatch()
        let watcher = Thread { watch.run() }
        watcher.start()
        while !watch.isRunning { usleep(100) }
        var refused = 0
        for _ in 0..<2000 {
            if (try? DirectoryLock(path, purpose: "test directory", fix: "wait")) == nil { refused += 1 }
        }
        watch.stop()
        #expect(refused == 2000)
        #expect(watch.opened > 0)
        #expect(watch.closedByOthers == 0, "\(watch.closedByOthers) of \(watch.opened) descriptors were closed by another thread")
        _ = holder
    }
}

/// Opens /dev/null over and over until stopped, checking each descriptor is still open
/// before closing it.
private final class DescriptorWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var running = false
    private var stopping = false
    private var done = false
    private(set) var opened = 0
    private(set) var closedByOthers = 0

    var isRunning: Bool { lock.withLock { running } }

    func run() {
        lock.withLock { running = true }
        while !lock.withLock({ stopping }) {
            let descriptor = open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            opened += 1
            var stillOpen = true
            for _ in 0..<20 where fcntl(descriptor, F_GETFD) == -1 { stillOpen = false; break }
            // Not closed again when another thread closed it: the number may be someone else's.
            if !stillOpen || close(descriptor) != 0 { closedByOthers += 1 }
        }
        lock.withLock { done = true }
    }

    func stop() {
        lock.withLock { stopping = true }
        while !lock.withLock({ done }) { usleep(100) }
    }
}
