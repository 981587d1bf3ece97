import Foundation

/// What one checkpoint records besides its state files: enough to resume the run at the
/// point of the input where it was taken, and to check every file it needs.
///
/// Stored as `_metadata` in the checkpoint's directory: this JSON, then a last line
/// `crc32c XXXXXXXX` over the JSON's bytes, so a torn or edited file is detected.
public struct CheckpointMetadata: Codable, Sendable, Equatable {
    public static let formatVersion = 1

    public var formatVersion = CheckpointMetadata.formatVersion
    public var id: Int
    /// RFC 3339, UTC.
    public var createdAt: String
    /// The job spec as the run read it.
    public var spec: String
    public var code: String
    /// `fs` or `rocksdb`.
    public var backend: String
    public var stateFormatVersion: Int
    public var maxParallelism: Int
    /// Keyed workers of the run that wrote it (nil: written before parallel runs, by one).
    /// A resume may use any other number: each worker takes its key groups' state.
    public var parallelism: Int?
    /// The runtime's position: counts, watermark, sequence (opaque to the checkpoint store).
    public var counters: [String: Int64]
    /// Where each input stands (operator state of the source).
    public var sources: [SourceOffset]
    /// How many bytes of each output the checkpoint covers.
    public var outputs: [OutputLength]
    /// Every file the checkpoint needs, with sizes and checksums: paths relative to the
    /// checkpoint root (`chk-000007/...` private, `shared/...` shared).
    public var files: [CheckpointFile]
    /// For rocksdb: the database's file names of the shared SST files.
    public var sharedLinks: [SharedLink]
    /// Bytes this checkpoint wrote that no earlier one had (its incremental cost).
    public var addedBytes: Int64 = 0
    /// Seconds from the start of the checkpoint to its publication.
    public var seconds: Double = 0

    public init(
        id: Int, createdAt: String, spec: String, code: String, backend: String, stateFormatVersion: Int,
        maxParallelism: Int, parallelism: Int? = nil, counters: [String: Int64], sources: [SourceOffset],
        outputs: [OutputLength], files: [CheckpointFile] = [], sharedLinks: [SharedLink] = []
    ) {
        self.parallelism = parallelism
        self.id = id
        self.createdAt = createdAt
        self.spec = spec
        self.code = code
        self.backend = backend
        self.stateFormatVersion = stateFormatVersion
        self.maxParallelism = maxParallelism
        self.counters = counters
        self.sources = sources
        self.outputs = outputs
        self.files = files
        self.sharedLinks = sharedLinks
    }

    /// Bytes of all the files the checkpoint needs.
    public var totalBytes: Int64 { files.reduce(0) { $0 + $1.size } }
}

/// One input's position: where the next record starts, and the last record read before it
/// (offset, length, CRC-32C) to recognise the same input on resume.
public struct SourceOffset: Codable, Sendable, Equatable {
    /// A file path, or `-` for stdin.
    public var name: String
    public var offset: Int64
    /// The line number of the record at `offset`, so line numbers continue in messages.
    public var line: Int
    public var fingerprintOffset: Int64
    public var fingerprintLength: Int
    public var fingerprint: UInt32
    /// The input was read to its end.
    public var finished: Bool
    /// A CSV input's header line, which a resumed read starting mid-file needs.
    public var csvHeader: String?

    public init(
        name: String, offset: Int64, line: Int, fingerprintOffset: Int64, fingerprintLength: Int,
        fingerprint: UInt32, finished: Bool, csvHeader: String?
    ) {
        self.name = name
        self.offset = offset
        self.line = line
        self.fingerprintOffset = fingerprintOffset
        self.fingerprintLength = fingerprintLength
        self.fingerprint = fingerprint
        self.finished = finished
        self.csvHeader = csvHeader
    }
}

public struct OutputLength: Codable, Sendable, Equatable {
    /// `output`, `late` or `dead-letter`.
    public var role: String
    /// The file, or `-` for stdout.
    public var path: String
    public var length: Int64

    public init(role: String, path: String, length: Int64) {
        self.role = role
        self.path = path
        self.length = length
    }
}

public struct CheckpointFile: Codable, Sendable, Equatable {
    public var path: String
    public var size: Int64
    public var crc32c: UInt32

    public init(path: String, size: Int64, crc32c: UInt32) {
        self.path = path
        self.size = size
        self.crc32c = crc32c
    }
}

public struct SharedLink: Codable, Sendable, Equatable {
    /// The file's name in the database directory (`000042.sst`).
    public var databaseName: String
    /// Its name under `shared/`.
    public var sharedName: String

    public init(databaseName: String, sharedName: String) {
        self.databaseName = databaseName
        self.sharedName = sharedName
    }
}

extension CheckpointMetadata {
    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var bytes = [UInt8](try encoder.encode(self))
        let crc = CRC32C.checksum(bytes)
        bytes.append(contentsOf: Array("\ncrc32c \(String(crc, radix: 16))\n".utf8))
        return bytes
    }

    static func decode(_ bytes: [UInt8]) throws(CheckpointError) -> CheckpointMetadata {
        guard let split = bytes.lastIndex(of: UInt8(ascii: "\n"), before: bytes.count - 1) else {
            throw CheckpointError("metadata has no checksum line")
        }
        let json = Array(bytes[..<split])
        let trailer = String(decoding: bytes[(split + 1)...], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard trailer.hasPrefix("crc32c "), let stored = UInt32(trailer.dropFirst(7), radix: 16) else {
            throw CheckpointError("metadata has no checksum line")
        }
        guard CRC32C.checksum(json) == stored else { throw CheckpointError("metadata checksum mismatch") }
        do {
            let metadata = try JSONDecoder().decode(CheckpointMetadata.self, from: Data(json))
            guard metadata.formatVersion == formatVersion else {
                throw CheckpointError("checkpoint format \(metadata.formatVersion), this eddy reads \(formatVersion)")
            }
            return metadata
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError("unreadable metadata: \(error)")
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func lastIndex(of byte: UInt8, before end: Int) -> Int? {
        var index = end - 1
        while index >= 0 {
            if self[index] == byte { return index }
            index -= 1
        }
        return nil
    }
}

public struct CheckpointError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
