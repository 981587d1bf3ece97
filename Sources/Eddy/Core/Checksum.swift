import CEddySupport

/// CRC-32C (Castagnoli), the checksum of persisted state and checkpoint files: the
/// polynomial RocksDB and iSCSI use, computed by the CPU's CRC32 instruction where there is one.
public struct CRC32C: Sendable {
    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        state = eddy_crc32c_update(state, base, bytes.count)
    }

    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc = CRC32C()
        bytes.withUnsafeBytes { crc.update($0) }
        return crc.value
    }
}
