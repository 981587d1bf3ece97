import Foundation
import Glibc

/// The checkpoint directory of one job:
///
///     <root>/LOCK           held (flock) by the run using the directory
///     <root>/shared/        immutable files shared by checkpoints (RocksDB SST files)
///     <root>/chk-000042/    one checkpoint: `_metadata` and its private files
///
/// A checkpoint is staged as `chk-000042.tmp`, every file fsynced, `_metadata` (with the
/// size and CRC-32C of every file it needs, shared ones included) written last, then renamed
/// into place and the root fsynced: a reader sees whole checkpoints only. The newest
/// `retain` are kept; a shared file is deleted once no kept checkpoint lists it. With a
/// mirror, every published checkpoint is copied there the same way (remote backup).
public final class CheckpointStore {
    public let root: String
    public let retain: Int
    public let mirror: String?
    private var locks: [DirectoryLock] = []
    /// Size and checksum of every shared file the kept checkpoints list, by shared name.
    private var sharedFiles: [String: CheckpointFile] = [:]

    /// Opens (creating) the directory and its mirror and takes their locks: a second run on
    /// the same directory is refused with the holder's description.
    public init(root: String, retain: Int = CheckpointStore.defaultRetain, mirror: String? = nil) throws(IOError) {
        self.root = root
        self.retain = max(1, retain)
        self.mirror = mirror
        try DurableFiles.createDirectory(root + "/shared")
        let fix = "wait for that run to end, or use another --checkpoint-dir (or --mirror)"
        locks.append(try DirectoryLock(root, purpose: "checkpoint directory", fix: fix))
        if let mirror { locks.append(try DirectoryLock(mirror, purpose: "checkpoint mirror", fix: fix)) }
        // Checkpoints a crash left unpublished.
        for name in try DurableFiles.list(root) where name.hasPrefix("chk-") && name.hasSuffix(".tmp") {
            try DurableFiles.remove(root + "/" + name)
        }
        for id in try checkpointIDs() {
            if let metadata = try? load(id: id) {
                for file in metadata.files where file.path.hasPrefix("shared/") { sharedFiles[file.path] = file }
            }
        }
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }

    public static func name(of id: Int) -> String {
        let digits = String(id)
        return "chk-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// Published checkpoints, oldest first.
    public func checkpointIDs() throws(IOError) -> [Int] { try Self.checkpointIDs(in: root) }

    static func checkpointIDs(in root: String) throws(IOError) -> [Int] {
        guard DurableFiles.exists(root) else { return [] }
        return try DurableFiles.list(root).compactMap { name in
            name.hasPrefix("chk-") && !name.hasSuffix(".tmp") ? Int(name.dropFirst(4)) : nil
        }.sorted()
    }

    public func load(id: Int) throws(CheckpointError) -> CheckpointMetadata {
        try Self.load(id: id, in: root)
    }

    static func load(id: Int, in root: String) throws(CheckpointError) -> CheckpointMetadata {
        let path = root + "/" + name(of: id) + "/_metadata"
        let bytes: [UInt8]
        do { bytes = try DurableFiles.read(path) } catch { throw CheckpointError("\(path): missing or unreadable") }
        do { return try CheckpointMetadata.decode(bytes) } catch { throw CheckpointError("\(path): \(error.message)") }
    }

    /// What is wrong with checkpoint `id` under `root`: unreadable metadata, missing
    /// files, wrong sizes or checksums. Empty when it can be restored.
    public static func problems(id: Int, in root: String) -> [String] {
        let metadata: CheckpointMetadata
        do { metadata = try load(id: id, in: root) } catch { return [error.message] }
        var problems: [String] = []
        for file in metadata.files {
            let path = root + "/" + file.path
            guard let found = try? DurableFiles.checksum(path) else {
                problems.append("\(path): missing")
                continue
            }
            if found.size != file.size {
                problems.append("\(path): \(found.size) bytes, expected \(file.size)")
            } else if found.crc32c != file.crc32c {
                problems.append("\(path): checksum mismatch")
            }
        }
        return problems
    }

    /// Starts checkpoint number (newest + 1) in `chk-NNNNNN.tmp`.
    public func stage() throws -> CheckpointStaging {
        // Past the mirror's too: after a restore from the mirror, new checkpoints must not
        // reuse ids it holds (its retention would drop them as old).
        let mirrored = try mirror.map { try Self.checkpointIDs(in: $0) } ?? []
        let id = max(try checkpointIDs().last ?? 0, mirrored.last ?? 0) + 1
        let directory = root + "/" + Self.name(of: id) + ".tmp"
        try DurableFiles.remove(directory)
        try DurableFiles.createDirectory(directory)
        return CheckpointStaging(id: id, root: root, directory: directory, sharedFiles: sharedFiles)
    }

    /// Publishes a staged checkpoint with `metadata` (its files and shared links are taken
    /// from the staging), then copies it to the mirror and drops checkpoints beyond `retain`.
    public func publish(_ staging: CheckpointStaging, metadata: CheckpointMetadata) throws -> CheckpointMetadata {
        var metadata = metadata
        metadata.id = staging.id
        metadata.files = staging.files
        metadata.sharedLinks = staging.sharedLinks
        metadata.addedBytes = staging.newBytes
        metadata.seconds = Date().timeIntervalSince(staging.started)
        try DurableFiles.write(try metadata.encoded(), to: staging.directory + "/_metadata")
        try DurableFiles.syncDirectory(staging.directory)
        try DurableFiles.syncDirectory(root + "/shared")
        let target = root + "/" + Self.name(of: staging.id)
        guard rename(staging.directory, target) == 0 else {
            throw IOError("cannot publish \(target): \(String(cString: strerror(errno)))")
        }
        try DurableFiles.syncDirectory(root)
        for file in staging.files where file.path.hasPrefix("shared/") { sharedFiles[file.path] = file }
        if let mirror { try copy(metadata, to: mirror) }
        try dropOldCheckpoints(in: root)
        if let mirror { try dropOldCheckpoints(in: mirror) }
        return metadata
    }

    /// Copies checkpoint `metadata` from the local root to `mirror`: shared files it lacks,
    /// then the checkpoint's private files, published there by rename as locally.
    private func copy(_ metadata: CheckpointMetadata, to mirror: String) throws {
        try DurableFiles.createDirectory(mirror + "/shared")
        let name = Self.name(of: metadata.id)
        let staged = mirror + "/" + name + ".tmp"
        try DurableFiles.remove(staged)
        for file in metadata.files {
            let source = root + "/" + file.path
            var target = mirror + "/" + file.path
            if file.path.hasPrefix("shared/") {
                if DurableFiles.exists(target) { continue }
            } else {
                target = staged + file.path.dropFirst(name.count)
            }
            try DurableFiles.createDirectory((target as NSString).deletingLastPathComponent)
            // Under a temporary name first: a crash mid-copy must not leave a partial shared
            // file that later copies would take as present.
            try DurableFiles.write(try DurableFiles.read(source), to: target + ".partial")
            guard rename(target + ".partial", target) == 0 else {
                throw IOError("cannot write \(target): \(String(cString: strerror(errno)))")
            }
            try DurableFiles.syncDirectory((target as NSString).deletingLastPathComponent)
        }
        try DurableFiles.createDirectory(staged)
        try DurableFiles.write(try DurableFiles.read(root + "/" + name + "/_metadata"), to: staged + "/_metadata")
        try DurableFiles.syncDirectory(mirror + "/shared")
        try DurableFiles.syncDirectory(staged)
        try DurableFiles.remove(mirror + "/" + name)
        guard rename(staged, mirror + "/" + name) == 0 else {
            throw IOError("cannot publish \(mirror)/\(name): \(String(cString: strerror(errno)))")
        }
        try DurableFiles.syncDirectory(mirror)
    }

    /// Deletes checkpoints beyond the newest `retain`, then shared files none of the kept
    /// ones lists.
    private func dropOldCheckpoints(in directory: String) throws {
        let unretained = try Self.unretained(in: directory, retain: retain)
        for id in unretained.checkpoints { try Self.removeCheckpoint(directory + "/" + Self.name(of: id)) }
        for name in unretained.sharedFiles {
            try DurableFiles.remove(directory + "/shared/" + name)
            if directory == root { sharedFiles["shared/" + name] = nil }
        }
    }

    /// Removes a published checkpoint directory: renamed to its staging name first, so that a
    /// crash midway leaves a staging leftover (ignored, and removed by the next run or gc),
    /// not a `chk-NNNNNN` without its `_metadata`, which would read as damaged.
    private static func removeCheckpoint(_ directory: String) throws(IOError) {
        let retiring = directory + ".tmp"
        try DurableFiles.remove(retiring)
        guard rename(directory, retiring) == 0 else {
            throw IOError.ofFile("cannot rename \(directory) to \(retiring): \(String(cString: strerror(errno)))")
        }
        try DurableFiles.remove(retiring)
    }

    /// The retention rule, for the run and for `eddy checkpoints gc`: the checkpoints beyond
    /// the newest `retain` (and beyond `alsoKeeping`, which is kept whatever its age), then
    /// the names in `shared/` that no kept checkpoint lists. While a kept checkpoint's metadata
    /// cannot be read, no shared file is unretained: the files it lists are not known, and a
    /// good copy of it put back from a backup would need them.
    static func unretained(in directory: String, retain: Int, alsoKeeping: Int? = nil) throws(IOError) -> (checkpoints: [Int], sharedFiles: [String]) {
        let ids = try checkpointIDs(in: directory)
        let kept = Set(ids.suffix(retain)).union(alsoKeeping.map { [$0] } ?? [])
        var referenced = Set<String>()
        for id in ids where kept.contains(id) {
            guard let metadata = try? load(id: id, in: directory) else {
                return (ids.filter { !kept.contains($0) }, [])
            }
            for file in metadata.files where file.path.hasPrefix("shared/") { referenced.insert(String(file.path.dropFirst(7))) }
        }
        let shared = DurableFiles.exists(directory + "/shared") ? try DurableFiles.list(directory + "/shared") : []
        return (ids.filter { !kept.contains($0) }, shared.filter { !referenced.contains($0) })
    }

    /// The newest checkpoint that verifies, locally or else from the mirror (local recovery
    /// first, then the remote copy), with a note for each one skipped; nil with the notes
    /// when none does.
    public func newestUsable() -> (found: (metadata: CheckpointMetadata, root: String)?, skipped: [String]) {
        Self.newestUsable(root: root, mirror: mirror)
    }

    /// `newestUsable()` of a directory read without opening it as a store (no lock taken,
    /// nothing removed), for commands that only look.
    public static func newestUsable(root: String, mirror: String? = nil) -> (found: (metadata: CheckpointMetadata, root: String)?, skipped: [String]) {
        var skipped: [String] = []
        let local = (try? checkpointIDs(in: root)) ?? []
        let mirrored = mirror.flatMap { try? Self.checkpointIDs(in: $0) } ?? []
        for id in Set(local + mirrored).sorted(by: >) {
            for candidate in [root, mirror].compactMap({ $0 }) {
                guard DurableFiles.exists(candidate + "/" + Self.name(of: id)) else { continue }
                let problems = Self.problems(id: id, in: candidate)
                if problems.isEmpty, let metadata = try? Self.load(id: id, in: candidate) {
                    return ((metadata, candidate), skipped)
                }
                skipped.append("\(candidate)/\(Self.name(of: id)): \(problems.prefix(3).joined(separator: "; "))")
            }
        }
        return (nil, skipped)
    }
}

/// A checkpoint being written: state files go under `directory`; shared files are linked
/// into `<root>/shared` once and listed by every checkpoint that needs them.
public final class CheckpointStaging {
    public let id: Int
    public let root: String
    /// The staging directory, `chk-NNNNNN.tmp`.
    public let directory: String
    private(set) var files: [CheckpointFile] = []
    private(set) var sharedLinks: [SharedLink] = []
    private let knownShared: [String: CheckpointFile]
    /// Bytes this checkpoint wrote that no earlier one had.
    public private(set) var newBytes: Int64 = 0
    let started = Date()

    init(id: Int, root: String, directory: String, sharedFiles: [String: CheckpointFile]) {
        self.id = id
        self.root = root
        self.directory = directory
        knownShared = sharedFiles
    }

    /// Records a file written (and fsynced) under `directory`, at `relativePath`.
    public func addPrivateFile(_ relativePath: String) throws(IOError) {
        let file = try DurableFiles.checksum(directory + "/" + relativePath)
        files.append(CheckpointFile(path: CheckpointStore.name(of: id) + "/" + relativePath, size: file.size, crc32c: file.crc32c))
        newBytes += file.size
    }

    /// Moves each immutable file at `path` into `shared/` as `sharedName` unless an earlier
    /// checkpoint already put it there, and records it with its database file name. The
    /// new files are checksummed at once, one per core: reading them is most of the time a
    /// checkpoint spends outside RocksDB.
    public func addSharedFiles(_ shared: [(path: String, databaseName: String, sharedName: String)]) throws {
        let new = shared.filter { file in
            knownShared["shared/" + file.sharedName] == nil || !DurableFiles.exists(root + "/shared/" + file.sharedName)
        }
        let checksums = UnsafeMutableBufferPointer<(size: Int64, crc32c: UInt32)>.allocate(capacity: new.count)
        defer { checksums.deallocate() }
        try forkJoin(new.count) { index in checksums.initializeElement(at: index, to: try DurableFiles.checksum(new[index].path)) }
        var checksummed: [String: (size: Int64, crc32c: UInt32)] = [:]
        for (index, file) in new.enumerated() { checksummed[file.path] = checksums[index] }
        for file in shared {
            let relative = "shared/" + file.sharedName
            if let checksum = checksummed[file.path] {
                let target = root + "/" + relative
                try DurableFiles.remove(target)
                if link(file.path, target) != 0 {
                    // Another file system: copy instead of linking.
                    try DurableFiles.write(try DurableFiles.read(file.path), to: target)
                }
                files.append(CheckpointFile(path: relative, size: checksum.size, crc32c: checksum.crc32c))
                newBytes += checksum.size
            } else {
                files.append(knownShared[relative]!)
            }
            try DurableFiles.remove(file.path)
            sharedLinks.append(SharedLink(databaseName: file.databaseName, sharedName: file.sharedName))
        }
    }
}

/// One line of `eddy checkpoints list`.
public struct CheckpointSummary: Sendable {
    public var metadata: CheckpointMetadata
    /// Bytes of the files this checkpoint lists that the one before it did not.
    public var incrementalBytes: Int64
}

extension CheckpointStore {
    /// The published checkpoints under `root`, oldest first, read without taking the lock;
    /// checkpoints whose metadata cannot be read are reported in `unreadable`.
    public static func summaries(in root: String) throws(IOError) -> (checkpoints: [CheckpointSummary], unreadable: [String]) {
        var summaries: [CheckpointSummary] = []
        var unreadable: [String] = []
        var previous: Set<String> = []
        for id in try checkpointIDs(in: root) {
            do {
                let metadata = try load(id: id, in: root)
                let added = metadata.files.filter { !previous.contains($0.path) }.reduce(Int64(0)) { $0 + $1.size }
                summaries.append(CheckpointSummary(metadata: metadata, incrementalBytes: added))
                previous = Set(metadata.files.map(\.path))
            } catch {
                unreadable.append(error.message)
            }
        }
        return (summaries, unreadable)
    }
}

extension CheckpointStore {
    /// The checkpoint a command names, read without taking the directory's lock: `latest`
    /// (the newest that verifies under `root`) or a checkpoint directory (`DIR/chk-000042`),
    /// which must verify.
    public static func locate(_ argument: String, root: String) throws(CheckpointError) -> (metadata: CheckpointMetadata, root: String) {
        if argument == "latest" {
            let found = try newestVerified(in: root)
            return (found.metadata, found.root)
        }
        let (id, directory) = try verifiedCheckpoint(at: argument, example: root)
        return (try Self.load(id: id, in: directory), directory)
    }

    /// The newest checkpoint in `root` that verifies, as `--resume latest` picks it, with a
    /// note for each newer one skipped as damaged; an error when there is none.
    public static func newestVerified(in root: String) throws(CheckpointError) -> (metadata: CheckpointMetadata, root: String, skipped: [String]) {
        let usable = newestUsable(root: root)
        guard let found = usable.found else {
            if usable.skipped.isEmpty {
                throw CheckpointError(
                    "no checkpoint in \(root)\(DurableFiles.exists(root) ? "" : " (no such directory)"); give its directory with --checkpoint-dir, or a checkpoint like \(root)/chk-000042")
            }
            throw CheckpointError("no checkpoint in \(root) verifies:\n  " + usable.skipped.joined(separator: "\n  "))
        }
        return (found.metadata, found.root, usable.skipped)
    }

    /// The checkpoint a path names (`DIR/chk-000042`, a trailing slash allowed), once it is
    /// known to exist and every file it lists verifies: its id and the directory holding it.
    /// Every command that takes a checkpoint's path reads it here, so they agree on what is
    /// missing, damaged or not a checkpoint. `example` is a checkpoint directory for the
    /// message when the path names none.
    public static func verifiedCheckpoint(at path: String, example: String) throws(CheckpointError) -> (id: Int, root: String) {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let name = (trimmed as NSString).lastPathComponent
        let parent = (trimmed as NSString).deletingLastPathComponent
        let root = parent.isEmpty ? "." : parent
        guard name.hasPrefix("chk-"), !name.hasSuffix(".tmp"), let id = Int(name.dropFirst(4)) else {
            // The directory that holds the checkpoints is the likeliest mistake: name its newest.
            if let newest = try? checkpointIDs(in: trimmed).last {
                throw CheckpointError(
                    "\(path) holds checkpoints; name one (\(trimmed)/\(Self.name(of: newest))), or give latest with --checkpoint-dir \(trimmed)")
            }
            throw CheckpointError("\(path): expected a checkpoint directory like \(example)/chk-000042, or latest")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: trimmed, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CheckpointError("\(path): no such checkpoint directory; `eddy checkpoints list \(root)` lists the checkpoints there")
        }
        let problems = Self.problems(id: id, in: root)
        guard problems.isEmpty else {
            throw CheckpointError(
                "\(path): the checkpoint is damaged: \(problems.prefix(3).joined(separator: "; ")) (`eddy checkpoints verify \(root)` lists every problem)")
        }
        return (id, root)
    }
}

/// One thing `eddy checkpoints gc` removes (or, with `--dry-run`, would remove).
public struct CheckpointGarbage: Sendable, Equatable {
    /// Relative to the checkpoint directory: `chk-000003`, `shared/000012.sst`, `chk-000009.tmp`.
    public var path: String
    /// Why no retained checkpoint needs it.
    public var reason: String
    /// Bytes of its files.
    public var bytes: Int64
    /// Of `bytes`, those the removal frees: a file hard-linked from outside what is removed
    /// (a live RocksDB's own link to an SST file, a kept checkpoint's OPTIONS) stays on disk.
    public var freedBytes: Int64
}

extension CheckpointStore {
    /// The checkpoint count a run keeps by default (`eddy run --retain`).
    public static let defaultRetain = 3

    /// Removes from checkpoint directory `root` what no retained checkpoint needs: checkpoints
    /// beyond the newest `retain` (by the run's own retention rule), shared files no retained
    /// one lists, and leftovers of interrupted writes (`chk-NNNNNN.tmp` staging directories,
    /// `.partial` and `.tmp` files). The newest checkpoint that verifies is kept even when
    /// `retain` newer ones do not, so a resume always has one. Takes the directory's lock,
    /// so it refuses while a run uses it. With `dryRun` nothing is removed.
    /// Returns what it removed and the checkpoints it kept.
    public static func collectGarbage(
        in root: String, retain: Int = defaultRetain, dryRun: Bool
    ) throws(IOError) -> (removed: [CheckpointGarbage], kept: [Int]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw IOError("\(root): no such checkpoint directory")
        }
        // Anything else (a project directory, the root of every job's directory) may have a
        // `shared/` of its own: nothing is removed, nor a lock file left, where no run wrote.
        let names = try DurableFiles.list(root)
        guard names.contains(where: { $0.hasPrefix("chk-") }) else {
            throw IOError("\(root) holds no checkpoint (no chk-NNNNNN directory): give the checkpoint directory of one job, e.g. eddy-checkpoints/<code>")
        }
        let lock = try DirectoryLock(root, purpose: "checkpoint directory", fix: "wait for that run to end; it removes its own old checkpoints")
        return try withExtendedLifetime(lock) { () throws(IOError) -> (removed: [CheckpointGarbage], kept: [Int]) in
            let ids = try checkpointIDs(in: root)
            let newestValid = ids.reversed().first { problems(id: $0, in: root).isEmpty }
            let unretained = try Self.unretained(in: root, retain: max(1, retain), alsoKeeping: newestValid)
            var garbage: [CheckpointGarbage] = []
            var files: [[DiskFile]] = []
            func add(_ path: String, _ reason: String) {
                let found = diskFiles(root + "/" + path)
                files.append(found)
                garbage.append(CheckpointGarbage(path: path, reason: reason, bytes: found.reduce(0) { $0 + $1.size }, freedBytes: 0))
            }
            // Staging directories first: a crash left them unpublished, and the next run
            // would remove them anyway (`init`).
            for name in try DurableFiles.list(root) where name.hasPrefix("chk-") && name.hasSuffix(".tmp") {
                add(name, "an interrupted checkpoint write")
            }
            // Then old checkpoints before the shared files they list, as the run drops them,
            // so a crash in between leaves no kept checkpoint without its files.
            for id in unretained.checkpoints {
                add(name(of: id), "beyond the newest \(retain)")
            }
            for name in unretained.sharedFiles {
                add("shared/" + name, name.hasSuffix(".partial") ? "an interrupted copy" : "no retained checkpoint lists it")
            }
            // Interrupted renames inside a kept checkpoint (`stdout.release.tmp`), unlisted.
            for id in ids where !unretained.checkpoints.contains(id) {
                let listed = Set(((try? load(id: id, in: root))?.files ?? []).map(\.path))
                let directory = name(of: id)
                for file in (try? DurableFiles.list(root + "/" + directory)) ?? []
                where (file.hasSuffix(".tmp") || file.hasSuffix(".partial")) && !listed.contains(directory + "/" + file) {
                    add(directory + "/" + file, "an interrupted write")
                }
            }
            // An inode's bytes are freed when every one of its links goes; checkpoints share
            // files by hard links (RocksDB's OPTIONS, its live SSTs), so count links per inode
            // over all that is removed, and credit the item that removes the last one.
            var linksRemoved: [DiskFile.Inode: Int] = [:]
            for file in files.joined() { linksRemoved[file.inode, default: 0] += 1 }
            var credited = Set<DiskFile.Inode>()
            for (index, found) in files.enumerated().reversed() {
                for file in found where linksRemoved[file.inode]! >= file.links && credited.insert(file.inode).inserted {
                    garbage[index].freedBytes += file.size
                }
            }
            let kept = ids.filter { !unretained.checkpoints.contains($0) }
            guard !dryRun else { return (garbage, kept) }
            let retired = Set(unretained.checkpoints.map(name(of:)))
            for item in garbage {
                if retired.contains(item.path) { try removeCheckpoint(root + "/" + item.path) } else { try DurableFiles.remove(root + "/" + item.path) }
            }
            if DurableFiles.exists(root + "/shared") { try DurableFiles.syncDirectory(root + "/shared") }
            try DurableFiles.syncDirectory(root)
            return (garbage, kept)
        }
    }

    /// A regular file about to be removed: its inode, its link count and its size.
    private struct DiskFile {
        struct Inode: Hashable {
            var device: UInt64
            var number: UInt64
        }
        var inode: Inode
        var links: Int
        var size: Int64
    }

    /// The regular files at or under `path`.
    private static func diskFiles(_ path: String) -> [DiskFile] {
        var status = stat()
        guard lstat(path, &status) == 0 else { return [] }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            return ((try? DurableFiles.list(path)) ?? []).flatMap { diskFiles(path + "/" + $0) }
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else { return [] }
        return [DiskFile(
            inode: DiskFile.Inode(device: UInt64(status.st_dev), number: UInt64(status.st_ino)),
            links: Int(status.st_nlink), size: Int64(status.st_size))]
    }
}
